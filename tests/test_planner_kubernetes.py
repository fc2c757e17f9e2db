"""The Kubernetes side of the planner with hand-built observed states (no server)."""

from __future__ import annotations

import dataclasses

from reconciler import extension_body
from reconciler.plan import Action, Op
from reconciler.planner import plan
from reconciler.state import Compute, Extension, ExtensionVersion
from tests.builders import WS, aks_id, cluster, desired, extension, kubernetes, observed, workspace

SERVING = aks_id("serving-aks")


def k8s_compute(name: str, namespace: str, cluster_name: str = "serving-aks", *, managed: bool = True, **kw) -> Compute:
    tags = {"reconciler-managed": "true"} if managed else {}
    return Compute(
        name,
        compute_type="Kubernetes",
        cluster_id=aks_id(cluster_name),
        namespace=namespace,
        tags=tags,
        identity_type=None,
        **kw,
    )


def azureml(tmp_path, *docs, **settings) -> Extension:
    """The extension exactly as the manifests want it (so the plan has no extension change)."""
    de = desired(tmp_path, workspace(), *docs).extensions[0]
    cfg = extension_body.configuration_settings(de, cluster("serving-aks"))
    cfg.update(settings)
    return Extension(
        SERVING + "/providers/Microsoft.KubernetesConfiguration/extensions/azureml",
        "azureml",
        "Microsoft.AzureML.Kubernetes",
        SERVING,
        cfg,
        release_train="Stable",
    )


def world(*computes: Compute, ext: Extension | None = None, nodes: int = 3, versions=None):
    obs = observed(clusters=[cluster("serving-aks", count=nodes)])
    obs.workspaces[WS.key].kubernetes = {c.name: c for c in computes}
    obs.extensions[cluster("serving-aks").key] = (ext,) if ext else ()
    if versions is not None:
        obs.extension_versions[cluster("serving-aks").key] = versions
    return obs


def by_address(p):
    return {c.address: c for c in p.changes}


def test_install_then_namespace_then_attach_and_two_computes_on_one_cluster_run_side_by_side(tmp_path):
    p = plan(
        desired(
            tmp_path,
            workspace(),
            extension(),
            kubernetes("k8s-team-a", namespace="team-a"),
            kubernetes("k8s-team-b", namespace="team-b"),
        ),
        world(),
    )
    assert not p.errors
    changes = by_address(p)
    install = changes["extension/serving-aks"].steps[0]
    a_ns, a_attach = changes["prod/k8s-team-a"].steps
    b_ns, b_attach = changes["prod/k8s-team-b"].steps
    assert install.op is Op.INSTALL and a_ns.op is Op.CREATE_NAMESPACE and a_attach.op is Op.K8S_ATTACH
    assert install.id in a_ns.depends_on and install.id in b_ns.depends_on
    assert {a_ns.id, b_ns.id} <= set(a_attach.depends_on)
    assert a_attach.id not in b_attach.depends_on  # several computes per cluster are fine: no one-attachment chain


def test_a_matching_extension_and_computes_plan_no_changes(tmp_path):
    docs = (extension(), kubernetes("k8s-team-a", namespace="team-a"))
    p = plan(
        desired(tmp_path, workspace(), *docs), world(k8s_compute("k8s-team-a", "team-a"), ext=azureml(tmp_path, *docs))
    )
    assert not p.errors and not p.has_changes


def test_changed_settings_are_an_upgrade_never_an_uninstall(tmp_path):
    docs = (extension(extra="  training: true\n"),)
    p = plan(desired(tmp_path, workspace(), *docs), world(ext=azureml(tmp_path, extension())))
    change = by_address(p)["extension/serving-aks"]
    assert change.action is Action.UPGRADE and [s.op for s in change.steps] == [Op.UPGRADE]
    assert change.disruptive == ["enableTraining"] and [w.rule for w in p.warnings] == ["KUBE027"]


def test_a_namespace_change_reattaches_detach_then_namespace_then_attach(tmp_path):
    docs = (extension(), kubernetes("k8s-team-a", namespace="team-new"))
    p = plan(
        desired(tmp_path, workspace(), *docs), world(k8s_compute("k8s-team-a", "team-a"), ext=azureml(tmp_path, *docs))
    )
    change = by_address(p)["prod/k8s-team-a"]
    assert change.action is Action.REATTACH
    assert [s.op for s in change.steps] == [Op.K8S_DETACH, Op.CREATE_NAMESPACE, Op.K8S_ATTACH]


def test_uninstall_is_refused_naming_the_computes_that_use_the_cluster(tmp_path):
    p = plan(
        desired(tmp_path, workspace(), extension(extra="  ensure: absent\n")),
        world(k8s_compute("k8s-team-a", "team-a", managed=False), ext=azureml(tmp_path, extension())),
    )
    assert [e.rule for e in p.errors] == ["KUBE022"] and "k8s-team-a" in p.errors[0].message


def test_uninstall_waits_for_the_detaches_of_pruned_computes(tmp_path):
    p = plan(
        desired(tmp_path, workspace(prune=True), extension(extra="  ensure: absent\n")),
        world(k8s_compute("k8s-team-a", "team-a"), ext=azureml(tmp_path, extension())),
    )
    assert not p.errors
    detach = by_address(p)["prod/k8s-team-a"].steps[0]
    uninstall = by_address(p)["extension/serving-aks"].steps[0]
    assert detach.op is Op.K8S_DETACH and uninstall.op is Op.UNINSTALL and detach.id in uninstall.depends_on


def test_removing_a_node_selector_key_is_an_error(tmp_path):
    ext = azureml(tmp_path, extension(extra="  nodeSelector: {pool: a}\n"))
    p = plan(desired(tmp_path, workspace(), extension()), world(ext=ext))
    assert [e.rule for e in p.errors] == ["KUBE021"]


def test_ha_router_on_a_two_node_cluster_is_an_error(tmp_path):
    p = plan(desired(tmp_path, workspace(), extension()), world(nodes=2))
    assert "KUBE020" in [e.rule for e in p.errors]


def test_a_pinned_version_must_be_offered_and_support_the_clusters_kubernetes(tmp_path):
    pinned = extension(extra="  version: {version: 1.1.70, autoUpgrade: false}\n")
    offered = (ExtensionVersion("1.1.70", unsupported_kubernetes=("1.30",)), ExtensionVersion("1.1.75"))
    p = plan(desired(tmp_path, workspace(), pinned), world(versions=offered))
    assert [e.rule for e in p.errors] == ["KUBE024"] and "does not support Kubernetes" in p.errors[0].message
    p = plan(desired(tmp_path, workspace(), pinned), world(versions=(ExtensionVersion("1.1.75"),)))
    assert [e.rule for e in p.errors] == ["KUBE024"] and "not offered" in p.errors[0].message


def test_a_compute_whose_cluster_has_no_extension_declared_or_installed_is_kube009(tmp_path):
    p = plan(desired(tmp_path, workspace(), kubernetes()), world())
    assert [e.rule for e in p.errors] == ["KUBE009"]
    p = plan(desired(tmp_path, workspace(), kubernetes()), world(ext=azureml(tmp_path, extension())))
    assert not p.errors and by_address(p)["prod/k8s-team-a"].action is Action.ATTACH


def test_a_namespace_already_used_by_an_undeclared_compute_is_a_warning(tmp_path):
    docs = (extension(), kubernetes("k8s-team-a", namespace="team-a"))
    other = k8s_compute("someone-else", "team-a", managed=False)
    p = plan(desired(tmp_path, workspace(), *docs), world(other, ext=azureml(tmp_path, *docs)))
    assert not p.errors and [w.rule for w in p.warnings] == ["KUBE011"] and "someone-else" in p.warnings[0].message


def test_an_extension_or_compute_with_an_operation_in_flight_is_pending_not_planned(tmp_path):
    docs = (extension(extra="  training: true\n"), kubernetes("k8s-team-a", namespace="team-b"))
    ext = dataclasses.replace(azureml(tmp_path, extension()), provisioning_state="Updating")
    busy = k8s_compute("k8s-team-a", "team-a", provisioning_state="Updating")
    p = plan(desired(tmp_path, workspace(), *docs), world(busy, ext=ext))
    assert not p.errors and not p.has_changes
    assert {c.address for c in p.pending} == {"extension/serving-aks", "prod/k8s-team-a"}
    assert sorted(w.rule for w in p.warnings) == ["KUBE025", "KUBE029"]


def test_a_kubernetes_reattach_says_how_long_the_endpoint_is_dark(tmp_path):
    docs = (extension(), kubernetes("k8s-team-a", namespace="team-new"))
    p = plan(
        desired(tmp_path, workspace(), *docs), world(k8s_compute("k8s-team-a", "team-a"), ext=azureml(tmp_path, *docs))
    )
    assert by_address(p)["prod/k8s-team-a"].downtime_seconds > 0

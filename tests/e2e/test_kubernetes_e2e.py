"""End-to-end: the Azure ML extension and Kubernetes computes, through the CLI against the emulator."""

from __future__ import annotations

import json

from tests.builders import extension, kubernetes, seed_attached_compute, seed_cluster
from tests.e2e.conftest import seed
from tests.e2e.test_crash_e2e import kill_at_boundary

SERVING = {"serving-aks": seed_cluster("westeurope", "1.30.5")}
TWO_COMPUTES = dict(
    ext=extension(), a=kubernetes("k8s-team-a", namespace="team-a"), b=kubernetes("k8s-team-b", namespace="team-b")
)


def installed(make_cloud, **kw):
    cloud = make_cloud(seed(clusters=SERVING), **kw)
    cloud.write(**TWO_COMPUTES)
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    return cloud


def requests_of(cloud) -> dict[str, int]:
    return cloud.audit()["requests"]


def test_install_then_attach_two_computes_in_two_namespaces_then_no_changes(make_cloud):
    cloud = installed(make_cloud)
    computes = cloud.computes()
    assert {name: c["properties"]["properties"]["namespace"] for name, c in computes.items()} == {
        "k8s-team-a": "team-a",
        "k8s-team-b": "team-b",
    }
    assert all(c["properties"]["computeType"] == "Kubernetes" for c in computes.values())
    run = cloud.cli("plan", "--detailed-exitcode")
    assert run.code == 0, run.stdout + run.stderr
    assert "No changes" in run.stdout
    done = requests_of(cloud)
    assert done.get("Extensions_Create") == 1
    assert done.get("ManagedClusters_RunCommand", 0) >= 2  # one namespace each (and the leftovers check)
    assert cloud.audit()["violations"] == [] and cloud.audit()["extensionViolations"] == []


def test_plan_orders_install_then_namespaces_then_attaches(make_cloud):
    cloud = make_cloud(seed(clusters=SERVING))
    cloud.write(**TWO_COMPUTES)
    run = cloud.cli("plan", "--format", "json")
    assert run.code == 0, run.stderr
    steps = {s["id"]: s for c in json.loads(run.stdout)["changes"] for s in c["steps"]}
    install = "extension/serving-aks#1"
    assert steps[install]["op"] == "install"
    for team in ("a", "b"):
        namespace, attach = steps[f"prod/k8s-team-{team}#1"], steps[f"prod/k8s-team-{team}#2"]
        assert (namespace["op"], attach["op"]) == ("create-namespace", "attach-kubernetes")
        assert install in namespace["dependsOn"] and namespace["id"] in attach["dependsOn"]


def test_upgrade_is_a_patch_in_place_with_no_detach(make_cloud):
    cloud = installed(make_cloud)
    before = requests_of(cloud)
    cloud.write(
        ext=extension(extra="  nodeSelector: {pool: serving}\n  version: {releaseTrain: stable, autoUpgrade: true}\n"),
        a=TWO_COMPUTES["a"],
        b=TWO_COMPUTES["b"],
    )
    plan = cloud.cli("plan")
    assert plan.code == 0 and "upgrade" in plan.stdout and "disruptive: nodeSelector.pool" in plan.stdout, plan.stdout
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    after = requests_of(cloud)
    assert after.get("Extensions_Update", 0) - before.get("Extensions_Update", 0) == 1
    assert after.get("Extensions_Create") == before.get("Extensions_Create") == 1
    assert after.get("Extensions_Delete", 0) == 0 and after.get("Compute_Delete", 0) == 0
    assert cloud.cli("plan", "--detailed-exitcode").code == 0


def test_disruptive_change_is_marked_in_text_json_and_markdown(make_cloud):
    cloud = installed(make_cloud)
    cloud.write(
        ext=extension(inference="allowInsecureConnections: true\nrouterServiceType: ClusterIP"),
        a=TWO_COMPUTES["a"],
        b=TWO_COMPUTES["b"],
    )
    text = cloud.cli("plan")
    assert "! disruptive: inferenceRouterServiceType" in text.stdout and "KUBE027" in text.stdout
    data = json.loads(cloud.cli("plan", "--format", "json").stdout)
    change = next(c for c in data["changes"] if c["address"] == "extension/serving-aks")
    assert change["action"] == "upgrade" and "inferenceRouterServiceType" in change["disruptive"]
    assert "**disruptive: inferenceRouterServiceType" in cloud.cli("plan", "--format", "markdown").stdout


def test_removing_a_node_selector_key_is_refused_at_plan(make_cloud):
    cloud = make_cloud(seed(clusters=SERVING))
    cloud.write(ext=extension(extra="  nodeSelector: {pool: serving}\n"))
    assert cloud.cli("apply", "--auto-approve").code == 0
    cloud.write(ext=extension())
    run = cloud.cli("plan")
    assert run.code == 1 and "KUBE021" in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_uninstall_is_refused_while_kubernetes_computes_use_the_cluster(make_cloud):
    cloud = installed(make_cloud)
    cloud.write(ext=extension(extra="  ensure: absent\n"), a=TWO_COMPUTES["a"], b=TWO_COMPUTES["b"])
    run = cloud.cli("plan")
    out = run.stdout + run.stderr
    assert run.code == 1 and "KUBE022" in out and "k8s-team-a" in out and "k8s-team-b" in out
    assert cloud.cli("apply", "--auto-approve").code == 1
    assert requests_of(cloud).get("Extensions_Delete", 0) == 0


def test_uninstall_runs_after_the_detaches_of_its_computes(make_cloud):
    cloud = installed(make_cloud)
    cloud.write(prune=True, ext=extension(extra="  ensure: absent\n"))
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    assert cloud.computes() == {}
    audit = cloud.audit()
    assert audit["requests"].get("Extensions_Delete") == 1 and audit["extensionViolations"] == []
    assert cloud.cli("plan", "--detailed-exitcode").code == 0


def test_install_on_a_cluster_with_legacy_azureml_fe_leftovers_is_refused_at_plan(make_cloud):
    leftovers = {
        **seed_cluster("westeurope", "1.30.5"),
        "objects": [
            {"kind": "Deployment", "namespace": "default", "name": "azureml-fe"},
            {"kind": "Service", "namespace": "default", "name": "azureml-fe"},
        ],
    }
    cloud = make_cloud(seed(clusters={"serving-aks": leftovers}))
    cloud.write(**TWO_COMPUTES)
    run = cloud.cli("plan")
    out = run.stdout + run.stderr
    assert run.code == 1 and "KUBE023" in out and "azureml-fe" in out and "reconciler migrate" in out, out
    assert "Traceback" not in run.stderr
    assert cloud.cli("apply", "--auto-approve").code == 1
    assert requests_of(cloud).get("Extensions_Create", 0) == 0


def test_install_on_a_cluster_with_a_legacy_aks_attachment_is_refused_at_plan(make_cloud):
    cloud = make_cloud(seed(computes={"legacy": seed_attached_compute("serving-aks")}, clusters=SERVING))
    cloud.write(ext=extension())
    run = cloud.cli("plan")
    out = run.stdout + run.stderr
    assert run.code == 1 and "KUBE023" in out and "legacy" in out and "reconciler migrate" in out, out


def test_kubernetes_compute_without_any_extension_is_refused_at_plan(make_cloud):
    cloud = make_cloud(seed(clusters=SERVING))
    cloud.write(a=TWO_COMPUTES["a"])
    run = cloud.cli("plan")
    assert run.code == 1 and "KUBE009" in run.stdout + run.stderr


def test_killed_install_converges_on_rerun(make_cloud):
    for boundary in (0, 1):  # killed while the install runs; killed right after it
        cloud = make_cloud(seed(clusters=SERVING), time_scale=0.003)
        cloud.write(**TWO_COMPUTES)
        assert kill_at_boundary(cloud, boundary), "apply ended before the boundary was reached"
        run = cloud.cli("apply", "--auto-approve")
        assert run.code == 0, run.stdout + run.stderr
        assert cloud.cli("plan", "--detailed-exitcode").code == 0
        assert set(cloud.computes()) == {"k8s-team-a", "k8s-team-b"}
        audit = cloud.audit()
        assert audit["violations"] == [] and audit["extensionViolations"] == []


def test_import_writes_extension_and_kubernetes_manifests_and_plan_shows_no_changes(make_cloud):
    cloud = installed(make_cloud)
    run = cloud.cli(
        "import", "--workspace", "00000000-0000-0000-0000-000000000001/ml-prod-rg/ml-prod", "--out", "imported"
    )
    assert run.code == 0, run.stderr
    files = {p.name: p.read_text() for p in (cloud.dir / "imported").glob("*.yaml")}
    assert "kind: ClusterExtension" in files["serving-aks-extension.yaml"]
    assert "kind: KubernetesCompute" in files["k8s-team-a.yaml"] and "team-a" in files["k8s-team-a.yaml"]
    assert cloud.cli("validate", "imported").code == 0
    plan = cloud.cli("plan", "imported", "--detailed-exitcode")
    assert plan.code == 0, plan.stdout + plan.stderr


def test_import_turns_the_write_only_pem_pair_into_env_references(make_cloud):
    cloud = make_cloud(seed(clusters=SERVING))
    cloud.write(ext=extension(inference=PEM_TLS), a=TWO_COMPUTES["a"])
    assert cloud.cli("apply", "--auto-approve", env=cloud.env(**SECRETS)).code == 0
    run = cloud.cli(
        "import", "--workspace", "00000000-0000-0000-0000-000000000001/ml-prod-rg/ml-prod", "--out", "imported"
    )
    assert run.code == 0, run.stderr
    text = (cloud.dir / "imported" / "serving-aks-extension.yaml").read_text()
    assert "certificate: {env: SERVING_AKS_TLS_CERT}" in text and "SERVING_AKS_TLS_KEY" in run.stderr
    assert "BEGIN" not in text


PEM_TLS = "tls: {cname: scoring.contoso.com, certificate: {env: SCORING_CERT}, key: {env: SCORING_KEY}}"
SECRETS = {
    "SCORING_CERT": "-----BEGIN CERTIFICATE-----\nMIIBfirst\n-----END CERTIFICATE-----\n",
    "SCORING_KEY": "key-one",
}


def test_a_rotated_certificate_is_an_upgrade_shown_only_as_sensitive(make_cloud):
    cloud = make_cloud(seed(clusters=SERVING))
    cloud.write(ext=extension(inference=PEM_TLS))
    assert cloud.cli("apply", "--auto-approve", env=cloud.env(**SECRETS)).code == 0
    assert cloud.cli("plan", "--detailed-exitcode", env=cloud.env(**SECRETS)).code == 0
    rotated = cloud.env(
        SCORING_CERT="-----BEGIN CERTIFICATE-----\nMIIBsecond\n-----END CERTIFICATE-----\n", SCORING_KEY="key-two"
    )
    plan = cloud.cli("plan", "--format", "json", env=rotated)
    change = next(c for c in json.loads(plan.stdout)["changes"] if c["address"] == "extension/serving-aks")
    assert change["action"] == "upgrade" and change["diff"] == [
        {"path": "inference.tls.certificate+key", "before": "(sensitive)", "after": "(sensitive, changed)"}
    ]
    assert "sha256" not in json.dumps(change) and "MIIB" not in plan.stdout and "key-two" not in plan.stdout
    assert cloud.cli("apply", "--auto-approve", env=rotated).code == 0
    assert cloud.cli("plan", "--detailed-exitcode", env=rotated).code == 0
    assert requests_of(cloud).get("Extensions_Update") == 1


def test_observe_lists_extensions_once_per_cluster_not_per_compute(make_cloud):
    cloud = installed(make_cloud)
    before = requests_of(cloud)
    assert cloud.cli("plan", "--detailed-exitcode").code == 0
    after = requests_of(cloud)
    assert after.get("Extensions_List", 0) - before.get("Extensions_List", 0) == 1
    assert after.get("Extensions_Get", 0) == before.get("Extensions_Get", 0)
    assert after.get("ManagedClusters_RunCommand", 0) == before.get("ManagedClusters_RunCommand", 0)


def test_a_saved_plan_installs_and_attaches_and_goes_stale_once_applied(make_cloud):
    cloud = make_cloud(seed(clusters=SERVING))
    cloud.write(**TWO_COMPUTES)
    assert cloud.cli("plan", "--out", "k8s.plan.json").code == 0
    saved = json.loads((cloud.dir / "k8s.plan.json").read_text())
    assert {c["action"] for c in saved["changes"]} == {"install", "attach"}
    run = cloud.cli("apply", "--plan", "k8s.plan.json", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    assert cloud.cli("plan", "--detailed-exitcode").code == 0
    stale = cloud.cli("apply", "--plan", "k8s.plan.json", "--auto-approve")
    assert stale.code == 1 and "stale" in stale.stderr


def test_description_and_tags_change_in_place_and_instance_types_by_reattach(make_cloud):
    cloud = installed(make_cloud)
    a = kubernetes("k8s-team-a", namespace="team-a", extra="  description: Team A scoring\n  tags: {team: a}\n")
    cloud.write(ext=TWO_COMPUTES["ext"], a=a, b=TWO_COMPUTES["b"])
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0 and "update" in run.stdout, run.stdout + run.stderr
    assert cloud.computes()["k8s-team-a"]["tags"]["team"] == "a"
    assert cloud.cli("plan", "--detailed-exitcode").code == 0
    resized = a + (
        "  instanceTypes:\n    small:\n      resources:\n        requests: {cpu: 1, memory: 1Gi}\n"
        "        limits: {cpu: 2, memory: 2Gi}\n"
    )
    cloud.write(ext=TWO_COMPUTES["ext"], a=resized, b=TWO_COMPUTES["b"])
    plan = cloud.cli("plan")
    assert "prod/k8s-team-a  reattach" in plan.stdout, plan.stdout
    assert cloud.cli("apply", "--auto-approve").code == 0
    assert cloud.cli("plan", "--detailed-exitcode").code == 0
    assert requests_of(cloud).get("Compute_Delete") == 1  # the one detach of the re-attach
    assert cloud.audit()["clusterDeletions"] == []


def test_show_lists_kubernetes_computes_with_their_namespace(make_cloud):
    cloud = installed(make_cloud)
    run = cloud.cli("show", "--format", "json")
    assert run.code == 0, run.stderr
    kinds = {r["compute"]: r["kind"] for r in json.loads(run.stdout)["computes"]}
    assert kinds == {"k8s-team-a": "kubernetes (namespace team-a)", "k8s-team-b": "kubernetes (namespace team-b)"}

"""Migration from legacy AKS computes, planned with hand-built observed states (no server)."""

from __future__ import annotations

from reconciler.plan import Action, Op
from reconciler.planner import plan
from reconciler.planner_migration import DOWNTIME
from reconciler.state import ClusterInside
from tests.builders import WS, attach, attached, cluster, desired, extension, kubernetes, observed, workspace

CLEANUP = "  removeLegacyFrontEnd: true\n"


def legacy_world(*, created: bool = False, managed: bool = False):
    legacy = attached("scoring-prod", "serving-aks", managed=managed, attached=not created)
    obs = observed([legacy], clusters=[cluster("serving-aks"), cluster("scoring-aks")])
    obs.extensions[cluster("serving-aks").key] = ()
    obs.extensions[cluster("scoring-aks").key] = ()
    return obs


def steps_by_op(p):
    return {s.op: s for s in p.steps()}


def test_same_cluster_migration_is_one_chain_detach_cleanup_install_namespace_attach(tmp_path):
    docs = (
        workspace(),
        extension(extra=CLEANUP),
        kubernetes("scoring-v2", namespace="scoring-prod", extra="  replaces: scoring-prod\n"),
    )
    p = plan(desired(tmp_path, *docs), legacy_world())
    assert not p.errors, p.errors
    s = steps_by_op(p)
    assert s[Op.DETACH].id in s[Op.REMOVE_LEGACY_FE].depends_on
    assert s[Op.REMOVE_LEGACY_FE].id in s[Op.INSTALL].depends_on
    assert s[Op.INSTALL].id in s[Op.CREATE_NAMESPACE].depends_on
    assert s[Op.CREATE_NAMESPACE].id in s[Op.K8S_ATTACH].depends_on
    assert Op.DELETE not in s
    detach = next(c for c in p.changes if c.action is Action.DETACH)
    assert DOWNTIME in detach.disruptive
    assert any(w.rule == "MIG002" for w in p.warnings)


def test_a_created_legacy_cluster_is_detached_never_deleted(tmp_path):
    docs = (
        workspace(),
        extension(extra=CLEANUP),
        kubernetes("scoring-v2", namespace="scoring-prod", extra="  replaces: scoring-prod\n"),
    )
    p = plan(desired(tmp_path, *docs), legacy_world(created=True))
    assert not p.errors and {s.op for s in p.steps()} >= {Op.DETACH} and Op.DELETE not in {s.op for s in p.steps()}


def test_without_remove_legacy_front_end_the_same_cluster_migration_is_refused(tmp_path):
    docs = (
        workspace(),
        extension(),
        kubernetes("scoring-v2", namespace="scoring-prod", extra="  replaces: scoring-prod\n"),
    )
    p = plan(desired(tmp_path, *docs), legacy_world())
    assert {e.rule for e in p.errors} & {"KUBE023", "MIG004"}


def test_new_cluster_keeps_the_declared_legacy_compute_and_says_it_still_serves(tmp_path):
    docs = (
        workspace(),
        attach("scoring-prod", "serving-aks"),
        extension(cluster="scoring-aks", name="scoring-aks"),
        kubernetes("scoring-v2", cluster="scoring-aks", namespace="scoring-prod", extra="  replaces: scoring-prod\n"),
    )
    p = plan(desired(tmp_path, *docs), legacy_world(managed=True))
    assert not any(s.op in (Op.DETACH, Op.DELETE) for s in p.steps())
    assert any(w.rule == "MIG001" and "scoring-prod" in w.message for w in p.warnings)


def test_new_cluster_removing_the_legacy_manifest_detaches_it_even_without_prune(tmp_path):
    docs = (
        workspace(prune=False),
        extension(cluster="scoring-aks", name="scoring-aks"),
        kubernetes("scoring-v2", cluster="scoring-aks", namespace="scoring-prod", extra="  replaces: scoring-prod\n"),
    )
    p = plan(desired(tmp_path, *docs), legacy_world(created=True))
    assert not p.errors, p.errors
    detach = next(c for c in p.changes if c.action is Action.DETACH)
    assert [s.op for s in detach.steps] == [Op.DETACH] and not detach.disruptive


def test_leftovers_after_a_half_done_migration_plan_cleanup_then_install(tmp_path):
    obs = observed([], clusters=[cluster("serving-aks")])
    obs.extensions[cluster("serving-aks").key] = ()
    obs.insides[cluster("serving-aks").key] = ClusterInside(("deployment.apps/azureml-fe",))
    docs = (
        workspace(),
        extension(extra=CLEANUP),
        kubernetes("scoring-v2", namespace="scoring-prod", extra="  replaces: scoring-prod\n"),
    )
    p = plan(desired(tmp_path, *docs), obs)
    assert not p.errors
    ext = next(c for c in p.changes if c.address == "extension/serving-aks")
    assert [s.op for s in ext.steps] == [Op.REMOVE_LEGACY_FE, Op.INSTALL]


def test_a_legacy_compute_still_attached_in_another_visible_workspace_blocks_the_cleanup(tmp_path):
    from reconciler.state import ObservedWorkspace, WorkspaceRef

    obs = legacy_world()
    other = WorkspaceRef(WS.subscription_id, WS.resource_group, "other-ws")
    obs.workspaces[other.key] = ObservedWorkspace(
        other, computes={"theirs": attached("theirs", "serving-aks", managed=False)}
    )
    docs = (
        workspace(),
        extension(extra=CLEANUP),
        kubernetes("scoring-v2", namespace="scoring-prod", extra="  replaces: scoring-prod\n"),
    )
    p = plan(desired(tmp_path, *docs), obs)
    assert any(e.rule == "KUBE023" and "theirs" in e.message for e in p.errors)

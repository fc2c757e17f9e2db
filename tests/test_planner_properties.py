"""Property: executing a plan's steps in ANY order its dependsOn allows never makes two
attachments of one cluster in a workspace (nor runs two steps on one cluster at once),
and ends in the desired state."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.desired import Desired, DesiredCluster, DesiredWorkspace
from reconciler.findings import Position
from reconciler.ids import cluster_key
from reconciler.manifest import InferenceCluster
from reconciler.planner import PlanOptions, plan
from reconciler.state import MANAGED_TAG, SPEC_TAG, Compute, ObservedState, ObservedWorkspace, Tls
from tests.builders import WS, aks_id, cluster

CLUSTERS = [f"c{i}-aks" for i in range(4)]
NAMES = [f"name{i}" for i in range(5)]
LABELS = [None, "alpha", "beta"]


def desired_cluster(name: str, cluster_name: str, label: str | None) -> DesiredCluster:
    spec = {"workspace": "prod", "description": "d", "attach": {"clusterId": aks_id(cluster_name)}}
    if label:
        spec["tls"] = {"enabled": True, "leafDomainLabel": label}
    ic = InferenceCluster.model_validate(
        {"apiVersion": "reconciler.aml/v1", "kind": "InferenceCluster", "metadata": {"name": name}, "spec": spec}
    )
    return DesiredCluster(ic, "prod", WS, Position(Path("m.yaml"), 1, 1), Path("."))


@st.composite
def scenarios(draw):
    observed_clusters = draw(st.permutations(CLUSTERS))[: draw(st.integers(0, 4))]
    observed_names = draw(st.permutations(NAMES))[: len(observed_clusters)]
    computes = {}
    for name, cl in zip(observed_names, observed_clusters, strict=True):
        managed = draw(st.booleans())
        label = draw(st.sampled_from(LABELS))
        computes[name] = (cl, managed, label, draw(st.sampled_from(["Succeeded", "Succeeded", "Failed"])))
    desired_clusters = draw(st.permutations(CLUSTERS))[: draw(st.integers(0, 4))]
    desired_names = draw(st.permutations(NAMES))[: len(desired_clusters)]
    wanted = {n: (c, draw(st.sampled_from(LABELS))) for n, c in zip(desired_names, desired_clusters, strict=True)}
    return computes, wanted, draw(st.booleans()), draw(st.randoms(use_true_random=False))


def build(computes, wanted, prune):
    dcs = [desired_cluster(n, c, label) for n, (c, label) in wanted.items()]
    digests = {dc.name: dc.digest() for dc in dcs}
    observed_computes = {}
    for name, (cl, managed, label, state) in computes.items():
        tags = {MANAGED_TAG: "true", SPEC_TAG: digests.get(name, "sha256:x")} if managed else {}
        tls = Tls("Enabled", label) if label else Tls()
        observed_computes[name] = Compute(
            name,
            cluster_id=aks_id(cl),
            purpose="FastProd",
            tls=tls,
            description="d",
            tags=tags,
            provisioning_state=state,
        )
    ws = DesiredWorkspace("prod", WS, Position(Path("m.yaml"), 1, 1), prune)
    desired = Desired({"prod": ws}, dcs, "sha256:d")
    obs = ObservedState(
        {WS.key: ObservedWorkspace(WS, computes=observed_computes)}, {cluster(c).key: cluster(c) for c in CLUSTERS}, {}
    )
    return desired, obs


def ancestors(step_id, by_id, memo):
    if step_id not in memo:
        memo[step_id] = set()
        for dep in by_id[step_id].depends_on:
            memo[step_id] |= {dep} | ancestors(dep, by_id, memo)
    return memo[step_id]


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_any_allowed_order_never_double_attaches_and_converges(scenario):
    computes, wanted, prune, rnd = scenario
    desired, obs = build(computes, wanted, prune)
    p = plan(desired, obs, PlanOptions())
    if p.errors:
        assert {e.rule for e in p.errors} <= {"AKS028"}  # an unmanaged attachment in the way
        return
    steps = p.steps()
    by_id = {s.id: s for s in steps}
    memo: dict = {}
    # No two steps on one cluster may ever run at once: one must come before the other.
    for a in steps:
        for b in steps:
            if a.id < b.id and a.cluster and a.cluster == b.cluster:
                assert a.id in ancestors(b.id, by_id, memo) or b.id in ancestors(a.id, by_id, memo), (a, b)
    # Execute in a random topological order against a model of the workspace.
    model = {n: cluster_key(aks_id(c)) for n, (c, *_rest) in computes.items()}
    done: set[str] = set()
    pending = list(steps)
    while pending:
        ready = [s for s in pending if set(s.depends_on) <= done]
        assert ready, "dependency cycle"
        step = rnd.choice(ready)
        pending.remove(step)
        if step.op in ("detach", "delete"):
            model.pop(step.compute, None)
        elif step.op == "attach":
            others = [n for n, k in model.items() if k == step.cluster and n != step.compute]
            assert not others, f"second attachment of {step.cluster} as {step.compute} while {others} attached"
            model[step.compute] = step.cluster
        done.add(step.id)
    for name, (c, _label) in wanted.items():
        assert model.get(name) == cluster_key(aks_id(c)), (name, model)
    attached = list(model.values())
    assert len(attached) == len(set(attached)), model


def _outcome(p):
    return (
        sorted((c.address, c.action.value, tuple(s.op for s in c.steps)) for c in p.changes),
        sorted(f.message for f in p.errors),
        sorted(f.message for f in p.warnings),
    )


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.data())
def test_reading_only_the_clusters_a_plan_needs_never_changes_the_plan(scenario, data):
    """Observing skips the clusters of attachments that already match (a large fleet's cluster
    lists are pages long): the plan made without them must be the plan made with every cluster."""
    from reconciler.planner import clusters_to_read

    computes, wanted, prune, _ = scenario
    desired, full = build(computes, wanted, prune)
    replace = frozenset(data.draw(st.sets(st.sampled_from(NAMES))))
    needed = {cluster_key(i) for i in clusters_to_read(desired, full, replace)}
    partial = ObservedState(full.workspaces, {k: v for k, v in full.clusters.items() if k in needed}, full.versions)
    options = PlanOptions(replace=replace)
    assert _outcome(plan(desired, partial, options)) == _outcome(plan(desired, full, options))

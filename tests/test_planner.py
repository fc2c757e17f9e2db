"""Planner: every action and every plan error, without any server."""

from __future__ import annotations

from reconciler.planner import Action
from reconciler.state import Compute, Tls
from tests.builders import attach, attached, cluster, create, desired, digest_of, observed, planned, workspace

TLS = "  tls:\n    enabled: true\n    leafDomainLabel: contoso\n"


def actions(p):
    return {c.address: c.action for c in p.changes}


def steps(p):
    return [(s.id, s.op, s.depends_on) for s in p.steps()]


def test_new_attach_is_planned_as_attach(tmp_path):
    p = planned(tmp_path, (workspace(), attach()), observed(clusters=[cluster("scoring-aks")]))
    assert actions(p) == {"prod/scoring-prod": Action.ATTACH}
    assert steps(p) == [("prod/scoring-prod#1", "attach", [])]
    assert not p.errors


def test_new_create_is_planned_as_create(tmp_path):
    p = planned(tmp_path, (workspace(), create()), observed())
    assert actions(p) == {"prod/dev-scoring": Action.CREATE}


def test_attach_with_internal_load_balancer_updates_after_attaching(tmp_path):
    lb = "  loadBalancer:\n    type: InternalLoadBalancer\n    subnet: aks-subnet\n"
    p = planned(tmp_path, (workspace(), attach(extra=lb)), observed(clusters=[cluster("scoring-aks")]))
    assert steps(p) == [
        ("prod/scoring-prod#1", "attach", []),
        ("prod/scoring-prod#2", "update", ["prod/scoring-prod#1"]),
    ]


def converged(tmp_path, doc, name="scoring-prod", **kw):
    d = digest_of(tmp_path, workspace(), doc, name=name)
    return attached(name, "scoring-aks", digest=d, **kw)


def test_matching_compute_is_noop(tmp_path):
    doc = attach(extra=TLS)
    obs = observed([converged(tmp_path, doc, tls=Tls("Enabled", "contoso"))], [cluster("scoring-aks")])
    p = planned(tmp_path, (workspace(), doc), obs)
    assert actions(p) == {"prod/scoring-prod": Action.NOOP} and not p.has_changes


def test_description_change_is_an_update(tmp_path):
    obs = observed([converged(tmp_path, attach(), description="old")], [cluster("scoring-aks")])
    p = planned(tmp_path, (workspace(), attach()), obs)
    (change,) = p.changes
    assert change.action is Action.UPDATE
    assert [(d.path, d.before, d.after) for d in change.diff] == [("description", "old", "test")]


def test_switch_to_internal_load_balancer_is_an_update(tmp_path):
    lb = "  loadBalancer:\n    type: InternalLoadBalancer\n    subnet: aks-subnet\n"
    obs = observed([converged(tmp_path, attach(extra=lb))], [cluster("scoring-aks")])
    assert actions(planned(tmp_path, (workspace(), attach(extra=lb)), obs)) == {"prod/scoring-prod": Action.UPDATE}


def test_unmanaged_compute_that_matches_its_declaration_is_noop(tmp_path):
    obs = observed([attached("scoring-prod", "scoring-aks", managed=False)], [cluster("scoring-aks")])
    (change,) = planned(tmp_path, (workspace(), attach()), obs).changes
    assert change.action is Action.NOOP


def test_declared_unmanaged_compute_that_differs_is_updated_and_tagged(tmp_path):
    obs = observed(
        [attached("scoring-prod", "scoring-aks", managed=False, description="old")], [cluster("scoring-aks")]
    )
    (change,) = planned(tmp_path, (workspace(), attach()), obs).changes
    assert change.action is Action.UPDATE


def test_tls_label_change_detaches_then_attaches(tmp_path):
    obs = observed([converged(tmp_path, attach(extra=TLS), tls=Tls("Enabled", "old"))], [cluster("scoring-aks")])
    p = planned(tmp_path, (workspace(), attach(extra=TLS)), obs)
    (change,) = p.changes
    assert change.action is Action.REATTACH
    assert ("tls.leafDomainLabel", "old", "contoso") in [(d.path, d.before, d.after) for d in change.diff]
    assert steps(p) == [
        ("prod/scoring-prod#1", "detach", []),
        ("prod/scoring-prod#2", "attach", ["prod/scoring-prod#1"]),
    ]


def test_purpose_change_reattaches(tmp_path):
    obs = observed([converged(tmp_path, attach(), purpose="DevTest")], [cluster("scoring-aks")])
    assert actions(planned(tmp_path, (workspace(), attach()), obs)) == {"prod/scoring-prod": Action.REATTACH}


def test_changed_certificate_is_seen_through_the_spec_digest(tmp_path, monkeypatch):
    tls = "  tls:\n    enabled: true\n    cname: a.example.com\n    certificate: {env: CERT}\n    key: {env: KEY}\n"
    monkeypatch.setenv("CERT", "old-cert")
    monkeypatch.setenv("KEY", "old-key")
    old = converged(tmp_path, attach(extra=tls), tls=Tls("Enabled", cname="a.example.com"))
    monkeypatch.setenv("CERT", "new-cert")
    monkeypatch.setenv("KEY", "new-key")
    p = planned(tmp_path, (workspace(), attach(extra=tls)), observed([old], [cluster("scoring-aks")]))
    (change,) = p.changes
    assert change.action is Action.REATTACH and "certificate" in change.reasons[0]
    text = repr(p)
    assert "new-cert" not in text and "old-cert" not in text and "new-key" not in text and "old-key" not in text


def test_unreadable_certificate_warns_and_does_not_reattach(tmp_path, monkeypatch):
    tls = "  tls:\n    enabled: true\n    cname: a.example.com\n    certificate: {env: CERT}\n    key: {env: KEY}\n"
    monkeypatch.setenv("CERT", "c")
    monkeypatch.setenv("KEY", "k")
    current = converged(tmp_path, attach(extra=tls), tls=Tls("Enabled", cname="a.example.com"))
    monkeypatch.delenv("CERT")
    p = planned(tmp_path, (workspace(), attach(extra=tls)), observed([current], [cluster("scoring-aks")]))
    assert actions(p) == {"prod/scoring-prod": Action.NOOP}
    assert [w.rule for w in p.warnings] == ["AKS032"]


def test_failed_attachment_is_planned_back_to_health(tmp_path):
    obs = observed(
        [converged(tmp_path, attach(), state="Failed", provisioning_errors=("broken by a second attachment",))],
        [cluster("scoring-aks")],
    )
    (change,) = planned(tmp_path, (workspace(), attach()), obs).changes
    assert change.action is Action.REATTACH and "Failed" in change.reasons[0]


def created(name, cluster_name, digest, **kw):
    return Compute(
        name,
        attached=False,
        cluster_id=f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-prod-rg/providers/Microsoft.ContainerService/managedClusters/{cluster_name}",
        purpose="DevTest",
        description="test",
        tags={"reconciler-managed": "true", "reconciler-spec": digest},
        **kw,
    )


def created_cluster(name, **kw):
    from reconciler.state import AgentPool, AksCluster

    return AksCluster(
        f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-prod-rg/providers/Microsoft.ContainerService/managedClusters/{name}",
        "westeurope",
        "1.30.5",
        (AgentPool("agentpool", kw.pop("vm", "Standard_D3_v2"), kw.pop("count", 1)),),
    )


def test_agent_count_change_scales_the_created_cluster(tmp_path):
    d = digest_of(tmp_path, workspace(), create(count=2), name="dev-scoring")
    obs = observed([created("dev-scoring", "dev-aks", d)], [created_cluster("dev-aks", count=1)])
    p = planned(tmp_path, (workspace(), create(count=2)), obs)
    (change,) = p.changes
    assert change.action is Action.SCALE
    assert [(x.path, x.before, x.after) for x in change.diff] == [("agentCount", 1, 2)]


def test_vm_size_change_needs_replace_flag(tmp_path):
    d = digest_of(tmp_path, workspace(), create(), name="dev-scoring")
    obs = observed([created("dev-scoring", "dev-aks", d)], [created_cluster("dev-aks")])
    docs = (workspace(), create(vm="Standard_D4_v2"))
    p = planned(tmp_path, docs, obs)
    assert [e.rule for e in p.errors] == ["AKS029"] and "--replace" in p.errors[0].hint
    p = planned(tmp_path, docs, obs, replace={"dev-scoring"})
    assert actions(p) == {"prod/dev-scoring": Action.REPLACE}
    assert [(s.op, s.depends_on) for s in p.steps()] == [("delete", []), ("create", ["prod/dev-scoring#1"])]


def test_created_cluster_gone_is_recreated_without_flag(tmp_path):
    d = digest_of(tmp_path, workspace(), create(), name="dev-scoring")
    obs = observed([created("dev-scoring", "dev-aks", d, provisioning_state="Failed")], [])
    p = planned(tmp_path, (workspace(), create()), obs)
    assert actions(p) == {"prod/dev-scoring": Action.REPLACE}
    assert [s.op for s in p.steps()] == ["detach", "create"]


def test_removed_managed_compute_is_detached_only_with_prune(tmp_path):
    obs = observed([attached("old-scoring", "old-aks")], [cluster("old-aks")])
    p = planned(tmp_path, (workspace(),), obs)
    assert not p.has_changes and [w.rule for w in p.warnings] == ["AKS035"]
    p = planned(tmp_path, (workspace(prune=True),), obs)
    assert actions(p) == {"prod/old-scoring": Action.DETACH}


def test_prune_never_touches_unmanaged_computes(tmp_path):
    obs = observed([attached("legacy", "old-aks", managed=False)], [cluster("old-aks")])
    assert not planned(tmp_path, (workspace(prune=True),), obs).has_changes


def test_rename_detaches_before_attaching(tmp_path):
    obs = observed([attached("old-name", "scoring-aks")], [cluster("scoring-aks")])
    p = planned(tmp_path, (workspace(), attach(name="new-name")), obs)
    assert actions(p) == {"prod/new-name": Action.ATTACH, "prod/old-name": Action.DETACH}
    by_id = {s.id: s for s in p.steps()}
    assert by_id["prod/new-name#1"].depends_on == ["prod/old-name#1"]


def test_cluster_attached_under_unmanaged_name_is_a_plan_error(tmp_path):
    obs = observed([attached("legacy-scoring", "scoring-aks", managed=False)], [cluster("scoring-aks")])
    p = planned(tmp_path, (workspace(), attach()), obs)
    assert [e.rule for e in p.errors] == ["AKS028"]
    assert "legacy-scoring" in p.errors[0].message and "import" in p.errors[0].hint
    assert all(c.action is not Action.ATTACH for c in p.changes)


def test_swapping_two_clusters_orders_both_detaches_first(tmp_path):
    d_a = attach(name="alpha", cluster="x-aks")
    d_b = attach(name="beta", cluster="y-aks")
    obs = observed([attached("alpha", "y-aks"), attached("beta", "x-aks")], [cluster("x-aks"), cluster("y-aks")])
    p = planned(tmp_path, (workspace(), d_a, d_b), obs)
    by_id = {s.id: s for s in p.steps()}
    assert set(by_id["prod/alpha#2"].depends_on) == {"prod/alpha#1", "prod/beta#1"}
    assert set(by_id["prod/beta#2"].depends_on) == {"prod/beta#1", "prod/alpha#1"}


def test_attach_target_missing_is_an_error(tmp_path):
    assert [e.rule for e in planned(tmp_path, (workspace(), attach()), observed()).errors] == ["AKS020"]


def test_unsupported_kubernetes_version_lists_supported_ones(tmp_path):
    p = planned(tmp_path, (workspace(), attach()), observed(clusters=[cluster("scoring-aks", version="1.27.1")]))
    (err,) = p.errors
    assert err.rule == "AKS021" and "1.30.5" in err.message and "1.32.0 (preview)" in err.message


def test_preview_kubernetes_version_warns(tmp_path):
    p = planned(tmp_path, (workspace(), attach()), observed(clusters=[cluster("scoring-aks", version="1.32.0")]))
    assert not p.errors and [w.rule for w in p.warnings] == ["AKS022"]


def test_too_small_real_cluster_is_an_error(tmp_path):
    p = planned(tmp_path, (workspace(), attach()), observed(clusters=[cluster("scoring-aks", count=2)]))
    assert [e.rule for e in p.errors] == ["AKS023"]
    p = planned(
        tmp_path, (workspace(), attach(purpose="DevTest")), observed(clusters=[cluster("scoring-aks", count=2)])
    )
    assert not p.errors


def test_private_authorized_and_basic_clusters_warn(tmp_path):
    c = cluster("scoring-aks", private=True, authorized_ip_ranges=("1.2.3.0/24",), load_balancer_sku="basic")
    p = planned(tmp_path, (workspace(), attach()), observed(clusters=[c]))
    assert sorted(w.rule for w in p.warnings) == ["AKS024", "AKS025", "AKS026"]


def test_unknown_vm_size_of_real_cluster_warns(tmp_path):
    p = planned(tmp_path, (workspace(), attach()), observed(clusters=[cluster("scoring-aks", vm="Standard_Q9")]))
    assert [w.rule for w in p.warnings] == ["AKS027"]


def test_missing_workspace_is_an_error(tmp_path):
    assert [e.rule for e in planned(tmp_path, (workspace(), attach()), observed(exists=False)).errors] == ["AKS030"]


def test_in_flight_compute_is_pending_with_a_warning_not_an_error(tmp_path):
    obs = observed([converged(tmp_path, attach(), state="Updating")], [cluster("scoring-aks")])
    p = planned(tmp_path, (workspace(), attach()), obs)
    assert not p.errors and [w.rule for w in p.warnings] == ["AKS034"]
    assert [(c.action.value, c.reasons) for c in p.pending] == [
        ("pending", ["scoring-prod: Updating (operation in flight)"])
    ]
    assert not p.has_changes


def test_rename_marks_downtime_and_does_not_warn_prune_is_off(tmp_path):
    obs = observed([attached("old-name", "scoring-aks")], [cluster("scoring-aks")])
    p = planned(tmp_path, (workspace(), attach(name="new-name")), obs)
    assert not p.warnings
    attach_change = next(c for c in p.changes if c.compute_name == "new-name")
    assert attach_change.downtime_minutes == 6  # detach ~1 min + attach ~5 min


def test_target_limits_the_plan_but_keeps_what_it_depends_on(tmp_path):
    obs = observed([attached("old-name", "scoring-aks")], [cluster("scoring-aks"), cluster("other-aks")])
    docs = (workspace(), attach(name="new-name"), attach(name="unrelated", cluster="other-aks"))
    p = planned(tmp_path, docs, obs, targets={"new-name"})
    assert set(actions(p)) == {"prod/new-name", "prod/old-name"}


def test_a_compute_is_found_by_its_name_in_any_case():
    """Azure ML compute names are case-insensitive: the exact name is looked up first, any case after."""
    from reconciler.state import ObservedWorkspace
    from tests.builders import WS

    scoring = Compute("Scoring")
    ows = ObservedWorkspace(WS, computes={"Scoring": scoring, "other": Compute("other")})
    assert ows.compute("Scoring") is scoring and ows.compute("SCORING") is scoring
    assert ows.compute("missing") is None


def test_declared_computes_are_grouped_by_workspace_in_declaration_order(tmp_path):
    docs = (
        workspace("prod"),
        workspace("dev", ws="ws-dev"),
        workspace("idle", ws="ws-idle"),
        attach("a-prod"),
        attach("b-dev", ws="dev"),
        attach("c-prod", cluster="other-aks"),
    )
    grouped = desired(tmp_path, *docs).by_workspace()
    assert {alias: [c.name for c in cs] for alias, cs in grouped.items()} == {
        "prod": ["a-prod", "c-prod"],
        "dev": ["b-dev"],
        "idle": [],
    }

"""observe(): the right normalised state with exactly W + S + L calls."""

from __future__ import annotations

import time
from typing import Any

import pytest

from reconciler.cloud import observe as observe_mod
from reconciler.cloud.arm import ComputesClient, compute_from_rest
from reconciler.cloud.auth import Connection, connect
from reconciler.cloud.observe import ObserveStats, observe, observe_with_stats
from reconciler.emulator import Emulator
from reconciler.ids import cluster_key
from reconciler.state import AgentPool, Compute, KubernetesVersion, WorkspaceRef

from .conftest import BIG, BIG_COUNT, DEV, MISSING, OTHER_SUB, PROD, SUB, Admin, cluster_id, make_seed


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}


def test_observe_two_workspaces_two_regions(conn: Connection, admin: Admin) -> None:
    computes = ComputesClient(conn)
    computes.begin_create_or_update(
        PROD,
        "scoring",
        {
            "location": "westeurope",
            "tags": {"reconciler-managed": "true", "reconciler-spec": "sha256:abc"},
            "properties": {
                "computeType": "AKS",
                "resourceId": cluster_id("second-aks"),
                "properties": {
                    "clusterPurpose": "FastProd",
                    "sslConfiguration": {
                        "status": "Enabled",
                        "leafDomainLabel": "contoso",
                        "overwriteExistingDomain": True,
                    },
                },
            },
        },
    ).result(timeout=10)
    computes.begin_create_or_update(
        PROD,
        "made-here",
        {
            "location": "westeurope",
            "properties": {"computeType": "AKS", "properties": {"agentCount": 3, "agentVmSize": "Standard_D3_v2"}},
        },
    ).result(timeout=10)
    created_cluster = (computes.get(PROD, "made-here") or Compute("")).cluster_id

    before = admin.requests()
    state, stats = observe_with_stats(conn, [PROD, DEV, PROD], [cluster_id("scoring-aks"), cluster_id("east-aks")])
    calls = delta(before, admin.requests())

    # W + S + L = 2 workspaces + 1 subscription + 2 regions, and nothing per compute
    assert calls == {"Compute_List": 2, "ManagedClusters_List": 1, "ManagedClusters_ListKubernetesVersions": 2}
    assert stats.calls == 5 == stats.lower_bound
    assert (stats.workspaces, stats.cluster_fetches, stats.regions) == (2, 1, 2)

    prod = state.workspace(PROD)
    assert prod.exists and set(prod.computes) == {"legacy-scoring", "scoring", "made-here"}
    assert prod.other_computes == frozenset()
    scoring = prod.computes["scoring"]
    assert scoring.managed and scoring.spec_digest == "sha256:abc" and scoring.attached
    assert scoring.cluster_key == cluster_key(cluster_id("second-aks"))
    assert scoring.tls.enabled and scoring.tls.leaf_domain_label == "contoso" and scoring.tls.overwrite_existing_domain
    assert scoring.purpose == "FastProd" and scoring.provisioning_state == "Succeeded"
    legacy = prod.computes["legacy-scoring"]
    assert legacy.purpose == "DevTest" and legacy.description == "old one" and legacy.tags == {"team": "fraud"}
    made = prod.computes["made-here"]
    assert made.created and not made.attached and made.agent_count == 3
    dev = state.workspace(DEV)
    assert dev.exists and dev.computes == {}

    # relevant clusters only: the attach targets and those the computes point at
    assert set(state.clusters) == {
        cluster_key(cluster_id(n)) for n in ("scoring-aks", "east-aks", "second-aks", "legacy-aks")
    } | {cluster_key(created_cluster)}
    east = state.cluster(cluster_id("east-aks"))
    assert east is not None and east.location == "eastus" and east.private and east.load_balancer_sku == "basic"
    assert east.agent_pools[1] == AgentPool("user", "Standard_D4_v2", 2, "User")
    assert state.cluster(cluster_id("scoring-aks")).authorized_ip_ranges == ("20.0.0.0/16",)  # type: ignore[union-attr]

    assert set(state.versions) == {"westeurope", "eastus"}
    assert state.region_versions("WestEurope") == (
        KubernetesVersion("1.30.4"),
        KubernetesVersion("1.30.5", default=True),
        KubernetesVersion("1.31.2"),
        KubernetesVersion("1.32.0", preview=True),
    )
    assert [v.version for v in state.versions["eastus"] if v.default] == ["1.30.4"]


def test_lone_cluster_in_another_subscription_is_fetched_by_get(conn: Connection, admin: Admin) -> None:
    before = admin.requests()
    state, stats = observe_with_stats(conn, [DEV], [cluster_id("foreign-aks", sub=OTHER_SUB, rg="other-rg")])
    assert delta(before, admin.requests()) == {
        "Compute_List": 1,
        "ManagedClusters_Get": 1,
        "ManagedClusters_ListKubernetesVersions": 1,
    }
    assert stats.calls == stats.lower_bound == 3
    assert [c.name for c in state.clusters.values()] == ["foreign-aks"]
    assert "westeurope" in state.versions


def test_clusters_of_computes_only_and_no_versions(conn: Connection, admin: Admin) -> None:
    before = admin.requests()
    state = observe(conn, [PROD])
    assert delta(before, admin.requests()) == {"Compute_List": 1, "ManagedClusters_Get": 1}
    assert list(state.clusters) == [cluster_key(cluster_id("legacy-aks"))]
    assert state.versions == {}


def test_extra_regions_without_targets(conn: Connection, admin: Admin) -> None:
    before = admin.requests()
    state = observe(conn, [DEV], (), ["NorthEurope", "northeurope"])
    assert delta(before, admin.requests()) == {"Compute_List": 1, "ManagedClusters_ListKubernetesVersions": 1}
    assert state.region_versions("northeurope") == (KubernetesVersion("1.30.5", default=True),)


def test_missing_workspace_and_missing_cluster(conn: Connection, admin: Admin) -> None:
    state, stats = observe_with_stats(conn, [MISSING], [cluster_id("ghost-aks"), "not-an-id"])
    assert not state.workspace(MISSING).exists
    assert state.cluster(cluster_id("ghost-aks")) is None and state.clusters == {}
    assert state.versions == {}  # a region is learnt only from a cluster that exists
    assert stats.calls == 2  # the computes list and one GET


def test_many_referenced_clusters_are_listed_not_fetched_one_by_one(conn: Connection, admin: Admin) -> None:
    before = admin.requests()
    state, stats = observe_with_stats(conn, [BIG])
    calls = delta(before, admin.requests())
    assert calls == {"Compute_List": 2, "ManagedClusters_List": 2}  # two pages each
    assert stats.lower_bound == 2 and stats.calls == 4
    assert len(state.workspace(BIG).computes) == BIG_COUNT == len(state.clusters)


def test_needed_chooses_the_clusters_read_after_the_lists_and_none_is_no_cluster_call(
    conn: Connection, admin: Admin
) -> None:
    """A fleet whose attachments all match reads no cluster: a subscription's cluster list is
    pages long, each page waiting for the one before."""
    before = admin.requests()
    state = observe(conn, [BIG], needed=lambda observed: [])
    assert delta(before, admin.requests()) == {"Compute_List": 2}
    assert state.clusters == {} and len(state.workspace(BIG).computes) == BIG_COUNT


def test_needed_sees_the_listed_workspaces_and_its_clusters_are_checked_like_attach_targets(
    conn: Connection, admin: Admin
) -> None:
    seen: list[int] = []

    def needed(observed: Any) -> list[str]:
        seen.append(len(observed.workspace(PROD).computes))
        return [cluster_id("legacy-aks")]

    before = admin.requests()
    state = observe(conn, [PROD], needed=needed)
    assert seen == [1]  # asked once, with the workspace listed
    assert delta(before, admin.requests()) == {
        "Compute_List": 1,
        "ManagedClusters_Get": 1,
        "ManagedClusters_ListKubernetesVersions": 1,  # its region, as for an attach target
    }
    assert list(state.clusters) == [cluster_key(cluster_id("legacy-aks"))]


def test_calls_run_concurrently() -> None:
    """With 150 ms per response, 4 lists + 1 cluster list + 2 version lists take about two round trips."""
    seed = make_seed()
    rg = seed["subscriptions"][SUB]["resourceGroups"]["ml-prod-rg"]["workspaces"]
    for i in range(3):
        rg[f"ws-{i}"] = {"location": "westeurope", "computes": {}}
    refs = [DEV] + [WorkspaceRef(SUB, "ml-prod-rg", f"ws-{i}") for i in range(3)]
    with Emulator(seed, time_scale=0, latency_ms=150) as emu:
        conn = connect(emu.url)
        t0 = time.perf_counter()
        _, stats = observe_with_stats(conn, refs, [cluster_id("scoring-aks"), cluster_id("east-aks")])
        wall = time.perf_counter() - t0
    assert stats.calls == 7
    assert wall < 0.75, f"{wall:.2f}s: calls are not concurrent (sequential would be about 1.05 s)"


# -- the scheduler alone, with fake clients ---------------------------------------------------


class FakeComputes:
    def __init__(self, bodies: dict[str, list[dict] | None]) -> None:
        self.bodies = bodies
        self.calls: list[str] = []

    def list(self, ws: WorkspaceRef) -> list[Compute] | None:
        self.calls.append(f"list {ws.workspace_name}")
        bodies = self.bodies.get(ws.workspace_name)
        return None if bodies is None else [compute_from_rest(b) for b in bodies]

    def get(self, *a: Any) -> None:  # pragma: no cover - observe must never call it
        raise AssertionError("no call per compute")

    def close(self) -> None:
        pass


class FakeAks:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def list_clusters(self, sub: str) -> list:
        self.calls.append(f"list {sub}")
        return []

    def get_cluster(self, cid: str) -> None:
        self.calls.append(f"get {cid}")
        return None

    def kubernetes_versions(self, sub: str, region: str) -> tuple:
        self.calls.append(f"versions {region}")
        return ()

    def close(self) -> None:
        pass


def test_other_compute_types_are_names_only(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_computes = FakeComputes(
        {
            "ml-prod": [
                {"name": "gpu-cluster", "properties": {"computeType": "AmlCompute"}},
                {"name": "nb", "properties": {"computeType": "ComputeInstance"}},
                {"name": "aks-one", "properties": {"computeType": "AKS", "resourceId": cluster_id("a")}},
                {"name": "aks-two", "properties": {"computeType": "AKS", "resourceId": cluster_id("b")}},
            ]
        }
    )
    fake_aks = FakeAks()
    monkeypatch.setattr(observe_mod, "ComputesClient", lambda conn, on_request=None: fake_computes)
    monkeypatch.setattr(observe_mod, "AksClient", lambda conn, on_request=None: fake_aks)
    state = observe(connect("http://127.0.0.1:1"), [PROD])
    ows = state.workspace(PROD)
    assert set(ows.computes) == {"aks-one", "aks-two"}
    assert ows.other_computes == frozenset({"gpu-cluster", "nb"})
    assert fake_computes.calls == ["list ml-prod"]
    assert fake_aks.calls == [f"list {SUB}"]  # two clusters in one subscription: one list


def test_stats_lower_bound() -> None:
    stats = ObserveStats(workspaces=2, cluster_fetches=1, regions=2)
    assert stats.lower_bound == 5

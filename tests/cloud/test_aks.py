"""AksClient against the emulator: clusters, versions, scaling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from reconciler.cloud.aks import AksClient, versions_from_rest, versions_from_sdk
from reconciler.cloud.arm import CloudError
from reconciler.cloud.auth import Connection
from reconciler.state import AgentPool, KubernetesVersion

from .conftest import BIG_COUNT, BIG_SUB, OTHER_SUB, SUB, Admin, cluster_id


@pytest.fixture
def aks(conn: Connection) -> AksClient:
    return AksClient(conn)


def test_list_clusters_of_a_subscription_all_pages(aks: AksClient, admin: Admin) -> None:
    clusters = aks.list_clusters(BIG_SUB)
    assert len(clusters) == BIG_COUNT
    assert admin.requests()["ManagedClusters_List"] == 2
    assert len(aks.list_clusters(SUB)) == 5
    assert [c.name for c in aks.list_clusters(OTHER_SUB)] == ["foreign-aks"]
    assert aks.list_clusters("00000000-0000-0000-0000-00000000dead") == []


def test_get_cluster_normalised(aks: AksClient) -> None:
    c = aks.get_cluster(cluster_id("east-aks"))
    assert c is not None
    assert c.id == cluster_id("east-aks") and c.location == "eastus" and c.kubernetes_version == "1.31.1"
    assert c.agent_pools == (
        AgentPool("sys", "Standard_D3_v2", 3, "System"),
        AgentPool("user", "Standard_D4_v2", 2, "User"),
    )
    assert c.load_balancer_sku == "basic" and c.private is True and c.provisioning_state == "Succeeded"
    s = aks.get_cluster(cluster_id("scoring-aks").upper().replace("SUBSCRIPTIONS", "subscriptions"))
    assert s is not None and s.authorized_ip_ranges == ("20.0.0.0/16",) and not s.private
    assert s.load_balancer_sku == "standard"


def test_get_missing_cluster_is_none(aks: AksClient) -> None:
    assert aks.get_cluster(cluster_id("nope")) is None
    assert aks.get_cluster(cluster_id("x", rg="no-such-rg")) is None
    assert aks.get_cluster("/not/an/aks/id") is None


def test_kubernetes_versions_expand_patches(aks: AksClient) -> None:
    versions = aks.kubernetes_versions(SUB, "westeurope")
    # 1.30 is the default minor (1.30.5 is seeded default): only its highest patch is the default.
    assert versions == (
        KubernetesVersion("1.30.4"),
        KubernetesVersion("1.30.5", default=True),
        KubernetesVersion("1.31.2"),
        KubernetesVersion("1.32.0", preview=True),
    )


def test_versions_highest_patch_of_default_minor_and_numeric_order() -> None:
    def minor(v: str, patches: list[str], **kw: bool) -> SimpleNamespace:
        return SimpleNamespace(
            version=v,
            patch_versions={p: {} for p in patches},
            is_default=kw.get("d"),
            is_preview=kw.get("p"),
        )

    result = SimpleNamespace(
        values_property=[
            minor("1.31", ["1.31.10", "1.31.9"], d=True),
            minor("1.32", ["1.32.1"], p=True),
            minor("1.29", []),
        ]
    )
    assert versions_from_sdk(result) == (
        KubernetesVersion("1.29"),
        KubernetesVersion("1.31.9"),
        KubernetesVersion("1.31.10", default=True),
        KubernetesVersion("1.32.1", preview=True),
    )


def test_versions_read_as_rest_match_the_sdk_reading_of_microsofts_example() -> None:
    from azure.mgmt.containerservice import models

    example = Path(__file__).parents[1] / "data/spec-examples/containerservice/2026-08-01/KubernetesVersions_List.json"
    body = json.loads(example.read_text())["responses"]["200"]["body"]
    from_sdk = versions_from_sdk(models.KubernetesVersionListResult(body))
    assert versions_from_rest(body) == from_sdk
    assert any(v.default for v in from_sdk) and len(from_sdk) > 2


def test_observing_reads_aks_without_importing_the_aks_sdk(conn: Connection) -> None:
    """Plan reads clusters and versions as REST: the SDK (and its models) load only to scale."""
    code = (
        "import sys\n"
        "from reconciler.cloud.auth import connect\n"
        "from reconciler.cloud.aks import AksClient\n"
        f"aks = AksClient(connect({conn.endpoint!r}))\n"
        f"assert aks.list_clusters({SUB!r}) and aks.kubernetes_versions({SUB!r}, 'westeurope')\n"
        f"assert aks.get_cluster({cluster_id('missing-aks')!r}) is None\n"
        "print(sorted(m for m in sys.modules if m.startswith('azure.mgmt.containerservice')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_begin_scale_changes_only_the_count(aks: AksClient, admin: Admin) -> None:
    poller = aks.begin_scale(cluster_id("east-aks"), "user", 4)
    pool = poller.result(timeout=10)
    assert pool.count == 4 and poller.done()
    c = aks.get_cluster(cluster_id("east-aks"))
    assert c is not None and [(p.name, p.count, p.vm_size) for p in c.agent_pools] == [
        ("sys", 3, "Standard_D3_v2"),
        ("user", 4, "Standard_D4_v2"),
    ]
    requests = admin.requests()
    # one read before the PUT, one final GET by ARMPolling after the operation succeeded
    assert requests["AgentPools_Get"] == 2 and requests["AgentPools_CreateOrUpdate"] == 1
    assert [o["kind"] for o in admin.audit()["operations"]] == ["scale"]


def test_scale_missing_pool_is_cloud_error(aks: AksClient) -> None:
    with pytest.raises(CloudError) as info:
        aks.begin_scale(cluster_id("east-aks"), "ghost", 4)
    assert info.value.status == 404


def test_aks_reads_are_retried(aks: AksClient, admin: Admin) -> None:
    admin.faults({"500": 1.0, "limit": 1})
    assert aks.get_cluster(cluster_id("scoring-aks")) is not None
    assert admin.requests()["ManagedClusters_Get"] == 2

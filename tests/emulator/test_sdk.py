"""Unmodified Microsoft SDK clients against the emulator over HTTP, with their own LRO
polling and retry policies. Only the documented ``authentication_policy`` kwarg is used,
because azure-core's bearer policy refuses plain http."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
from azure.mgmt.machinelearningservices import models as ml

from reconciler.emulator import Emulator

from .conftest import SUB, Arm, cluster_id


class StaticBearer(SansIOHTTPPolicy):
    """Sets a bearer header (any token is accepted by the emulator)."""

    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = "Bearer emulator-token"


class NoCredential:
    def get_token(self, *scopes: str, **kw: Any) -> Any:  # pragma: no cover - never called
        raise AssertionError("the static policy replaces the credential")


def ml_client(url: str, **kw: Any) -> MachineLearningServicesMgmtClient:
    return MachineLearningServicesMgmtClient(
        NoCredential(), SUB, base_url=url, api_version="2026-07-01", authentication_policy=StaticBearer(), **kw
    )


def aks_client(url: str, **kw: Any) -> ContainerServiceClient:
    return ContainerServiceClient(NoCredential(), SUB, base_url=url, authentication_policy=StaticBearer(), **kw)


def aks_compute(resource_id: str | None = None, **props: Any) -> ml.ComputeResource:
    return ml.ComputeResource(
        location="westeurope",
        tags={"reconciler-managed": "true"},
        properties=ml.AKS(resource_id=resource_id, properties=ml.AKSSchemaProperties(**props)),
    )


def test_ml_sdk_attach_get_list_detach(emu: Emulator) -> None:
    c = ml_client(emu.url or "")
    t0 = time.time()
    poller = c.compute.begin_create_or_update(
        "ml-prod-rg", "ml-prod", "scoring-prod", aks_compute(cluster_id("scoring-aks"), cluster_purpose="FastProd")
    )
    res = poller.result()
    assert time.time() - t0 < 5, "Retry-After must make ARMPolling poll promptly"
    assert res.name == "scoring-prod" and res.properties.provisioning_state == "Succeeded"
    assert res.properties.is_attached_compute is True
    assert res.tags == {"reconciler-managed": "true"}
    got = c.compute.get("ml-prod-rg", "ml-prod", "scoring-prod")
    assert got.properties.resource_id == cluster_id("scoring-aks")
    assert isinstance(got.properties, ml.AKS)
    assert got.properties.properties.cluster_purpose == "FastProd"
    names = sorted(x.name for x in c.compute.list("ml-prod-rg", "ml-prod"))
    assert names == ["legacy-scoring", "scoring-prod"]
    c.compute.begin_delete("ml-prod-rg", "ml-prod", "scoring-prod", underlying_resource_action="Detach").result()
    with pytest.raises(ResourceNotFoundError):
        c.compute.get("ml-prod-rg", "ml-prod", "scoring-prod")
    audit = Arm(emu.url or "").admin("audit")
    for op in ("Compute_CreateOrUpdate", "OperationStatus_Get", "Compute_Get", "Compute_List", "Compute_Delete"):
        assert audit["requests"].get(op, 0) >= 1, op


def test_ml_sdk_create(emu: Emulator) -> None:
    c = ml_client(emu.url or "")
    res = c.compute.begin_create_or_update(
        "ml-prod-rg",
        "ml-prod",
        "created-one",
        aks_compute(
            agent_count=4, agent_vm_size="Standard_D3_v2", cluster_purpose="FastProd", load_balancer_type="PublicIp"
        ),
    ).result()
    assert res.properties.provisioning_state == "Succeeded"
    assert res.properties.is_attached_compute is False
    assert res.properties.properties.agent_count == 4
    name = res.properties.resource_id.rsplit("/", 1)[1]
    cl = aks_client(emu.url or "").managed_clusters.get("ml-prod-rg", name)
    assert cl.kubernetes_version == "1.30.5"


def test_ml_sdk_paged_list(emu: Emulator) -> None:
    emu.backend.page_size = 1
    c = ml_client(emu.url or "")
    c.compute.begin_create_or_update(
        "ml-prod-rg", "ml-prod", "paged-one", aks_compute(cluster_id("second-aks"), cluster_purpose="DevTest")
    ).result()
    assert sorted(x.name for x in c.compute.list("ml-prod-rg", "ml-prod")) == ["legacy-scoring", "paged-one"]


def test_ml_sdk_failed_lro_raises(emu: Emulator) -> None:
    c = ml_client(emu.url or "")
    with pytest.raises(HttpResponseError) as exc:
        c.compute.begin_create_or_update(
            "ml-prod-rg", "ml-prod", "old-version", aks_compute(cluster_id("old-aks"))
        ).result()
    assert "1.30.5" in str(exc.value)


def test_ml_sdk_retries_429(seed: dict) -> None:
    with Emulator(seed, time_scale=0) as e:
        arm = Arm(e.url or "")
        arm.admin("faults", "POST", {"429": 1.0, "limit": 1})
        got = ml_client(e.url or "").compute.get("ml-prod-rg", "ml-prod", "legacy-scoring")
        assert got.name == "legacy-scoring"
        assert arm.admin("audit")["requests"]["Compute_Get"] == 2  # throttled once, then retried
        assert arm.admin("faults")["429"] == 0.0


def test_ml_sdk_survives_connection_reset(seed: dict) -> None:
    with Emulator(seed, time_scale=0) as e:
        Arm(e.url or "").admin("faults", "POST", {"reset": 1.0, "limit": 1})
        got = ml_client(e.url or "", retry_backoff_factor=0.01).compute.get("ml-prod-rg", "ml-prod", "legacy-scoring")
        assert got.name == "legacy-scoring"


def test_aks_sdk_reads(emu: Emulator) -> None:
    c = aks_client(emu.url or "")
    cl = c.managed_clusters.get("aks-rg", "scoring-aks")
    assert cl.kubernetes_version == "1.30.5" and cl.location == "westeurope"
    assert cl.agent_pool_profiles[0].count == 3 and cl.agent_pool_profiles[0].vm_size == "Standard_D3_v2"
    assert cl.network_profile.load_balancer_sku == "standard"
    assert cl.api_server_access_profile.enable_private_cluster is False
    all_names = {x.name for x in c.managed_clusters.list()}
    assert {"scoring-aks", "legacy-aks"} <= all_names and "foreign-aks" not in all_names
    rg_names = {x.name for x in c.managed_clusters.list_by_resource_group("aks-rg")}
    assert rg_names == {"scoring-aks", "second-aks", "preview-aks", "old-aks", "small-aks", "tiny-aks", "legacy-aks"}
    versions = c.managed_clusters.list_kubernetes_versions("westeurope")
    by_minor = {v.version: v for v in versions["values"]}
    assert by_minor["1.30"].is_default is True
    assert by_minor["1.32"].is_preview is True
    assert set(by_minor["1.31"].patch_versions) == {"1.31.2"}


def test_aks_sdk_paged_list(emu: Emulator) -> None:
    emu.backend.page_size = 2
    names = [x.name for x in aks_client(emu.url or "").managed_clusters.list_by_resource_group("aks-rg")]
    assert len(names) == 7 and len(set(names)) == 7


def test_aks_sdk_scale_and_vm_size_change(emu: Emulator) -> None:
    c = aks_client(emu.url or "")
    pool = c.agent_pools.get("aks-rg", "scoring-aks", "nodepool1")
    assert pool.count == 3
    pool.count = 5
    res = c.agent_pools.begin_create_or_update("aks-rg", "scoring-aks", "nodepool1", pool).result()
    assert res.count == 5 and res.provisioning_state == "Succeeded"
    assert c.managed_clusters.get("aks-rg", "scoring-aks").agent_pool_profiles[0].count == 5
    pool.vm_size = "Standard_D4_v2"
    with pytest.raises(HttpResponseError) as exc:
        c.agent_pools.begin_create_or_update("aks-rg", "scoring-aks", "nodepool1", pool).result()
    assert exc.value.status_code == 400
    ops = Arm(emu.url or "").admin("audit")["operations"]
    assert [(o["kind"], o["status"]) for o in ops] == [("scale", "Succeeded")]


def test_aks_sdk_delete_cluster_breaks_compute(emu: Emulator) -> None:
    aks_client(emu.url or "").managed_clusters.begin_delete("aks-rg", "legacy-aks").result()
    got = ml_client(emu.url or "").compute.get("ml-prod-rg", "ml-prod", "legacy-scoring")
    assert got.properties.provisioning_state == "Failed"

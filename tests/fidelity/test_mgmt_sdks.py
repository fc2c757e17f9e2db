"""azure-mgmt-containerservice (newest) and azure-mgmt-machinelearningservices 2.0.0b2,
unmodified, over HTTPS: their default bearer policy, retry and LRO polling, nothing replaced."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
from azure.mgmt.machinelearningservices import models as ml

from .conftest import AKS_RG, SUB, WS, WS_RG, FakeCredential, Running, cluster_id

pytestmark = pytest.mark.fidelity


def test_containerservice_reads_clusters_pools_and_versions(trust: Running) -> None:
    c = ContainerServiceClient(FakeCredential(), SUB, base_url=trust.url)
    cl = c.managed_clusters.get(AKS_RG, "scoring-aks")
    assert cl.id == cluster_id("scoring-aks") and cl.kubernetes_version == "1.30.5"
    assert cl.agent_pool_profiles[0].count == 3
    assert {x.name for x in c.managed_clusters.list()} >= {"scoring-aks", "second-aks", "legacy-aks"}
    assert {x.name for x in c.managed_clusters.list_by_resource_group(AKS_RG)} == {
        "scoring-aks",
        "second-aks",
        "legacy-aks",
    }
    pools = list(c.agent_pools.list(AKS_RG, "scoring-aks"))
    assert [(p.name, p.count, p.vm_size) for p in pools] == [("nodepool1", 3, "Standard_D3_v2")]
    assert c.agent_pools.get(AKS_RG, "scoring-aks", "nodepool1").mode == "System"
    versions = {v.version: v for v in c.managed_clusters.list_kubernetes_versions("westeurope")["values"]}
    assert versions["1.30"].is_default is True and versions["1.32"].is_preview is True
    with pytest.raises(ResourceNotFoundError):
        c.managed_clusters.get(AKS_RG, "no-such-aks")


def _aks(resource_id: str | None = None, **props: object) -> ml.ComputeResource:
    return ml.ComputeResource(
        location="westeurope", properties=ml.AKS(resource_id=resource_id, properties=ml.AKSSchemaProperties(**props))
    )


def test_ml_preview_sdk_list_get_attach_create_delete(trust: Running) -> None:
    c = MachineLearningServicesMgmtClient(FakeCredential(), SUB, base_url=trust.url)
    assert [x.name for x in c.compute.list(WS_RG, WS)] == ["legacy-scoring"]
    legacy = c.compute.get(WS_RG, WS, "legacy-scoring")
    assert isinstance(legacy.properties, ml.AKS) and legacy.properties.is_attached_compute is True
    attached = c.compute.begin_create_or_update(
        WS_RG, WS, "sdk-attached", _aks(cluster_id("second-aks"), cluster_purpose="DevTest")
    ).result()
    assert attached.properties.provisioning_state == "Succeeded"
    assert attached.properties.resource_id == cluster_id("second-aks")
    created = c.compute.begin_create_or_update(
        WS_RG,
        WS,
        "sdk-created",
        _aks(agent_count=3, agent_vm_size="Standard_D3_v2", cluster_purpose="FastProd", load_balancer_type="PublicIp"),
    ).result()
    assert created.properties.is_attached_compute is False and created.properties.properties.agent_count == 3
    assert {x.name for x in c.compute.list(WS_RG, WS)} == {"legacy-scoring", "sdk-attached", "sdk-created"}
    c.compute.begin_delete(WS_RG, WS, "sdk-attached", underlying_resource_action="Detach").result()
    c.compute.begin_delete(WS_RG, WS, "sdk-created", underlying_resource_action="Delete").result()
    with pytest.raises(ResourceNotFoundError):
        c.compute.get(WS_RG, WS, "sdk-attached")
    assert [x.name for x in c.compute.list(WS_RG, WS)] == ["legacy-scoring"]

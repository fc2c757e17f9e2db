"""azure-ai-ml (SDK v2), unmodified: ``MLClient(...).compute.list()`` and ``.get()``.

The client is pointed at the emulator the way the SDK documents for a sovereign or
custom cloud (``cloud=`` plus ``cloud_metadata=``). SDK v2 has no AKS inference compute
class, so Azure's AKS computes come back as ``UnsupportedCompute`` (type
``*** unsupported compute type ***``) carrying name, id, resource id and state.
"""

from __future__ import annotations

import pytest

from .conftest import SUB, WS, WS_RG, FakeCredential, Running

pytestmark = pytest.mark.fidelity


def _ml_client(run: Running):  # type: ignore[no-untyped-def]
    from azure.ai.ml import MLClient

    root = run.url + "/"
    return MLClient(
        FakeCredential(),
        SUB,
        WS_RG,
        WS,
        cloud="EmulatorByKeywords",
        enable_telemetry=False,
        cloud_metadata={
            "azure_portal": root,
            "resource_manager": root,
            "active_directory": root,
            "aml_resource_id": root,
            "storage_endpoint": "localhost",
            "registry_discovery_endpoint": root,
        },
    )


def test_ml_client_lists_and_gets_aks_computes_as_azure_does(trust: Running) -> None:
    pytest.importorskip("azure.ai.ml", reason="azure-ai-ml comes with the [fidelity] extra")
    from azure.ai.ml.entities import UnsupportedCompute

    client = _ml_client(trust)
    computes = list(client.compute.list())
    assert [c.name for c in computes] == ["legacy-scoring"]
    (legacy,) = computes
    assert isinstance(legacy, UnsupportedCompute)
    assert legacy.type == "*** unsupported compute type ***"
    assert legacy.resource_id.endswith("/managedClusters/legacy-aks")
    assert legacy.provisioning_state == "Succeeded" and legacy.location == "westeurope"
    assert legacy.description == "Hand-attached years ago" and legacy.tags == {"team": "fraud"}
    got = client.compute.get("legacy-scoring")
    assert isinstance(got, UnsupportedCompute) and got.id == legacy.id
    assert got.id.endswith(f"/workspaces/{WS}/computes/legacy-scoring")
    assert list(client.compute.list(compute_type="AKS")) == []  # filters on the SDK's own type names


def test_ml_client_configured_by_arm_cloud_metadata_url_alone_stays_on_the_emulator(
    trust: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SDK v2's other documented route to a non-public cloud: ARM_CLOUD_METADATA_URL. The
    clients keep their own endpoint tables for Azure's public clouds by name, so the emulated
    cloud must not call itself "AzureCloud", or they would send its token to Azure."""
    pytest.importorskip("azure.ai.ml", reason="azure-ai-ml comes with the [fidelity] extra")
    from azure.ai.ml import MLClient

    monkeypatch.setenv("ARM_CLOUD_METADATA_URL", f"{trust.url}/metadata/endpoints?api-version=2019-05-01")
    monkeypatch.delenv("AZUREML_CURRENT_CLOUD", raising=False)
    client = MLClient(FakeCredential(), SUB, WS_RG, WS, enable_telemetry=False)
    assert [c.name for c in client.compute.list()] == ["legacy-scoring"]
    assert client.compute.get("legacy-scoring").resource_id.endswith("/managedClusters/legacy-aks")

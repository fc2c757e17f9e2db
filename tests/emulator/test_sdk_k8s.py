"""Microsoft's SDKs against the emulator process: cluster extensions, extension type versions,
AKS Run Command and storage accounts. The process runs at a small time scale so the pollers poll."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice import models as aks_models
from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient
from azure.mgmt.kubernetesconfiguration.extensions import models as ext_models
from azure.mgmt.kubernetesconfiguration.extensiontypes import KubernetesConfigurationExtensionTypesMgmtClient
from azure.mgmt.storage import StorageManagementClient

from .conftest import SUB, Arm, make_seed
from .k8s_helpers import AZUREML, azureml_body
from .test_process import _start, _stop
from .test_sdk import NoCredential, StaticBearer

# Whole Microsoft SDK clients polling an emulator process (whole-second Retry-After): in the full suite, not the
# inner loop.
pytestmark = pytest.mark.slow

BLOB = "http://127.0.0.1:10000/devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(scope="module")
def emu_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    seed = make_seed()
    seed["subscriptions"][SUB]["resourceGroups"]["ml-prod-rg"]["workspaces"]["ml-prod"]["storageAccount"] = {
        "name": "mlprodstore",
        "blobEndpoint": BLOB,
        "key": KEY,
    }
    path: Path = tmp_path_factory.mktemp("seed") / "seed.json"
    path.write_text(json.dumps(seed))
    proc, url = _start("--seed", str(path), "--time-scale", "0.001")
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def url(emu_url: str) -> str:
    Arm(emu_url).admin("reset", "POST")
    return emu_url


def _kw(url: str) -> dict[str, Any]:
    return {"base_url": url, "authentication_policy": StaticBearer(), "polling_interval": 0.01}


def _ext_client(url: str) -> KubernetesConfigurationExtensionsMgmtClient:
    return KubernetesConfigurationExtensionsMgmtClient(NoCredential(), SUB, **_kw(url))  # type: ignore[arg-type]


def _extension(cluster: str = "scoring-aks", **settings: Any) -> ext_models.Extension:
    p = azureml_body(cluster, **settings)["properties"]
    return ext_models.Extension(
        properties=ext_models.ExtensionProperties(
            extension_type=p["extensionType"],
            auto_upgrade_minor_version=True,
            release_train="stable",
            scope=ext_models.Scope(cluster=ext_models.ScopeCluster(release_namespace="azureml")),
            configuration_settings=p["configurationSettings"],
            configuration_protected_settings={"scoringFe.sslCert": "Y2VydA==", "scoringFe.sslKey": "a2V5"},
        )
    )


def _args(cluster: str = "scoring-aks") -> tuple[str, str, str, str]:
    return ("aks-rg", "Microsoft.ContainerService", "managedClusters", cluster)


def test_extensions_sdk_create_get_list_update_delete(url: str) -> None:
    c = _ext_client(url)
    ext = c.extensions.begin_create(*_args(), "azureml", _extension()).result()
    assert ext.properties.provisioning_state == "Succeeded"
    assert ext.properties.extension_type == AZUREML
    got = c.extensions.get(*_args(), "azureml")
    assert got.properties.configuration_settings["cluster_name_friendly"] == "scoring-aks"
    assert not got.properties.configuration_protected_settings
    assert [e.name for e in c.extensions.list(*_args())] == ["azureml"]
    patch = ext_models.PatchExtension(
        properties=ext_models.PatchExtensionProperties(auto_upgrade_minor_version=False, version="1.1.70")
    )
    upgraded = c.extensions.begin_update(*_args(), "azureml", patch).result()
    assert upgraded.properties.version == "1.1.70"
    c.extensions.begin_delete(*_args(), "azureml").result()
    with pytest.raises(ResourceNotFoundError):
        c.extensions.get(*_args(), "azureml")
    audit = Arm(url).admin("audit")
    assert [o["kind"] for o in audit["operations"]] == ["install", "upgrade", "uninstall"]
    for op in ("Extensions_Create", "Extensions_Get", "Extensions_List", "Extensions_Update", "Extensions_Delete"):
        assert audit["requests"].get(op, 0) >= 1, op


def test_extensions_sdk_create_without_derived_settings_raises(url: str) -> None:
    c = _ext_client(url)
    ext = _extension()
    ext.properties.configuration_settings = {"enableInference": "true", "allowInsecureConnections": "true"}
    with pytest.raises(HttpResponseError) as info:
        c.extensions.begin_create(*_args(), "azureml", ext).result()
    assert "missing" in str(info.value)
    assert c.extensions.get(*_args(), "azureml").properties.provisioning_state == "Failed"


def test_extension_types_sdk_lists_versions(url: str) -> None:
    c = KubernetesConfigurationExtensionTypesMgmtClient(NoCredential(), SUB, **_kw(url))  # type: ignore[arg-type]
    versions = list(c.extension_types.cluster_list_versions(*_args(), AZUREML))
    assert "1.1.70" in [v.properties.version for v in versions]
    unsupported = versions[0].properties.unsupported_kubernetes_versions.managed_cluster[0].unsupported_versions
    assert unsupported
    by_location = list(c.extension_types.list_versions("westeurope", AZUREML, release_train="stable"))
    assert by_location and all(v.properties.version != "1.2.0" for v in by_location)


def test_containerservice_sdk_run_command(url: str) -> None:
    c = ContainerServiceClient(NoCredential(), SUB, **_kw(url))  # type: ignore[arg-type]
    req = aks_models.RunCommandRequest(command="kubectl create namespace team-a")
    res = c.managed_clusters.begin_run_command("aks-rg", "scoring-aks", req).result()
    assert res.provisioning_state == "Succeeded" and res.exit_code == 0
    assert "namespace/team-a created" in (res.logs or "")
    res = c.managed_clusters.begin_run_command(
        "aks-rg", "scoring-aks", aks_models.RunCommandRequest(command="kubectl get namespace nope")
    ).result()
    assert res.exit_code == 1 and "not found" in (res.logs or "")
    again = c.managed_clusters.get_command_result("aks-rg", "scoring-aks", res.id)
    assert again is not None and again.exit_code == 1
    audit = Arm(url).admin("audit")
    assert audit["requests"]["ManagedClusters_RunCommand"] == 2
    assert [o["kind"] for o in audit["operations"]] == ["runCommand", "runCommand"]


def test_storage_sdk_get_properties_and_list_keys(url: str) -> None:
    arm = Arm(url)
    ws = arm.get(
        f"/subscriptions/{SUB}/resourceGroups/ml-prod-rg/providers/Microsoft.MachineLearningServices/workspaces/ml-prod"
    ).json()
    sa_id = ws["properties"]["storageAccount"]
    assert sa_id.endswith("/providers/Microsoft.Storage/storageAccounts/mlprodstore")
    c = StorageManagementClient(NoCredential(), SUB, **_kw(url))  # type: ignore[arg-type]
    acct = c.storage_accounts.get_properties("ml-prod-rg", "mlprodstore")
    assert acct.primary_endpoints.blob.rstrip("/") == BLOB
    assert c.storage_accounts.list_keys("ml-prod-rg", "mlprodstore").keys_property[0].value == KEY
    with pytest.raises(ResourceNotFoundError):
        c.storage_accounts.get_properties("ml-prod-rg", "nosuchstore")
    req = arm.admin("audit")["requests"]
    assert req["StorageAccounts_GetProperties"] == 2 and req["StorageAccounts_ListKeys"] == 1
    assert KEY not in json.dumps(arm.admin("state"))


def test_ml_sdk_attaches_and_reads_a_kubernetes_compute(url: str) -> None:
    from azure.mgmt.machinelearningservices import models as ml

    from .test_sdk import ml_client

    _ext_client(url).extensions.begin_create(*_args(), "azureml", _extension()).result()
    c = ml_client(url, polling_interval=0.01)
    body = ml.ComputeResource(
        location="westeurope",
        identity=ml.ManagedServiceIdentity(type="SystemAssigned"),
        properties=ml.Kubernetes(
            resource_id=f"/subscriptions/{SUB}/resourceGroups/aks-rg/providers/Microsoft.ContainerService/"
            "managedClusters/scoring-aks",
            properties=ml.KubernetesProperties(namespace="team-a", default_instance_type="defaultinstancetype"),
        ),
    )
    res = c.compute.begin_create_or_update("ml-prod-rg", "ml-prod", "k8s-team-a", body).result()
    assert isinstance(res.properties, ml.Kubernetes)
    assert res.properties.provisioning_state == "Succeeded"
    got = c.compute.get("ml-prod-rg", "ml-prod", "k8s-team-a")
    assert isinstance(got.properties, ml.Kubernetes) and got.properties.properties.namespace == "team-a"
    c.compute.begin_delete("ml-prod-rg", "ml-prod", "k8s-team-a", underlying_resource_action="Detach").result()
    assert [o["kind"] for o in Arm(url).admin("audit")["operations"]] == ["install", "attach", "detach"]

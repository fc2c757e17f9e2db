"""The Azure ML cluster extension (Microsoft.KubernetesConfiguration) as Azure installs and fails it."""

from __future__ import annotations

from .conftest import Arm
from .k8s_helpers import AZUREML, EXT_API, azureml_body, ext_path, get_ext, install


def test_install_with_cli_settings_succeeds_and_creates_azureml_namespace(arm: Arm) -> None:
    r = arm.put(ext_path("scoring-aks"), azureml_body(), api_version=EXT_API)
    assert r.status_code == 201
    assert "/extensions/azureml/operations/" in r.headers["Azure-AsyncOperation"]
    assert r.json()["properties"]["provisioningState"] == "Creating"
    assert arm.wait(r)["status"] == "Succeeded"
    body = get_ext(arm).json()
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert body["properties"]["extensionType"] == AZUREML
    assert body["properties"]["currentVersion"]
    state = arm.admin("state")
    cluster = state["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"]["aks-rg"][
        "managedClusters"
    ]["scoring-aks"]
    assert "azureml" in cluster["namespaces"] and "azureml" in cluster["extensions"]
    ops = [o for o in arm.admin("audit")["operations"] if o["kind"] == "install"]
    assert len(ops) == 1 and ops[0]["status"] == "Succeeded"


def test_install_without_derived_settings_fails_its_health_check(arm: Arm) -> None:
    st = install(arm, derived=False)
    assert st["status"] == "Failed" and "missing" in st["error"]["message"]
    body = get_ext(arm).json()["properties"]
    assert body["provisioningState"] == "Failed"
    assert "cluster_name_friendly" in body["errorInfo"]["message"]


def test_each_missing_derived_setting_fails(arm: Arm) -> None:
    st = install(arm, **{"nginxIngress__enabled": None})
    assert st["status"] == "Failed" and "nginxIngress.enabled" in st["error"]["message"]


def test_second_azureml_extension_on_one_cluster_is_refused(arm: Arm) -> None:
    assert install(arm)["status"] == "Succeeded"
    r = arm.put(ext_path("scoring-aks", "other"), azureml_body(), api_version=EXT_API)
    assert r.status_code == 400 and "Only one instance" in r.json()["error"]["message"]


def test_ha_with_fewer_than_three_nodes_fails(arm: Arm) -> None:
    st = install(arm, cluster="small-aks")
    assert st["status"] == "Failed" and "3 nodes" in st["error"]["message"]
    r = arm.delete(ext_path("small-aks"), api_version=EXT_API)
    arm.wait(r)
    assert install(arm, cluster="small-aks", inferenceRouterHA="false")["status"] == "Succeeded"


def test_internal_load_balancer_with_node_port_fails(arm: Arm) -> None:
    st = install(arm, inferenceRouterServiceType="nodePort", internalLoadBalancerProvider="azure")
    assert st["status"] == "Failed" and "nodePort" in st["error"]["message"]


def test_neither_training_nor_inference_fails(arm: Arm) -> None:
    st = install(arm, enableInference="false")
    assert st["status"] == "Failed" and "enableTraining" in st["error"]["message"]


def test_ssl_secret_and_pem_pair_together_fail(arm: Arm) -> None:
    st = install(
        arm,
        allowInsecureConnections="false",
        sslCname="scoring.contoso.com",
        sslSecret="my-tls",
        protected={"scoringFe.sslCert": "Y2VydA==", "scoringFe.sslKey": "a2V5"},
    )
    assert st["status"] == "Failed" and "not both" in st["error"]["message"]


def test_protected_settings_are_never_returned(arm: Arm) -> None:
    st = install(
        arm,
        allowInsecureConnections="false",
        sslCname="scoring.contoso.com",
        protected={"scoringFe.sslCert": "Y2VydA==", "scoringFe.sslKey": "a2V5"},
    )
    assert st["status"] == "Succeeded"
    text = get_ext(arm).text
    assert "Y2VydA==" not in text and "a2V5" not in text
    assert get_ext(arm).json()["properties"]["configurationProtectedSettings"] == {}
    assert "Y2VydA==" not in str(arm.admin("state"))


def test_patch_upgrades_in_place_and_keeps_settings(arm: Arm) -> None:
    install(arm)
    r = arm.call(
        "PATCH",
        ext_path("scoring-aks"),
        {
            "properties": {
                "autoUpgradeMinorVersion": False,
                "version": "1.1.70",
                "configurationSettings": {"inferenceRouterHA": "false"},
            }
        },
        api_version=EXT_API,
    )
    assert r.status_code == 202 and arm.wait(r)["status"] == "Succeeded"
    props = get_ext(arm).json()["properties"]
    assert props["version"] == "1.1.70" and props["currentVersion"] == "1.1.70"
    assert props["configurationSettings"]["inferenceRouterHA"] == "false"
    assert props["configurationSettings"]["cluster_name_friendly"] == "scoring-aks"
    kinds = [o["kind"] for o in arm.admin("audit")["operations"]]
    assert kinds == ["install", "upgrade"]


def test_put_over_an_existing_extension_is_an_upgrade(arm: Arm) -> None:
    install(arm)
    r = arm.put(ext_path("scoring-aks"), azureml_body(inferenceRouterHA="false"), api_version=EXT_API)
    assert r.status_code == 200 and arm.wait(r)["status"] == "Succeeded"
    assert [o["kind"] for o in arm.admin("audit")["operations"]] == ["install", "upgrade"]


def test_unknown_pinned_version_fails(arm: Arm) -> None:
    body = azureml_body()
    body["properties"].update(autoUpgradeMinorVersion=False, version="9.9.9")
    st = arm.wait(arm.put(ext_path("scoring-aks"), body, api_version=EXT_API))
    assert st["status"] == "Failed" and "9.9.9" in st["error"]["message"]


def test_list_and_delete(arm: Arm) -> None:
    install(arm)
    lst = arm.get(ext_path("scoring-aks").rsplit("/", 1)[0], api_version=EXT_API).json()
    assert [e["name"] for e in lst["value"]] == ["azureml"]
    r = arm.delete(ext_path("scoring-aks"), api_version=EXT_API)
    assert r.status_code == 202 and arm.wait(r)["status"] == "Succeeded"
    assert get_ext(arm).status_code == 404
    assert arm.delete(ext_path("scoring-aks"), api_version=EXT_API).status_code == 204
    assert [o["kind"] for o in arm.admin("audit")["operations"]] == ["install", "uninstall"]
    req = arm.admin("audit")["requests"]
    assert req["Extensions_Create"] == 1 and req["Extensions_List"] == 1 and req["Extensions_Delete"] == 2


def test_extension_type_versions_list_unsupported_kubernetes_versions(arm: Arm) -> None:
    path = ext_path("scoring-aks").replace("/extensions/azureml", f"/extensionTypes/{AZUREML}/versions")
    body = arm.get(path, api_version="2024-11-01-preview").json()
    versions = [v["properties"]["version"] for v in body["value"]]
    assert "1.1.70" in versions
    first = body["value"][0]["properties"]["unsupportedKubernetesVersions"]["managedCluster"][0]
    assert first["unsupportedVersions"]
    assert arm.admin("audit")["requests"]["ExtensionTypes_ListVersions"] == 1


def test_install_on_unsupported_kubernetes_version_fails(arm: Arm) -> None:
    st = install(arm, cluster="old-aks")
    assert st["status"] == "Failed" and "does not support Kubernetes" in st["error"]["message"]


def test_put_over_a_failed_install_installs_again(arm: Arm) -> None:
    assert install(arm, derived=False)["status"] == "Failed"
    r = arm.put(ext_path("scoring-aks"), azureml_body(), api_version=EXT_API)
    assert r.status_code == 200 and arm.wait(r)["status"] == "Succeeded"
    assert [o["kind"] for o in arm.admin("audit")["operations"]] == ["install", "install"]
    assert get_ext(arm).json()["properties"]["provisioningState"] == "Succeeded"


def test_put_while_installing_is_a_conflict(seed: dict) -> None:
    from reconciler.emulator import Emulator

    with Emulator(seed, time_scale=1) as e:
        arm = Arm(e.url or "")
        assert arm.put(ext_path("scoring-aks"), azureml_body(), api_version=EXT_API).status_code == 201
        r = arm.put(ext_path("scoring-aks"), azureml_body(), api_version=EXT_API)
        assert r.status_code == 409 and "in progress" in r.json()["error"]["message"]
        assert get_ext(arm).json()["properties"]["provisioningState"] == "Creating"

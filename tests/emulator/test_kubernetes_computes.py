"""Kubernetes computes: attach needs the extension, many attachments per cluster, uninstall breaks them."""

from __future__ import annotations

from .conftest import OTHER_SUB, WS_PATH, Arm, cluster_id
from .k8s_helpers import EXT_API, ext_path, install, k8s_compute


def attach(arm: Arm, name: str, cluster: str = "scoring-aks", namespace: str = "default", **kw: object) -> dict:
    r = arm.put(arm.compute(name), k8s_compute(cluster, namespace, **kw))
    assert r.status_code == 201, r.text
    return arm.wait(r)


def test_attach_before_the_extension_is_installed_fails(arm: Arm) -> None:
    r = arm.put(arm.compute("k8s-a"), k8s_compute("scoring-aks"))
    assert r.status_code == 400 and "not installed" in r.json()["error"]["message"]


def test_attach_while_the_extension_is_not_succeeded_fails(arm: Arm) -> None:
    install(arm, derived=False)
    r = arm.put(arm.compute("k8s-a"), k8s_compute("scoring-aks"))
    assert r.status_code == 400 and "Failed" in r.json()["error"]["message"]


def test_two_attachments_of_one_cluster_are_fine(arm: Arm) -> None:
    install(arm)
    assert attach(arm, "k8s-a", namespace="team-a")["status"] == "Succeeded"
    assert attach(arm, "k8s-b", namespace="team-b")["status"] == "Succeeded"
    for name, ns in (("k8s-a", "team-a"), ("k8s-b", "team-b")):
        body = arm.get(arm.compute(name)).json()
        assert body["properties"]["computeType"] == "Kubernetes"
        assert body["properties"]["provisioningState"] == "Succeeded"
        assert body["properties"]["properties"]["namespace"] == ns
        assert body["identity"]["type"] == "SystemAssigned" and body["identity"]["principalId"]
    assert arm.admin("audit")["violations"] == []


def test_connection_strings_are_write_only(arm: Arm) -> None:
    install(arm)
    body = k8s_compute("scoring-aks")
    body["properties"]["properties"]["relayConnectionString"] = "Endpoint=sb://secret"
    arm.wait(arm.put(arm.compute("k8s-a"), body))
    assert "sb://secret" not in arm.get(arm.compute("k8s-a")).text


def test_cluster_in_another_subscription_is_refused(arm: Arm) -> None:
    body = k8s_compute("scoring-aks")
    body["properties"]["resourceId"] = cluster_id("foreign-aks", sub=OTHER_SUB, rg="other-rg")
    r = arm.put(arm.compute("k8s-a"), body)
    assert r.status_code == 400 and "same subscription" in r.json()["error"]["message"]


def test_both_identities_are_refused(arm: Arm) -> None:
    install(arm)
    r = arm.put(arm.compute("k8s-a"), k8s_compute("scoring-aks", identity={"type": "SystemAssigned,UserAssigned"}))
    assert r.status_code == 400


def test_detach_keeps_extension_and_namespace(arm: Arm) -> None:
    install(arm)
    arm.wait(arm.put(arm.compute("k8s-a"), k8s_compute("scoring-aks", "team-a")))
    from .k8s_helpers import run

    assert run(arm, "scoring-aks", "kubectl create namespace team-a")["properties"]["exitCode"] == 0
    r = arm.delete(arm.compute("k8s-a"), params={"underlyingResourceAction": "Detach"})
    assert arm.wait(r)["status"] == "Succeeded"
    assert arm.get(arm.compute("k8s-a")).status_code == 404
    assert (
        arm.get(ext_path("scoring-aks"), api_version=EXT_API).json()["properties"]["provisioningState"] == "Succeeded"
    )
    assert run(arm, "scoring-aks", "kubectl get namespace team-a")["properties"]["exitCode"] == 0


def test_uninstall_under_attached_computes_breaks_them_and_is_a_violation(arm: Arm) -> None:
    install(arm)
    attach(arm, "k8s-a", namespace="team-a")
    other_ws = WS_PATH  # the same workspace twice is enough to show "every" compute
    attach(arm, "k8s-b", namespace="team-b")
    r = arm.delete(ext_path("scoring-aks"), api_version=EXT_API)
    assert r.status_code == 202 and arm.wait(r)["status"] == "Succeeded"
    for name in ("k8s-a", "k8s-b"):
        props = arm.get(arm.compute(name)).json()["properties"]
        assert props["provisioningState"] == "Failed"
        assert props["provisioningErrors"][0]["error"]["code"] == "ExtensionNotFound"
    audit = arm.admin("audit")
    (v,) = audit["extensionViolations"]
    assert v["kind"] == "extensionUninstalledWithComputes" and v["clusterId"] == cluster_id("scoring-aks")
    assert sorted(v["computes"]) == [f"{other_ws}/computes/k8s-a", f"{other_ws}/computes/k8s-b"]
    assert audit["violations"] == []


def test_legacy_aks_rule_unchanged_and_kubernetes_computes_do_not_trip_it(arm: Arm) -> None:
    install(arm)
    attach(arm, "k8s-a")
    r = arm.attach("legacy-two", cluster_id("scoring-aks"), {"clusterPurpose": "DevTest"})
    assert arm.wait(r)["status"] == "Succeeded"
    assert arm.admin("audit")["violations"] == []
    r = arm.attach("legacy-three", cluster_id("scoring-aks"), {"clusterPurpose": "DevTest"})
    arm.wait(r)
    assert len(arm.admin("audit")["violations"]) == 1
    assert arm.get(arm.compute("k8s-a")).json()["properties"]["provisioningState"] == "Succeeded"


def test_seeded_kubernetes_compute_and_extension_round_trip(seed: dict) -> None:
    from reconciler.emulator import Emulator

    rg = seed["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"]
    rg["aks-rg"]["managedClusters"]["second-aks"]["extensions"] = {
        "azureml": {
            "extensionType": "Microsoft.AzureML.Kubernetes",
            "configurationSettings": {"enableInference": "true"},
            "configurationProtectedSettings": {"scoringFe.sslKey": "c2VjcmV0"},
        }
    }
    rg["ml-prod-rg"]["workspaces"]["ml-prod"]["computes"]["k8s-seeded"] = {
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "computeType": "Kubernetes",
            "resourceId": cluster_id("second-aks"),
            "properties": {"namespace": "team-s"},
        },
    }
    with Emulator(seed, time_scale=0) as e:
        arm = Arm(e.url or "")
        body = arm.get(arm.compute("k8s-seeded")).json()
        assert body["properties"]["computeType"] == "Kubernetes"
        assert (
            arm.get(ext_path("second-aks"), api_version=EXT_API).json()["properties"]["provisioningState"]
            == "Succeeded"
        )
        state = arm.admin("state")
        text = str(state)
        assert "c2VjcmV0" not in text
        ws = state["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"]["ml-prod-rg"]
        assert ws["workspaces"]["ml-prod"]["computes"]["k8s-seeded"]["properties"]["computeType"] == "Kubernetes"
        with Emulator(state, time_scale=0) as again:
            arm2 = Arm(again.url or "")
            assert arm2.get(arm2.compute("k8s-seeded")).json()["properties"]["computeType"] == "Kubernetes"

"""The cluster's inside: what a legacy attach leaves, the migration traps, and Run Command's kubectl."""

from __future__ import annotations

import base64
import json

from cryptography import x509

from reconciler.emulator import Emulator

from .conftest import Arm, cluster_id
from .k8s_helpers import install, run

SUB = "00000000-0000-0000-0000-000000000001"


def _cluster_state(arm: Arm, name: str) -> dict:
    return dict(arm.admin("state")["subscriptions"][SUB]["resourceGroups"]["aks-rg"]["managedClusters"][name])


def _secret(arm: Arm, cluster: str) -> dict:
    res = run(arm, cluster, "kubectl get secret azuremlfessl -n default -o json")
    assert res["properties"]["exitCode"] == 0, res
    return dict(json.loads(res["properties"]["logs"])["data"])


def test_seeded_legacy_attachment_implies_azureml_fe_objects(arm: Arm) -> None:
    objs = _cluster_state(arm, "legacy-aks")["objects"]
    assert {"kind": "Deployment", "namespace": "default", "name": "azureml-fe", "labels": {"app": "azureml-fe"}} in objs
    assert not any(o["name"] == "azuremlfessl" for o in objs)  # its TLS is disabled


def test_install_on_a_cluster_with_a_legacy_attachment_fails_e45004(arm: Arm) -> None:
    st = install(arm, cluster="legacy-aks")
    assert st["status"] == "Failed" and "E45004" in st["error"]["message"]


def test_detach_leaves_azureml_fe_and_install_then_fails_e45005(arm: Arm) -> None:
    arm.wait(arm.delete(arm.compute("legacy-scoring"), params={"underlyingResourceAction": "Detach"}))
    assert any(o["name"] == "azureml-fe" for o in _cluster_state(arm, "legacy-aks")["objects"])
    st = install(arm, cluster="legacy-aks")
    assert st["status"] == "Failed" and "E45005" in st["error"]["message"]


def test_cleanup_through_run_command_lets_the_install_succeed(arm: Arm) -> None:
    arm.wait(arm.delete(arm.compute("legacy-scoring"), params={"underlyingResourceAction": "Detach"}))
    res = run(
        arm,
        "legacy-aks",
        "kubectl delete deployment,service,configmap,serviceaccount,role,rolebinding,secret "
        "-n default -l app=azureml-fe --ignore-not-found",
    )
    assert res["properties"]["provisioningState"] == "Succeeded" and res["properties"]["exitCode"] == 0
    assert "deployment.apps/azureml-fe deleted" in res["properties"]["logs"]
    listed = run(arm, "legacy-aks", "kubectl get all -n default -l app=azureml-fe")
    assert "No resources found" in listed["properties"]["logs"]
    assert install(arm, cluster="legacy-aks")["status"] == "Succeeded"
    ops = arm.admin("audit")["operations"]
    assert [o["kind"] for o in ops] == ["detach", "runCommand", "runCommand", "install"]


def test_leaf_label_tls_attach_writes_a_certificate_for_the_leaf_fqdn(arm: Arm) -> None:
    ssl = {"status": "Enabled", "leafDomainLabel": "myscore"}
    arm.wait(arm.attach("tls-leaf", cluster_id("scoring-aks"), {"clusterPurpose": "DevTest", "sslConfiguration": ssl}))
    data = _secret(arm, "scoring-aks")
    cert = x509.load_pem_x509_certificate(base64.b64decode(data["cert.pem"]))
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert isinstance(cn, str) and cn.startswith("myscore") and cn.endswith(".westeurope.cloudapp.azure.net")
    assert len(cn.split(".")[0]) == len("myscore") + 6
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [cn]
    assert base64.b64decode(data["key.pem"]).startswith(b"-----BEGIN PRIVATE KEY-----")
    state = str(arm.admin("state"))
    assert data["cert.pem"] not in state and data["key.pem"] not in state and "(redacted)" in state


def test_custom_certificate_attach_stores_the_sent_pair(arm: Arm) -> None:
    from reconciler.emulator.services.kube.certs import self_signed

    cert, key = self_signed("scoring.contoso.com")
    ssl = {"status": "Enabled", "cname": "scoring.contoso.com", "cert": cert, "key": key}
    arm.wait(
        arm.attach("tls-custom", cluster_id("scoring-aks"), {"clusterPurpose": "DevTest", "sslConfiguration": ssl})
    )
    arm.wait(arm.delete(arm.compute("tls-custom"), params={"underlyingResourceAction": "Detach"}))
    data = _secret(arm, "scoring-aks")  # a detach leaves the secret behind
    assert base64.b64decode(data["cert.pem"]).decode() == cert
    path = run(arm, "scoring-aks", "kubectl get secret azuremlfessl -n default -o jsonpath='{.data.cert\\.pem}'")
    assert path["properties"]["logs"].strip() == data["cert.pem"]


def test_seeded_legacy_tls_attachment_gets_a_generated_secret(seed: dict) -> None:
    rg = seed["subscriptions"][SUB]["resourceGroups"]["ml-prod-rg"]["workspaces"]["ml-prod"]["computes"]
    rg["legacy-scoring"]["properties"]["properties"]["sslConfiguration"] = {
        "status": "Enabled",
        "leafDomainLabel": "legacy",
    }
    with Emulator(seed, time_scale=0) as e:
        arm = Arm(e.url or "")
        cert = base64.b64decode(_secret(arm, "legacy-aks")["cert.pem"])
        assert b"BEGIN CERTIFICATE" in cert


def test_delete_of_a_created_compute_deletes_its_cluster_and_is_audited(arm: Arm) -> None:
    st = arm.wait(arm.create("made", {"clusterPurpose": "DevTest", "agentCount": 1}))
    assert st["status"] == "Succeeded"
    rid = arm.get(arm.compute("made")).json()["properties"]["resourceId"]
    rg = arm.admin("state")["subscriptions"][SUB]["resourceGroups"]["ml-prod-rg"]["managedClusters"]
    assert any(o["name"] == "azureml-fe" for o in rg[rid.rsplit("/", 1)[1]]["objects"])
    arm.wait(arm.delete(arm.compute("made"), params={"underlyingResourceAction": "Delete"}))
    assert arm.get(rid, api_version="2026-08-01").status_code == 404
    (d,) = arm.admin("audit")["clusterDeletions"]
    assert d["clusterId"] == rid and d["createdByCompute"] is True and d["compute"].endswith("/computes/made")


def test_namespaces_through_run_command(arm: Arm) -> None:
    missing = run(arm, "scoring-aks", "kubectl get namespace team-a")["properties"]
    assert missing["exitCode"] == 1 and 'namespaces "team-a" not found' in missing["logs"]
    assert run(arm, "scoring-aks", "kubectl create namespace team-a")["properties"]["exitCode"] == 0
    again = run(arm, "scoring-aks", "kubectl create namespace team-a")["properties"]
    assert again["exitCode"] == 1 and "AlreadyExists" in again["logs"]
    assert run(arm, "scoring-aks", "kubectl get namespace team-a")["properties"]["exitCode"] == 0
    assert "team-a" in _cluster_state(arm, "scoring-aks")["namespaces"]


def test_unknown_commands_fail_like_kubectl(arm: Arm) -> None:
    res = run(arm, "scoring-aks", "kubectl frobnicate pods")["properties"]
    assert res["exitCode"] == 1 and 'unknown command "frobnicate"' in res["logs"]
    res = run(arm, "scoring-aks", "helm list")["properties"]
    assert res["exitCode"] == 1 and "command not found" in res["logs"]
    res = run(arm, "scoring-aks", "kubectl get secret azuremlfessl -n default -o json")["properties"]
    assert res["exitCode"] == 1 and 'secrets "azuremlfessl" not found' in res["logs"]
    req = arm.admin("audit")["requests"]
    assert req["ManagedClusters_RunCommand"] == 3 and req["ManagedClusters_GetCommandResult"] >= 3

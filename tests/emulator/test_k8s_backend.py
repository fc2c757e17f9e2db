"""The extension, Kubernetes compute and Run Command backends on their own, with an injected clock,
and their pure rules (health check, kubectl subset)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator.backend import Backend
from reconciler.emulator.kube_model import ClusterInside, KubeObject
from reconciler.emulator.services.k8sconfig import rules
from reconciler.emulator.services.kube import kubectl

from .conftest import SUB, make_seed
from .k8s_helpers import azureml_body, derived_settings, k8s_compute
from .test_backend import Clock


def _k8s(b: Backend) -> Any:
    return b.services["k8sconfig"]


def _cluster(b: Backend, name: str = "scoring-aks") -> Any:
    return b.aks.cluster(SUB, "aks-rg", name)


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_extension_and_run_command_durations(scale: float) -> None:
    clock = Clock()
    b = Backend(make_seed(), time_scale=scale, clock=clock)
    cl = _cluster(b)

    def run(start: Any, kind: str, seconds: float) -> None:
        op = start()
        assert op.kind == kind
        assert op.ends_at - op.started_at == pytest.approx(seconds * scale)
        clock.t += seconds * scale - 0.001
        b.advance()
        assert op.status == "InProgress"
        clock.t += 0.001
        b.advance()
        assert op.status == "Succeeded", op.error

    run(lambda: _k8s(b).put(cl, "azureml", azureml_body())[1], "install", 600)
    run(lambda: _k8s(b).patch(cl, "azureml", {"properties": {"version": "1.1.70"}})[1], "upgrade", 300)
    run(lambda: b.services["kube"].run_command(cl, {"command": "kubectl get ns"}), "runCommand", 10)
    run(lambda: _k8s(b).delete(cl, "azureml"), "uninstall", 300)


def test_extension_reads_creating_until_the_install_ends() -> None:
    clock = Clock()
    b = Backend(make_seed(), time_scale=1.0, clock=clock)
    ext, _op, new = _k8s(b).put(_cluster(b), "azureml", azureml_body())
    assert new and ext.provisioning_state == "Creating"
    ws = b.ml.workspace(SUB, "ml-prod-rg", "ml-prod")
    with pytest.raises(Exception, match="Creating"):
        b.ml.put_compute(ws, "k8s-a", k8s_compute("scoring-aks"))
    with pytest.raises(Exception, match="in progress"):
        _k8s(b).patch(_cluster(b), "azureml", {"properties": {}})
    clock.t += 600
    b.advance()
    assert ext.provisioning_state == "Succeeded"
    comp, _, _ = b.ml.put_compute(ws, "k8s-a", k8s_compute("scoring-aks"))
    assert comp.compute_type == "Kubernetes" and comp.settings["namespace"] == "default"


def test_state_file_keeps_the_inside_across_restarts(tmp_path: Any) -> None:
    state = tmp_path / "state.json"
    b = Backend(make_seed(), time_scale=0, state_file=state)
    _k8s(b).put(_cluster(b), "azureml", azureml_body())
    b.advance()
    b.flush()
    again = Backend(state_file=state, time_scale=0)
    inside = again.store.world.insides[_cluster(again).id.lower()]
    assert inside.has_namespace("azureml") and inside.extensions["azureml"].provisioning_state == "Succeeded"


def test_missing_derived_settings_are_listed_by_name() -> None:
    full = {"enableInference": "true", **derived_settings("scoring-aks")}
    assert rules.missing_derived(full) == []
    for key in derived_settings("scoring-aks"):
        partial = {k: v for k, v in full.items() if k != key}
        if key in ("clusterId", "cluster_name"):
            assert rules.missing_derived(partial) == []  # either one names the cluster
        else:
            assert rules.missing_derived(partial) == [
                "scoringFe.serviceType.*" if key.startswith("scoringFe.") else key
            ]


def test_tls_rules() -> None:
    base = {"enableInference": "true", **derived_settings("c"), "inferenceRouterHA": "false"}
    pem = ["scoringFe.sslCert", "scoringFe.sslKey"]
    assert rules.settings_error({**base, "allowInsecureConnections": "true"}, [], 1) is None
    assert rules.settings_error({**base, "sslCname": "a.b", "sslSecret": "s"}, [], 1) is None
    assert rules.settings_error({**base, "sslCname": "a.b"}, pem, 1) is None
    err = rules.settings_error({**base, "sslCname": "a.b", "sslSecret": "s"}, pem, 1)
    assert err is not None and "not both" in err["message"]
    err = rules.settings_error(base, [], 1)
    assert err is not None and "sslCname" in err["message"]


def test_legacy_errors_name_the_computes_and_the_objects() -> None:
    e4 = rules.legacy_error(["legacy-scoring"], ["deployment/azureml-fe"])
    assert e4 is not None and e4["message"].startswith("E45004") and "legacy-scoring" in e4["message"]
    e5 = rules.legacy_error([], ["deployment/azureml-fe"])
    assert e5 is not None and e5["message"].startswith("E45005") and "deployment/azureml-fe" in e5["message"]
    assert rules.legacy_error([], []) is None


def _inside() -> ClusterInside:
    inside = ClusterInside()
    inside.put(KubeObject("Deployment", "default", "azureml-fe", {"app": "azureml-fe"}))
    inside.put(KubeObject("ConfigMap", "default", "azureml-fe-config", {"app": "azureml-fe"}))
    inside.put(KubeObject("Secret", "default", "azuremlfessl", {}, {"cert.pem": "Q0VSVA==", "key.pem": "S0VZ"}))
    return inside


def test_kubectl_get_and_delete_by_name_and_label() -> None:
    inside = _inside()
    code, logs, _ = kubectl.run(inside, "kubectl get all -n default -l app=azureml-fe -o name")
    assert code == 0 and logs == "deployment.apps/azureml-fe\n"
    code, logs, changed = kubectl.run(inside, "kubectl delete configmap -n default azureml-fe-config")
    assert (code, changed) == (0, True) and "configmap/azureml-fe-config deleted" in logs
    code, logs, _ = kubectl.run(inside, "kubectl delete configmap -n default azureml-fe-config")
    assert code == 1 and 'configmaps "azureml-fe-config" not found' in logs
    code, _, changed = kubectl.run(inside, "kubectl delete cm azureml-fe-config -n default --ignore-not-found")
    assert (code, changed) == (0, False)


def test_kubectl_reads_a_secret_as_json_and_jsonpath() -> None:
    inside = _inside()
    code, logs, _ = kubectl.run(inside, "kubectl get secret azuremlfessl -n default -o 'jsonpath={.data.key\\.pem}'")
    assert (code, logs.strip()) == (0, "S0VZ")
    code, logs, _ = kubectl.run(inside, "kubectl get secret azuremlfessl -n default -o json")
    assert code == 0 and '"cert.pem": "Q0VSVA=="' in logs


def test_kubectl_chains_stop_at_the_first_failure() -> None:
    inside = _inside()
    code, logs, _ = kubectl.run(
        inside, "kubectl create namespace a && kubectl create namespace a && kubectl create namespace b"
    )
    assert code == 1 and "namespace/a created" in logs and "AlreadyExists" in logs
    assert inside.has_namespace("a") and not inside.has_namespace("b")


def test_kubectl_refuses_what_it_does_not_model() -> None:
    assert kubectl.run(ClusterInside(), "kubectl apply -f x.yaml")[0] == 1
    assert kubectl.run(ClusterInside(), "kubectl get widgets")[1].startswith("error: the server doesn't have")
    assert kubectl.run(ClusterInside(), "kubectl get secret 'unterminated")[0] == 1

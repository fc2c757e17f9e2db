"""Bodies and paths for the cluster-extension, Kubernetes compute and Run Command tests."""

from __future__ import annotations

from typing import Any

import requests

from .conftest import SUB, Arm, cluster_id

EXT_API = "2025-03-01"
AKS_API = "2026-08-01"
AZUREML = "Microsoft.AzureML.Kubernetes"


def ext_path(cluster: str, name: str = "azureml") -> str:
    return f"{cluster_id(cluster)}/providers/Microsoft.KubernetesConfiguration/extensions/{name}"


def derived_settings(cluster: str, location: str = "westeurope") -> dict[str, str]:
    """The settings the Azure CLI derives for an AKS cluster."""
    cid = cluster_id(cluster)
    return {
        "clusterId": cid,
        "cluster_name": cid,
        "cluster_name_friendly": cluster,
        "location": location,
        "jobSchedulerLocation": location,
        "domain": f"{location}.cloudapp.azure.com",
        "servicebus.enabled": "false",
        "relayserver.enabled": "false",
        "nginxIngress.enabled": "true",
        "scoringFe.serviceType.loadBalancer": "true",
        "prometheus.prometheusSpec.externalLabels.cluster_name": cid,
    }


def azureml_body(
    cluster: str = "scoring-aks", derived: bool = True, protected: dict | None = None, **settings: Any
) -> dict:
    s: dict[str, Any] = {
        "enableTraining": "false",
        "enableInference": "true",
        "inferenceRouterServiceType": "loadBalancer",
        "allowInsecureConnections": "true",
        "inferenceRouterHA": "true",
    }
    if derived:
        s.update(derived_settings(cluster))
    s.update({k.replace("__", "."): v for k, v in settings.items()})
    return {
        "properties": {
            "extensionType": AZUREML,
            "autoUpgradeMinorVersion": True,
            "releaseTrain": "stable",
            "scope": {"cluster": {"releaseNamespace": "azureml"}},
            "configurationSettings": {k: v for k, v in s.items() if v is not None},
            "configurationProtectedSettings": protected or {},
        }
    }


def install(arm: Arm, cluster: str = "scoring-aks", name: str = "azureml", **kw: Any) -> dict:
    """PUT the extension and wait; returns the operation status body."""
    r = arm.put(ext_path(cluster, name), azureml_body(cluster, **kw), api_version=EXT_API)
    assert r.status_code in (200, 201), r.text
    return arm.wait(r)


def get_ext(arm: Arm, cluster: str = "scoring-aks", name: str = "azureml") -> requests.Response:
    return arm.get(ext_path(cluster, name), api_version=EXT_API)


def k8s_compute(cluster: str, namespace: str = "default", **extra: Any) -> dict:
    body: dict[str, Any] = {
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "computeType": "Kubernetes",
            "resourceId": cluster_id(cluster),
            "properties": {"namespace": namespace, "defaultInstanceType": "defaultinstancetype", "instanceTypes": {}},
        },
    }
    body.update(extra)
    return body


def run(arm: Arm, cluster: str, command: str) -> dict:
    """Run Command through raw HTTP: POST, then poll the Location until 200; returns the result body."""
    import time

    r = arm.call("POST", f"{cluster_id(cluster)}/runCommand", {"command": command}, api_version=AKS_API)
    assert r.status_code == 202, r.text
    url = r.headers["Location"]
    deadline = time.time() + 10
    while True:
        res = arm.s.get(url, timeout=10)
        if res.status_code == 200:
            return dict(res.json())
        assert res.status_code == 202 and time.time() < deadline, res.text
        time.sleep(0.01)


__all__ = [
    "AKS_API",
    "AZUREML",
    "EXT_API",
    "SUB",
    "azureml_body",
    "derived_settings",
    "ext_path",
    "get_ext",
    "install",
    "k8s_compute",
    "run",
]

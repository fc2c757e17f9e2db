"""What the Azure ML extension's install checks, as pure functions (no state).

The chart's health check fails without the settings the Azure CLI derives (cluster id and
name, location, domain, relay/service bus/nginx flags, the router service type, the Prometheus
cluster label); the inference front end refuses contradictory TLS, load balancer and HA settings.
"""

from __future__ import annotations

from typing import Any

from ...errors import detail

FAILED_CODE = "ExtensionOperationFailed"
DERIVED = (
    "cluster_name_friendly",
    "location",
    "jobSchedulerLocation",
    "domain",
    "servicebus.enabled",
    "relayserver.enabled",
    "nginxIngress.enabled",
    "prometheus.prometheusSpec.externalLabels.cluster_name",
)
CLUSTER_ID_KEYS = ("clusterId", "cluster_name")
SERVICE_TYPES = {"loadbalancer": "loadBalancer", "nodeport": "nodePort", "clusterip": "clusterIP"}

# Extension type versions (newest last) and the AKS minors each cannot run on.
DEFAULT_VERSIONS: list[dict[str, Any]] = [
    {"version": "1.1.64", "releaseTrain": "stable", "unsupportedKubernetesVersions": ["1.24", "1.25"]},
    {"version": "1.1.70", "releaseTrain": "stable", "unsupportedKubernetesVersions": ["1.24", "1.25", "1.26"]},
    {"version": "1.1.75", "releaseTrain": "stable", "unsupportedKubernetesVersions": ["1.25", "1.26", "1.27"]},
    {"version": "1.2.0", "releaseTrain": "preview", "unsupportedKubernetesVersions": ["1.26", "1.27"]},
]


def truthy(v: Any) -> bool:
    return str(v).strip().lower() == "true"


def _fail(message: str) -> dict[str, Any]:
    return detail(FAILED_CODE, message)


def missing_derived(settings: dict[str, Any]) -> list[str]:
    """The CLI-derived settings an install body lacks (names as the CLI writes them)."""
    missing = [] if any(settings.get(k) for k in CLUSTER_ID_KEYS) else ["clusterId (or cluster_name)"]
    missing += [k for k in DERIVED if settings.get(k) in (None, "")]
    if truthy(settings.get("enableInference")) and not any(k.startswith("scoringFe.serviceType.") for k in settings):
        missing.append("scoringFe.serviceType.*")
    return missing


def legacy_error(legacy_computes: list[str], leftovers: list[str]) -> dict[str, Any] | None:
    """E45004 while a legacy AKS compute is attached, E45005 for the objects a detach left behind."""
    if legacy_computes:
        return _fail(
            "E45004: the cluster is attached to Azure ML as a legacy AKS compute "
            f"({', '.join(legacy_computes)}); its azureml-fe front end in namespace 'default' conflicts "
            "with the extension. Detach the legacy compute and remove the azureml-fe objects first."
        )
    if leftovers:
        return _fail(
            "E45005: legacy Azure ML inference objects exist in namespace 'default' "
            f"({', '.join(leftovers)}); remove them (kubectl delete -n default ...) before installing "
            "the Azure ML extension."
        )
    return None


def settings_error(settings: dict[str, Any], protected_keys: list[str], nodes: int) -> dict[str, Any] | None:
    """Why the extension's components will not come up healthy with these settings, or None."""
    training, inference = truthy(settings.get("enableTraining")), truthy(settings.get("enableInference"))
    if not (training or inference):
        return _fail(
            "Health check failed: neither enableTraining nor enableInference is true; the extension "
            "needs at least one of them."
        )
    missing = missing_derived(settings)
    if missing:
        return _fail(
            "Health check failed: the extension's components did not become ready; required "
            f"configuration settings are missing: {', '.join(missing)}."
        )
    if not inference:
        return None
    router = str(settings.get("inferenceRouterServiceType") or "").lower()
    if router and router not in SERVICE_TYPES:
        return _fail(
            f"Invalid inferenceRouterServiceType '{settings.get('inferenceRouterServiceType')}': "
            "expected loadBalancer, nodePort or clusterIP."
        )
    node_port = router == "nodeport" or truthy(settings.get("scoringFe.serviceType.nodePort"))
    ilb = str(settings.get("internalLoadBalancerProvider") or "").lower() == "azure" or truthy(
        settings.get("scoringFe.serviceType.internalLoadBalancer")
    )
    if ilb and node_port:
        return _fail("internalLoadBalancerProvider=azure is not supported with inferenceRouterServiceType nodePort.")
    if str(settings.get("inferenceRouterHA", "true")).lower() != "false" and nodes < 3:
        return _fail(
            f"inferenceRouterHA needs at least 3 nodes; the cluster has {nodes}. Set "
            "inferenceRouterHA=false or scale the cluster."
        )
    return _tls_error(settings, protected_keys)


def _tls_error(settings: dict[str, Any], protected_keys: list[str]) -> dict[str, Any] | None:
    pem = {"scoringFe.sslCert", "scoringFe.sslKey"} <= set(protected_keys)
    secret = bool(settings.get("sslSecret"))
    if truthy(settings.get("allowInsecureConnections")):
        return None
    if not settings.get("sslCname"):
        return _fail(
            "HTTPS needs sslCname with sslSecret or the PEM pair (scoringFe.sslCert, scoringFe.sslKey); "
            "or set allowInsecureConnections=true."
        )
    if pem and secret:
        return _fail("sslCname takes either sslSecret or the PEM pair (scoringFe.sslCert, scoringFe.sslKey), not both.")
    if not (pem or secret):
        return _fail("sslCname needs sslSecret or the PEM pair (scoringFe.sslCert, scoringFe.sslKey).")
    return None


def version_error(
    versions: list[dict[str, Any]], version: str | None, train: str, k8s_version: str
) -> dict[str, Any] | None:
    """A pinned version the type does not have, or one that cannot run on the cluster's Kubernetes."""
    entry = (
        next((v for v in versions if v["version"] == version), None)
        if version
        else next((v for v in reversed(versions) if v.get("releaseTrain", "stable").lower() == train.lower()), None)
    )
    if entry is None:
        return _fail(f"Extension version '{version or train}' of Microsoft.AzureML.Kubernetes was not found.")
    minor = ".".join(k8s_version.split(".")[:2])
    if minor in entry.get("unsupportedKubernetesVersions", []):
        return _fail(f"Extension version {entry['version']} does not support Kubernetes {k8s_version}.")
    return None


def resolved_version(versions: list[dict[str, Any]], version: str | None, train: str) -> str | None:
    if version:
        return version
    return next(
        (v["version"] for v in reversed(versions) if v.get("releaseTrain", "stable").lower() == train.lower()), None
    )

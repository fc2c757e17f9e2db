"""The Azure ML extension's REST bodies, built the way the Azure CLI (`az k8s-extension create`) builds them.

A bare REST, ARM or Terraform install of `Microsoft.AzureML.Kubernetes` lacks the settings the CLI
derives from the cluster, and its health check then fails. So every body here carries them:
`cluster_name`/`clusterId` and the Prometheus cluster label (the cluster id), `cluster_name_friendly`,
`location`, `jobSchedulerLocation`, `domain`, `servicebus.enabled=false`, `relayserver.enabled=false`
and `nginxIngress.enabled=true` (an AKS cluster), and `scoringFe.serviceType.*`.

Protected settings (the PEM pair, base64) are write-only: Azure never returns them. Their change is
seen through `DIGEST_KEY`, a digest of their fingerprints kept as an ordinary configuration setting,
which Azure does return (docs/kubernetes-compute.md says why there).

Pure functions: secret values enter only through `pem` at apply time and go straight into the body.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from reconciler.desired import DesiredExtension
from reconciler.manifest import RouterServiceType
from reconciler.state import AZUREML_EXTENSION_TYPE, AksCluster, Extension

RELEASE_NAMESPACE = "azureml"
DIGEST_KEY = "reconciler.protectedSettingsDigest"
ROUTER_TYPES = {
    RouterServiceType.LOAD_BALANCER: "loadBalancer",
    RouterServiceType.NODE_PORT: "nodePort",
    RouterServiceType.CLUSTER_IP: "clusterIP",
}
DERIVED_KEYS = (
    "cluster_name",
    "clusterId",
    "prometheus.prometheusSpec.externalLabels.cluster_name",
    "cluster_name_friendly",
    "location",
    "jobSchedulerLocation",
    "domain",
    "servicebus.enabled",
    "relayserver.enabled",
    "nginxIngress.enabled",
)
USER_KEYS = (
    "enableTraining",
    "enableInference",
    "inferenceRouterServiceType",
    "internalLoadBalancerProvider",
    "inferenceRouterHA",
    "allowInsecureConnections",
    "sslCname",
    "sslSecret",
    "scoringFe.sslSecret",
    "scoringFe.serviceType.nodePort",
    "scoringFe.serviceType.internalLoadBalancer",
)
NODE_SELECTOR = "nodeSelector."
# Changing these interrupts running endpoints (the CLI asks for confirmation for the same keys).
DISRUPTIVE = (
    "enableTraining",
    "enableInference",
    "inferenceRouterServiceType",
    "internalLoadBalancerProvider",
    "scoringFe.serviceType.nodePort",
    "scoringFe.serviceType.internalLoadBalancer",
    "sslCname",
    "allowInsecureConnections",
)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def user_settings(de: DesiredExtension) -> dict[str, str]:
    """The manifest's settings under the names the extension's chart reads."""
    spec = de.spec.spec
    inf = spec.inference
    out: dict[str, str] = {"enableTraining": _flag(spec.training), "enableInference": _flag(inf.enabled)}
    if inf.enabled:
        node_port = inf.routerServiceType is RouterServiceType.NODE_PORT
        out["inferenceRouterServiceType"] = ROUTER_TYPES[inf.routerServiceType]
        if inf.internalLoadBalancer:
            out["internalLoadBalancerProvider"] = "azure"
        out["scoringFe.serviceType.nodePort"] = _flag(node_port)
        out["scoringFe.serviceType.internalLoadBalancer"] = _flag(inf.internalLoadBalancer and not node_port)
        out["inferenceRouterHA"] = _flag(inf.highAvailability)
        out["allowInsecureConnections"] = _flag(inf.allowInsecureConnections)
        if inf.tls is not None and inf.tls.cname:
            out["sslCname"] = inf.tls.cname
        if inf.tls is not None and inf.tls.secretName:
            out["sslSecret"] = inf.tls.secretName
            out["scoringFe.sslSecret"] = inf.tls.secretName
    for key, value in sorted(spec.nodeSelector.items()):
        out[NODE_SELECTOR + key] = value
    return out


def derived_settings(cluster_id: str, location: str) -> dict[str, str]:
    """What `az k8s-extension create` adds for an AKS cluster (managedClusters)."""
    region = location.lower().replace(" ", "")
    return {
        "cluster_name": cluster_id,
        "clusterId": cluster_id,
        "prometheus.prometheusSpec.externalLabels.cluster_name": cluster_id,
        "cluster_name_friendly": cluster_id.rstrip("/").rsplit("/", 1)[-1],
        "location": region,
        "jobSchedulerLocation": region,
        "domain": f"{region}.cloudapp.azure.com",
        "servicebus.enabled": "false",
        "relayserver.enabled": "false",
        "nginxIngress.enabled": "true",
    }


def configuration_settings(de: DesiredExtension, cluster: AksCluster) -> dict[str, str]:
    """Every non-protected setting the extension should carry (user, derived, and the digest)."""
    out = {**user_settings(de), **derived_settings(cluster.id, cluster.location)}
    digest = de.protected_digest()
    if digest and de.secrets_known:
        out[DIGEST_KEY] = digest
    return out


def protected_settings(pem: Mapping[str, str] | None) -> dict[str, str]:
    """The PEM pair, base64 (as the CLI sends sslCertPemFile/sslKeyPemFile). Never logged."""
    if not pem:
        return {}
    return {
        "scoringFe.sslCert": base64.b64encode(pem["certificate"].encode()).decode(),
        "scoringFe.sslKey": base64.b64encode(pem["key"].encode()).decode(),
    }


def version_policy(de: DesiredExtension) -> dict[str, Any]:
    v = de.spec.spec.version
    if v.version:
        return {"autoUpgradeMinorVersion": False, "version": v.version}
    return {"autoUpgradeMinorVersion": True, "releaseTrain": v.releaseTrain or "stable"}


def install_body(de: DesiredExtension, cluster: AksCluster, pem: Mapping[str, str] | None) -> dict[str, Any]:
    """The extension PUT: type, cluster scope in namespace azureml, version policy, every setting."""
    props: dict[str, Any] = {
        "extensionType": AZUREML_EXTENSION_TYPE,
        **version_policy(de),
        "scope": {"cluster": {"releaseNamespace": RELEASE_NAMESPACE}},
        "configurationSettings": configuration_settings(de, cluster),
    }
    protected = protected_settings(pem)
    if protected:
        props["configurationProtectedSettings"] = protected
    return {"identity": {"type": "SystemAssigned"}, "properties": props}


def upgrade_body(
    de: DesiredExtension,
    cluster: AksCluster,
    observed: Extension,
    pem: Mapping[str, str] | None,
    *,
    send_protected: bool,
) -> dict[str, Any]:
    """The extension PATCH: the version policy, changed settings, removed ones as null, in place.

    Protected settings go only when their digest changed, and then all of them (a PATCH that
    names some protected settings drops the others).
    """
    want = configuration_settings(de, cluster)
    have = managed_view(observed.settings)
    changed: dict[str, str | None] = {k: v for k, v in want.items() if _norm(have.get(k)) != _norm(v)}
    changed.update({k: None for k in have if k not in want})
    props: dict[str, Any] = {**version_policy(de), "configurationSettings": changed}
    if send_protected:
        props["configurationProtectedSettings"] = protected_settings(pem)
    return {"properties": props}


def _norm(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text.lower() if text.lower() in ("true", "false") else text


def is_managed_key(key: str) -> bool:
    return key in USER_KEYS or key in DERIVED_KEYS or key == DIGEST_KEY or key.startswith(NODE_SELECTOR)


def managed_view(settings: Mapping[str, str]) -> dict[str, str]:
    """The observed settings the reconciler owns (others, e.g. the chart's own, are left alone)."""
    return {k: v for k, v in settings.items() if is_managed_key(k)}


def desired_view(de: DesiredExtension, cluster: AksCluster) -> dict[str, Any]:
    """What is compared: settings (normalised) and the version policy."""
    view: dict[str, Any] = {k: _norm(v) for k, v in configuration_settings(de, cluster).items()}
    view.update(
        {
            f"version.{k}": (v.lower() if isinstance(v, str) and k == "releaseTrain" else v)
            for k, v in version_policy(de).items()
        }
    )
    return view


def observed_view(ext: Extension, de: DesiredExtension) -> dict[str, Any]:
    view: dict[str, Any] = {k: _norm(v) for k, v in managed_view(ext.settings).items()}
    if not (de.pem_tls and de.secrets_known):
        view.pop(DIGEST_KEY, None)
    if de.spec.spec.version.version:
        view["version.autoUpgradeMinorVersion"] = ext.auto_upgrade
        view["version.version"] = ext.version
    else:
        view["version.autoUpgradeMinorVersion"] = ext.auto_upgrade
        view["version.releaseTrain"] = (ext.release_train or "stable").lower()
    return view


def is_disruptive(path: str) -> bool:
    return path in DISRUPTIVE or path.startswith(NODE_SELECTOR)

"""REST bodies of the writes: create, attach and update PUTs of a compute.

Pure functions. Secret values enter only through `tls_secrets` at apply time and
go straight into the request body; nothing here logs or returns them elsewhere.
"""

from __future__ import annotations

from typing import Any

from reconciler.desired import DesiredCluster, DesiredKubernetes
from reconciler.manifest import LoadBalancerType
from reconciler.state import CREATED_TAG, MANAGED_TAG, OWNER_TAG, SPEC_TAG


def tags(dc: DesiredCluster, *, created: bool) -> dict[str, str]:
    out = dict(dc.spec.spec.tags)
    out[MANAGED_TAG] = "true"
    out[OWNER_TAG] = dc.owner
    out[SPEC_TAG] = dc.digest()
    if created:
        out[CREATED_TAG] = "true"
    return out


def _ssl(dc: DesiredCluster, tls_secrets: dict[str, str] | None) -> dict[str, Any]:
    tls = dc.spec.spec.tls
    if not tls.enabled:
        return {"status": "Disabled"}
    ssl: dict[str, Any] = {"status": "Enabled", "overwriteExistingDomain": tls.overwriteExistingDomain}
    if tls.leafDomainLabel:
        ssl["leafDomainLabel"] = tls.leafDomainLabel
    if tls.cname:
        ssl["cname"] = tls.cname
        ssl["cert"] = (tls_secrets or {}).get("certificate", "")
        ssl["key"] = (tls_secrets or {}).get("key", "")
    return ssl


def _load_balancer(dc: DesiredCluster) -> dict[str, Any]:
    lb = dc.spec.spec.loadBalancer
    out: dict[str, Any] = {"loadBalancerType": lb.type.value}
    if lb.type is LoadBalancerType.INTERNAL and lb.subnet:
        out["loadBalancerSubnet"] = lb.subnet
    return out


def create_body(dc: DesiredCluster, tls_secrets: dict[str, str] | None) -> dict[str, Any]:
    """Create: the workspace provisions the cluster; load balancer set directly."""
    create = dc.spec.spec.create
    assert create is not None
    inner: dict[str, Any] = {
        "agentCount": create.agentCount,
        "agentVmSize": create.vmSize,
        "clusterPurpose": dc.spec.spec.clusterPurpose.value,
        "sslConfiguration": _ssl(dc, tls_secrets),
        **_load_balancer(dc),
    }
    if create.network is not None and create.network.subnetId:
        inner["aksNetworkingConfiguration"] = create.network.model_dump(exclude_none=True)
    return {
        "location": create.location,
        "tags": tags(dc, created=True),
        "properties": {"computeType": "AKS", "description": dc.spec.spec.description, "properties": inner},
    }


def attach_body(
    dc: DesiredCluster,
    cluster_id: str,
    location: str | None,
    tls_secrets: dict[str, str] | None,
    *,
    created: bool = False,
) -> dict[str, Any]:
    """Attach: only `resourceId` and attach-time settings, never agentCount/vmSize/network."""
    body: dict[str, Any] = {
        "tags": tags(dc, created=created),
        "properties": {
            "computeType": "AKS",
            "description": dc.spec.spec.description,
            "resourceId": cluster_id,
            "properties": {
                "clusterPurpose": dc.spec.spec.clusterPurpose.value,
                "sslConfiguration": _ssl(dc, tls_secrets),
            },
        },
    }
    if location:
        body["location"] = location
    return body


def update_body(
    dc: DesiredCluster,
    cluster_id: str | None,
    location: str | None,
    tls_secrets: dict[str, str] | None,
    *,
    created: bool,
) -> dict[str, Any]:
    """Update in place: description, tags and load balancer, with the unchanged attach-time settings."""
    body = attach_body(dc, cluster_id or "", location, tls_secrets, created=created)
    if created or not cluster_id:
        body["properties"].pop("resourceId", None)
    body["properties"]["properties"].update(_load_balancer(dc))
    return body


def kubernetes_body(dk: DesiredKubernetes, location: str | None) -> dict[str, Any]:
    """Attach (or re-PUT) a Kubernetes compute: the cluster, its namespace and instance types, tagged with its owner.

    Never `relayConnectionString` / `serviceBusConnectionString`: write-only legacy plumbing.
    """
    spec = dk.spec.spec
    inner: dict[str, Any] = {"namespace": spec.namespace}
    if spec.defaultInstanceType:
        inner["defaultInstanceType"] = spec.defaultInstanceType
    if spec.instanceTypes:
        inner["instanceTypes"] = {
            name: it.model_dump(mode="json", exclude_defaults=False) for name, it in spec.instanceTypes.items()
        }
    body: dict[str, Any] = {
        "tags": {**spec.tags, MANAGED_TAG: "true", OWNER_TAG: dk.owner},
        "properties": {"computeType": "Kubernetes", "resourceId": spec.clusterId, "properties": inner},
    }
    if spec.description is not None:
        body["properties"]["description"] = spec.description
    if location:
        body["location"] = location
    if spec.identity is not None:
        identity: dict[str, Any] = {"type": spec.identity.type}
        if spec.identity.ids:
            identity["userAssignedIdentities"] = {i: {} for i in spec.identity.ids}
        body["identity"] = identity
    return body

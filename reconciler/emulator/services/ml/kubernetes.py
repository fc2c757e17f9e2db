"""Kubernetes computes (``computeType: Kubernetes``): attach a cluster that runs the Azure ML extension.

Unlike the legacy AKS compute, one cluster may be attached many times (each compute in its
own namespace, in one or several workspaces); attach needs the extension ``Succeeded``;
``relayConnectionString``/``serviceBusConnectionString`` are write-only and never stored.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ...errors import BadRequest
from ...kube_model import AZUREML_EXTENSION_TYPE, ClusterInside
from ...model import Cluster, Compute
from . import rules

WRITE_ONLY = ("relayConnectionString", "serviceBusConnectionString")
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def is_kubernetes(body: Any) -> bool:
    props = body.get("properties") if isinstance(body, dict) else None
    return isinstance(props, dict) and str(props.get("computeType", "")).lower() == "kubernetes"


def check_body(body: dict) -> tuple[dict, dict, dict | None, dict | None]:
    """(properties, properties.properties without write-only keys, tags, identity) of a Kubernetes PUT."""
    props = body["properties"]
    settings = props.get("properties") or {}
    if not isinstance(settings, dict):
        raise BadRequest("properties.properties must be an object.")
    settings = {k: copy.deepcopy(v) for k, v in settings.items() if k not in WRITE_ONLY}
    settings.setdefault("namespace", "default")
    if not rules_dns_label(str(settings["namespace"])):
        raise BadRequest(f"namespace '{settings['namespace']}' is not a valid Kubernetes namespace name.")
    tags = body.get("tags")
    if tags is not None and not isinstance(tags, dict):
        raise BadRequest("tags must be an object.")
    return props, settings, tags, check_identity(body.get("identity"))


def rules_dns_label(name: str) -> bool:
    import re

    return bool(re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name))


def check_identity(identity: Any) -> dict | None:
    if identity is None:
        return None
    if not isinstance(identity, dict):
        raise BadRequest("identity must be an object.")
    kind = str(identity.get("type") or "None")
    if kind.lower() in ("systemassigned,userassigned", "systemassigned, userassigned"):
        raise BadRequest("A Kubernetes compute takes a system-assigned or a user-assigned identity, not both.")
    if kind.lower() not in ("none", "systemassigned", "userassigned"):
        raise BadRequest(f"Invalid identity type '{kind}'.")
    out: dict = {"type": {"none": "None", "systemassigned": "SystemAssigned",
                          "userassigned": "UserAssigned"}[kind.lower()]}
    if kind.lower() == "userassigned":
        ids = identity.get("userAssignedIdentities") or {}
        if not isinstance(ids, dict) or not ids:
            raise BadRequest("identity type UserAssigned needs userAssignedIdentities.")
        out["userAssignedIdentities"] = {k: {} for k in ids}
    return out


def cluster_for(rid: Any, ws_subscription: str) -> tuple[str, str, str]:
    parsed = rules.parse_cluster_id(str(rid or ""))
    if parsed is None:
        raise BadRequest(f"resourceId '{rid}' is not an AKS managed cluster id.")
    if parsed[0].lower() != ws_subscription.lower():
        raise BadRequest(f"The Kubernetes cluster must be in the same subscription as the workspace "
                         f"({ws_subscription}); '{rid}' is in subscription {parsed[0]}.")
    return parsed


def extension_error(cl: Cluster, inside: ClusterInside | None) -> str | None:
    """Why a Kubernetes attach to ``cl`` is refused (no Succeeded Azure ML extension), or None."""
    exts = [e for e in (inside.extensions.values() if inside else [])
            if e.extension_type.lower() == AZUREML_EXTENSION_TYPE.lower()]
    if not exts:
        return (f"The Azure ML extension ({AZUREML_EXTENSION_TYPE}) is not installed on cluster '{cl.id}'. "
                "Install it, then attach the cluster.")
    if exts[0].provisioning_state != "Succeeded":
        return (f"The Azure ML extension '{exts[0].name}' on cluster '{cl.id}' is {exts[0].provisioning_state}; "
                "attach needs it Succeeded.")
    return None


def compute_body(c: Compute, extension_principal: str | None) -> dict:
    """A Kubernetes compute as Azure returns it (no write-only connection strings)."""
    from ... import domain

    settings = copy.deepcopy(c.settings)
    if extension_principal:
        settings.setdefault("extensionPrincipalId", extension_principal)
    props: dict[str, Any] = {"computeType": "Kubernetes", "computeLocation": c.location}
    if c.description is not None:
        props["description"] = c.description
    if c.resource_id:
        props["resourceId"] = c.resource_id
    props["provisioningState"] = c.provisioning_state
    if c.provisioning_errors:
        props["provisioningErrors"] = c.provisioning_errors
    props["createdOn"] = domain.iso_us(c.created_on_us)
    props["modifiedOn"] = domain.iso_us(c.modified_on_us)
    props["isAttachedCompute"] = True
    props["disableLocalAuth"] = False
    props["properties"] = settings
    body = {"id": c.id, "name": c.name, "type": "Microsoft.MachineLearningServices/workspaces/computes",
            "location": c.location, "tags": dict(c.tags), "properties": props}
    if c.identity:
        ident = copy.deepcopy(c.identity)
        if ident["type"] == "SystemAssigned":
            ident.update(principalId=str(uuid.uuid5(uuid.NAMESPACE_URL, c.id.lower())), tenantId=TENANT)
        for k in ident.get("userAssignedIdentities", {}):
            ident["userAssignedIdentities"][k] = {
                "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, k.lower())),
                "clientId": str(uuid.uuid5(uuid.NAMESPACE_DNS, k.lower()))}
        body["identity"] = ident
    return body

"""Kubernetes computes (``computeType: Kubernetes``): attach a cluster that runs the Azure ML extension.

Unlike the legacy AKS compute, one cluster may be attached many times (each compute in its
own namespace, in one or several workspaces); attach needs the extension ``Succeeded``;
``relayConnectionString``/``serviceBusConnectionString`` are write-only and never stored.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ...errors import BadRequest, Conflict
from ...kube_model import AZUREML_EXTENSION_TYPE, ClusterInside
from ...lro import OperationEngine
from ...model import Cluster, Compute, Operation, Workspace
from ...store import Store
from ..aks.backend import AksBackend
from . import rules
from .shapes import system_data

PROVIDER = "ml"  # the ML service's operations (finished by its backend)

WRITE_ONLY = ("relayConnectionString", "serviceBusConnectionString")
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def is_kubernetes(body: Any) -> bool:
    props = body.get("properties") if isinstance(body, dict) else None
    return isinstance(props, dict) and str(props.get("computeType", "")).lower() == "kubernetes"


def check_body(
    body: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
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


def check_identity(identity: Any) -> dict[str, Any] | None:
    if identity is None:
        return None
    if not isinstance(identity, dict):
        raise BadRequest("identity must be an object.")
    kind = str(identity.get("type") or "None")
    if kind.lower() in ("systemassigned,userassigned", "systemassigned, userassigned"):
        raise BadRequest("A Kubernetes compute takes a system-assigned or a user-assigned identity, not both.")
    if kind.lower() not in ("none", "systemassigned", "userassigned"):
        raise BadRequest(f"Invalid identity type '{kind}'.")
    out: dict[str, Any] = {
        "type": {"none": "None", "systemassigned": "SystemAssigned", "userassigned": "UserAssigned"}[kind.lower()]
    }
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
        raise BadRequest(
            f"The Kubernetes cluster must be in the same subscription as the workspace "
            f"({ws_subscription}); '{rid}' is in subscription {parsed[0]}."
        )
    return parsed


def extension_error(cl: Cluster, inside: ClusterInside | None) -> str | None:
    """Why a Kubernetes attach to ``cl`` is refused (no Succeeded Azure ML extension), or None."""
    exts = [
        e
        for e in (inside.extensions.values() if inside else [])
        if e.extension_type.lower() == AZUREML_EXTENSION_TYPE.lower()
    ]
    if not exts:
        return (
            f"The Azure ML extension ({AZUREML_EXTENSION_TYPE}) is not installed on cluster '{cl.id}'. "
            "Install it, then attach the cluster."
        )
    if exts[0].provisioning_state != "Succeeded":
        return (
            f"The Azure ML extension '{exts[0].name}' on cluster '{cl.id}' is {exts[0].provisioning_state}; "
            "attach needs it Succeeded."
        )
    return None


def compute_body(c: Compute, extension_principal: str | None) -> dict[str, Any]:
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
    body = {
        "id": c.id,
        "name": c.name,
        "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "location": c.location,
        "tags": dict(c.tags),
        "identity": None,
        "sku": None,
        "systemData": system_data(c.created_on_us, c.modified_on_us),
        "properties": props,
    }
    if c.identity:
        ident = copy.deepcopy(c.identity)
        if ident["type"] == "SystemAssigned":
            ident.update(principalId=str(uuid.uuid5(uuid.NAMESPACE_URL, c.id.lower())), tenantId=TENANT)
        for k in ident.get("userAssignedIdentities", {}):
            ident["userAssignedIdentities"][k] = {
                "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, k.lower())),
                "clientId": str(uuid.uuid5(uuid.NAMESPACE_DNS, k.lower())),
            }
        body["identity"] = ident
    return body


class KubernetesComputes:
    """Attach (or re-write) Kubernetes computes: many per cluster, the extension must be Succeeded."""

    def __init__(self, store: Store, lro: OperationEngine, aks: AksBackend) -> None:
        self.store = store
        self.lro = lro
        self.aks = aks

    def put(self, ws: Workspace, name: str, body: dict[str, Any], location: str) -> tuple[Compute, Operation, bool]:
        rules.check_name(name)
        props, settings, tags, identity = check_body(body)
        existing = ws.computes.get(name.lower())
        if existing is not None:
            running = self.lro.inflight_op(existing.id)
            if running is not None:
                raise Conflict(
                    f"Compute '{name}' has an operation in progress ({running.kind}, {running.id}); "
                    "retry after it completes."
                )
            if existing.compute_type != "Kubernetes":
                raise BadRequest(f"Compute '{name}' is of type {existing.compute_type}; the type cannot change.")
        rid = props.get("resourceId")
        cluster_for(rid, ws.subscription)
        cl = self.aks.by_id(str(rid))
        if cl is None:
            raise BadRequest(f"The Kubernetes cluster '{rid}' was not found.")
        if existing is not None and str(existing.resource_id).lower() != cl.id.lower():
            raise BadRequest(
                f"Compute '{name}' is bound to '{existing.resource_id}'; resourceId cannot change. "
                "Detach the compute first."
            )
        refused = extension_error(cl, self.store.world.insides.get(cl.id.lower()))
        if refused:
            raise BadRequest(refused)
        now_us = self.store.stamp_us()
        comp = existing or Compute(
            workspace_id=ws.id,
            name=name,
            location=location,
            attached=True,
            resource_id=cl.id,
            settings={},
            provisioning_state="Creating",
            created_on_us=now_us,
            modified_on_us=now_us,
            compute_type="Kubernetes",
        )
        comp.settings, comp.location, comp.description = settings, location, props.get("description")
        comp.provisioning_state = "Updating" if existing else "Creating"
        comp.provisioning_errors, comp.modified_on_us = [], now_us
        if tags is not None:
            comp.tags = {str(k): str(v) for k, v in tags.items()}
        if identity is not None or existing is None:
            comp.identity = identity
        ws.computes[name.lower()] = comp
        kind = "update" if existing else "attach"
        return comp, self.lro.start(kind, PROVIDER, comp.id, ws.subscription, location), existing is None

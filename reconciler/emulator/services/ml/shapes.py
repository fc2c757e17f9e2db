"""JSON bodies of Microsoft.MachineLearningServices resources, as the REST spec shapes them."""

from __future__ import annotations

import uuid
from typing import Any

from ... import domain
from ...model import Cluster, Compute, Workspace
from ...seed import strip_secrets
from ..aks.shapes import fqdn


def system_data(created_us: int, modified_us: int) -> dict[str, Any]:
    """ARM's systemData: who made the resource and when (the emulator's callers are one application)."""
    return {
        "createdAt": domain.iso_us(created_us),
        "createdBy": "reconciler-emulator",
        "createdByType": "Application",
        "lastModifiedAt": domain.iso_us(modified_us),
        "lastModifiedBy": "reconciler-emulator",
        "lastModifiedByType": "Application",
    }


def _aks_settings(c: Compute, cl: Cluster | None) -> dict[str, Any]:
    """properties.properties: what was sent (secrets removed), defaults, and what Azure fills in.

    A created compute reports its cluster's live node count and VM size; an attached one
    echoes the settings it was attached with, as Azure does.
    """
    settings = strip_secrets(c.settings)
    settings["clusterPurpose"] = domain.purpose_of(settings)
    settings.setdefault("loadBalancerType", "PublicIp")
    settings.setdefault("loadBalancerSubnet", None)
    settings.setdefault("sslConfiguration", {"status": "Disabled"})
    settings.setdefault("aksNetworkingConfiguration", None)
    settings["systemServices"] = None
    settings["clusterFqdn"] = None
    if cl is not None:
        system = next((p for p in cl.agent_pools if p.mode.lower() == "system"), None) or (
            cl.agent_pools[0] if cl.agent_pools else None
        )
        if not c.attached or "agentCount" not in settings:
            settings["agentCount"] = sum(p.count for p in cl.agent_pools)
        if system is not None and (not c.attached or "agentVmSize" not in settings):
            settings["agentVmSize"] = system.vm_size
        settings["clusterFqdn"] = fqdn(cl)
    return settings


def compute_body(c: Compute, cl: Cluster | None) -> dict[str, Any]:
    """A compute as Azure returns it; ``cl`` is its AKS cluster when that still exists.

    Nullable properties are present as null, as the service sends them.
    """
    props: dict[str, Any] = {
        "computeType": "AKS",
        "computeLocation": c.location,
        "description": c.description,
        "resourceId": c.resource_id,
        "provisioningState": c.provisioning_state,
        "provisioningErrors": c.provisioning_errors or None,
        "createdOn": domain.iso_us(c.created_on_us),
        "modifiedOn": domain.iso_us(c.modified_on_us),
        "isAttachedCompute": c.attached,
        "disableLocalAuth": False,
        "properties": _aks_settings(c, cl),
    }
    return {
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


def workspace_body(ws: Workspace, base_url: str) -> dict[str, Any]:
    """A workspace; its discovery URL is this emulator, so clients that follow it stay on the machine."""
    rg = f"/subscriptions/{ws.subscription}/resourceGroups/{ws.resource_group}/providers"
    short = ws.name.replace("-", "")[:16].lower()
    return {
        "id": ws.id,
        "name": ws.name,
        "type": "Microsoft.MachineLearningServices/workspaces",
        "location": ws.location,
        "tags": dict(ws.tags),
        "sku": {"name": "Basic", "tier": "Basic"},
        "identity": {"type": "SystemAssigned"},
        "systemData": None,
        "properties": {
            "friendlyName": ws.name,
            "description": None,
            "provisioningState": "Succeeded",
            "workspaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, ws.id.lower())),
            "discoveryUrl": f"{base_url}/discovery",
            "hbiWorkspace": False,
            "storageAccount": ws.storage_account or f"{rg}/Microsoft.Storage/storageAccounts/{short}storage",
            "keyVault": f"{rg}/Microsoft.KeyVault/vaults/{short}kv",
            "applicationInsights": f"{rg}/Microsoft.Insights/components/{short}ai",
            "containerRegistry": None,
            "imageBuildCompute": None,
            "privateLinkCount": 0,
            "allowPublicAccessWhenBehindVnet": False,
            "publicNetworkAccess": "Enabled",
            "v1LegacyMode": False,
            "mlFlowTrackingUri": None,
            "notebookInfo": None,
        },
    }


def discovery_body(base_url: str) -> dict[str, Any]:
    """The regional endpoints azureml-core looks up: all of them served by this emulator."""
    keys = (
        "api",
        "catalog",
        "experimentation",
        "gallery",
        "history",
        "hyperdrive",
        "labeling",
        "modelmanagement",
        "pipelines",
        "studio",
    )
    return {k: base_url for k in keys}


def keys_body(comp: Compute, cl: Cluster, base_url: str) -> dict[str, Any]:
    """Compute_ListKeys of an AKS compute: kubeconfigs whose API server is this emulator, never a real host."""
    server = f"{base_url}/_kube/{cl.subscription}/{cl.resource_group}/{cl.name}"
    kube = (
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {server}\n  name: {name}\n"
        "contexts:\n- context:\n    cluster: {name}\n    user: {user}\n  name: {name}\n"
        "current-context: {name}\nusers:\n- name: {user}\n  user:\n    token: emulator-token\n"
    )
    return {
        "computeType": "AKS",
        "userKubeConfig": kube.format(server=server, name=cl.name, user=f"clusterUser_{cl.resource_group}_{cl.name}"),
        "adminKubeConfig": kube.format(server=server, name=cl.name, user=f"clusterAdmin_{cl.resource_group}_{cl.name}"),
        "imagePullSecretName": f"{comp.name.lower()}-acr-secret",
    }

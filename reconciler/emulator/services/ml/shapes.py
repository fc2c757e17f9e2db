"""JSON bodies of Microsoft.MachineLearningServices resources, as the REST spec shapes them."""

from __future__ import annotations

import uuid
from typing import Any

from ... import domain
from ...model import Cluster, Compute, Workspace
from ...seed import strip_secrets
from ..aks.shapes import fqdn


def compute_body(c: Compute, cl: Cluster | None) -> dict:
    """A compute as Azure returns it; ``cl`` is its AKS cluster when that still exists."""
    settings = strip_secrets(c.settings)
    settings["clusterPurpose"] = domain.purpose_of(settings)
    settings.setdefault("loadBalancerType", "PublicIp")
    settings.setdefault("sslConfiguration", {"status": "Disabled"})
    if cl is not None:
        settings["agentCount"] = sum(p.count for p in cl.agent_pools)
        system = next((p for p in cl.agent_pools if p.mode.lower() == "system"), None) or (
            cl.agent_pools[0] if cl.agent_pools else None)
        if system is not None:
            settings["agentVmSize"] = system.vm_size
        settings["clusterFqdn"] = fqdn(cl)
    props: dict[str, Any] = {"computeType": "AKS", "computeLocation": c.location}
    if c.description is not None:
        props["description"] = c.description
    if c.resource_id:
        props["resourceId"] = c.resource_id
    props["provisioningState"] = c.provisioning_state
    if c.provisioning_errors:
        props["provisioningErrors"] = c.provisioning_errors
    props["createdOn"] = domain.iso_us(c.created_on_us)
    props["modifiedOn"] = domain.iso_us(c.modified_on_us)
    props["isAttachedCompute"] = c.attached
    props["disableLocalAuth"] = False
    props["properties"] = settings
    return {"id": c.id, "name": c.name, "type": "Microsoft.MachineLearningServices/workspaces/computes",
            "location": c.location, "tags": dict(c.tags), "properties": props}


def workspace_body(ws: Workspace) -> dict:
    return {
        "id": ws.id, "name": ws.name, "type": "Microsoft.MachineLearningServices/workspaces",
        "location": ws.location, "tags": dict(ws.tags),
        "sku": {"name": "Basic", "tier": "Basic"}, "identity": {"type": "SystemAssigned"},
        "properties": {
            "friendlyName": ws.name, "provisioningState": "Succeeded",
            "workspaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, ws.id.lower())),
            "discoveryUrl": f"https://{ws.location}.api.azureml.ms/discovery", "hbiWorkspace": False,
            **({"storageAccount": ws.storage_account} if ws.storage_account else {}),
        },
    }


def keys_body(comp: Compute, cl: Cluster) -> dict:
    """Compute_ListKeys of an AKS compute: kubeconfigs pointing at the cluster's API server."""
    server = f"https://{fqdn(cl)}:443"
    kube = ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {server}\n  name: {name}\n"
            "contexts:\n- context:\n    cluster: {name}\n    user: {user}\n  name: {name}\n"
            "current-context: {name}\nusers:\n- name: {user}\n  user:\n    token: emulator-token\n")
    return {
        "computeType": "AKS",
        "userKubeConfig": kube.format(server=server, name=cl.name, user=f"clusterUser_{cl.resource_group}_{cl.name}"),
        "adminKubeConfig": kube.format(server=server, name=cl.name,
                                       user=f"clusterAdmin_{cl.resource_group}_{cl.name}"),
        "imagePullSecretName": f"{comp.name.lower()}-acr-secret",
    }

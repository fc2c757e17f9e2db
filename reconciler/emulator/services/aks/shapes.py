"""JSON bodies of Microsoft.ContainerService resources, as the REST spec shapes them."""

from __future__ import annotations

import hashlib
from typing import Any

from ...model import AgentPool, Cluster


def _h(text: str) -> str:
    return hashlib.sha1(text.lower().encode()).hexdigest()


def dns_prefix(cl: Cluster) -> str:
    return f"{cl.name[:10]}-{cl.resource_group[:10]}-{cl.subscription[:6]}".replace("_", "-")


def fqdn(cl: Cluster) -> str:
    return f"{dns_prefix(cl)}-{_h(cl.id)[:8]}.hcp.{cl.location}.azmk8s.io"


def _etag(*parts: Any) -> str:
    return _h("|".join(str(p) for p in parts))[:16]


def pool_profile(cl: Cluster, p: AgentPool) -> dict[str, Any]:
    return {
        "name": p.name,
        "count": p.count,
        "vmSize": p.vm_size,
        "osDiskSizeGB": 128,
        "osType": "Linux",
        "type": "VirtualMachineScaleSets",
        "mode": p.mode,
        "maxPods": 110,
        "orchestratorVersion": cl.kubernetes_version,
        "currentOrchestratorVersion": cl.kubernetes_version,
        "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202501.01.0",
        "provisioningState": p.provisioning_state,
        "powerState": {"code": "Running"},
        "upgradeSettings": {"maxSurge": "10%"},
        "eTag": _etag(cl.id, p.name, p.count, p.vm_size, p.provisioning_state),
    }


def agent_pool_body(cl: Cluster, p: AgentPool) -> dict[str, Any]:
    props = pool_profile(cl, p)
    name = props.pop("name")
    return {
        "id": f"{cl.id}/agentPools/{name}",
        "name": name,
        "type": "Microsoft.ContainerService/managedClusters/agentPools",
        "properties": props,
    }


def _network_profile(cl: Cluster, node_rg: str) -> dict[str, Any]:
    net = cl.network or {}
    network: dict[str, Any] = {
        "networkPlugin": "azure" if net.get("subnetId") else "kubenet",
        "loadBalancerSku": cl.load_balancer_sku,
        "outboundType": "loadBalancer",
        "podCidr": "10.244.0.0/16",
        "podCidrs": ["10.244.0.0/16"],
        "serviceCidr": net.get("serviceCidr", "10.0.0.0/16"),
        "serviceCidrs": [net.get("serviceCidr", "10.0.0.0/16")],
        "dnsServiceIP": net.get("dnsServiceIP", "10.0.0.10"),
        "ipFamilies": ["IPv4"],
    }
    if cl.load_balancer_sku.lower() == "standard":
        network["loadBalancerProfile"] = {
            "managedOutboundIPs": {"count": 1},
            "allocatedOutboundPorts": 0,
            "idleTimeoutInMinutes": 30,
            "effectiveOutboundIPs": [
                {
                    "id": f"/subscriptions/{cl.subscription}/resourceGroups/{node_rg}/providers/"
                    f"Microsoft.Network/publicIPAddresses/{_h(cl.id)[:8]}-outbound"
                }
            ],
        }
    return network


def cluster_body(cl: Cluster) -> dict[str, Any]:
    node_rg = f"MC_{cl.resource_group}_{cl.name}_{cl.location}"
    props: dict[str, Any] = {
        "provisioningState": cl.provisioning_state,
        "powerState": {"code": "Running"},
        "kubernetesVersion": cl.kubernetes_version,
        "currentKubernetesVersion": cl.kubernetes_version,
        "dnsPrefix": dns_prefix(cl),
        "fqdn": fqdn(cl),
        "azurePortalFQDN": fqdn(cl).replace(".hcp.", ".portal.hcp."),
        "agentPoolProfiles": [pool_profile(cl, p) for p in cl.agent_pools],
        "linuxProfile": {
            "adminUsername": "azureuser",
            "ssh": {"publicKeys": [{"keyData": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ emulator"}]},
        },
        "servicePrincipalProfile": {"clientId": "msi"},
        "nodeResourceGroup": node_rg,
        "enableRBAC": True,
        "maxAgentPools": 100,
        "networkProfile": _network_profile(cl, node_rg),
        "apiServerAccessProfile": {
            "enablePrivateCluster": cl.private_cluster,
            "authorizedIPRanges": list(cl.authorized_ip_ranges),
        },
    }
    if cl.private_cluster:
        props["privateFQDN"] = fqdn(cl).replace(".hcp.", ".privatelink.")
    return {
        "id": cl.id,
        "name": cl.name,
        "type": "Microsoft.ContainerService/managedClusters",
        "location": cl.location,
        "tags": dict(cl.tags),
        "sku": {"name": "Base", "tier": "Free"},
        "eTag": _etag(
            cl.id,
            cl.kubernetes_version,
            cl.provisioning_state,
            [(p.name, p.count, p.provisioning_state) for p in cl.agent_pools],
        ),
        "properties": props,
    }

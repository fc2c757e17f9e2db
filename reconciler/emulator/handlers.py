"""ARM routing and JSON shapes: turns requests into backend calls and backend records
into the bodies Azure returns (Microsoft.MachineLearningServices computes/workspaces,
Microsoft.ContainerService managed clusters/agent pools/versions, operation status).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

from . import domain
from .backend import Backend
from .model import AgentPool, ArmError, Cluster, Compute, Operation, Workspace
from .seed import strip_secrets

ML = "microsoft.machinelearningservices"
CS = "microsoft.containerservice"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # keys lower-cased
    headers: Any
    body: Any  # parsed JSON (or None)
    base_url: str

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(e: ArmError) -> Response:
    return Response(e.status, e.body())


Handler = Callable[[Backend, Request, dict[str, str]], Response]


@dataclass
class Route:
    method: str
    segments: tuple[str, ...]
    operation_id: str
    handler: Handler


ROUTES: list[Route] = []


def route(method: str, pattern: str, operation_id: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        ROUTES.append(Route(method, tuple(s.lower() if not s.startswith("{") else s
                                          for s in pattern.strip("/").split("/")), operation_id, fn))
        return fn
    return deco


def match(method: str, segments: list[str]) -> tuple[Route | None, dict[str, str], bool]:
    """(route, params, path_known): path_known is True when only the method mismatched."""
    lower = [s.lower() for s in segments]
    path_known = False
    for r in ROUTES:
        if len(r.segments) != len(lower):
            continue
        params: dict[str, str] = {}
        for pat, seg, raw in zip(r.segments, lower, segments):
            if pat.startswith("{"):
                params[pat[1:-1]] = raw
            elif pat != seg:
                break
        else:
            if r.method == method:
                return r, params, True
            path_known = True
    return None, {}, path_known


# ------------------------------------------------------------------- shapes
def _h(text: str) -> str:
    return hashlib.sha1(text.lower().encode()).hexdigest()


def fmt_seconds(s: float) -> str:
    return f"{s:.2f}".rstrip("0").rstrip(".") or "0"


def compute_body(b: Backend, c: Compute) -> dict:
    cl = b.world.clusters.get(c.resource_id.lower()) if c.resource_id else None
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
        settings["clusterFqdn"] = _fqdn(cl)
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
        },
    }


def _dns_prefix(cl: Cluster) -> str:
    return f"{cl.name[:10]}-{cl.resource_group[:10]}-{cl.subscription[:6]}".replace("_", "-")


def _fqdn(cl: Cluster) -> str:
    return f"{_dns_prefix(cl)}-{_h(cl.id)[:8]}.hcp.{cl.location}.azmk8s.io"


def _etag(*parts: Any) -> str:
    return _h("|".join(str(p) for p in parts))[:16]


def pool_profile(cl: Cluster, p: AgentPool) -> dict:
    return {
        "name": p.name, "count": p.count, "vmSize": p.vm_size, "osDiskSizeGB": 128, "osType": "Linux",
        "type": "VirtualMachineScaleSets", "mode": p.mode, "maxPods": 110,
        "orchestratorVersion": cl.kubernetes_version, "currentOrchestratorVersion": cl.kubernetes_version,
        "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202501.01.0",
        "provisioningState": p.provisioning_state, "powerState": {"code": "Running"},
        "upgradeSettings": {"maxSurge": "10%"},
        "eTag": _etag(cl.id, p.name, p.count, p.vm_size, p.provisioning_state),
    }


def agent_pool_body(cl: Cluster, p: AgentPool) -> dict:
    props = pool_profile(cl, p)
    name = props.pop("name")
    return {"id": f"{cl.id}/agentPools/{name}", "name": name,
            "type": "Microsoft.ContainerService/managedClusters/agentPools", "properties": props}


def cluster_body(cl: Cluster) -> dict:
    h = _h(cl.id)
    node_rg = f"MC_{cl.resource_group}_{cl.name}_{cl.location}"
    net = cl.network or {}
    network: dict[str, Any] = {
        "networkPlugin": "azure" if net.get("subnetId") else "kubenet",
        "loadBalancerSku": cl.load_balancer_sku, "outboundType": "loadBalancer",
        "podCidr": "10.244.0.0/16", "podCidrs": ["10.244.0.0/16"],
        "serviceCidr": net.get("serviceCidr", "10.0.0.0/16"),
        "serviceCidrs": [net.get("serviceCidr", "10.0.0.0/16")],
        "dnsServiceIP": net.get("dnsServiceIP", "10.0.0.10"), "ipFamilies": ["IPv4"],
    }
    if cl.load_balancer_sku.lower() == "standard":
        network["loadBalancerProfile"] = {
            "managedOutboundIPs": {"count": 1}, "allocatedOutboundPorts": 0, "idleTimeoutInMinutes": 30,
            "effectiveOutboundIPs": [{"id": f"/subscriptions/{cl.subscription}/resourceGroups/{node_rg}/providers/"
                                            f"Microsoft.Network/publicIPAddresses/{h[:8]}-outbound"}],
        }
    props: dict[str, Any] = {
        "provisioningState": cl.provisioning_state, "powerState": {"code": "Running"},
        "kubernetesVersion": cl.kubernetes_version, "currentKubernetesVersion": cl.kubernetes_version,
        "dnsPrefix": _dns_prefix(cl), "fqdn": _fqdn(cl),
        "azurePortalFQDN": _fqdn(cl).replace(".hcp.", ".portal.hcp."),
        "agentPoolProfiles": [pool_profile(cl, p) for p in cl.agent_pools],
        "linuxProfile": {"adminUsername": "azureuser",
                         "ssh": {"publicKeys": [{"keyData": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ emulator"}]}},
        "servicePrincipalProfile": {"clientId": "msi"},
        "nodeResourceGroup": node_rg, "enableRBAC": True, "maxAgentPools": 100,
        "networkProfile": network,
        "apiServerAccessProfile": {"enablePrivateCluster": cl.private_cluster,
                                   "authorizedIPRanges": list(cl.authorized_ip_ranges)},
    }
    if cl.private_cluster:
        props["privateFQDN"] = _fqdn(cl).replace(".hcp.", ".privatelink.")
    return {
        "id": cl.id, "name": cl.name, "type": "Microsoft.ContainerService/managedClusters",
        "location": cl.location, "tags": dict(cl.tags), "sku": {"name": "Base", "tier": "Free"},
        "eTag": _etag(cl.id, cl.kubernetes_version, cl.provisioning_state,
                      [(p.name, p.count, p.provisioning_state) for p in cl.agent_pools]),
        "properties": props,
    }


def _status_path(op: Operation) -> str:
    if op.provider == "ml":
        return (f"/subscriptions/{op.subscription}/providers/Microsoft.MachineLearningServices/locations/"
                f"{op.location}/computeOperationsStatus/{op.id}")
    return f"/subscriptions/{op.subscription}/providers/Microsoft.ContainerService/locations/{op.location}/operations/{op.id}"


def _result_path(op: Operation) -> str:
    if op.provider == "ml":
        return (f"/subscriptions/{op.subscription}/providers/Microsoft.MachineLearningServices/locations/"
                f"{op.location}/computeOperationsResults/{op.id}")
    return (f"/subscriptions/{op.subscription}/providers/Microsoft.ContainerService/locations/{op.location}/"
            f"operationresults/{op.id}")


def retry_headers(b: Backend, op: Operation) -> dict[str, str]:
    """How long a poller should wait: the operation's remaining time.

    ML computes get fractional seconds (azure-core parses them). The AKS SDK types
    Retry-After as an integer in its generated code and fails on "0.25", so AKS gets
    whole seconds when at least one second remains, else ``Retry-After-Ms``, which
    azure-core also honours. Never "0": azure-core reads that as "no hint" and falls
    back to its 30 s default interval.
    """
    delay = b.retry_after(op)
    if op.provider == "ml":
        return {"Retry-After": fmt_seconds(delay)}
    remaining = op.ends_at - b.clock()
    if remaining >= 1.0:
        return {"Retry-After": str(min(10, math.ceil(remaining)))}
    return {"Retry-After-Ms": str(max(10, int(delay * 1000)))}


def lro_headers(b: Backend, req: Request, op: Operation) -> dict[str, str]:
    q = f"?api-version={quote(req.api_version)}"
    return {
        "Azure-AsyncOperation": req.base_url + _status_path(op) + q,
        "Location": req.base_url + _result_path(op) + q,
        **retry_headers(b, op),
    }


def operation_body(op: Operation) -> dict:
    body: dict[str, Any] = {"id": _status_path(op), "name": op.id, "status": op.status,
                            "startTime": domain.iso(op.started_at)}
    if op.ended_at is not None:
        body["endTime"] = domain.iso(op.ended_at)
    if op.status == "Failed" and op.error:
        body["error"] = dict(op.error)
    return body


def _page(req: Request, items: list[dict], page_size: int) -> dict:
    try:
        skip = max(0, int(req.query.get("$skip") or req.query.get("$skiptoken") or 0))
    except ValueError:
        raise ArmError(400, "BadRequest", "$skip must be a non-negative integer.") from None
    body: dict[str, Any] = {"value": items[skip:skip + page_size]}
    if skip + page_size < len(items):
        body["nextLink"] = (f"{req.base_url}{req.path}?api-version={quote(req.api_version)}"
                            f"&$skip={skip + page_size}")
    return body


# ------------------------------------------------------------------ handlers
WS = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
MC = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters"


@route("GET", WS, "Workspaces_Get")
def workspaces_get(b: Backend, req: Request, p: dict[str, str]) -> Response:
    return Response(200, workspace_body(b.workspace(p["sub"], p["rg"], p["ws"])))


@route("GET", WS + "/computes", "Compute_List")
def compute_list(b: Backend, req: Request, p: dict[str, str]) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    return Response(200, _page(req, [compute_body(b, c) for c in b.computes(ws)], b.page_size))


@route("GET", WS + "/computes/{name}", "Compute_Get")
def compute_get(b: Backend, req: Request, p: dict[str, str]) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    return Response(200, compute_body(b, b.compute(ws, p["name"])))


@route("PUT", WS + "/computes/{name}", "Compute_CreateOrUpdate")
def compute_put(b: Backend, req: Request, p: dict[str, str]) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    comp, op, _new = b.put_compute(ws, p["name"], req.body)
    return Response(201, compute_body(b, comp), lro_headers(b, req, op))


@route("DELETE", WS + "/computes/{name}", "Compute_Delete")
def compute_delete(b: Backend, req: Request, p: dict[str, str]) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    op = b.delete_compute(ws, p["name"], req.query.get("underlyingresourceaction"))
    if op is None:
        return Response(204)
    return Response(202, None, lro_headers(b, req, op))


@route("POST", WS + "/computes/{name}/listKeys", "Compute_ListKeys")
def compute_list_keys(b: Backend, req: Request, p: dict[str, str]) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    comp = b.compute(ws, p["name"])
    cl = b.world.clusters.get(comp.resource_id.lower()) if comp.resource_id else None
    if cl is None:
        raise ArmError(400, "BadRequest", f"Compute '{comp.name}' has no AKS cluster; keys are unavailable.")
    server = f"https://{_fqdn(cl)}:443"
    kube = ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {server}\n  name: {name}\n"
            "contexts:\n- context:\n    cluster: {name}\n    user: {user}\n  name: {name}\n"
            "current-context: {name}\nusers:\n- name: {user}\n  user:\n    token: emulator-token\n")
    return Response(200, {
        "computeType": "AKS",
        "userKubeConfig": kube.format(server=server, name=cl.name, user=f"clusterUser_{cl.resource_group}_{cl.name}"),
        "adminKubeConfig": kube.format(server=server, name=cl.name, user=f"clusterAdmin_{cl.resource_group}_{cl.name}"),
        "imagePullSecretName": f"{comp.name.lower()}-acr-secret",
    })


def _op_status(b: Backend, req: Request, p: dict[str, str]) -> Response:
    op = b.operation(p["op"])
    headers = retry_headers(b, op) if op.status == "InProgress" else {}
    return Response(200, operation_body(op), headers)


def _op_result(b: Backend, req: Request, p: dict[str, str]) -> Response:
    op = b.operation(p["op"])
    if op.status == "InProgress":
        q = f"?api-version={quote(req.api_version)}"
        return Response(202, None, {"Location": req.base_url + _result_path(op) + q, **retry_headers(b, op)})
    if op.status != "Succeeded":
        err = op.error or {"code": "Canceled", "message": "The operation was canceled."}
        return Response(500 if err.get("code") == "InternalServerError" else 400, {"error": dict(err)})
    if op.kind in ("detach", "delete"):
        return Response(204)
    if op.provider == "ml":
        ws_id, _, name = op.target.rpartition("/computes/")
        ws = b.world.workspaces.get(ws_id.lower())
        if ws is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{op.target}' was not found.")
        return Response(200, compute_body(b, b.compute(ws, name)))
    cl_id, _, pool_name = op.target.rpartition("/agentPools/")
    cl = b.world.clusters.get(cl_id.lower())
    pool = cl.pool(pool_name) if cl else None
    if cl is None or pool is None:
        raise ArmError(404, "ResourceNotFound", f"The Resource '{op.target}' was not found.")
    return Response(200, agent_pool_body(cl, pool))


ML_LOC = "subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{loc}"
CS_LOC = "subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}"
route("GET", ML_LOC + "/computeOperationsStatus/{op}", "OperationStatus_Get")(_op_status)
route("GET", ML_LOC + "/computeOperationsResults/{op}", "OperationStatus_Get")(_op_result)
route("GET", CS_LOC + "/operations/{op}", "OperationStatus_Get")(_op_status)
route("GET", CS_LOC + "/operationresults/{op}", "OperationStatus_Get")(_op_result)


@route("GET", "subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters", "ManagedClusters_List")
def clusters_list(b: Backend, req: Request, p: dict[str, str]) -> Response:
    return Response(200, _page(req, [cluster_body(c) for c in b.clusters(p["sub"])], b.page_size))


@route("GET", MC, "ManagedClusters_ListByResourceGroup")
def clusters_list_rg(b: Backend, req: Request, p: dict[str, str]) -> Response:
    return Response(200, _page(req, [cluster_body(c) for c in b.clusters(p["sub"], p["rg"])], b.page_size))


@route("GET", MC + "/{name}", "ManagedClusters_Get")
def cluster_get(b: Backend, req: Request, p: dict[str, str]) -> Response:
    return Response(200, cluster_body(b.cluster(p["sub"], p["rg"], p["name"])))


@route("DELETE", MC + "/{name}", "ManagedClusters_Delete")
def cluster_delete(b: Backend, req: Request, p: dict[str, str]) -> Response:
    op = b.delete_cluster(p["sub"], p["rg"], p["name"])
    if op is None:
        return Response(204)
    return Response(202, None, lro_headers(b, req, op))


@route("GET", MC + "/{name}/agentPools", "AgentPools_List")
def pools_list(b: Backend, req: Request, p: dict[str, str]) -> Response:
    cl = b.cluster(p["sub"], p["rg"], p["name"])
    return Response(200, {"value": [agent_pool_body(cl, x) for x in cl.agent_pools]})


@route("GET", MC + "/{name}/agentPools/{pool}", "AgentPools_Get")
def pool_get(b: Backend, req: Request, p: dict[str, str]) -> Response:
    cl = b.cluster(p["sub"], p["rg"], p["name"])
    pool = cl.pool(p["pool"])
    if pool is None:
        raise ArmError(404, "ResourceNotFound",
                       f"The Resource 'Microsoft.ContainerService/managedClusters/{cl.name}/agentPools/{p['pool']}' "
                       f"under resource group '{p['rg']}' was not found.")
    return Response(200, agent_pool_body(cl, pool))


@route("PUT", MC + "/{name}/agentPools/{pool}", "AgentPools_CreateOrUpdate")
def pool_put(b: Backend, req: Request, p: dict[str, str]) -> Response:
    pool, cl, op, _new = b.put_agent_pool(p["sub"], p["rg"], p["name"], p["pool"], req.body)
    body = agent_pool_body(cl, pool)
    if "count" in op.payload:  # the response shows the requested count while scaling
        body["properties"]["count"] = op.payload["count"]
    return Response(201, body, lro_headers(b, req, op))


@route("GET", CS_LOC + "/kubernetesVersions", "ManagedClusters_ListKubernetesVersions")
def k8s_versions(b: Backend, req: Request, p: dict[str, str]) -> Response:
    b.subscription(p["sub"])
    return Response(200, domain.kubernetes_versions_body(b.versions(p["loc"])))

"""Microsoft.ContainerService routes: thin handlers from request to backend call to response shape."""

from __future__ import annotations

from ... import domain
from ...errors import ResourceNotFound
from ...model import Operation
from ...operations import OperationUrls, lro_headers, result_response, status_response
from ...paging import page
from ...routing import Request, Response, Router
from .backend import AksBackend
from .shapes import agent_pool_body, cluster_body

router: Router[AksBackend] = Router()
OPS = OperationUrls("Microsoft.ContainerService", "operations", "operationresults")
MC = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters"
LOC = "subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}"
P = dict[str, str]


@router.route("GET", "subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters", "ManagedClusters_List")
def clusters_list(b: AksBackend, req: Request, p: P) -> Response:
    return Response(200, page(req, b.clusters(p["sub"]), b.store.page_size, cluster_body))


@router.route("GET", MC, "ManagedClusters_ListByResourceGroup")
def clusters_list_rg(b: AksBackend, req: Request, p: P) -> Response:
    return Response(200, page(req, b.clusters(p["sub"], p["rg"]), b.store.page_size, cluster_body))


@router.route("GET", MC + "/{name}", "ManagedClusters_Get")
def cluster_get(b: AksBackend, req: Request, p: P) -> Response:
    return Response(200, cluster_body(b.cluster(p["sub"], p["rg"], p["name"])))


@router.route("DELETE", MC + "/{name}", "ManagedClusters_Delete")
def cluster_delete(b: AksBackend, req: Request, p: P) -> Response:
    op = b.delete_cluster(p["sub"], p["rg"], p["name"])
    if op is None:
        return Response(204)
    return Response(202, None, lro_headers(b.lro, req, op, OPS))


@router.route("GET", MC + "/{name}/agentPools", "AgentPools_List")
def pools_list(b: AksBackend, req: Request, p: P) -> Response:
    cl = b.cluster(p["sub"], p["rg"], p["name"])
    return Response(200, {"value": [agent_pool_body(cl, x) for x in cl.agent_pools]})


@router.route("GET", MC + "/{name}/agentPools/{pool}", "AgentPools_Get")
def pool_get(b: AksBackend, req: Request, p: P) -> Response:
    cl = b.cluster(p["sub"], p["rg"], p["name"])
    return Response(200, agent_pool_body(cl, b.pool(cl, p["pool"], p["rg"])))


@router.route("PUT", MC + "/{name}/agentPools/{pool}", "AgentPools_CreateOrUpdate")
def pool_put(b: AksBackend, req: Request, p: P) -> Response:
    pool, cl, op, new = b.put_agent_pool(p["sub"], p["rg"], p["name"], p["pool"], req.body)
    body = agent_pool_body(cl, pool)
    if "count" in op.payload:  # the response shows the requested count while scaling
        body["properties"]["count"] = op.payload["count"]
    return Response(201 if new else 200, body, lro_headers(b.lro, req, op, OPS))


@router.route("GET", LOC + "/kubernetesVersions", "ManagedClusters_ListKubernetesVersions")
def k8s_versions(b: AksBackend, req: Request, p: P) -> Response:
    b.store.subscription(p["sub"])
    return Response(200, domain.kubernetes_versions_body(b.versions(p["loc"])))


@router.route("GET", LOC + "/operations/{op}", "OperationStatus_Get")
def op_status(b: AksBackend, req: Request, p: P) -> Response:
    return status_response(b.lro, b.lro.get(p["op"]), OPS)


@router.route("GET", LOC + "/operationresults/{op}", "OperationStatus_Get")
def op_result(b: AksBackend, req: Request, p: P) -> Response:
    def final(op: Operation) -> Response:
        cl_id, _, pool_name = op.target.rpartition("/agentPools/")
        cl = b.by_id(cl_id)
        pool = cl.pool(pool_name) if cl else None
        if cl is None or pool is None:
            raise ResourceNotFound(f"The Resource '{op.target}' was not found.")
        return Response(200, agent_pool_body(cl, pool))

    return result_response(b.lro, req, b.lro.get(p["op"]), OPS, final)

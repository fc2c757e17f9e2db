"""Microsoft.MachineLearningServices routes: thin handlers from request to backend call to response shape."""

from __future__ import annotations

from typing import Any

from ...errors import BadRequest, ResourceNotFound
from ...model import Compute, Operation
from ...operations import OperationUrls, lro_headers, result_response, status_response
from ...paging import page
from ...routing import Request, Response, Router
from . import kubernetes
from .backend import MlBackend
from .shapes import compute_body, discovery_body, keys_body, workspace_body

router: Router[MlBackend] = Router()
OPS = OperationUrls("Microsoft.MachineLearningServices", "computeOperationsStatus", "computeOperationsResults")
WS = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
LOC = "subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{loc}"
P = dict[str, str]


def _body(b: MlBackend, c: Compute) -> dict[str, Any]:
    if c.compute_type == "Kubernetes":
        return kubernetes.compute_body(c, None)
    return compute_body(c, b.aks.by_id(c.resource_id))


@router.route("GET", WS, "Workspaces_Get")
def workspaces_get(b: MlBackend, req: Request, p: P) -> Response:
    return Response(200, workspace_body(b.workspace(p["sub"], p["rg"], p["ws"]), req.base_url))


@router.route("GET", "discovery", "Discovery_Get", public=True, versioned=False)
def discovery(b: MlBackend, req: Request, p: P) -> Response:
    return Response(200, discovery_body(req.base_url))


@router.route("GET", "rp/workspaces/" + WS + "/computes", "Compute_List")
@router.route("GET", WS + "/computes", "Compute_List")
def compute_list(b: MlBackend, req: Request, p: P) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    return Response(200, page(req, b.computes(ws), b.store.page_size, lambda c: _body(b, c)))


@router.route("GET", "rp/workspaces/" + WS + "/computes/{name}", "Compute_Get")
@router.route("GET", WS + "/computes/{name}", "Compute_Get")
def compute_get(b: MlBackend, req: Request, p: P) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    return Response(200, _body(b, b.compute(ws, p["name"])))


@router.route("PUT", WS + "/computes/{name}", "Compute_CreateOrUpdate")
def compute_put(b: MlBackend, req: Request, p: P) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    comp, op, new = b.put_compute(ws, p["name"], req.body)
    return Response(201 if new else 200, _body(b, comp), lro_headers(b.lro, req, op, OPS))


@router.route("DELETE", WS + "/computes/{name}", "Compute_Delete")
def compute_delete(b: MlBackend, req: Request, p: P) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    op = b.delete_compute(ws, p["name"], req.query.get("underlyingresourceaction"))
    if op is None:
        return Response(204)
    return Response(202, None, lro_headers(b.lro, req, op, OPS))


@router.route("POST", WS + "/computes/{name}/listKeys", "Compute_ListKeys")
def compute_list_keys(b: MlBackend, req: Request, p: P) -> Response:
    ws = b.workspace(p["sub"], p["rg"], p["ws"])
    comp = b.compute(ws, p["name"])
    cl = b.aks.by_id(comp.resource_id)
    if cl is None:
        raise BadRequest(f"Compute '{comp.name}' has no AKS cluster; keys are unavailable.")
    return Response(200, keys_body(comp, cl, req.base_url))


@router.route("GET", LOC + "/computeOperationsStatus/{op}", "OperationStatus_Get")
def op_status(b: MlBackend, req: Request, p: P) -> Response:
    return status_response(b.lro, b.lro.get(p["op"]), OPS)


@router.route("GET", LOC + "/computeOperationsResults/{op}", "OperationStatus_Get")
def op_result(b: MlBackend, req: Request, p: P) -> Response:
    def final(op: Operation) -> Response:
        ws_id, _, name = op.target.rpartition("/computes/")
        ws = b.store.world.workspaces.get(ws_id.lower())
        if ws is None:
            raise ResourceNotFound(f"The Resource '{op.target}' was not found.")
        return Response(200, _body(b, b.compute(ws, name)))

    return result_response(b.lro, req, b.lro.get(p["op"]), OPS, final)

"""Microsoft.KubernetesConfiguration routes: extensions on managed clusters and extension type versions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ...errors import ResourceNotFound
from ...kube_model import Extension
from ...model import Cluster, Operation
from ...operations import retry_headers
from ...paging import page
from ...routing import Request, Response, Router
from .backend import K8sConfigBackend
from .shapes import extension_body, operation_status_body, versions_body

router: Router[K8sConfigBackend] = Router()
MC = (
    "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
    "/providers/Microsoft.KubernetesConfiguration"
)
EXT = MC + "/extensions/{ext}"
P = dict[str, str]


def _cluster(b: K8sConfigBackend, p: P) -> Cluster:
    return b.aks.cluster(p["sub"], p["rg"], p["name"])


def _body(b: K8sConfigBackend, ext: Extension) -> dict[str, Any]:
    return extension_body(ext, b.versions(ext.extension_type))


def _lro(b: K8sConfigBackend, req: Request, ext: Extension, op: Operation) -> dict[str, str]:
    """Azure-AsyncOperation points at the extension's own operations endpoint, as Azure's does."""
    url = f"{req.base_url}/{ext.id.strip('/')}/operations/{op.id}?api-version={quote(req.api_version)}"
    return {"Azure-AsyncOperation": url, **retry_headers(b.lro, op)}


@router.route("GET", MC + "/extensions", "Extensions_List")
def ext_list(b: K8sConfigBackend, req: Request, p: P) -> Response:
    items = [_body(b, e) for e in b.extensions(_cluster(b, p))]
    return Response(200, page(req, items, b.store.page_size))


@router.route("GET", EXT, "Extensions_Get")
def ext_get(b: K8sConfigBackend, req: Request, p: P) -> Response:
    return Response(200, _body(b, b.extension(_cluster(b, p), p["ext"])))


@router.route("PUT", EXT, "Extensions_Create")
def ext_put(b: K8sConfigBackend, req: Request, p: P) -> Response:
    ext, op, new = b.put(_cluster(b, p), p["ext"], req.body)
    return Response(201 if new else 200, _body(b, ext), _lro(b, req, ext, op))


@router.route("PATCH", EXT, "Extensions_Update")
def ext_patch(b: K8sConfigBackend, req: Request, p: P) -> Response:
    ext, op = b.patch(_cluster(b, p), p["ext"], req.body)
    return Response(202, _body(b, ext), _lro(b, req, ext, op))


@router.route("DELETE", EXT, "Extensions_Delete")
def ext_delete(b: K8sConfigBackend, req: Request, p: P) -> Response:
    cl = _cluster(b, p)
    op = b.delete(cl, p["ext"])
    if op is None:
        return Response(204)
    return Response(202, None, _lro(b, req, b.extension(cl, p["ext"]), op))


@router.route("GET", EXT + "/operations/{op}", "OperationStatus_Get")
def ext_op_status(b: K8sConfigBackend, req: Request, p: P) -> Response:
    op = b.lro.get(p["op"])
    ext_id = op.target
    if not ext_id.lower().endswith("/extensions/" + p["ext"].lower()):
        raise ResourceNotFound(f"Operation '{p['op']}' was not found for extension '{p['ext']}'.")
    headers = retry_headers(b.lro, op) if op.status == "InProgress" else {}
    return Response(200, operation_status_body(op, ext_id), headers)


@router.route("GET", MC + "/extensionTypes/{type}/versions", "ExtensionTypes_ListVersions")
def cluster_versions(b: K8sConfigBackend, req: Request, p: P) -> Response:
    cl = _cluster(b, p)
    base = f"{cl.id}/providers/Microsoft.KubernetesConfiguration/extensionTypes/{p['type']}/versions"
    return Response(200, versions_body(b.versions(p["type"]), base, req.query.get("releasetrain")))


@router.route(
    "GET",
    "subscriptions/{sub}/providers/Microsoft.KubernetesConfiguration/locations/{loc}/extensionTypes/{type}/versions",
    "ExtensionTypes_ListVersions",
)
def location_versions(b: K8sConfigBackend, req: Request, p: P) -> Response:
    sub = b.store.subscription(p["sub"])
    base = (
        f"/subscriptions/{sub}/providers/Microsoft.KubernetesConfiguration/locations/{p['loc']}/extensionTypes/"
        f"{p['type']}/versions"
    )
    return Response(200, versions_body(b.versions(p["type"]), base, req.query.get("releasetrain")))

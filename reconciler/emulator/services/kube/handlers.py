"""AKS Run Command routes (Microsoft.ContainerService): start a command, read its result."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ... import domain
from ...model import Operation
from ...operations import retry_headers
from ...routing import Request, Response, Router
from .backend import KubeBackend

router: Router[KubeBackend] = Router()
MC = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
P = dict[str, str]


def _location(req: Request, op: Operation) -> str:
    return f"{req.base_url}/{str(op.payload['cluster']).strip('/')}/commandResults/{op.id}?api-version=" + quote(
        req.api_version
    )


def result_body(op: Operation) -> dict[str, Any]:
    props: dict[str, Any] = {"provisioningState": op.status, "startedAt": domain.iso(op.started_at)}
    if op.status == "Succeeded":
        props.update(
            exitCode=int(op.payload.get("exitCode", 1)),
            logs=str(op.payload.get("logs", "")),
            finishedAt=domain.iso(op.ended_at or op.ends_at),
        )
    elif op.status == "Failed":
        props.update(exitCode=1, logs="", reason=(op.error or {}).get("message", "The command failed."))
    return {"id": op.id, "properties": props}


@router.route("POST", MC + "/runCommand", "ManagedClusters_RunCommand")
def run_command(b: KubeBackend, req: Request, p: P) -> Response:
    op = b.run_command(b.aks.cluster(p["sub"], p["rg"], p["name"]), req.body)
    return Response(202, None, {"Location": _location(req, op), **retry_headers(b.lro, op)})


@router.route("GET", MC + "/commandResults/{cmd}", "ManagedClusters_GetCommandResult")
def command_result(b: KubeBackend, req: Request, p: P) -> Response:
    op = b.result(b.aks.cluster(p["sub"], p["rg"], p["name"]), p["cmd"])
    if op.status == "InProgress":
        return Response(202, None, {"Location": _location(req, op), **retry_headers(b.lro, op)})
    return Response(200, result_body(op))

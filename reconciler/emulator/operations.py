"""HTTP shape of long-running operations: Azure-AsyncOperation/Location/Retry-After headers,
the operation-status body, and the status/result endpoints every provider serves."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import domain
from .lro import OperationEngine
from .model import Operation
from .routing import Request, Response


@dataclass(frozen=True)
class OperationUrls:
    """Where a provider serves its operation status and result (under /locations/{loc}/)."""

    namespace: str  # e.g. "Microsoft.ContainerService"
    status: str  # e.g. "operations"
    result: str  # e.g. "operationresults"

    def _base(self, op: Operation) -> str:
        return f"/subscriptions/{op.subscription}/providers/{self.namespace}/locations/{op.location}"

    def status_path(self, op: Operation) -> str:
        return f"{self._base(op)}/{self.status}/{op.id}"

    def result_path(self, op: Operation) -> str:
        return f"{self._base(op)}/{self.result}/{op.id}"


def retry_headers(lro: OperationEngine, op: Operation) -> dict[str, str]:
    """How long a poller should wait: the operation's remaining time.

    ARM sends Retry-After in whole seconds (the AKS SDK even types it as an integer):
    1 to 10 here, never "0", which azure-core reads as "no hint" and replaces with
    its 30 s default. When under a second remains, ``Retry-After-Ms`` says so too, for
    clients that read it first; azure-core (1.41) reads ``Retry-After`` first and waits
    the whole second.
    """
    remaining = lro.remaining(op)
    out = {"Retry-After": str(min(10, max(1, math.ceil(remaining))))}
    if remaining < 1.0:
        out["Retry-After-Ms"] = str(max(10, int(lro.retry_after(op) * 1000)))
    return out


def _query(req: Request) -> str:
    return f"?api-version={quote(req.api_version)}"


def lro_headers(lro: OperationEngine, req: Request, op: Operation, urls: OperationUrls) -> dict[str, str]:
    return {
        "Azure-AsyncOperation": req.base_url + urls.status_path(op) + _query(req),
        "Location": req.base_url + urls.result_path(op) + _query(req),
        **retry_headers(lro, op),
    }


def operation_body(op: Operation, urls: OperationUrls) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": urls.status_path(op),
        "name": op.id,
        "status": op.status,
        "startTime": domain.iso(op.started_at),
    }
    if op.ended_at is not None:
        body["endTime"] = domain.iso(op.ended_at)
    if op.status == "Failed" and op.error:
        body["error"] = dict(op.error)
    return body


def status_response(lro: OperationEngine, op: Operation, urls: OperationUrls) -> Response:
    headers = retry_headers(lro, op) if op.status == "InProgress" else {}
    return Response(200, operation_body(op, urls), headers)


def result_response(
    lro: OperationEngine, req: Request, op: Operation, urls: OperationUrls, resource: Callable[[Operation], Response]
) -> Response:
    """202 while running; the error, 204 after a delete, else the resource's final body."""
    if op.status == "InProgress":
        return Response(
            202, None, {"Location": req.base_url + urls.result_path(op) + _query(req), **retry_headers(lro, op)}
        )
    if op.status != "Succeeded":
        err = op.error or {"code": "Canceled", "message": "The operation was canceled."}
        return Response(500 if err.get("code") == "InternalServerError" else 400, {"error": dict(err)})
    if op.kind in ("detach", "delete"):
        return Response(204)
    return resource(op)

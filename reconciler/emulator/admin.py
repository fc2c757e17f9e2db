"""The emulator's own API under ``/_emulator/``: audit, state, reset and fault rates.

Never authenticated and never faulted: tests and benchmarks drive it directly.
"""

from __future__ import annotations

from typing import Any

from .backend import Backend
from .errors import BadRequest, NotFound
from .faults import Faults
from .routing import Response


def admin(b: Backend, faults: Faults, initial_faults: dict[str, float], method: str, path: str, body: Any) -> Response:
    with b.lock:
        b.advance()
        b.flush()
        if path == "/_emulator/audit" and method == "GET":
            return Response(200, b.audit())
        if path == "/_emulator/state" and method == "GET":
            return Response(200, b.state())
        if path == "/_emulator/reset" and method == "POST":
            b.reset()
            faults.set(initial_faults)
            b.flush()
            return Response(200, {"status": "reset"})
        if path == "/_emulator/faults":
            if method == "GET":
                return Response(200, faults.snapshot())
            if method in ("POST", "PUT"):
                return _set_faults(faults, body)
    raise NotFound(f"No admin endpoint '{method} {path}'.")


def _set_faults(faults: Faults, body: Any) -> Response:
    if not isinstance(body, dict):
        raise BadRequest('Expected a JSON object like {"429": 0.1, "500": 0.05}.')
    body = dict(body)
    limit = body.pop("limit", None)
    try:
        faults.set(body, int(limit) if limit is not None else None)
    except (ValueError, TypeError) as e:
        raise BadRequest(str(e)) from None
    return Response(200, faults.snapshot())

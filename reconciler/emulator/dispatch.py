"""From one HTTP request to one response: parse, authenticate, inject faults, route, run the handler.

Independent of the socket layer (``server``), so the whole ARM surface can be driven
in-process too.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import apiversions
from .admin import admin
from .backend import Backend
from .errors import (
    ArmError,
    AuthenticationFailed,
    InternalServerError,
    InvalidRequestContent,
    MethodNotAllowed,
    MissingApiVersionParameter,
    NotFound,
    TooManyRequests,
)
from .faults import Faults
from .routing import Request, Response, Route
from .services import SERVICES, Service
from .services.resources.backend import TENANT_ID

RESET = object()  # dispatch result: drop the connection without answering


class _Reset(Exception):
    """Raised by the reset fault: the server hangs up instead of answering."""


def error_response(e: ArmError) -> Response:
    return Response(e.status, e.body(), dict(e.headers))


class Dispatcher:
    def __init__(self, backend: Backend, faults: Faults, initial_faults: dict[str, float], latency_ms: int = 0) -> None:
        self.backend = backend
        self.faults = faults
        self.initial_faults = initial_faults
        self.latency_ms = latency_ms

    def __call__(self, method: str, raw_path: str, headers: Any, raw_body: bytes, base_url: str) -> Response | object:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000.0)
        try:
            return self._dispatch(method, raw_path, headers, raw_body, base_url)
        except ArmError as e:
            return error_response(e)
        except _Reset:
            return RESET

    def _dispatch(self, method: str, raw_path: str, headers: Any, raw_body: bytes, base_url: str) -> Response | object:
        parts = urlsplit(raw_path)
        path = parts.path
        query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        body = _body(raw_body, headers)
        if path.lower().startswith("/_emulator/") or path.lower() == "/_emulator":
            return admin(self.backend, self.faults, self.initial_faults, method, path.lower().rstrip("/"), body)
        segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
        route, service, params, path_known = _match(method, segments)
        b = self.backend
        if route is not None:
            with b.lock:
                b.record_request(route.operation_id)
        if route is None or not route.public:  # routing first: public routes need no token
            _authenticate(headers, base_url)
            self._inject_fault()
        if route is None or service is None:
            if path_known:
                raise MethodNotAllowed(f"The method '{method}' is not allowed on '{path}'.")
            raise NotFound(f"No emulated ARM endpoint matches '{method} {path}'.")
        req = Request(method, path, query, headers, body, base_url)
        with b.lock:
            b.advance()
            try:
                service_backend = b.services[service.key]
                if route.versioned:
                    self._check_version(req, route, service, service_backend, params)
                return route.handler(service_backend, req, params)
            finally:
                b.flush()

    @staticmethod
    def _check_version(
        req: Request, route: Route[Any], service: Service, service_backend: Any, params: dict[str, str]
    ) -> None:
        if "api-version" not in req.query:
            raise MissingApiVersionParameter(
                "The api-version query parameter (?api-version=) is required for all requests."
            )
        locate = getattr(service_backend, "location_of", None)
        apiversions.check(
            req.api_version,
            service.api_versions,
            service.namespace,
            route.resource_type,
            params.get("loc"),
            service.arm_builtin,
            service_backend.store.world.extra_regions,
            lambda: locate(params) if locate else None,
        )

    def _inject_fault(self) -> None:
        fault = self.faults.request_fault()
        if fault == "reset":
            raise _Reset()
        if fault == "429":
            e = TooManyRequests("Injected fault: too many requests, retry later.")
            e.headers["Retry-After"] = "1"
            raise e
        if fault == "500":
            raise InternalServerError("Injected fault: internal server error.")


def _body(raw_body: bytes, headers: Any) -> Any:
    """JSON, or a form (what OAuth 2.0 token requests send)."""
    if not raw_body:
        return None
    if (headers.get("Content-Type") or "").lower().startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        return json.loads(raw_body)
    except ValueError:
        raise InvalidRequestContent("The request content was invalid and could not be parsed.") from None


def _authenticate(headers: Any, base_url: str) -> None:
    auth = headers.get("Authorization") or ""
    if not auth.lower().startswith("bearer ") or not auth[7:].strip():
        e = AuthenticationFailed(
            "Authentication failed. The 'Authorization' header is missing or is not a Bearer token."
        )
        e.headers["WWW-Authenticate"] = (
            f'Bearer authorization_uri="{base_url}/{TENANT_ID}", error="invalid_token", '
            "error_description=\"The authentication failed because of missing 'Authorization' header.\""
        )
        raise e


def _match(method: str, segments: list[str]) -> tuple[Route[Any] | None, Service | None, dict[str, str], bool]:
    path_known = False
    for svc in SERVICES:
        route, params, known = svc.router.match(method, segments)
        if route is not None:
            return route, svc, params, True
        path_known = path_known or known
    return None, None, {}, path_known

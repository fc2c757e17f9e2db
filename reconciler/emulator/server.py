"""HTTP front end: a threaded HTTP/1.1 (keep-alive) server around the backend, the
admin API under ``/_emulator/``, auth, fault injection and latency."""

from __future__ import annotations

import json
import signal
import socket
import struct
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from . import handlers
from .backend import Backend
from .faults import Faults, parse_faults
from .handlers import Request, Response
from .model import ArmError

RESET = object()  # dispatch result: drop the connection without answering


def _err(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


class Emulator:
    """A local ARM emulator serving in a background thread (usable as a context manager)."""

    def __init__(self, seed: dict | str | Path | None = None, *, state_file: str | Path | None = None,
                 time_scale: float = 1.0, latency_ms: int = 0,
                 faults: Mapping[str, float] | str | None = None, fault_seed: int | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self._initial_faults = parse_faults(faults)
        self.faults = Faults(self._initial_faults, seed=fault_seed)
        self.backend = Backend(seed, state_file=state_file, time_scale=time_scale, faults=self.faults)
        self.latency_ms = int(latency_ms)
        self.host = host
        self.port = port
        self.url: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> str:
        if self._server is not None:
            assert self.url is not None
            return self.url
        server = _Server((self.host, self.port), _Handler)
        server.app = self
        self._server = server
        self.port = server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"arm-emulator-{self.port}", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.backend.lock:
            self.backend.flush()

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- dispatch
    def dispatch(self, method: str, raw_path: str, headers: Any, raw_body: bytes, host: str) -> Response | object:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000.0)
        parts = urlsplit(raw_path)
        path = parts.path
        query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                return _err(400, "InvalidRequestContent", "The request content was invalid and could not be parsed.")
        base_url = f"http://{host}" if host else (self.url or "")
        if path.lower().startswith("/_emulator/") or path.lower() == "/_emulator":
            return self._admin(method, path.lower().rstrip("/"), body)
        segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
        route, params, path_known = handlers.match(method, segments)
        b = self.backend
        if route is not None:
            with b.lock:
                b.record_request(route.operation_id)
        auth = headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return _err(401, "AuthenticationFailed",
                        "Authentication failed. The 'Authorization' header is missing or is not a Bearer token.")
        fault = self.faults.request_fault()
        if fault == "reset":
            return RESET
        if fault == "429":
            resp = _err(429, "TooManyRequests", "Injected fault: too many requests, retry later.")
            resp.headers["Retry-After"] = "1"
            return resp
        if fault == "500":
            return _err(500, "InternalServerError", "Injected fault: internal server error.")
        if route is None:
            if path_known:
                return _err(405, "MethodNotAllowed", f"The method '{method}' is not allowed on '{path}'.")
            return _err(404, "NotFound", f"No emulated ARM endpoint matches '{method} {path}'.")
        if "api-version" not in query:
            return _err(400, "MissingApiVersionParameter",
                        "The api-version query parameter (?api-version=) is required for all requests.")
        req = Request(method, path, query, headers, body, base_url)
        with b.lock:
            b.advance()
            try:
                resp = route.handler(b, req, params)
            except ArmError as e:
                resp = handlers.error(e)
            b.flush()
        return resp

    def _admin(self, method: str, path: str, body: Any) -> Response:
        b = self.backend
        with b.lock:
            b.advance()
            b.flush()
            if path == "/_emulator/audit" and method == "GET":
                return Response(200, b.audit())
            if path == "/_emulator/state" and method == "GET":
                return Response(200, b.state())
            if path == "/_emulator/reset" and method == "POST":
                b.reset()
                self.faults.set(self._initial_faults)
                b.flush()
                return Response(200, {"status": "reset"})
            if path == "/_emulator/faults":
                if method == "GET":
                    return Response(200, self.faults.snapshot())
                if method in ("POST", "PUT"):
                    if not isinstance(body, dict):
                        return _err(400, "BadRequest", 'Expected a JSON object like {"429": 0.1, "500": 0.05}.')
                    body = dict(body)
                    limit = body.pop("limit", None)
                    try:
                        self.faults.set(body, int(limit) if limit is not None else None)
                    except (ValueError, TypeError) as e:
                        return _err(400, "BadRequest", str(e))
                    return Response(200, self.faults.snapshot())
        return _err(404, "NotFound", f"No admin endpoint '{method} {path}'.")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    app: Emulator

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def close_connections(self) -> None:
        """Close kept-alive connections so a stopped emulator answers nothing more."""
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reconciler-arm-emulator/1"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            resp = self.server.app.dispatch(self.command, self.path, self.headers, raw, self.headers.get("Host", ""))
        except Exception as e:  # the emulator must answer like ARM, never hang up on a bug
            resp = _err(500, "InternalServerError", f"Emulator error: {type(e).__name__}: {e}")
        if resp is RESET:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        assert isinstance(resp, Response)
        self._send(resp)

    def _send(self, resp: Response) -> None:
        payload = b"" if resp.body is None else json.dumps(resp.body).encode()
        try:
            reason = HTTPStatus(resp.status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {resp.status} {reason}", "Server: " + self.server_version,
                 f"x-ms-request-id: {uuid.uuid4()}", f"Content-Length: {len(payload)}"]
        if payload:
            lines.append("Content-Type: application/json; charset=utf-8")
        for k, v in resp.headers.items():
            lines.append(f"{k}: {v}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + (payload if self.command != "HEAD" else b""))

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle


def serve(port: int = 0, seed: dict | str | Path | None = None, state_file: str | Path | None = None,
          time_scale: float = 1.0, latency_ms: int = 0, faults: Mapping[str, float] | str | None = None,
          fault_seed: int | None = None) -> None:
    """Run an emulator in the foreground until SIGINT/SIGTERM; first stdout line is its URL."""
    emu = Emulator(seed, state_file=state_file, time_scale=time_scale, latency_ms=latency_ms,
                   faults=faults, fault_seed=fault_seed, port=port)
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        url = emu.start()
        print(f"listening on {url}", flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        emu.stop()
        for s, h in previous.items():
            signal.signal(s, h)

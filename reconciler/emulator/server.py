"""The socket layer: a threaded HTTP/1.1 (keep-alive) server around the dispatcher, and the
:class:`Emulator` that runs it in a background thread."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .armheaders import arm_headers
from .backend import Backend
from .dispatch import RESET, Dispatcher
from .faults import Faults, parse_faults
from .routing import Response
from .tls import LocalTls, make_tls


class Emulator:
    """A local ARM emulator serving in a background thread (usable as a context manager)."""

    def __init__(
        self,
        seed: dict[str, Any] | str | Path | None = None,
        *,
        state_file: str | Path | None = None,
        time_scale: float = 1.0,
        latency_ms: int = 0,
        faults: Mapping[str, float] | str | None = None,
        fault_seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
    ) -> None:
        initial_faults = parse_faults(faults)
        self.faults = Faults(initial_faults, seed=fault_seed)
        self.backend = Backend(seed, state_file=state_file, time_scale=time_scale, faults=self.faults)
        self.dispatch = Dispatcher(self.backend, self.faults, initial_faults, int(latency_ms))
        self.host = host
        self.port = port
        self.tls: LocalTls | None = make_tls() if tls else None
        self.url: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def ca_bundle(self) -> Path | None:
        """The PEM file clients trust when serving over HTTPS (``tls=True``), else None."""
        return self.tls.ca_bundle if self.tls else None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def latency_ms(self) -> int:
        return self.dispatch.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: int) -> None:
        self.dispatch.latency_ms = int(value)

    def start(self) -> str:
        if self._server is not None:
            assert self.url is not None
            return self.url
        server = _Server((self.host, self.port), _Handler)
        server.app = self
        self._server = server
        self.port = server.server_address[1]
        self.url = f"{self.scheme}://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"arm-emulator-{self.port}", daemon=True
        )
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
        if self.tls is not None:
            self.tls.close()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    app: Emulator

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        if self.app.tls is not None:  # handshake later, in the connection's own thread
            conn = self.app.tls.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hangs up or fails the TLS handshake is not the emulator's error."""

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def close_connections(self) -> None:
        """Close kept-alive connections so a stopped emulator answers nothing more."""
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reconciler-arm-emulator/1"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host", "")
        base_url = f"{self.server.app.scheme}://{host}" if host else (self.server.app.url or "")
        try:
            resp = self.server.app.dispatch(self.command, self.path, self.headers, raw, base_url)
        except Exception as e:  # the emulator must answer like ARM, never hang up on a bug
            resp = Response(
                500, {"error": {"code": "InternalServerError", "message": f"Emulator error: {type(e).__name__}: {e}"}}
            )
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
        headers = arm_headers(self.command, self.headers, self.server.app.tls is not None)
        headers.update(resp.headers)
        lines = [
            f"HTTP/1.1 {resp.status} {reason}",
            "Server: " + self.server_version,
            f"Content-Length: {len(payload)}",
        ]
        if payload:
            lines.append("Content-Type: application/json; charset=utf-8")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + (payload if self.command != "HEAD" else b""))

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle

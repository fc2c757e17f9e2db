"""Where ARM calls go and how they are authenticated.

Azure gets `DefaultAzureCredential` over https. A loopback endpoint (the local
emulator) may be plain http and gets a fixed development token, sent by a small
policy passed through the SDKs' documented `authentication_policy=` keyword,
because azure-core's bearer policy refuses non-https URLs. Anything else over
http is refused: a real token must never travel in clear text.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from reconciler.throttling import POLL_INTERVAL_S

AZURE_ENDPOINT = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"
DEV_TOKEN = "reconciler-local-development-token"


MAX_CALL_SECONDS = 60.0  # total time one call may spend retrying before it fails


class CloudConfigError(ValueError):
    """The endpoint or credentials are unusable; the message is meant for the user."""


def redact_url(url: str) -> str:
    """`url` without any user:password@ part, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unparsable URL)"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def check_endpoint(endpoint: str) -> str:
    """The endpoint as a base URL, or CloudConfigError at once (before any call).

    Refused: anything but http(s), whitespace or control characters, credentials in
    the URL (never echoed), a port outside 1-65535, a path, a query or a fragment,
    and plain http to anything but loopback.
    """
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in endpoint):
        raise CloudConfigError("endpoint must not contain spaces or control characters")
    try:
        parts = urlsplit(endpoint.rstrip("/"))
        port = parts.port
    except ValueError:
        if "@" in endpoint:
            raise CloudConfigError(
                "endpoint must not contain credentials (user:password@); "
                "sign in with `az login` or a service principal instead"
            ) from None
        raise CloudConfigError(f"endpoint {redact_url(endpoint)} has an invalid port (use 1-65535)") from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise CloudConfigError(
            "endpoint must not contain credentials (user:password@); "
            "sign in with `az login` or a service principal instead"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CloudConfigError(f"endpoint {endpoint!r} is not an http(s) URL like https://management.azure.com")
    if port == 0:
        raise CloudConfigError(f"endpoint {endpoint} has an invalid port (use 1-65535)")
    if parts.path or parts.query or parts.fragment:
        raise CloudConfigError(
            f"endpoint {endpoint!r} must be a base URL without path or query (e.g. http://127.0.0.1:8080)"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise CloudConfigError(
            f"endpoint {endpoint} uses plain http on a non-loopback host; only loopback addresses "
            "(127.0.0.1, localhost, ::1) may use http, anything else must be https"
        )
    return endpoint.rstrip("/")


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 and `localhost` (and its subdomains, which resolve to loopback)."""
    if not host:
        return False
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DevelopmentCredential:
    """A TokenCredential with a fixed fake token: only ever used for loopback endpoints."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(DEV_TOKEN, int(time.time()) + 3600)


def _loopback_bearer_policy(credential: Any) -> Any:
    """A bearer-token policy that accepts http but only talks to loopback hosts.

    Built lazily so that importing this module needs no Azure library.
    """
    from azure.core.exceptions import ClientAuthenticationError
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    # Any, Any: the same policy serves the ARM pipeline (azure.core.rest) and the SDK clients (legacy transport types).
    class LoopbackBearerPolicy(SansIOHTTPPolicy[Any, Any]):
        def on_request(self, request: Any) -> None:
            host = urlsplit(request.http_request.url).hostname
            if not is_loopback_host(host):
                # A nextLink or polling URL pointing elsewhere must not receive even a fake token.
                raise ClientAuthenticationError(f"refusing to send the development token to non-loopback host {host!r}")
            token = credential.get_token(ARM_SCOPE).token
            request.http_request.headers["Authorization"] = f"Bearer {token}"

    return LoopbackBearerPolicy()


@dataclass
class Connection:
    """Everything a cloud client needs: endpoint, credential, policies and retry/poll timing."""

    endpoint: str
    credential: Any
    is_local: bool
    auth_policy: Any = None  # None: the SDKs' own ARM bearer/challenge policy with `credential`
    retry_total: int = 10
    retry_connect: int = 3  # a port nobody listens on: fail in seconds, not minutes
    retry_timeout: float = MAX_CALL_SECONDS  # azure-core RetryPolicy `timeout`: total per call
    retry_backoff: float = 0.8  # azure-core retry_backoff_factor
    retry_backoff_max: float = 10.0  # keeps the whole call near MAX_CALL_SECONDS
    polling_interval: float = POLL_INTERVAL_S  # used only when Azure sends no Retry-After
    max_workers: int = 64  # at most this many concurrent calls while observing (fewer when there is less to do)
    scope: str = ARM_SCOPE  # token audience of the endpoint
    _session: Any = field(default=None, repr=False, compare=False)
    _session_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def retry_kwargs(self) -> dict[str, Any]:
        # azure-core caps status/connect/read retries at 3 each by default: a burst of
        # 429s from ARM throttling would fail the call long before retry_total.
        return {
            "retry_total": self.retry_total,
            "retry_status": self.retry_total,
            "retry_connect": self.retry_connect,
            "retry_read": self.retry_total,
            "retry_backoff_factor": self.retry_backoff,
            "retry_backoff_max": self.retry_backoff_max,
            "timeout": self.retry_timeout,
        }

    def retry_policy(self) -> Any:
        """azure-core's RetryPolicy with these settings, saying on stderr when it retries."""
        return announcing_retry_policy(self.retry_total, **self.retry_kwargs())

    def mgmt_client(self, client_class: Any, subscription_id: str, on_request: Any = None) -> Any:
        """An azure-mgmt SDK client on this connection: its endpoint, credential, shared session and the
        bounded, announcing retry policy. One place, so every SDK the product uses retries alike."""
        kwargs: dict[str, Any] = {"retry_policy": self.retry_policy()}
        if on_request is not None:
            kwargs["raw_request_hook"] = on_request
        if self.auth_policy is not None:
            kwargs["authentication_policy"] = self.auth_policy
        return client_class(
            self.credential,
            subscription_id,
            base_url=self.endpoint,
            credential_scopes=[self.scope],
            polling_interval=self.polling_interval,
            transport=self.transport(),
            **kwargs,
        )

    def auth_policy_for(self) -> Any:
        """The authentication policy for a raw pipeline (the SDK builds its own when None)."""
        if self.auth_policy is not None:
            return self.auth_policy
        from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

        return ARMChallengeAuthenticationPolicy(self.credential, self.scope)

    def session(self) -> Any:
        """One `requests.Session` for every client of this connection: connections kept alive
        across observe, apply and verify instead of a new pool (and new TCP/TLS handshakes) per client."""
        with self._session_lock:
            if self._session is None:
                import requests

                session = requests.Session()
                if self.is_local:
                    session.trust_env = False  # no proxy look-ups on every call to a loopback emulator
                # As many kept-alive connections as apply runs operations at once (--parallelism <= 200)
                # plus the observe fan-out.
                adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=200 + self.max_workers)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._session = session
            return self._session

    def transport(self) -> Any:
        """A transport over the connection's shared session (closing a client leaves the session open)."""
        from azure.core.pipeline.transport import RequestsTransport

        return RequestsTransport(session=self.session(), session_owner=False)

    def close(self) -> None:
        """Close the shared session's connections (a later call opens a new session)."""
        with self._session_lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()


def announcing_retry_policy(total: int, **kwargs: Any) -> Any:
    """A RetryPolicy that prints one stderr line per retry: a silent minute looks like a hang."""
    from azure.core.pipeline.policies import RetryPolicy

    class _Announcing(RetryPolicy):  # type: ignore[type-arg]
        def sleep(self, settings: Any, transport: Any, response: Any = None) -> None:
            attempt = len(settings.get("history") or [])
            status = getattr(getattr(response, "http_response", None), "status_code", None)
            why = f"answered HTTP {status}" if status else "is not answering"
            print(f"Azure {why}, retrying {attempt}/{total}…", file=sys.stderr, flush=True)
            super().sleep(settings, transport, response)

    return _Announcing(**kwargs)


def connect(endpoint: str | None, *, retry_backoff: float | None = None) -> Connection:
    """Resolve the endpoint (None → Azure) and pick the matching credential."""
    url = check_endpoint(endpoint.strip()) if endpoint else AZURE_ENDPOINT
    local = is_loopback_host(urlsplit(url).hostname)
    if local:
        credential = DevelopmentCredential()
        # Loopback: connection refused means nothing listens there; say so at once.
        conn = Connection(
            url, credential, True, _loopback_bearer_policy(credential), polling_interval=0.1, retry_connect=1
        )
    else:
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise CloudConfigError(f"azure-identity is not installed: {exc}") from None
        conn = Connection(url, DefaultAzureCredential(), False, scope=f"{url}/.default")
    if retry_backoff is not None:
        conn.retry_backoff = retry_backoff
        conn.retry_backoff_max = max(retry_backoff, 0.0)
    return conn

"""The workspace lock for pipelines: an Azure Blob lease on ``<container>/<sha256(key)[:16]>.lock``.

The lease is renewed by a heartbeat thread, with the holder recorded in the blob metadata.
A holder that dies stops renewing, so its lease expires after ``BLOB_LEASE_SECONDS``;
``reconciler force-unlock`` breaks it at once. Credentials: the connection string if given,
else ``DefaultAzureCredential`` for the account URL. Connection strings, keys and SAS
tokens never appear in messages.
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import structlog

from reconciler.lock.base import Held, LockError, LockInfo, holder_record, lock_name, locked_message, wait_loop

if TYPE_CHECKING:  # pragma: no cover
    from reconciler.state import WorkspaceRef

log = structlog.get_logger("reconciler.lock")

# Tunables (module attributes so tests can shorten them).
BLOB_LEASE_SECONDS = 60  # Azure allows 15..60 or infinite (-1)
HEARTBEAT_SECONDS = 20.0  # renew well before the lease runs out
BLOB_POLL_SECONDS = 2.0
# Storage SDK retries (its default backoff starts at 15 s, far too slow for a lock).
BLOB_RETRY: dict[str, Any] = {"retry_total": 3, "initial_backoff": 1, "increment_base": 2}


_META_KEYS = {
    "host": "host",
    "pid": "pid",
    "user": "user",
    "startedAt": "startedat",
    "command": "command",
    "workspace": "workspace",
}


def _meta_encode(info: LockInfo) -> dict[str, str]:
    # Metadata travels as HTTP headers: ASCII only, so percent-encode anything else.
    return {
        key: quote(str(value) if value is not None else "", safe=" !#$&'()*+,/:;=?@[]~-._")
        for field, key in _META_KEYS.items()
        for value in [info.as_json()[field]]
    }


def _meta_decode(meta: dict[str, str] | None) -> LockInfo | None:
    if not meta:
        return None
    lowered = {k.lower(): unquote(v) for k, v in meta.items()}
    if not any(k in lowered for k in _META_KEYS.values()):
        return None
    return LockInfo.from_json({field: lowered.get(key) for field, key in _META_KEYS.items()}, "blob")


def _error_code(exc: BaseException) -> str:
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")


def _is_lease_error(exc: BaseException, statuses: tuple[int, ...] = (409, 412)) -> bool:
    """A lease conflict (held by someone else, broken, expired, wrong id), as opposed to an outage."""
    return getattr(exc, "status_code", None) in statuses and _error_code(exc).lower().startswith("lease")


@dataclass(frozen=True)
class _BlobConfig:
    account_url: str | None
    container: str
    connection_string: str | None


class BlobLeaseBackend:
    kind = "blob"

    def __init__(
        self,
        ref: WorkspaceRef,
        account_url: str | None,
        container: str,
        connection_string: str | None,
        *,
        credential: Any = None,
        secret: str | None = None,
    ) -> None:
        self.ref = ref
        self.cfg = _BlobConfig(account_url, container, connection_string)
        self.blob_name = lock_name(ref)
        self._service: Any = None
        self._credential = credential  # given: the workspace's storage account (token or account key)
        self._secrets = self._secret_values(connection_string) + ([secret] if secret else [])

    # -- helpers
    @staticmethod
    def _secret_values(conn: str | None) -> list[str]:
        if not conn:
            return []
        values = [conn]
        for part in conn.split(";"):
            key, _, value = part.partition("=")
            if key.strip().lower() in ("accountkey", "sharedaccesssignature") and value:
                values.append(value)
        return [v for v in values if len(v) >= 4]

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = re.sub(r"(?i)(sig=)[^&\s\"']+", r"\1***", text)
        text = re.sub(r"(?i)(AccountKey=)[^;\s\"']+", r"\1***", text)
        return text

    def _where(self) -> str:
        base = self._service.url if self._service is not None else (self.cfg.account_url or "storage account")
        base = self._scrub(str(base).split("?", 1)[0].rstrip("/"))
        return f"{base}/{self.cfg.container}/{self.blob_name}"

    def _error(self, doing: str, exc: BaseException) -> LockError:
        code = _error_code(exc)
        status = getattr(exc, "status_code", None)
        detail = str(getattr(exc, "reason", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
        parts = [p for p in (f"HTTP {status}" if status else None, str(code) if code else None, detail) if p]
        return LockError(
            self._scrub(f"workspace lock: cannot {doing} {self._where()}: {type(exc).__name__}: {'; '.join(parts)}")
        )

    def _client(self) -> Any:
        if self._service is None:
            try:
                from azure.storage.blob import BlobServiceClient
            except ImportError as exc:  # pragma: no cover - dependency is declared
                raise LockError(f"the blob lock backend needs azure-storage-blob: {exc}") from None
            kwargs: dict[str, Any] = {"connection_timeout": 10, "read_timeout": 30, **BLOB_RETRY}
            try:
                account_url = self.cfg.account_url
                if self.cfg.connection_string:
                    self._service = BlobServiceClient.from_connection_string(self.cfg.connection_string, **kwargs)
                elif account_url is None:  # the lock settings always give one or the other
                    raise LockError("workspace lock: bad blob storage settings: no account URL nor connection string")
                elif self._credential is not None:
                    self._service = BlobServiceClient(account_url, credential=self._credential, **kwargs)
                else:
                    from azure.identity import DefaultAzureCredential

                    self._service = BlobServiceClient(
                        account_url,
                        credential=DefaultAzureCredential(exclude_interactive_browser_credential=True),
                        **kwargs,
                    )
            except LockError:
                raise
            except Exception as exc:
                raise LockError(
                    self._scrub(f"workspace lock: bad blob storage settings: {type(exc).__name__}: {exc}")
                ) from None
        return self._service

    def _blob(self) -> Any:
        return self._client().get_blob_client(self.cfg.container, self.blob_name)

    def _ensure_blob(self) -> Any:
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        container = self._client().get_container_client(self.cfg.container)
        try:
            container.create_container()
        except ResourceExistsError:
            pass
        except HttpResponseError as exc:
            if exc.status_code != 403:  # may lack rights to create containers; fine if it exists
                raise
        blob = container.get_blob_client(self.blob_name)
        try:
            blob.upload_blob(b"", overwrite=False)
        except ResourceExistsError:
            pass
        except HttpResponseError as exc:
            if exc.status_code not in (409, 412):  # exists (possibly leased)
                raise
        return blob

    def _holder(self, blob: Any) -> LockInfo | None:
        try:
            return _meta_decode(blob.get_blob_properties().metadata)
        except Exception:
            return None

    # -- API
    def acquire(self, command: str, timeout: float) -> Held:
        from azure.core.exceptions import HttpResponseError
        from azure.storage.blob import BlobLeaseClient

        me = holder_record(self.ref, command, self.kind)
        try:
            blob = self._ensure_blob()
        except LockError:
            raise
        except Exception as exc:
            raise self._error("create the lock blob", exc) from None
        lease = BlobLeaseClient(blob, lease_id=str(uuid.uuid4()))

        def try_once() -> tuple[bool | None, LockInfo | None]:
            try:
                lease.acquire(lease_duration=BLOB_LEASE_SECONDS)
                return True, None
            except HttpResponseError as exc:
                if _is_lease_error(exc, (409,)):
                    return None, self._holder(blob)
                raise self._error("lease", exc) from None
            except Exception as exc:
                raise self._error("lease", exc) from None

        ok, holder, waited = wait_loop(try_once, timeout, BLOB_POLL_SECONDS)
        if ok is None:
            hint = (
                f" (lease on {self._where()}; if that run is gone its lease expires within {BLOB_LEASE_SECONDS} s, "
                f"or run `reconciler force-unlock {self.ref.workspace_name}`)"
            )
            raise LockError(self._scrub(locked_message(self.ref, holder, waited, hint)))

        try:
            blob.set_blob_metadata(_meta_encode(me), lease=lease)
        except Exception as exc:
            with contextlib.suppress(Exception):
                lease.release()
            raise self._error("record the lock holder on", exc) from None

        heartbeat = _Heartbeat(lease, self.ref.workspace_name, HEARTBEAT_SECONDS, self._scrub)
        heartbeat.start()

        def release() -> None:
            heartbeat.stop()
            if heartbeat.lost:
                log.warning("workspace lock lease was lost while held", workspace=self.ref.workspace_name)
                return
            try:
                blob.set_blob_metadata({}, lease=lease)
            except HttpResponseError as exc:
                if _is_lease_error(exc):
                    log.warning(
                        "the workspace lock lease was broken (force-unlock?) or lost while this run held it",
                        workspace=self.ref.workspace_name,
                    )
                    return
                log.warning(
                    "could not clear the lock holder",
                    workspace=self.ref.workspace_name,
                    error=self._scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
                )
            except Exception as exc:
                log.warning(
                    "could not clear the lock holder",
                    workspace=self.ref.workspace_name,
                    error=self._scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
                )
            try:
                lease.release()
            except Exception as exc:
                log.warning(
                    "could not release the workspace lock lease; it expires by itself",
                    workspace=self.ref.workspace_name,
                    seconds=BLOB_LEASE_SECONDS,
                    error=self._scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
                )

        return Held(me, release)

    def force_unlock(self) -> str:
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import BlobLeaseClient

        name = self.ref.workspace_name
        blob = self._blob()
        try:
            props = blob.get_blob_properties()
        except ResourceNotFoundError:
            return f"workspace {name} is not locked (no lock blob {self._where()})"
        except Exception as exc:
            raise self._error("read", exc) from None
        holder = _meta_decode(props.metadata)
        state = str(getattr(props.lease, "state", "") or "").lower()
        try:
            if state in ("leased", "breaking"):
                BlobLeaseClient(blob).break_lease(lease_break_period=0)
            if props.metadata:
                blob.set_blob_metadata({})
        except Exception as exc:
            raise self._error("break the lease on", exc) from None
        who = holder.describe() if holder is not None else "an unknown holder"
        if state in ("leased", "breaking"):
            return f"broke the lock of workspace {name}, held by {who}"
        if holder is not None:
            return f"workspace {name} was not locked; cleared the stale holder record of {who}"
        return f"workspace {name} is not locked"


class _Heartbeat:
    """Renews a blob lease every ``interval`` seconds until stopped."""

    def __init__(self, lease: Any, workspace: str, interval: float, scrub: Any) -> None:
        self.lease = lease
        self.workspace = workspace
        self.interval = interval
        self.scrub = scrub
        self.lost = False
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lock-heartbeat-{workspace}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        from azure.core.exceptions import HttpResponseError

        while not self._stop.wait(self.interval):
            try:
                self.lease.renew()
                self.renewals += 1
            except HttpResponseError as exc:
                if _is_lease_error(exc):
                    # Broken by force-unlock or expired and taken by someone else: stop renewing.
                    self.lost = True
                    log.error(
                        "the workspace lock lease was lost (broken by force-unlock?); another run may now hold it",
                        workspace=self.workspace,
                        error=_error_code(exc),
                    )
                    return
                log.warning(
                    "lock heartbeat failed; retrying",
                    workspace=self.workspace,
                    error=self.scrub(str(exc).splitlines()[0]),
                )
            except Exception as exc:  # network blips: try again next beat
                log.warning(
                    "lock heartbeat failed; retrying",
                    workspace=self.workspace,
                    error=self.scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
                )

"""One lock per workspace for the whole apply (§2).

Two backends:

* ``file`` (default): ``.reconciler/locks/<sha256(workspace key)[:16]>.lock`` held with
  ``fcntl.flock``. The kernel drops the lock when the holding process dies, so a killed
  apply never leaves a stuck lock; the holder JSON left behind is simply taken over.
* ``blob`` (pipelines): an Azure Blob lease on ``<container>/<sha256(key)[:16]>.lock``,
  renewed by a heartbeat thread, with the holder recorded in the blob metadata. A holder
  that dies stops renewing, so its lease expires after ``BLOB_LEASE_SECONDS``;
  ``reconciler force-unlock`` breaks it at once.

Backend choice: ``spec.backend == "blob"`` → blob (account URL / container from the
manifest, missing parts from the environment); otherwise the environment selects blob
when ``RECONCILER_LOCK_CONTAINER`` is set together with ``RECONCILER_LOCK_ACCOUNT_URL``
or a connection string (``RECONCILER_LOCK_CONNECTION_STRING`` /
``AZURE_STORAGE_CONNECTION_STRING``); otherwise file.

Credentials for blob: ``RECONCILER_LOCK_CONNECTION_STRING`` if set; else, with an
account URL, ``azure.identity.DefaultAzureCredential``; else
``AZURE_STORAGE_CONNECTION_STRING``. Connection strings, keys and SAS tokens never
appear in messages.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import getpass
import hashlib
import json
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import quote, unquote

import structlog

if TYPE_CHECKING:  # pragma: no cover
    from reconciler.manifest import LockSpec
    from reconciler.state import WorkspaceRef

__all__ = ["LockError", "LockInfo", "workspace_lock", "force_unlock", "lock_name"]

log = structlog.get_logger("reconciler.lock")

# Tunables (module attributes so tests can shorten them).
BLOB_LEASE_SECONDS = 60  # Azure allows 15..60 or infinite (-1)
HEARTBEAT_SECONDS = 20.0  # renew well before the lease runs out
FILE_POLL_SECONDS = 0.2
BLOB_POLL_SECONDS = 2.0
# Storage SDK retries (its default backoff starts at 15 s, far too slow for a lock).
BLOB_RETRY: dict[str, Any] = {"retry_total": 3, "initial_backoff": 1, "increment_base": 2}

ENV_ACCOUNT_URL = "RECONCILER_LOCK_ACCOUNT_URL"
ENV_CONTAINER = "RECONCILER_LOCK_CONTAINER"
ENV_CONNECTION_STRING = "RECONCILER_LOCK_CONNECTION_STRING"
ENV_AZURE_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"


class LockError(Exception):
    """A user-facing lock failure (held by someone else, misconfigured, unreachable)."""


@dataclass(frozen=True)
class LockInfo:
    host: str
    pid: int | None
    user: str
    started_at: str
    command: str
    workspace: str  # ARM id of the workspace
    backend: str  # "file" | "blob"

    def describe(self) -> str:
        pid = self.pid if self.pid is not None else "?"
        return f"{self.command or '?'} (host {self.host or '?'}, pid {pid}, user {self.user or '?'}, since {self.started_at or '?'})"

    def as_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "pid": self.pid,
            "user": self.user,
            "startedAt": self.started_at,
            "command": self.command,
            "workspace": self.workspace,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], backend: str) -> "LockInfo":
        pid = data.get("pid")
        try:
            pid = int(pid) if pid not in (None, "") else None
        except (TypeError, ValueError):
            pid = None
        return cls(
            host=str(data.get("host") or ""),
            pid=pid,
            user=str(data.get("user") or ""),
            started_at=str(data.get("startedAt") or data.get("startedat") or ""),
            command=str(data.get("command") or ""),
            workspace=str(data.get("workspace") or ""),
            backend=backend,
        )


def lock_name(ref: "WorkspaceRef") -> str:
    """File / blob name of a workspace's lock: sha256 of the lower-case ARM id, 16 hex digits."""
    return hashlib.sha256(ref.key.encode("utf-8")).hexdigest()[:16] + ".lock"


def _me(ref: "WorkspaceRef", command: str, backend: str) -> LockInfo:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = os.environ.get("USER") or str(os.getuid())
    return LockInfo(
        host=socket.gethostname(),
        pid=os.getpid(),
        user=user,
        started_at=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        command=command[:200],
        workspace=ref.arm_id,
        backend=backend,
    )


def _locked_message(ref: "WorkspaceRef", holder: LockInfo | None, waited: float, hint: str) -> str:
    who = holder.describe() if holder is not None else "another run (holder unknown)"
    msg = f"workspace {ref.workspace_name} is locked by {who}"
    if waited > 0:
        msg += f"; waited {waited:.0f} s"
    else:
        msg += "; pass --lock-timeout SECONDS to wait for it"
    return f"{msg}{hint}"


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def workspace_lock(
    ref: "WorkspaceRef",
    spec: "LockSpec | None",
    *,
    command: str,
    root: Path = Path(".reconciler"),
    timeout: float = 0.0,
) -> Iterator[LockInfo]:
    """Hold the workspace's lock for the body of the ``with``; released on exit, also on errors.

    Waits up to ``timeout`` seconds for another holder (0 = try once), then raises LockError.
    """
    backend = _backend(ref, spec, Path(root))
    held = backend.acquire(command, max(0.0, float(timeout or 0.0)))
    try:
        yield held.info
    finally:
        held.release()


def force_unlock(ref: "WorkspaceRef", spec: "LockSpec | None", *, root: Path = Path(".reconciler")) -> str:
    """Break a workspace lock whose holder is gone; returns a message naming that holder."""
    return _backend(ref, spec, Path(root)).force_unlock()


# --------------------------------------------------------------------------------------
# Backend selection
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BlobConfig:
    account_url: str | None
    container: str
    connection_string: str | None


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _blob_config(spec: "LockSpec | None") -> _BlobConfig | None:
    explicit = spec is not None and getattr(spec, "backend", "file") == "blob"
    account_url = (getattr(spec, "accountUrl", None) if explicit else None) or _env(ENV_ACCOUNT_URL)
    container = (getattr(spec, "container", None) if explicit else None) or _env(ENV_CONTAINER)
    conn = _env(ENV_CONNECTION_STRING)
    if conn is None and account_url is None:
        conn = _env(ENV_AZURE_CONNECTION_STRING)
    if not explicit:
        if container is None or (account_url is None and conn is None):
            return None
    else:
        if container is None:
            raise LockError(
                f"lock backend 'blob' needs a container: set spec.lock.container in the Workspace manifest or {ENV_CONTAINER}"
            )
        if account_url is None and conn is None:
            raise LockError(
                "lock backend 'blob' needs a storage account: set spec.lock.accountUrl in the Workspace manifest, "
                f"{ENV_ACCOUNT_URL}, or a connection string in {ENV_CONNECTION_STRING}"
            )
    return _BlobConfig(account_url=account_url, container=container, connection_string=conn)


def _backend(ref: "WorkspaceRef", spec: "LockSpec | None", root: Path) -> "_FileBackend | _BlobBackend":
    cfg = _blob_config(spec)
    if cfg is not None:
        return _BlobBackend(ref, cfg)
    return _FileBackend(ref, root)


class _Held:
    def __init__(self, info: LockInfo, release: Any) -> None:
        self.info = info
        self._release = release
        self._done = False

    def release(self) -> None:
        if not self._done:
            self._done = True
            self._release()


def _wait_loop(try_once: Any, timeout: float, poll: float) -> tuple[Any, LockInfo | None, float]:
    """Call ``try_once()`` → (held or None, holder) until it succeeds or ``timeout`` passes."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        held, holder = try_once()
        if held is not None:
            return held, None, time.monotonic() - start
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, holder, (time.monotonic() - start) if timeout > 0 else 0.0
        time.sleep(min(poll, remaining))


# --------------------------------------------------------------------------------------
# File backend
# --------------------------------------------------------------------------------------


class _FileBackend:
    kind = "file"

    def __init__(self, ref: "WorkspaceRef", root: Path) -> None:
        self.ref = ref
        self.path = root / "locks" / lock_name(ref)

    # -- helpers
    def _open(self) -> int:
        from reconciler.safeio import UnsafeFileError, open_shared_file

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL|O_NOFOLLOW: a symlink planted at the lock's name is never followed
            return open_shared_file(self.path)
        except UnsafeFileError as exc:
            raise LockError(f"cannot open lock file {self.path}: {exc}") from None

    @staticmethod
    def _read_holder(fd: int, retries: int = 5) -> LockInfo | None:
        # The holder writes its JSON just after taking the flock; give it a moment.
        for attempt in range(retries):
            try:
                raw = os.pread(fd, 64 * 1024, 0)
                data = json.loads(raw.decode("utf-8")) if raw.strip() else None
                if isinstance(data, dict):
                    return LockInfo.from_json(data, "file")
            except (OSError, ValueError):
                pass
            if attempt + 1 < retries:
                time.sleep(0.02)
        return None

    def _same_file(self, fd: int) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        fst = os.fstat(fd)
        return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)

    def _try_lock(self) -> tuple[int | None, LockInfo | None]:
        """(fd holding the lock, None) or (None, current holder)."""
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise LockError(f"cannot lock {self.path}: {exc.strerror}") from None
                holder = self._read_holder(fd)
                os.close(fd)
                return None, holder
            # The previous holder may have unlinked the file between our open and flock.
            if self._same_file(fd):
                return fd, None
            os.close(fd)

    # -- API
    def acquire(self, command: str, timeout: float) -> _Held:
        me = _me(self.ref, command, self.kind)
        try:
            fd, holder, waited = _wait_loop(self._try_lock, timeout, FILE_POLL_SECONDS)
        except OSError as exc:
            raise LockError(f"cannot create the lock file {self.path}: {exc.strerror}") from None
        if fd is None:
            raise LockError(_locked_message(self.ref, holder, waited, f" (lock file {self.path})"))
        data = (json.dumps(me.as_json(), indent=1) + "\n").encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        with contextlib.suppress(OSError):
            os.fsync(fd)

        def release() -> None:
            try:
                # Unlink while still holding the flock; waiters re-check the inode.
                with contextlib.suppress(FileNotFoundError):
                    if self._same_file(fd):
                        os.unlink(self.path)
            finally:
                os.close(fd)  # drops the flock

        return _Held(me, release)

    def force_unlock(self) -> str:
        name = self.ref.workspace_name
        if not self.path.exists():
            return f"workspace {name} is not locked (no lock file {self.path})"
        try:
            fd, holder = self._try_lock()
        except OSError as exc:
            raise LockError(f"cannot open the lock file {self.path}: {exc.strerror}") from None
        if fd is None:
            who = holder.describe() if holder is not None else "a running process (holder unknown)"
            raise LockError(
                f"workspace {name} is locked by {who}, which is still running; a local lock is released "
                f"when its process ends, so stop that process instead of forcing the lock"
            )
        try:
            stale = self._read_holder(fd, retries=1)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        finally:
            os.close(fd)
        if stale is None:
            return f"workspace {name} was not locked; removed the empty lock file {self.path}"
        return f"removed the stale lock of workspace {name}, left by {stale.describe()}, which is no longer running"


# --------------------------------------------------------------------------------------
# Blob backend
# --------------------------------------------------------------------------------------

_META_KEYS = {"host": "host", "pid": "pid", "user": "user", "startedAt": "startedat", "command": "command", "workspace": "workspace"}


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


class _BlobBackend:
    kind = "blob"

    def __init__(self, ref: "WorkspaceRef", cfg: _BlobConfig) -> None:
        self.ref = ref
        self.cfg = cfg
        self.blob_name = lock_name(ref)
        self._service: Any = None
        self._secrets = self._secret_values(cfg.connection_string)

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
        return LockError(self._scrub(f"workspace lock: cannot {doing} {self._where()}: {type(exc).__name__}: {'; '.join(parts)}"))

    def _client(self) -> Any:
        if self._service is None:
            try:
                from azure.storage.blob import BlobServiceClient
            except ImportError as exc:  # pragma: no cover - dependency is declared
                raise LockError(f"the blob lock backend needs azure-storage-blob: {exc}") from None
            kwargs: dict[str, Any] = {"connection_timeout": 10, "read_timeout": 30, **BLOB_RETRY}
            try:
                if self.cfg.connection_string:
                    self._service = BlobServiceClient.from_connection_string(self.cfg.connection_string, **kwargs)
                else:
                    from azure.identity import DefaultAzureCredential

                    self._service = BlobServiceClient(
                        self.cfg.account_url, credential=DefaultAzureCredential(exclude_interactive_browser_credential=True), **kwargs
                    )
            except LockError:
                raise
            except Exception as exc:
                raise LockError(self._scrub(f"workspace lock: bad blob storage settings: {type(exc).__name__}: {exc}")) from None
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
    def acquire(self, command: str, timeout: float) -> _Held:
        from azure.core.exceptions import HttpResponseError
        from azure.storage.blob import BlobLeaseClient

        me = _me(self.ref, command, self.kind)
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

        ok, holder, waited = _wait_loop(try_once, timeout, BLOB_POLL_SECONDS)
        if ok is None:
            hint = (
                f" (lease on {self._where()}; if that run is gone its lease expires within {BLOB_LEASE_SECONDS} s, "
                f"or run `reconciler force-unlock {self.ref.workspace_name}`)"
            )
            raise LockError(self._scrub(_locked_message(self.ref, holder, waited, hint)))

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
                log.warning("could not clear the lock holder", workspace=self.ref.workspace_name, error=self._scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            except Exception as exc:
                log.warning("could not clear the lock holder", workspace=self.ref.workspace_name, error=self._scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            try:
                lease.release()
            except Exception as exc:
                log.warning(
                    "could not release the workspace lock lease; it expires by itself",
                    workspace=self.ref.workspace_name,
                    seconds=BLOB_LEASE_SECONDS,
                    error=self._scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
                )

        return _Held(me, release)

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
                log.warning("lock heartbeat failed; retrying", workspace=self.workspace, error=self.scrub(str(exc).splitlines()[0]))
            except Exception as exc:  # network blips: try again next beat
                log.warning("lock heartbeat failed; retrying", workspace=self.workspace, error=self.scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))

"""One lock per workspace for the whole apply.

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
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from reconciler.lock.base import Backend, LockError, LockInfo, lock_name
from reconciler.lock.file import FileBackend

if TYPE_CHECKING:  # pragma: no cover
    from reconciler.manifest import LockSpec
    from reconciler.state import WorkspaceRef

__all__ = ["Backend", "LockError", "LockInfo", "configured", "file_backend", "workspace_lock", "force_unlock", "lock_name"]

ENV_ACCOUNT_URL = "RECONCILER_LOCK_ACCOUNT_URL"
ENV_CONTAINER = "RECONCILER_LOCK_CONTAINER"
ENV_CONNECTION_STRING = "RECONCILER_LOCK_CONNECTION_STRING"
ENV_AZURE_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"


@contextlib.contextmanager
def workspace_lock(
    ref: "WorkspaceRef",
    spec: "LockSpec | None",
    *,
    command: str,
    root: Path = Path(".reconciler"),
    timeout: float = 0.0,
    backend: Backend | None = None,
) -> Iterator[LockInfo]:
    """Hold the workspace's lock for the body of the ``with``; released on exit, also on errors.

    Waits up to ``timeout`` seconds for another holder (0 = try once), then raises LockError.
    ``backend`` overrides the choice (the default Blob lease in the workspace's storage account).
    """
    backend = backend or _backend(ref, spec, Path(root))
    held = backend.acquire(command, max(0.0, float(timeout or 0.0)))
    try:
        yield held.info
    finally:
        held.release()


def configured(spec: "LockSpec | None") -> bool:
    """Whether a lock is set explicitly (spec.lock blob or the RECONCILER_LOCK_* environment)."""
    return _blob_config(spec) is not None


def file_backend(ref: "WorkspaceRef", root: Path = Path(".reconciler")) -> Backend:
    return FileBackend(ref, root)


def force_unlock(ref: "WorkspaceRef", spec: "LockSpec | None", *, root: Path = Path(".reconciler")) -> str:
    """Break a workspace lock whose holder is gone; returns a message naming that holder."""
    return _backend(ref, spec, Path(root)).force_unlock()


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


def _backend(ref: "WorkspaceRef", spec: "LockSpec | None", root: Path) -> Backend:
    cfg = _blob_config(spec)
    if cfg is not None:
        from reconciler.cloud.blob_lease import BlobLeaseBackend  # only cloud/ talks to Azure

        return BlobLeaseBackend(ref, cfg.account_url, cfg.container, cfg.connection_string)
    return FileBackend(ref, root)

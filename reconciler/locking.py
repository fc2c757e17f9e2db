"""Choosing and taking the workspace locks: the file lock, the default Blob lease, or the configured one.

Apart from the workflow because apply and force-unlock must pick the very same lock for a workspace,
and the choice (manifest, environment, Azure storage account, emulator fallback) is a job of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.desired import Desired
from reconciler.failure import EXIT_USAGE, fail
from reconciler.state import WorkspaceRef

if TYPE_CHECKING:
    from reconciler.connection import Cloud
    from reconciler.lock import Backend
    from reconciler.manifest import LockSpec
    from reconciler.workflow import Ui

LockFactory = Callable[[Desired, float], AbstractContextManager[None]]


def _default_locks(cloud: Cloud, mode: str, ui: Ui) -> LockFactory:
    return lambda desired, timeout: workspace_locks(desired, timeout, mode=mode, cloud=cloud, warn=ui.err)


@contextlib.contextmanager
def workspace_locks(
    desired: Desired,
    timeout: float,
    *,
    mode: str = "file",
    cloud: Cloud | None = None,
    warn: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """One lock per workspace for the whole apply, taken in a fixed order (no deadlock).

    `mode` auto: a lock set in the manifest or environment, else on Azure the Blob lease in
    the workspace's storage account, else (--cloud local) the file lock. blob: a shared lock
    or an error. file: this machine only (the explicit opt-out).
    """
    from reconciler import lock

    with contextlib.ExitStack() as stack:
        for ws in sorted(desired.workspaces.values(), key=lambda w: w.ref.key):
            try:
                backend = _lock_backend(ws.ref, ws.lock, mode, cloud, warn)
                stack.enter_context(
                    lock.workspace_lock(ws.ref, ws.lock, command="apply", timeout=timeout, backend=backend)
                )
            except lock.LockError as exc:
                fail(str(exc))
        yield


def _lock_backend(
    ref: WorkspaceRef, spec: LockSpec | None, mode: str, cloud: Cloud | None, warn: Callable[[str], None] | None
) -> Backend | None:
    """None: the lock the manifest or environment configures."""
    from reconciler import lock

    if mode == "file":
        return lock.file_backend(ref)
    if lock.configured(spec):
        return None
    if cloud is None or cloud.default_lock is None:
        if mode == "blob":
            fail(
                "--lock blob needs a storage account: set spec.lock in the Workspace manifest or RECONCILER_LOCK_*, "
                "or use Azure (the workspace's own storage account); --cloud local has none"
            )
        return lock.file_backend(ref)
    backend = cloud.default_lock(ref)
    if backend is not None:
        return backend
    if cloud.loopback and mode != "blob":
        if warn is not None:
            warn(
                f"warning: workspace {ref.workspace_name!r} has no storage account in this emulator; "
                "using the file lock (this machine only)"
            )
        return lock.file_backend(ref)
    fail(
        f"workspace lock: workspace {ref.workspace_name!r} has no storage account for the shared lock; "
        "opt out with `--lock file` if only this machine ever applies to it"
    )


def force_unlock(
    workspace: str,
    paths: list[Path] | None,
    mode: str = "file",
    connection: Callable[[], AbstractContextManager[Cloud]] | None = None,
) -> str:
    """Break the lock of a workspace given by alias (from the manifests) or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE.

    The same lock apply would take: with `mode` auto on Azure, the default Blob lease.
    """
    from reconciler import lock

    ref, spec = _workspace_for_unlock(workspace, paths)
    try:
        if mode != "file" and not lock.configured(spec) and connection is not None:
            with connection() as cloud:
                backend = _lock_backend(ref, spec, mode, cloud, None)
                if backend is not None:
                    return backend.force_unlock()
        return lock.force_unlock(ref, spec)
    except lock.LockError as exc:
        fail(str(exc))


def _workspace_for_unlock(name: str, paths: list[Path] | None) -> tuple[WorkspaceRef, LockSpec | None]:
    parts = name.split("/")
    if len(parts) == 3:
        return WorkspaceRef(*parts), None
    from reconciler import loader

    result = loader.load(paths)
    for _, ws in result.workspaces:
        if ws.metadata.name == name:
            return WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName), ws.spec.lock
    fail(
        f"no Workspace named {name!r} in the manifests; give SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE instead", EXIT_USAGE
    )

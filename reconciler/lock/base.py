"""What every lock backend shares: the holder record, the held lock, the wait loop, the protocol."""

from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from reconciler.state import WorkspaceRef

T = TypeVar("T")


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
    def from_json(cls, data: dict[str, Any], backend: str) -> LockInfo:
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


def lock_name(ref: WorkspaceRef) -> str:
    """File / blob name of a workspace's lock: sha256 of the lower-case ARM id, 16 hex digits."""
    return hashlib.sha256(ref.key.encode("utf-8")).hexdigest()[:16] + ".lock"


def holder_record(ref: WorkspaceRef, command: str, backend: str) -> LockInfo:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = os.environ.get("USER") or str(os.getuid())
    return LockInfo(
        host=socket.gethostname(),
        pid=os.getpid(),
        user=user,
        started_at=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        command=command[:200],
        workspace=ref.arm_id,
        backend=backend,
    )


def locked_message(ref: WorkspaceRef, holder: LockInfo | None, waited: float, hint: str) -> str:
    who = holder.describe() if holder is not None else "another run (holder unknown)"
    msg = f"workspace {ref.workspace_name} is locked by {who}"
    if waited > 0:
        msg += f"; waited {waited:.0f} s"
    else:
        msg += "; pass --lock-timeout SECONDS to wait for it"
    return f"{msg}{hint}"


class Held:
    """A lock being held: release() once, also on errors."""

    def __init__(self, info: LockInfo, release: Callable[[], None]) -> None:
        self.info = info
        self._release = release
        self._done = False

    def release(self) -> None:
        if not self._done:
            self._done = True
            self._release()


def wait_loop(
    try_once: Callable[[], tuple[T | None, LockInfo | None]], timeout: float, poll: float
) -> tuple[T | None, LockInfo | None, float]:
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


class Backend(Protocol):
    """One place a workspace's lock lives (a local file, a Blob lease)."""

    kind: str

    def acquire(self, command: str, timeout: float) -> Held: ...

    def force_unlock(self) -> str: ...

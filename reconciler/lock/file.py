"""The default lock: ``.reconciler/locks/<sha256(workspace key)[:16]>.lock`` held with ``fcntl.flock``.

The kernel drops the lock when the holding process dies, so a killed apply never leaves
a stuck lock; the holder JSON left behind is simply taken over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.lock.base import Held, LockError, LockInfo, holder_record, lock_name, locked_message, wait_loop

if TYPE_CHECKING:  # pragma: no cover
    from reconciler.state import WorkspaceRef

POLL_SECONDS = 0.2


class FileBackend:
    kind = "file"

    def __init__(self, ref: WorkspaceRef, root: Path) -> None:
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
    def acquire(self, command: str, timeout: float) -> Held:
        me = holder_record(self.ref, command, self.kind)
        try:
            fd, holder, waited = wait_loop(self._try_lock, timeout, POLL_SECONDS)
        except OSError as exc:
            raise LockError(f"cannot create the lock file {self.path}: {exc.strerror}") from None
        if fd is None:
            raise LockError(locked_message(self.ref, holder, waited, f" (lock file {self.path})"))
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

        return Held(me, release)

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

"""Bounded reads of regular files and exclusive, no-follow writes.

Every file the tool reads (manifests, secrets, saved plans) may be a FIFO, a
device, a symlink loop or simply huge; every file it writes may have a symlink
planted at its name. Reads here open without blocking, refuse anything but a
regular file and never read more than the limit; writes create a fresh file
with O_EXCL|O_NOFOLLOW and rename it into place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path


class UnsafeFileError(OSError):
    """A path that cannot be read or written safely; the message says why, in words."""


def kind_of(mode: int) -> str:
    """What a non-regular file is, as a user would say it."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def describe_error(exc: BaseException) -> str:
    """An OSError (or a bad path) in words, without a traceback."""
    if isinstance(exc, UnsafeFileError):
        return str(exc)
    if isinstance(exc, ValueError):  # "embedded null byte"
        return "the path contains a NUL character"
    if isinstance(exc, RuntimeError):  # pathlib's "Symlink loop from ..."
        return "a symbolic link loop"
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop"
        if exc.errno == errno.ENOENT:
            return "no such file or directory"
        if exc.errno == errno.EACCES:
            return "permission denied"
        if exc.errno == errno.ENAMETOOLONG:
            return "the path is too long"
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


def what_is(path: Path) -> str:
    """Why `path` is not a readable regular file: 'a FIFO (named pipe)', 'a symbolic link loop', ..."""
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        return describe_error(exc)
    if stat.S_ISREG(st.st_mode):
        return "a regular file"
    return kind_of(st.st_mode)


def read_bounded(path: Path | str, limit: int, *, follow: bool = True) -> bytes:
    """The whole content of a regular file of at most `limit` bytes.

    Opened with O_NONBLOCK so a FIFO never hangs, checked with fstat on the open
    descriptor (no race with a swapped path), then read with a hard cap: /dev/zero
    or a file growing while read cannot make it allocate more than `limit` + 1 bytes.
    Raises UnsafeFileError with a message in words.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError) as exc:
        raise UnsafeFileError(describe_error(exc)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(f"{kind_of(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise UnsafeFileError(f"{st.st_size} bytes, over the {limit}-byte limit")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnsafeFileError(f"more than {limit} bytes, over the limit")
        return b"".join(chunks)
    except UnsafeFileError:
        raise
    except OSError as exc:
        raise UnsafeFileError(describe_error(exc)) from None
    finally:
        os.close(fd)


def create_exclusive(path: Path | str, mode: int = 0o600, access: int = os.O_WRONLY) -> int:
    """A new file descriptor for a file that did not exist; never follows a symlink at `path`."""
    return os.open(path, access | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)


def open_shared_file(path: Path | str, mode: int = 0o644) -> int:
    """A read-write descriptor on a regular file that several processes share (a lock file).

    Created with O_EXCL|O_NOFOLLOW when missing; an existing one is opened with
    O_NOFOLLOW|O_NONBLOCK and must be a regular file: a symlink planted at `path`
    is never followed, so it cannot make the tool write into another file.
    """
    for _ in range(100):  # the file may vanish between the two opens (its holder removed it): create it again
        try:
            return create_exclusive(path, mode, os.O_RDWR)
        except FileExistsError:
            pass
        except (OSError, ValueError) as exc:
            raise UnsafeFileError(describe_error(exc)) from None
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            break
        except FileNotFoundError:
            continue
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafeFileError("it is a symbolic link; refusing to follow it") from None
            raise UnsafeFileError(describe_error(exc)) from None
    else:
        raise UnsafeFileError("it keeps disappearing while being opened")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeFileError(f"it is {kind_of(st.st_mode)}, not a regular file")
    os.set_blocking(fd, True)
    return fd


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write `text` atomically to `path` (mode 0600): a fresh temp file, then a rename.

    The temp file is created with O_EXCL|O_NOFOLLOW, so a planted symlink (or a file
    someone else created) at its name is never written through; the rename replaces
    a symlink at `path` itself rather than following it. Raises UnsafeFileError.
    """
    try:
        if path.is_dir():
            raise UnsafeFileError("it is a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        fd = create_exclusive(tmp, mode)
    except FileExistsError:
        raise UnsafeFileError(f"temporary file {tmp} already exists (left over, or planted); remove it") from None
    except UnsafeFileError:
        raise
    except (OSError, ValueError, RuntimeError) as exc:
        raise UnsafeFileError(describe_error(exc)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with_suppressed_unlink(tmp)
        raise UnsafeFileError(describe_error(exc)) from None


def with_suppressed_unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)

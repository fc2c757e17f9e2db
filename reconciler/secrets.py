"""Secret references (`{file: ...}` / `{env: ...}`): fingerprinted for plans, resolved for apply.

A value read here is returned to the caller and never logged or rendered; only
`sha256:` fingerprints leave this module in output.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from reconciler.manifest import SecretRef
from reconciler.safeio import UnsafeFileError, read_bounded

SENSITIVE = "(sensitive)"
MAX_SECRET_BYTES = 256 * 1024


class SecretError(Exception):
    """A reference that cannot be resolved: a user error, reported without the value."""


def resolve(ref: SecretRef, base_dir: Path) -> str:
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if not value:
            raise SecretError(f"environment variable {ref.env} is not set")
        return value
    path = base_dir / ref.file if ref.file else base_dir
    try:  # bounded, and never a FIFO or a device: /dev/zero must not fill the memory
        raw = read_bounded(path, MAX_SECRET_BYTES)
    except UnsafeFileError as exc:
        raise SecretError(f"cannot read secret file {_shown(path)}: {exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f"secret file {_shown(path)} is not UTF-8 text") from None


def _shown(path: Path) -> str:
    """The path for a message: never a raw control character or NUL."""
    return repr(str(path))[1:-1]


def fingerprint_of(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.strip().encode()).hexdigest()


def fingerprint(ref: SecretRef, base_dir: Path) -> str | None:
    """The value's fingerprint, or None when it is not available here (e.g. a PR pipeline)."""
    try:
        return fingerprint_of(resolve(ref, base_dir))
    except SecretError:
        return None


def redact(fp: str | None) -> str:
    return f"{SENSITIVE} {fp}" if fp else f"{SENSITIVE} (not available)"

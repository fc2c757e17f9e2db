"""Secret references (`{file: ...}` / `{env: ...}`): fingerprinted for plans, resolved for apply.

A value read here is returned to the caller and never logged or rendered; only
`sha256:` fingerprints leave this module in output.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from reconciler.manifest import SecretRef

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
    path = (base_dir / ref.file).resolve() if ref.file else base_dir
    try:
        if path.stat().st_size > MAX_SECRET_BYTES:
            raise SecretError(f"{path} is larger than {MAX_SECRET_BYTES} bytes")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretError(f"file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read {path}: {exc.__class__.__name__}") from None


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

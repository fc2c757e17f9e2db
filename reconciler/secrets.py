"""Secret references (`{file: ...}` / `{env: ...}`): fingerprinted for plans, resolved for apply.

A value read here is returned to the caller and never logged or rendered, and neither
is a hash of it: output shows `(sensitive)` or `(sensitive, changed)` only. The
fingerprint (an unsalted sha256) exists only inside the attach-time digest written as
an ARM tag, which is how a rotated certificate is detected; it is never printed.
A `{file:}` reference must stay inside the directory tree the command runs in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.manifest import SecretRef
from reconciler.safeio import UnsafeFileError, read_bounded

if TYPE_CHECKING:
    from datetime import datetime

    from reconciler.findings import Finding
    from reconciler.loader import Document
    from reconciler.manifest import InferenceCluster

SENSITIVE = "(sensitive)"
SENSITIVE_CHANGED = "(sensitive, changed)"
MAX_SECRET_BYTES = 256 * 1024


class SecretError(Exception):
    """A reference that cannot be resolved: a user error, reported without the value."""


def resolve(ref: SecretRef, base_dir: Path) -> str:
    if ref.file is not None:
        confine(ref.file, base_dir)
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
    """What output shows for a secret: never the value, never a hash of it."""
    return SENSITIVE


def confine(file: str, base_dir: Path, root: Path | None = None) -> Path:
    """The path of a `{file:}` reference, refused unless it stays inside `root` (the working directory).

    A manifest must not be able to read (and send to Azure) any file of the machine it
    runs on: no absolute path, no `..` out of the tree, no symlink pointing out of it.
    """
    top = (root or Path.cwd()).resolve()
    if Path(file).is_absolute() or file.startswith("~"):
        raise SecretError(f"file reference {file!r} must be a relative path inside {top}")
    try:
        path = (base_dir / file).resolve()
    except (OSError, RuntimeError, ValueError):
        return base_dir / file  # a NUL, a symlink loop: the read says what it is
    if not path.is_relative_to(top):
        raise SecretError(f"file reference {file!r} resolves outside the directory tree the command runs in ({top})")
    return path


def read_tls(
    ref_cert: SecretRef | None, ref_key: SecretRef | None, base_dir: Path
) -> tuple[str | None, str | None, list[str]]:
    """The certificate and key values that can be read here, and why the others cannot."""
    values: list[str | None] = []
    unreadable: list[str] = []
    for name, ref in (("certificate", ref_cert), ("key", ref_key)):
        if ref is None:
            values.append(None)
            continue
        try:
            values.append(resolve(ref, base_dir))
        except SecretError as exc:
            values.append(None)
            unreadable.append(f"tls.{name}: {exc}")
    return values[0], values[1], unreadable


def pem_findings(clusters: Iterable[tuple[Document, InferenceCluster]], now: datetime) -> list[Finding]:
    """`validate`: the TLS files that can be read here are checked (PEM, key matches, cname, expiry).

    Environment references are not read by `validate`, and unreadable files are not an
    error offline (a pull-request pipeline has no secrets); `plan` reports those it needs.
    """
    from reconciler.catalogue import AKS018, AKS019

    findings = []
    for doc, ic in clusters:
        tls = ic.spec.tls
        if not (tls.enabled and tls.cname and (tls.certificate or tls.key)):
            continue
        from reconciler.tlscheck import check  # cryptography (~30 ms) only when there is a PEM to check

        cert_ref = tls.certificate if tls.certificate is not None and tls.certificate.file is not None else None
        key_ref = tls.key if tls.key is not None and tls.key.file is not None else None
        cert, key, _ = read_tls(cert_ref, key_ref, doc.path.parent)
        address = f"{ic.spec.workspace}/{ic.metadata.name}"
        for problem in check(cert, key, tls.cname, now):
            rule = AKS018 if problem.error else AKS019
            findings.append(rule.at(doc, ("spec", "tls"), problem.message, address=address))
    return findings

"""Which files are manifests: the walk of the paths given, and IO001/IO002 for what cannot be read.

Kept apart from parsing: this module only lists and stats paths (it never opens a file), and
every path that is not a plain file or folder is a finding, so nothing is skipped in silence.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reconciler.catalogue import RULES
from reconciler.findings import Finding, Position
from reconciler.safeio import describe_error, kind_of

# The local cloud's seed lives beside the manifests but is not one.
SEED_FILE_NAMES = frozenset({"local-cloud.yaml", "local-cloud.yml"})


def discover(paths: list[Path]) -> tuple[list[Path], list[Finding]]:
    """Every *.yaml / *.yml below the given paths, in a stable order.

    A path that is not a file or folder (a FIFO, a device, a symlink loop, an
    unreadable folder) is reported as what it is; it is never opened.
    """
    files: list[tuple[Path, FileId]] = []
    findings: list[Finding] = []
    for path in paths:
        try:
            st = os.stat(path)
        except (OSError, ValueError) as exc:
            findings.append(_io_finding(path, describe_error(exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            files.extend(_walk(path, findings))
            findings.extend(unreadable_under(path))
        elif stat.S_ISREG(st.st_mode):
            files.append((path, (st.st_dev, st.st_ino)))
        else:
            findings.append(_io_finding(path, f"{kind_of(st.st_mode)}, not a manifest file or folder"))
    seen: set[FileId] = set()
    unique: list[Path] = []
    for f, identity in files:  # `manifests manifests/a.yaml`, or a link to a file also listed: read once
        if identity not in seen:
            seen.add(identity)
            unique.append(f)
    if not unique and not findings:
        where = ", ".join(str(p) for p in paths)
        findings.append(
            _finding(
                "IO001",
                f"no manifest files (*.yaml, *.yml) found in {where}",
                Position(Path(where)),
                "give a manifest file or a folder of them",
            )
        )
    return unique, findings


FileId = tuple[int, int]  # (st_dev, st_ino): one file, whatever path or link reaches it


def _walk(root: Path, findings: list[Finding]) -> list[tuple[Path, FileId]]:
    """Manifest files below `root`, each with its identity; folders that cannot be listed or searched are findings."""
    found: list[tuple[Path, FileId]] = []

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        findings.append(_io_finding(where, f"cannot list this folder: {describe_error(exc)}", "IO002"))

    for folder, dirs, names in os.walk(root, onerror=on_error):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith((".yaml", ".yml")) or name in SEED_FILE_NAMES:
                continue
            file = Path(folder) / name
            try:
                st = os.stat(file)
            except OSError as exc:
                findings.append(_io_finding(file, describe_error(exc), "IO002"))
                continue
            if stat.S_ISREG(st.st_mode):
                found.append((file, (st.st_dev, st.st_ino)))
            else:
                findings.append(_io_finding(file, f"{kind_of(st.st_mode)}, not a manifest file", "IO002"))
    return sorted(found)


def _io_finding(path: Path, what: str, rule: str = "IO001") -> Finding:
    """IO001: a path given on the command line; IO002: a path under a manifests folder (nothing is pruned then)."""
    hint = "give a manifest file or a folder of them" if rule == "IO001" else RULES["IO002"].hint
    return _finding(rule, f"cannot read {path}: {what}", Position(path), hint)


def unreadable_under(root: Path) -> list[Finding]:
    """IO002 for every path under a manifests folder that cannot be read: a manifest skipped in
    silence would look undeclared, and `prune: true` would detach what it declares."""
    findings: list[Finding] = []

    def report(path: Path, why: str) -> None:
        findings.append(_finding("IO002", f"cannot read {path}: {why}", Position(path), RULES["IO002"].hint))

    # Manifest names (*.yaml, *.yml) and folders that cannot be listed are `_walk`'s findings;
    # here: every other entry that is not readable, whatever its name.
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + names):
            if name.endswith((".yaml", ".yml")) and name not in dirs:
                continue
            entry = Path(folder) / name
            try:
                mode = os.lstat(entry).st_mode
                if stat.S_ISLNK(mode):
                    mode = os.stat(entry).st_mode
            except OSError as exc:
                import errno

                report(
                    entry,
                    "a symbolic link loop"
                    if exc.errno == errno.ELOOP
                    else "a dangling symbolic link"
                    if exc.errno == errno.ENOENT
                    else exc.strerror or "unreadable",
                )
                continue
            if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
                report(entry, kind_of(mode))
    return findings


def _finding(rule: str, message: str, position: Position, hint: str = "") -> Finding:
    """A finding of the walk: id and severity from the catalogue, the hint specific to the problem."""
    return Finding(rule, RULES[rule].severity, message, position, hint)

"""Load manifests from YAML with a position for every node, and check them against the schema.

The walk of the manifest paths is `discovery`'s job and the safe, positioned YAML parsing is
`yamlsafe`'s; this module reads each file (bounded), turns each YAML document into a
`Document` with its model, and reports every problem as a finding at `file:line:col`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.catalogue import RULES
from reconciler.discovery import SEED_FILE_NAMES, discover, unreadable_under
from reconciler.findings import Finding, Position
from reconciler.manifest import (
    API_VERSION,
    KINDS,
    ClusterExtension,
    InferenceCluster,
    KubernetesCompute,
    Model,
    Workspace,
)
from reconciler.safeio import UnsafeFileError, read_bounded
from reconciler.yamlsafe import (
    CONTROL_CHARS,
    MAX_DEPTH,
    MAX_DOCUMENTS_PER_FILE,
    MAX_INT_BITS,
    Loc,
    Reject,
    documents,
    show,
)

__all__ = [
    "CONTROL_CHARS",
    "DEFAULT_PATH",
    "MAX_DEPTH",
    "MAX_DOCUMENTS_PER_FILE",
    "MAX_FILE_BYTES",
    "MAX_INT_BITS",
    "SEED_FILE_NAMES",
    "Document",
    "LoadResult",
    "Loc",
    "discover",
    "load",
    "load_file",
    "parse_text",
    "unreadable_under",
]

MAX_FILE_BYTES = 1024 * 1024
DEFAULT_PATH = Path("manifests")


@dataclass
class Document:
    """One YAML document, its plain data, and where each of its nodes stands."""

    path: Path
    index: int
    data: Any
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    model: Model | None = None

    def at(self, loc: Loc = (), *, key: bool = False) -> Position:
        """Position of the node at `loc`, else of its nearest ancestor that exists."""
        loc = tuple(loc)
        while True:
            table = self.keys if key and loc in self.keys else self.values
            if loc in table:
                line, col = table[loc]
                return Position(self.path, line, col)
            if not loc:
                return Position(self.path, 1, 1)
            loc = loc[:-1]


@dataclass
class LoadResult:
    """What `load` read. The per-kind lists are computed once (rules ask for them many times):
    `documents` is not changed after loading."""

    documents: list[Document]
    findings: list[Finding]
    files: list[Path]

    @functools.cached_property
    def workspaces(self) -> list[tuple[Document, Workspace]]:
        return [(d, d.model) for d in self.documents if isinstance(d.model, Workspace)]

    @functools.cached_property
    def clusters(self) -> list[tuple[Document, InferenceCluster]]:
        return [(d, d.model) for d in self.documents if isinstance(d.model, InferenceCluster)]

    @functools.cached_property
    def extensions(self) -> list[tuple[Document, ClusterExtension]]:
        return [(d, d.model) for d in self.documents if isinstance(d.model, ClusterExtension)]

    @functools.cached_property
    def kubernetes_computes(self) -> list[tuple[Document, KubernetesCompute]]:
        return [(d, d.model) for d in self.documents if isinstance(d.model, KubernetesCompute)]


def load(paths: Iterable[Path] | None = None) -> LoadResult:
    """Load and schema-check every manifest below `paths` (default `manifests/`)."""
    files, findings = discover(list(paths) if paths else [DEFAULT_PATH])
    documents: list[Document] = []
    for file in files:
        docs, errs = load_file(file)
        documents.extend(docs)
        findings.extend(errs)
    return LoadResult(documents, findings, files)


def load_file(path: Path) -> tuple[list[Document], list[Finding]]:
    try:
        raw = read_bounded(path, MAX_FILE_BYTES)
    except UnsafeFileError as exc:
        rule = "YAML005" if "limit" in str(exc) else "IO001"
        hint = "split the manifests into several files" if rule == "YAML005" else "give a regular manifest file"
        return [], [_finding(rule, f"cannot read {path}: {exc}", Position(path, 1, 1), hint)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return [], [
            _finding(
                "YAML001",
                f"not UTF-8 text at byte {exc.start} ({exc.reason})",
                Position(path, line, col),
                "save the file as UTF-8",
            )
        ]
    return parse_text(text, path)


def parse_text(text: str, path: Path) -> tuple[list[Document], list[Finding]]:
    """Parse a (multi-document) YAML text into schema-checked documents."""
    try:
        parsed = documents(text)
    except Reject as rej:
        return [], [_finding(rej.rule, rej.message, Position(path, *rej.mark), rej.hint)]

    loaded: list[Document] = []
    findings: list[Finding] = []
    for index, one in enumerate(parsed):
        if one.reject is not None:
            problem = one.reject
            findings.append(_finding(problem.rule, problem.message, Position(path, *problem.mark), problem.hint))
            continue
        if one.data is None:
            continue  # an empty document, e.g. after a trailing `---`
        doc = Document(path, index, one.data, one.values, one.keys)
        findings.extend(_validate(doc))
        loaded.append(doc)
    return loaded, findings


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return show(value) if isinstance(value, str) else repr(value)


def _validate(doc: Document) -> list[Finding]:
    data = doc.data
    if not isinstance(data, dict):
        return [
            _finding(
                "SCHEMA001",
                "a manifest document must be a mapping",
                doc.at(),
                "start the document with apiVersion, kind, metadata and spec",
            )
        ]
    if data.get("apiVersion") != API_VERSION:
        got = data.get("apiVersion")
        message = f"apiVersion must be {API_VERSION!r}" + (f", not {_describe(got)}" if got is not None else "")
        return [_finding("SCHEMA001", message, doc.at(("apiVersion",)), f"set apiVersion: {API_VERSION}")]
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        return [
            _finding(
                "SCHEMA001",
                f"kind must be one of {', '.join(KINDS)}, not {_describe(kind)}",
                doc.at(("kind",)),
                "set kind: Workspace, InferenceCluster, ClusterExtension or KubernetesCompute",
            )
        ]
    try:
        doc.model = KINDS[kind].model_validate(data)
    except ValidationError as exc:
        return [_schema_finding(doc, err) for err in exc.errors(include_url=False)]
    return []


def _schema_finding(doc: Document, err: Any) -> Finding:
    loc = tuple(err["loc"])
    field_path = ".".join(str(p) for p in loc) or "document"
    kind = err["type"]
    if kind == "extra_forbidden":
        close = _close_field(str(loc[-1])) if loc else None
        guess = f"; did you mean {close!r}?" if close else ""
        return _finding(
            "SCHEMA001",
            f"unknown field {field_path!r}{guess}",
            doc.at(loc, key=True),
            "remove it or fix its spelling (see schemas/manifest.schema.json)",
        )
    if kind == "missing":
        return _finding("SCHEMA001", f"missing required field {field_path!r}", doc.at(loc[:-1]), f"add {loc[-1]!r}")
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return _finding(
        "SCHEMA001", f"{field_path}: {message}", doc.at(loc), "see schemas/manifest.schema.json for the allowed values"
    )


@functools.lru_cache(maxsize=1)
def _field_names() -> tuple[str, ...]:
    """Every field name the manifests know (from the schema), for "did you mean"."""
    from reconciler.manifest import json_schema

    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            names.update(k for k in (node.get("properties") or {}) if isinstance(k, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json_schema())
    return tuple(sorted(names))


def _close_field(name: str) -> str | None:
    import difflib

    lowered = {n.lower(): n for n in _field_names()}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


def _finding(rule: str, message: str, position: Position, hint: str = "") -> Finding:
    """A loader finding: id and severity from the catalogue, the hint specific to the problem."""
    return Finding(rule, RULES[rule].severity, message, position, hint)

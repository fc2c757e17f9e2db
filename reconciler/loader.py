"""Load manifests from YAML with a position for every node.

Parsing composes the node graph with ruamel.yaml's C parser (fast) and builds
plain values from it, remembering each node's line and column, so every later
error can point at `file:line:col`. Anchors, aliases, custom tags, duplicate
keys, deep nesting and oversized files are rejected: nothing in a manifest is
ever executed or expanded.
"""

from __future__ import annotations

import functools

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.catalogue import RULES
from reconciler.findings import Finding, Position
from reconciler.manifest import API_VERSION, KINDS, ClusterExtension, InferenceCluster, KubernetesCompute, Model, Workspace

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_DOCUMENTS_PER_FILE = 1000
DEFAULT_PATH = Path("manifests")
# The local cloud's seed lives beside the manifests but is not one.
SEED_FILE_NAMES = frozenset({"local-cloud.yaml", "local-cloud.yml"})

_YAML = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}

Loc = tuple[str | int, ...]


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
    documents: list[Document]
    findings: list[Finding]
    files: list[Path]

    @property
    def workspaces(self) -> list[tuple[Document, Workspace]]:
        return [(d, d.model) for d in self.documents if isinstance(d.model, Workspace)]

    @property
    def clusters(self) -> list[tuple[Document, InferenceCluster]]:
        return [(d, d.model) for d in self.documents if isinstance(d.model, InferenceCluster)]

    @property
    def extensions(self) -> list[tuple[Document, ClusterExtension]]:
        return [(d, d.model) for d in self.documents if isinstance(d.model, ClusterExtension)]

    @property
    def kubernetes_computes(self) -> list[tuple[Document, KubernetesCompute]]:
        return [(d, d.model) for d in self.documents if isinstance(d.model, KubernetesCompute)]


class _Reject(Exception):
    def __init__(self, rule: str, message: str, mark: tuple[int, int], hint: str = "") -> None:
        super().__init__(message)
        self.rule, self.message, self.mark, self.hint = rule, message, mark, hint


def discover(paths: list[Path]) -> tuple[list[Path], list[Finding]]:
    """Every *.yaml / *.yml below the given paths, in a stable order."""
    files: list[Path] = []
    findings: list[Finding] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file() and p.name not in SEED_FILE_NAMES
            )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            findings.append(_finding("IO001", f"no such file or directory: {path}", Position(path), "give a manifest file or a folder of them"))
    seen: set[Path] = set()
    unique = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]
    if not unique and not findings:
        where = ", ".join(str(p) for p in paths)
        findings.append(_finding("IO001", f"no manifest files (*.yaml, *.yml) found in {where}", Position(Path(where)), "give a manifest file or a folder of them"))
    return unique, findings


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
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [], [_finding("YAML005", f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit", Position(path), "split the manifests into several files")]
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [_finding("YAML001", f"not UTF-8 text ({exc.reason})", Position(path), "save the file as UTF-8")]
    except OSError as exc:
        return [], [_finding("IO001", f"cannot read: {exc.strerror}", Position(path), "check the path and its permissions")]
    return parse_text(text, path)


def parse_text(text: str, path: Path) -> tuple[list[Document], list[Finding]]:
    """Parse a (multi-document) YAML text into schema-checked documents."""
    try:
        _precheck(text)
        nodes = _compose(text)
    except _Reject as rej:
        return [], [_finding(rej.rule, rej.message, Position(path, *rej.mark), rej.hint)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(path, mark.line + 1, mark.column + 1) if mark else Position(path)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        return [], [_finding("YAML001", f"invalid YAML: {problem}", pos, "fix the YAML syntax at this position")]
    except (YAMLError, ValueError) as exc:
        return [], [_finding("YAML001", f"invalid YAML: {exc}", Position(path), "fix the YAML syntax")]
    except RecursionError:
        return [], [_finding("YAML005", f"nesting deeper than {MAX_DEPTH} levels", Position(path), "flatten the document")]

    documents: list[Document] = []
    findings: list[Finding] = []
    for index, node in enumerate(nodes):
        doc = Document(path, index, None)
        try:
            doc.data = _build(node, doc, (), 0, set())
        except _Reject as rej:
            findings.append(_finding(rej.rule, rej.message, Position(path, *rej.mark), rej.hint))
            continue
        if doc.data is None:
            continue  # an empty document, e.g. after a trailing `---`
        errs = _validate(doc)
        findings.extend(errs)
        documents.append(doc)
    return documents, findings


def _precheck(text: str) -> None:
    """Cheap checks before the parser: it must never be handed a nesting bomb."""
    if "[" in text or "{" in text:
        depth = 0
        for match in re.finditer(r"[\[\]{}]", text):
            depth += 1 if match.group() in "[{" else -1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                raise _Reject("YAML005", f"nesting deeper than {MAX_DEPTH} levels", (line, col), "flatten the document")
    if "&" in text or "*" in text:
        # The C composer resolves aliases silently, so look at the events.
        for event in YAML(typ="safe", pure=False).parse(text):
            if isinstance(event, AliasEvent) or (
                isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.anchor
            ):
                m = event.start_mark
                raise _Reject(
                    "YAML002", "YAML anchors and aliases are not allowed", (m.line + 1, m.column + 1),
                    "write the value out in full; anchors make manifests hard to review and enable alias bombs",
                )


def _compose(text: str) -> list[Node]:
    nodes = []
    for node in YAML(typ="safe", pure=False).compose_all(text):
        nodes.append(node)
        if len(nodes) > MAX_DOCUMENTS_PER_FILE:
            raise _Reject("YAML005", f"more than {MAX_DOCUMENTS_PER_FILE} documents in one file", (1, 1), "split the file")
    return nodes


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: Node, doc: Document, loc: Loc, depth: int, seen: set[int]) -> Any:
    if depth > MAX_DEPTH:
        raise _Reject("YAML005", f"nesting deeper than {MAX_DEPTH} levels", _mark(node), "flatten the document")
    if id(node) in seen:
        raise _Reject("YAML002", "YAML anchors and aliases are not allowed", _mark(node), "write the value out in full")
    seen.add(id(node))
    if node.tag not in _PLAIN_TAGS:
        raise _Reject("YAML003", f"custom or unsafe YAML tag {node.tag!r} is not allowed", _mark(node), "remove the tag; manifests hold plain data only")
    doc.values[loc] = _mark(node)
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != _YAML + "str":
                raise _Reject("YAML004", "mapping keys must be plain strings", _mark(key_node), "quote the key")
            key = key_node.value
            if key in out:
                first = doc.keys[loc + (key,)]
                raise _Reject("YAML004", f"duplicate key {key!r} (first at line {first[0]})", _mark(key_node), "keep one of the two entries")
            doc.keys[loc + (key,)] = _mark(key_node)
            out[key] = _build(value_node, doc, loc + (key,), depth + 1, seen)
        return out
    if isinstance(node, SequenceNode):
        return [_build(item, doc, loc + (i,), depth + 1, seen) for i, item in enumerate(node.value)]
    return _scalar(node)


_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}


def _scalar(node: ScalarNode) -> Any:
    tag, value = node.tag[len(_YAML):], node.value
    if tag == "null":
        return None
    if tag == "bool":
        return _BOOLS[value.lower()]
    if tag == "int":
        text = value.replace("_", "")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        base = 16 if text[:2] in ("0x", "0X") else 8 if text[:2] in ("0o", "0O") else 10
        return sign * int(text[2:] if base != 10 else text, base)
    if tag == "float":
        low = value.lower().replace("_", "")
        if low.lstrip("+-") in (".inf", "inf"):
            return float("-inf") if low.startswith("-") else float("inf")
        if low in (".nan", "nan"):
            return float("nan")
        return float(low)
    return value  # str, and timestamps kept as written


def _validate(doc: Document) -> list[Finding]:
    data = doc.data
    if not isinstance(data, dict):
        return [_finding("SCHEMA001", "a manifest document must be a mapping", doc.at(), "start the document with apiVersion, kind, metadata and spec")]
    if data.get("apiVersion") != API_VERSION:
        got = data.get("apiVersion")
        message = f"apiVersion must be {API_VERSION!r}" + (f", not {got!r}" if got is not None else "")
        return [_finding("SCHEMA001", message, doc.at(("apiVersion",)), f"set apiVersion: {API_VERSION}")]
    kind = data.get("kind")
    if kind not in KINDS:
        return [_finding("SCHEMA001", f"kind must be one of {', '.join(KINDS)}, not {kind!r}", doc.at(("kind",)), "set kind: Workspace, InferenceCluster, ClusterExtension or KubernetesCompute")]
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
        return _finding("SCHEMA001", f"unknown field {field_path!r}{guess}", doc.at(loc, key=True), "remove it or fix its spelling (see schemas/manifest.schema.json)")
    if kind == "missing":
        return _finding("SCHEMA001", f"missing required field {field_path!r}", doc.at(loc[:-1]), f"add {loc[-1]!r}")
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return _finding("SCHEMA001", f"{field_path}: {message}", doc.at(loc), "see schemas/manifest.schema.json for the allowed values")


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

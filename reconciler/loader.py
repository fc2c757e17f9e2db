"""Load manifests from YAML with a position for every node.

Parsing composes the node graph with ruamel.yaml's C parser (fast) and builds
plain values from it, remembering each node's line and column, so every later
error can point at `file:line:col`. Anchors, aliases, custom tags, duplicate
keys, deep nesting and oversized files are rejected: nothing in a manifest is
ever executed or expanded.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from pydantic import ValidationError
from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, DocumentStartEvent, ScalarEvent
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import Resolver

from reconciler.catalogue import RULES
from reconciler.findings import Finding, Position
from reconciler.manifest import API_VERSION, KINDS, ClusterExtension, InferenceCluster, KubernetesCompute, Model, Workspace
from reconciler.safeio import UnsafeFileError, describe_error, kind_of, read_bounded

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_DOCUMENTS_PER_FILE = 1000
MAX_INT_BITS = 63  # manifests hold counts, never big numbers; bigger ints break JSON and Azure alike
# C0 controls (but tab and newline), DEL and C1 controls: they can rewrite a terminal or a PR comment.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
DEFAULT_PATH = Path("manifests")
# The local cloud's seed lives beside the manifests but is not one.
SEED_FILE_NAMES = frozenset({"local-cloud.yaml", "local-cloud.yml"})

_YAML = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}

Loc = tuple[str | int, ...]


class _Loader(CParser, Resolver):  # type: ignore[misc]
    """The C parser and composer with YAML 1.2's implicit types, one class for every file.

    `YAML(typ="safe")` builds a new loader class per call and re-resolves the YAML version
    for every scalar: ~6x the cost of parsing a small manifest. Always YAML 1.2: `yes`/`on`
    stay strings even under a `%YAML 1.1` directive.
    """

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        Resolver.__init__(self, loadumper=self)


def _events(text: str) -> Iterator[Any]:
    loader = _Loader(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def _nodes(text: str) -> Iterator[Node]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()


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
    """Every *.yaml / *.yml below the given paths, in a stable order.

    A path that is not a file or folder (a FIFO, a device, a symlink loop, an
    unreadable folder) is reported as what it is; it is never opened.
    """
    files: list[Path] = []
    findings: list[Finding] = []
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except (OSError, ValueError) as exc:
            findings.append(_io_finding(path, describe_error(exc)))
            continue
        if stat.S_ISDIR(mode):
            files.extend(_walk(path, findings))
            findings.extend(unreadable_under(path))
        elif stat.S_ISREG(mode):
            files.append(path)
        else:
            findings.append(_io_finding(path, f"{kind_of(mode)}, not a manifest file or folder"))
    seen: set[str] = set()
    unique: list[Path] = []
    for f in files:
        if _identity(f) not in seen:
            seen.add(_identity(f))
            unique.append(f)
    if not unique and not findings:
        where = ", ".join(str(p) for p in paths)
        findings.append(_finding("IO001", f"no manifest files (*.yaml, *.yml) found in {where}", Position(Path(where)), "give a manifest file or a folder of them"))
    return unique, findings


def _identity(path: Path) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError, RuntimeError):
        return str(path)


def _walk(root: Path, findings: list[Finding]) -> list[Path]:
    """Manifest files below `root`; folders that cannot be listed or searched are findings."""
    found: list[Path] = []

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
                mode = os.stat(file).st_mode
            except OSError as exc:
                findings.append(_io_finding(file, describe_error(exc), "IO002"))
                continue
            if stat.S_ISREG(mode):
                found.append(file)
            else:
                findings.append(_io_finding(file, f"{kind_of(mode)}, not a manifest file", "IO002"))
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

                report(entry, "a symbolic link loop" if exc.errno == errno.ELOOP else
                       "a dangling symbolic link" if exc.errno == errno.ENOENT else exc.strerror or "unreadable")
                continue
            if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
                report(entry, kind_of(mode))
    return findings


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
        return [], [_finding("YAML001", f"not UTF-8 text at byte {exc.start} ({exc.reason})", Position(path, line, col), "save the file as UTF-8")]
    return parse_text(text, path)


def parse_text(text: str, path: Path) -> tuple[list[Document], list[Finding]]:
    """Parse a (multi-document) YAML text into schema-checked documents."""
    try:
        _precheck(text)
        nodes = _compose(text)
    except _Reject as rej:
        return [], [_finding(rej.rule, rej.message, Position(path, *rej.mark), rej.hint)]
    except ReaderError as exc:
        line, col = _line_col(text, exc.position)
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return [], [_finding("YAML001", f"invalid YAML: control character {char} is not allowed", Position(path, line, col), "remove the character")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(path, mark.line + 1, mark.column + 1) if mark else Position(path, 1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        return [], [_finding("YAML001", f"invalid YAML: {problem}", pos, "fix the YAML syntax at this position")]
    except (YAMLError, ValueError) as exc:
        return [], [_finding("YAML001", f"invalid YAML: {exc}", Position(path, 1, 1), "fix the YAML syntax")]
    except RecursionError:
        return [], [_finding("YAML005", f"nesting deeper than {MAX_DEPTH} levels", Position(path, 1, 1), "flatten the document")]

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


def _line_col(text: str, index: int) -> tuple[int, int]:
    index = max(0, min(index, len(text)))
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _precheck(text: str) -> None:
    """Walk the event stream before composing: the C composer recurses once per level
    and would crash on a nesting bomb in any style (`[[[`, `- - -`, `? ? ?`), and it
    resolves aliases silently. Depth is counted on events, so brackets inside a quoted
    string or a comment do not count."""
    depth = 0
    for event in _events(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                m = event.start_mark
                raise _Reject("YAML005", f"nesting deeper than {MAX_DEPTH} levels", (m.line + 1, m.column + 1), "flatten the document")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        elif isinstance(event, DocumentStartEvent):
            depth = 0
        if isinstance(event, AliasEvent) or (isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.anchor):
            m = event.start_mark
            raise _Reject(
                "YAML002", "YAML anchors and aliases are not allowed", (m.line + 1, m.column + 1),
                "write the value out in full; anchors make manifests hard to review and enable alias bombs",
            )


def _compose(text: str) -> list[Node]:
    nodes = []
    for node in _nodes(text):
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
            _check_text(key, key_node)
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
_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]+|[0-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9_]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


def _scalar(node: ScalarNode) -> Any:
    """The plain value of a scalar; a value its tag cannot hold is a finding, never a crash."""
    tag, value = node.tag[len(_YAML):], node.value
    if tag == "null":
        return None
    if tag == "bool":
        if value.lower() not in _BOOLS:
            raise _Reject("YAML006", f"{_show(value)} is not a boolean", _mark(node), "write true or false")
        return _BOOLS[value.lower()]
    if tag == "int":
        return _integer(value, node)
    if tag == "float":
        low = value.lower().replace("_", "")
        if low.lstrip("+-") in (".inf", "inf"):
            return float("-inf") if low.startswith("-") else float("inf")
        if low in (".nan", "nan"):
            return float("nan")
        if len(low) > 100 or not _FLOAT.match(low):
            raise _Reject("YAML006", f"{_show(value)} is not a number", _mark(node), "write a number, or quote the text")
        return float(low)
    _check_text(value, node)
    return value  # str, and timestamps kept as written


def _integer(value: str, node: ScalarNode) -> int:
    text = value.replace("_", "")
    if not _INT.match(value) or not text.lstrip("+-"):
        raise _Reject("YAML006", f"{_show(value)} is not an integer", _mark(node), "write a whole number, or quote the text")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    prefix = digits[:2].lower()
    base = {"0x": 16, "0o": 8, "0b": 2}.get(prefix)
    if base is not None:
        digits = digits[2:]
    elif len(digits) > 1 and digits.startswith("0"):
        base = 8  # YAML 1.1 octal, as ruamel resolves it
    else:
        base = 10
    if not digits or len(digits.lstrip("0")) > 64:  # also keeps int() away from its 4,300-digit limit
        raise _Reject("YAML006", f"integer {_show(value)} is out of range (at most {MAX_INT_BITS} bits)", _mark(node), "use a smaller number")
    number = sign * int(digits, base)
    if abs(number) >= 2**MAX_INT_BITS:
        raise _Reject("YAML006", f"integer {_show(value)} is out of range (at most {MAX_INT_BITS} bits)", _mark(node), "use a smaller number")
    return number


def _check_text(value: str, node: ScalarNode) -> None:
    """Control characters in a string could rewrite a terminal or a PR comment: refuse them."""
    match = CONTROL_CHARS.search(value)
    if match:
        raise _Reject("YAML007", f"control character U+{ord(match.group()):04X} in a string is not allowed",
                      _mark(node), "remove it; manifests hold printable text only")


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _show(value) if isinstance(value, str) else repr(value)


def _show(value: str, limit: int = 40) -> str:
    """A scalar for a message: quoted, escaped, and short."""
    shown = value if len(value) <= limit else value[:limit] + "…"
    return repr(shown)


def _validate(doc: Document) -> list[Finding]:
    data = doc.data
    if not isinstance(data, dict):
        return [_finding("SCHEMA001", "a manifest document must be a mapping", doc.at(), "start the document with apiVersion, kind, metadata and spec")]
    if data.get("apiVersion") != API_VERSION:
        got = data.get("apiVersion")
        message = f"apiVersion must be {API_VERSION!r}" + (f", not {_describe(got)}" if got is not None else "")
        return [_finding("SCHEMA001", message, doc.at(("apiVersion",)), f"set apiVersion: {API_VERSION}")]
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        return [_finding("SCHEMA001", f"kind must be one of {', '.join(KINDS)}, not {_describe(kind)}", doc.at(("kind",)), "set kind: Workspace, InferenceCluster, ClusterExtension or KubernetesCompute")]
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

"""Safe YAML: the event-stream checks and the positioned composition of one manifest text.

Parsing composes the node graph with ruamel.yaml's C parser (fast) and builds plain values
from it, remembering each node's line and column, so every later error can point at
`file:line:col`. Anchors, aliases, custom tags, duplicate keys, deep nesting and unsafe
scalars are rejected: nothing in a manifest is ever executed or expanded. Kept apart from the
loader because this is the only module that knows ruamel.yaml; it knows nothing of files or
manifest kinds, and reports a problem as a `Reject` the loader turns into a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, DocumentStartEvent, ScalarEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import Resolver

MAX_DEPTH = 32
MAX_DOCUMENTS_PER_FILE = 1000
MAX_INT_BITS = 63  # manifests hold counts, never big numbers; bigger ints break JSON and Azure alike
# C0 controls (but tab and newline), DEL and C1 controls: they can rewrite a terminal or a PR comment.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

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


class Reject(Exception):
    """A manifest text that is refused: the rule id, the message, where (line, column) and the hint."""

    def __init__(self, rule: str, message: str, mark: tuple[int, int], hint: str = "") -> None:
        super().__init__(message)
        self.rule, self.message, self.mark, self.hint = rule, message, mark, hint


Positions = dict[Loc, tuple[int, int]]


def compose(text: str) -> list[Node]:
    """The node graph of every document of `text`; any YAML problem is a `Reject`."""
    try:
        _precheck(text)
        return _compose(text)
    except ReaderError as exc:
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise Reject(
            "YAML001",
            f"invalid YAML: control character {char} is not allowed",
            _line_col(text, exc.position),
            "remove the character",
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise Reject("YAML001", f"invalid YAML: {problem}", where, "fix the YAML syntax at this position") from None
    except (YAMLError, ValueError) as exc:
        raise Reject("YAML001", f"invalid YAML: {exc}", (1, 1), "fix the YAML syntax") from None
    except RecursionError:
        raise Reject("YAML005", f"nesting deeper than {MAX_DEPTH} levels", (1, 1), "flatten the document") from None


def build(node: Node, values: Positions, keys: Positions) -> Any:
    """The plain value of a composed document; records where each node (`values`) and key (`keys`) stands."""
    return _build(node, values, keys, (), 0, set())


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
                raise Reject(
                    "YAML005",
                    f"nesting deeper than {MAX_DEPTH} levels",
                    (m.line + 1, m.column + 1),
                    "flatten the document",
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        elif isinstance(event, DocumentStartEvent):
            depth = 0
        if isinstance(event, AliasEvent) or (isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.anchor):
            m = event.start_mark
            raise Reject(
                "YAML002",
                "YAML anchors and aliases are not allowed",
                (m.line + 1, m.column + 1),
                "write the value out in full; anchors make manifests hard to review and enable alias bombs",
            )


def _compose(text: str) -> list[Node]:
    nodes = []
    for node in _nodes(text):
        nodes.append(node)
        if len(nodes) > MAX_DOCUMENTS_PER_FILE:
            raise Reject(
                "YAML005", f"more than {MAX_DOCUMENTS_PER_FILE} documents in one file", (1, 1), "split the file"
            )
    return nodes


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: Node, values: Positions, keys: Positions, loc: Loc, depth: int, seen: set[int]) -> Any:
    if depth > MAX_DEPTH:
        raise Reject("YAML005", f"nesting deeper than {MAX_DEPTH} levels", _mark(node), "flatten the document")
    if id(node) in seen:
        raise Reject("YAML002", "YAML anchors and aliases are not allowed", _mark(node), "write the value out in full")
    seen.add(id(node))
    if node.tag not in _PLAIN_TAGS:
        raise Reject(
            "YAML003",
            f"custom or unsafe YAML tag {node.tag!r} is not allowed",
            _mark(node),
            "remove the tag; manifests hold plain data only",
        )
    values[loc] = _mark(node)
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != _YAML + "str":
                raise Reject("YAML004", "mapping keys must be plain strings", _mark(key_node), "quote the key")
            key = key_node.value
            _check_text(key, key_node)
            if key in out:
                first = keys[(*loc, key)]
                raise Reject(
                    "YAML004",
                    f"duplicate key {key!r} (first at line {first[0]})",
                    _mark(key_node),
                    "keep one of the two entries",
                )
            keys[(*loc, key)] = _mark(key_node)
            out[key] = _build(value_node, values, keys, (*loc, key), depth + 1, seen)
        return out
    if isinstance(node, SequenceNode):
        return [_build(item, values, keys, (*loc, i), depth + 1, seen) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)  # a composed node is a mapping, a sequence or a scalar
    return _scalar(node)


_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]+|[0-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9_]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


def _scalar(node: ScalarNode) -> Any:
    """The plain value of a scalar; a value its tag cannot hold is a finding, never a crash."""
    tag, value = (node.tag or "")[len(_YAML) :], node.value
    if tag == "null":
        return None
    if tag == "bool":
        if value.lower() not in _BOOLS:
            raise Reject("YAML006", f"{show(value)} is not a boolean", _mark(node), "write true or false")
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
            raise Reject("YAML006", f"{show(value)} is not a number", _mark(node), "write a number, or quote the text")
        return float(low)
    _check_text(value, node)
    return value  # str, and timestamps kept as written


def _integer(value: str, node: ScalarNode) -> int:
    text = value.replace("_", "")
    if not _INT.match(value) or not text.lstrip("+-"):
        raise Reject(
            "YAML006", f"{show(value)} is not an integer", _mark(node), "write a whole number, or quote the text"
        )
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
        raise Reject(
            "YAML006",
            f"integer {show(value)} is out of range (at most {MAX_INT_BITS} bits)",
            _mark(node),
            "use a smaller number",
        )
    number = sign * int(digits, base)
    if abs(number) >= 2**MAX_INT_BITS:
        raise Reject(
            "YAML006",
            f"integer {show(value)} is out of range (at most {MAX_INT_BITS} bits)",
            _mark(node),
            "use a smaller number",
        )
    return number


def _check_text(value: str, node: ScalarNode) -> None:
    """Control characters in a string could rewrite a terminal or a PR comment: refuse them."""
    match = CONTROL_CHARS.search(value)
    if match:
        raise Reject(
            "YAML007",
            f"control character U+{ord(match.group()):04X} in a string is not allowed",
            _mark(node),
            "remove it; manifests hold printable text only",
        )


def show(value: str, limit: int = 40) -> str:
    """A scalar for a message: quoted, escaped, and short."""
    shown = value if len(value) <= limit else value[:limit] + "…"
    return repr(shown)

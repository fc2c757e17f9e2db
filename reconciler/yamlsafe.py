"""Safe YAML: one manifest text into plain values, each with its position, in one pass.

The C parser's events are built into plain values with an explicit stack (never the
composer, which recurses once per level), remembering each value's and key's line and
column, so every later error can point at `file:line:col`. Anchors, aliases, custom tags,
duplicate keys, deep nesting and unsafe scalars are rejected: nothing in a manifest is ever
executed or expanded. Kept apart from the loader because this is the only module that knows
ruamel.yaml; it knows nothing of files or manifest kinds, and reports a problem as a
`Reject` the loader turns into a finding.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.nodes import ScalarNode
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
    """The C parser with YAML 1.2's implicit types, one class for every file.

    `YAML(typ="safe")` builds a new loader class per call and re-resolves the YAML version
    for every scalar: ~6x the cost of parsing a small manifest. Always YAML 1.2: `yes`/`on`
    stay strings even under a `%YAML 1.1` directive.
    """

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        Resolver.__init__(self, loadumper=self)


class Reject(Exception):
    """A manifest text that is refused: the rule id, the message, where (line, column) and the hint."""

    def __init__(self, rule: str, message: str, mark: tuple[int, int], hint: str = "") -> None:
        super().__init__(message)
        self.rule, self.message, self.mark, self.hint = rule, message, mark, hint


Positions = dict[Loc, tuple[int, int]]


@dataclass
class Parsed:
    """One document of a text: its plain value, where each value (`values`) and key (`keys`)
    stands, or the problem that refuses this document alone (`reject`)."""

    data: Any = None
    values: Positions = field(default_factory=dict)
    keys: Positions = field(default_factory=dict)
    reject: Reject | None = None


def documents(text: str) -> list[Parsed]:
    """Every document of `text`. A problem of the text as a whole (its syntax, nesting,
    anchors, too many documents) is raised as a `Reject`: nothing of the file is used then."""
    try:
        return _documents(text)
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


def _line_col(text: str, index: int) -> tuple[int, int]:
    index = max(0, min(index, len(text)))
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _documents(text: str) -> list[Parsed]:
    """One pass over the C parser's events, building plain values with an explicit stack.

    Never the composer: it recurses once per level (a nesting bomb in any style, `[[[`,
    `- - -` or `? ? ?`, would crash it) and resolves aliases silently. Depth is counted on
    events, so brackets inside a quoted string or a comment do not count.
    """
    out: list[Parsed] = []
    loader = _Loader(text)
    try:
        next_event = loader.get_event
        feed = None
        while True:
            event = next_event()
            kind = type(event)
            if kind is DocumentStartEvent:
                if len(out) >= MAX_DOCUMENTS_PER_FILE:
                    raise Reject(
                        "YAML005",
                        f"more than {MAX_DOCUMENTS_PER_FILE} documents in one file",
                        (1, 1),
                        "split the file",
                    )
                doc = _DocumentBuilder()
                out.append(doc.parsed)
                feed = doc.feed
            elif kind is StreamEndEvent or event is None:
                break
            elif feed is not None:
                feed(event)
    finally:
        loader.dispose()
    return out


_RESOLVER = Resolver()


def _implicit_tag(value: str, implicit: tuple[bool, bool]) -> str:
    """A plain or quoted scalar's tag, as the composer would resolve it (YAML 1.2)."""
    if len(value) > 64:  # the cache holds short texts only: its memory stays small whatever the input
        return str(_RESOLVER.resolve(ScalarNode, value, implicit))
    return _short_tag(value, implicit)


@functools.lru_cache(maxsize=4096)
def _short_tag(value: str, implicit: tuple[bool, bool]) -> str:
    """Cached: keys and many values repeat across manifests, and each resolution runs regexes."""
    return str(_RESOLVER.resolve(ScalarNode, value, implicit))


_MAP_TAG, _SEQ_TAG, _STR_TAG = _YAML + "map", _YAML + "seq", _YAML + "str"


class _DocumentBuilder:
    """Builds one document from its events; after the first problem of this document it only
    keeps watching for problems of the whole text (nesting, anchors)."""

    def __init__(self) -> None:
        self.parsed = Parsed()
        self.depth = 0
        # Open collections: (the dict or list, its location, the pending key of a mapping).
        self.stack: list[list[Any]] = []

    def feed(self, event: Any) -> None:
        kind = type(event)
        if kind is ScalarEvent:  # first: most events are scalars, keys and values alike
            if event.anchor:
                _refuse_anchor(event)
            if self.parsed.reject is None:
                try:
                    self._scalar(event)
                except Reject as rej:
                    self._refused(rej)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            self.depth -= 1
            if self.parsed.reject is None:
                self.stack.pop()
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor:
                _refuse_anchor(event)
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise Reject("YAML005", f"nesting deeper than {MAX_DEPTH} levels", _mark(event), "flatten the document")
            if self.parsed.reject is None:
                try:
                    self._collection(event, kind)
                except Reject as rej:
                    self._refused(rej)
        elif kind is AliasEvent:
            _refuse_anchor(event)
        # anything else: the document's end

    def _refused(self, rej: Reject) -> None:
        """Record the document's finding: the document keeps no data."""
        # Kept without its traceback: frames → this builder → the reject would be a cycle.
        self.parsed.reject, self.parsed.data = rej.with_traceback(None), None

    def _scalar(self, event: Any) -> None:
        value: str = event.value
        ctag = event.ctag  # `event.tag` is a property that stringifies it
        if ctag is None or str(ctag) == "!":  # implicit: resolved as the composer would (YAML 1.2)
            tag = _implicit_tag(value, event.implicit)
        else:
            tag = str(ctag)
        top = self.stack[-1] if self.stack else None
        if top is not None and top[2] is None and type(top[0]) is dict:  # the key of the next entry
            self._key(event, value, tag, top)
            return
        if tag not in _PLAIN_TAGS:
            _refuse_tag(event, tag)
        mark = event.start_mark
        self.parsed.values[_location(top)] = (mark.line + 1, mark.column + 1)
        if tag == _STR_TAG:
            if not value.isprintable():  # the common case needs no regex
                _check_text(value, event)
            plain: Any = value
        else:
            plain = _plain(event, tag)
        self._place(top, plain)

    def _collection(self, event: Any, kind: type) -> None:
        stack = self.stack
        top = stack[-1] if stack else None
        if top is not None and top[2] is None and type(top[0]) is dict:
            raise Reject("YAML004", "mapping keys must be plain strings", _mark(event), "quote the key")
        tag = event.tag
        if tag is None or tag == "!":
            tag = _SEQ_TAG if kind is SequenceStartEvent else _MAP_TAG
        if tag not in _PLAIN_TAGS:
            _refuse_tag(event, tag)
        loc = _location(top)
        mark = event.start_mark
        self.parsed.values[loc] = (mark.line + 1, mark.column + 1)
        value: Any = {} if kind is MappingStartEvent else []
        stack.append([value, loc, None])
        self._place(top, value)

    def _place(self, top: list[Any] | None, value: Any) -> None:
        """Into the open collection (the pending key's entry of a mapping), or as the document."""
        if top is None:
            self.parsed.data = value
        elif type(top[0]) is dict:
            top[0][top[2]] = value
            top[2] = None
        else:
            top[0].append(value)

    def _key(self, event: Any, key: str, tag: str, top: list[Any]) -> None:
        if tag != _STR_TAG:
            raise Reject("YAML004", "mapping keys must be plain strings", _mark(event), "quote the key")
        if not key.isprintable():
            _check_text(key, event)
        where = (*top[1], key)
        if key in top[0]:
            first = self.parsed.keys[where]
            raise Reject(
                "YAML004",
                f"duplicate key {key!r} (first at line {first[0]})",
                _mark(event),
                "keep one of the two entries",
            )
        mark = event.start_mark
        self.parsed.keys[where] = (mark.line + 1, mark.column + 1)
        top[2] = key


def _location(top: list[Any] | None) -> Loc:
    """Where the next value goes: under the open mapping's pending key, at the open list's end, or the root."""
    if top is None:
        return ()
    if type(top[0]) is dict:
        return (*top[1], top[2])
    return (*top[1], len(top[0]))


def _refuse_tag(event: Any, tag: str) -> None:
    raise Reject(
        "YAML003",
        f"custom or unsafe YAML tag {tag!r} is not allowed",
        _mark(event),
        "remove the tag; manifests hold plain data only",
    )


def _refuse_anchor(event: Any) -> None:
    raise Reject(
        "YAML002",
        "YAML anchors and aliases are not allowed",
        _mark(event),
        "write the value out in full; anchors make manifests hard to review and enable alias bombs",
    )


_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]+|[0-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9_]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


def _plain(node: Any, full_tag: str) -> Any:
    """The plain value of a scalar; a value its tag cannot hold is a finding, never a crash."""
    tag, value = full_tag[len(_YAML) :], node.value
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


def _integer(value: str, node: Any) -> int:
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


def _check_text(value: str, node: Any) -> None:
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

"""A finding: one error or warning about a manifest, pinned to file:line:col."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Position:
    """1-based line and column, as editors count them."""

    path: Path
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return display_path(self.path)
        return f"{display_path(self.path)}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    position: Position
    hint: str = ""
    address: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        head = f"{self.position}: {self.severity.value} {self.rule}: {self.message}"
        return printable(f"{head}\n  hint: {self.hint}" if self.hint else head)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with control characters (but newline and tab) shown as escapes, e.g. `\\x1b`:
    a file name or a value from Azure must never drive the terminal."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def display_path(path: Path) -> str:
    """Paths relative to the working directory when below it, as compilers print them."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, RuntimeError, OSError):  # not below, a symlink loop, a NUL in the path
        return str(path)

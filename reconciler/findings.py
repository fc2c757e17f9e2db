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

    def as_json(self) -> dict[str, object]:
        """The machine-readable finding (`validate --format json`, JSON log lines)."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "file": display_path(self.position.path),
            "line": self.position.line or None,
            "col": self.position.col or None,
            "hint": self.hint or None,
            "address": self.address,
        }

    def github_annotation(self) -> str:
        """A GitHub Actions workflow command: the finding shows on the pull request's changed line."""
        where = f"file={_gh_property(display_path(self.position.path))}"
        if self.position.line > 0:
            where += f",line={self.position.line},col={max(1, self.position.col)}"
        text = self.message + (f"\nhint: {self.hint}" if self.hint else "")
        return f"::{self.severity.value} {where},title={_gh_property(self.rule)}::{_gh_data(text)}"

    def azure_pipelines_issue(self) -> str:
        """An Azure Pipelines logging command: the finding shows in the run's summary with its file and line."""
        props = [f"type={self.severity.value}", f"sourcepath={_vso(display_path(self.position.path))}"]
        if self.position.line > 0:
            props += [f"linenumber={self.position.line}", f"columnnumber={max(1, self.position.col)}"]
        props.append(f"code={_vso(self.rule)}")
        text = self.message + (f"\nhint: {self.hint}" if self.hint else "")
        return f"##vso[task.logissue {';'.join(props)}]{_vso(text)}"

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


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _vso(text: str) -> str:
    return text.replace("%", "%AZP25").replace(";", "%3B").replace("\r", "%0D").replace("\n", "%0A").replace("]", "%5D")

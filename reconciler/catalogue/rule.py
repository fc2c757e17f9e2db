"""The shape of a rule and the one way to build a finding from it.

Kept apart from the rule families so that each family module is only a list of rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from reconciler.findings import Finding, Position, Severity


class Located(Protocol):
    """Something that knows where its nodes are (a loaded manifest document)."""

    def at(self, loc: tuple[str | int, ...] = (), *, key: bool = False) -> Position: ...


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    hint: str

    def finding(self, message: str, position: Position, address: str | None = None) -> Finding:
        return Finding(self.id, self.severity, message, position, self.hint, address)

    def at(
        self, doc: Located, loc: tuple[str | int, ...], message: str, *, key: bool = False, address: str | None = None
    ) -> Finding:
        """A finding at the node `loc` of a document."""
        return self.finding(message, doc.at(loc, key=key), address)


def rule(id: str, severity: Severity, title: str, hint: str) -> Rule:
    return Rule(id, severity, title, hint)


E, W = Severity.ERROR, Severity.WARNING

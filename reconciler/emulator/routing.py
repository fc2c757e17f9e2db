"""Requests, responses and the route table: ARM paths (matched case-insensitively) → handlers.

Each service module owns a :class:`Router` with its routes; the dispatcher asks every
service's router in turn. A route names the ARM operation id (for the audit) and the
resource provider whose api-versions it accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # keys lower-cased
    headers: Any
    body: Any  # parsed JSON (or None)
    base_url: str  # scheme://host[:port] the client used

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


B = TypeVar("B")
Handler = Callable[[B, Request, dict[str, str]], Response]


@dataclass
class Route(Generic[B]):
    method: str
    segments: tuple[str, ...]  # literal segments lower-cased, "{name}" placeholders kept
    operation_id: str
    handler: Handler[B]
    public: bool = False  # served without a bearer token (cloud metadata, discovery)
    versioned: bool = True  # api-version required and checked
    resource_type: str = ""  # e.g. "workspaces/computes", for ARM's api-version errors

    def bind(self, lower: list[str], raw: list[str]) -> dict[str, str] | None:
        """The path parameters if the segments match this route's pattern, else None."""
        if len(self.segments) != len(lower):
            return None
        params: dict[str, str] = {}
        for pat, seg, value in zip(self.segments, lower, raw, strict=True):
            if pat.startswith("{"):
                params[pat[1:-1]] = value
            elif pat != seg:
                return None
        return params


def split_pattern(pattern: str) -> tuple[str, ...]:
    return tuple(s if s.startswith("{") else s.lower() for s in pattern.strip("/").split("/") if s)


def resource_type(pattern: str) -> str:
    """The provider-relative type of a route: ".../providers/NS/workspaces/{ws}/computes" → "workspaces/computes"."""
    parts = [s for s in pattern.strip("/").split("/") if s]
    lower = [s.lower() for s in parts]
    if "providers" in lower:
        parts = parts[lower.index("providers") + 2 :]
    return "/".join(parts[0::2])


class Router(Generic[B]):
    """The routes of one service, registered with the :meth:`route` decorator."""

    def __init__(self) -> None:
        self.routes: list[Route[B]] = []

    def route(
        self, method: str, pattern: str, operation_id: str, *, public: bool = False, versioned: bool = True
    ) -> Callable[[Handler[B]], Handler[B]]:
        def deco(fn: Handler[B]) -> Handler[B]:
            self.routes.append(
                Route(method, split_pattern(pattern), operation_id, fn, public, versioned, resource_type(pattern))
            )
            return fn

        return deco

    def match(self, method: str, segments: list[str]) -> tuple[Route[B] | None, dict[str, str], bool]:
        """(route, params, path_known): path_known is True when only the method mismatched."""
        lower = [s.lower() for s in segments]
        path_known = False
        for r in self.routes:
            params = r.bind(lower, segments)
            if params is None:
                continue
            if r.method == method:
                return r, params, True
            path_known = True
        return None, {}, path_known

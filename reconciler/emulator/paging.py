"""List pages: ``value`` plus a ``nextLink`` back to the emulator while items remain.

The ``$skip`` in a nextLink is opaque, as the spec says: clients pass it back unchanged.
Plain integers are accepted too.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from .errors import BadRequest
from .routing import Request

_PREFIX = "emu1:"
T = TypeVar("T")


def skip_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    if token.isdigit():
        return int(token)
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if text.startswith(_PREFIX) and text[len(_PREFIX) :].isdigit():
            return int(text[len(_PREFIX) :])
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest(f"The $skip token '{token}' is invalid; pass back the nextLink unchanged.")


def page(
    req: Request, items: Sequence[T], page_size: int, shape: Callable[[T], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One page of `items`; only the page's items are shaped into response bodies (`shape`), so a
    listing of n items costs O(n) in all rather than O(n) per page."""
    token = req.query.get("$skip") or req.query.get("$skiptoken") or ""
    skip = _offset(token) if token else 0
    chunk = items[skip : skip + page_size]
    body: dict[str, Any] = {"value": [shape(item) for item in chunk] if shape is not None else list(chunk)}
    if skip + page_size < len(items):
        body["nextLink"] = (
            f"{req.base_url}{req.path}?api-version={quote(req.api_version)}&$skip={skip_token(skip + page_size)}"
        )
    return body

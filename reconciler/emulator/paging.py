"""List pages: ``value`` plus a ``nextLink`` back to the emulator while items remain."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .errors import BadRequest
from .routing import Request


def page(req: Request, items: list[dict], page_size: int) -> dict:
    try:
        skip = max(0, int(req.query.get("$skip") or req.query.get("$skiptoken") or 0))
    except ValueError:
        raise BadRequest("$skip must be a non-negative integer.") from None
    body: dict[str, Any] = {"value": items[skip:skip + page_size]}
    if skip + page_size < len(items):
        body["nextLink"] = (f"{req.base_url}{req.path}?api-version={quote(req.api_version)}"
                            f"&$skip={skip + page_size}")
    return body

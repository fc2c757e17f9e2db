"""List pages: ``value`` plus a ``nextLink`` back to the emulator while items remain.

The ``$skip`` in a nextLink is opaque, as the spec says: clients pass it back unchanged.
Plain integers are accepted too.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from .errors import BadRequest
from .routing import Request

_PREFIX = "emu1:"


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


def page(req: Request, items: list[dict[str, Any]], page_size: int) -> dict[str, Any]:
    token = req.query.get("$skip") or req.query.get("$skiptoken") or ""
    skip = _offset(token) if token else 0
    body: dict[str, Any] = {"value": items[skip : skip + page_size]}
    if skip + page_size < len(items):
        body["nextLink"] = (
            f"{req.base_url}{req.path}?api-version={quote(req.api_version)}&$skip={skip_token(skip + page_size)}"
        )
    return body

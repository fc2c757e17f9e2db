"""The headers ARM puts on every response: request/correlation ids, routing id, throttling budget."""

from __future__ import annotations

import time
import uuid
from email.utils import formatdate
from typing import Any

READ_BUDGET = "11999"
WRITE_BUDGET = "1199"


def arm_headers(method: str, request_headers: Any, tls: bool) -> dict[str, str]:
    """ARM's response headers; the client's correlation and client request ids are echoed back."""
    request_id = str(uuid.uuid4())
    correlation = request_headers.get("x-ms-correlation-request-id") or request_id
    out = {
        "Date": formatdate(usegmt=True),
        "Cache-Control": "no-cache",
        "Pragma": "no-cache",
        "Expires": "-1",
        "x-ms-request-id": request_id,
        "x-ms-correlation-request-id": correlation,
        "x-ms-routing-request-id": f"LOCAL:{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}:{request_id}",
        "X-Content-Type-Options": "nosniff",
    }
    client_id = request_headers.get("x-ms-client-request-id")
    if client_id:
        out["x-ms-client-request-id"] = client_id
    if method in ("GET", "HEAD"):
        out["x-ms-ratelimit-remaining-subscription-reads"] = READ_BUDGET
    else:
        out["x-ms-ratelimit-remaining-subscription-writes"] = WRITE_BUDGET
    if tls:
        out["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return out

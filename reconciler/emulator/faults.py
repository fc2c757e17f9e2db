"""Fault injection: probabilities per fault kind, deterministic given a seed.

Kinds: "429" (throttled, with Retry-After), "500" (internal error), "reset" (the
connection is dropped without a response) and "lro-fail" (a long-running operation
ends Failed). An optional ``limit`` caps how many faults fire in total, after which
all rates drop to zero: "throttle exactly once" is then easy to express.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from typing import Any

KINDS = ("429", "500", "reset", "lro-fail")


def parse_faults(spec: Mapping[str, float] | str | None) -> dict[str, float]:
    """Parse ``"429=0.1,500=0.05,reset=0.02,lro-fail=0.05"`` (or a mapping) into rates."""
    rates = {k: 0.0 for k in KINDS}
    if spec is None:
        return rates
    if isinstance(spec, str):
        items: list[tuple[str, object]] = []
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise ValueError(
                    f"bad fault spec {part!r}: expected KIND=PROBABILITY with KIND one of "
                    f"{', '.join(KINDS)} (e.g. '429=0.1,500=0.05,reset=0.02,lro-fail=0.05')"
                )
            kind, value = part.split("=", 1)
            items.append((kind.strip(), value.strip()))
    else:
        items = list(spec.items())
    for k, v in items:
        key = str(k).strip().lower()
        if key not in KINDS:
            raise ValueError(f"unknown fault kind {k!r}: expected one of {', '.join(KINDS)}")
        try:
            p = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"bad probability {v!r} for fault {key!r}: expected a number in [0, 1]") from None
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"probability {p} for fault {key!r} is outside [0, 1]")
        rates[key] = p
    return rates


class Faults:
    """Thread-safe fault dice; one RNG so a given request order gives the same faults."""

    def __init__(
        self, spec: Mapping[str, float] | str | None = None, seed: int | None = None, limit: int | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.rates = parse_faults(spec)
        self.limit = limit

    def set(self, spec: Mapping[str, float] | str | None, limit: int | None = None) -> None:
        rates = parse_faults(spec)
        with self._lock:
            self.rates = rates
            self.limit = limit

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = dict(self.rates)
            if self.limit is not None:
                out["limit"] = self.limit
            return out

    def roll(self, kind: str) -> bool:
        """True if a fault of ``kind`` fires now."""
        with self._lock:
            p = self.rates.get(kind, 0.0)
            if p <= 0.0:
                return False
            hit = p >= 1.0 or self._rng.random() < p
            if hit and self.limit is not None:
                self.limit -= 1
                if self.limit <= 0:
                    self.rates = {k: 0.0 for k in KINDS}
                    self.limit = None
            return hit

    def request_fault(self) -> str | None:
        """The fault to inject on an ARM request, if any: "reset", "429" or "500"."""
        for kind in ("reset", "429", "500"):
            if self.roll(kind):
                return kind
        return None

"""The state store: the emulated cloud (world), its operations and the audit, persisted atomically.

All reads and writes happen with ``store.lock`` held (the dispatcher takes it per request).
A state file, when given, is loaded at start and rewritten after every change, so a
restarted emulator resumes where it stopped, in-flight operations included.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .errors import ResourceGroupNotFound, SubscriptionNotFound
from .model import Operation, World
from .seed import build_world, load_seed

FORMAT_VERSION = 1


class Store:
    """Everything the emulator remembers, and its persistence."""

    def __init__(
        self,
        seed: dict[str, Any] | str | Path | None = None,
        *,
        state_file: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        page_size: int = 50,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.page_size = page_size
        self.state_file = Path(state_file) if state_file else None
        self.dirty = False
        given_seed = load_seed(seed) if seed is not None else None
        if self.state_file is not None and self.state_file.exists():
            self._load(given_seed)
        else:
            self.seed_raw = given_seed or {}
            self.reset()
            self.save()

    def reset(self) -> None:
        """Back to the seed; audit and operations cleared."""
        self.last_stamp_us = 0
        self.world: World = build_world(self.seed_raw, self._now_us())
        self.operations: dict[str, Operation] = {}
        self.inflight: dict[str, str] = {}  # lower target id → operation id
        self.requests: dict[str, int] = {}
        self.violations: list[dict[str, Any]] = []
        self.dirty = True

    def _now_us(self) -> int:
        return int(self.clock() * 1_000_000)

    def stamp_us(self) -> int:
        """A strictly increasing write timestamp (µs) for modifiedOn."""
        us = max(self._now_us(), self.last_stamp_us + 1)
        self.last_stamp_us = us
        self.dirty = True
        return us

    def record_request(self, operation_id: str) -> None:
        self.requests[operation_id] = self.requests.get(operation_id, 0) + 1

    # ----------------------------------------------------------------- lookup
    def subscription(self, sub: str) -> str:
        canon = self.world.subscriptions.get(sub.lower())
        if canon is None:
            raise SubscriptionNotFound(f"The subscription '{sub}' could not be found.")
        return canon

    def resource_group(self, sub: str, rg: str) -> str:
        sub = self.subscription(sub)
        canon = self.world.resource_groups.get(f"{sub}/{rg}".lower())
        if canon is None:
            raise ResourceGroupNotFound(f"Resource group '{rg}' could not be found.")
        return canon

    # ------------------------------------------------------------ persistence
    def _persisted(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "seed": self.seed_raw,
            "world": self.world.to_dict(),
            "operations": [asdict(op) for op in self.operations.values()],
            "inflight": self.inflight,
            "requests": self.requests,
            "violations": self.violations,
            "lastStampUs": self.last_stamp_us,
        }

    def _load(self, given_seed: dict[str, Any] | None) -> None:
        assert self.state_file is not None
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        if data.get("formatVersion") != FORMAT_VERSION:
            raise ValueError(f"{self.state_file}: unsupported state format {data.get('formatVersion')!r}")
        self.seed_raw = given_seed if given_seed is not None else data.get("seed") or {}
        self.world = World.from_dict(data["world"])
        self.operations = {d["id"]: Operation(**d) for d in data.get("operations", [])}
        self.inflight = dict(data.get("inflight", {}))
        self.requests = dict(data.get("requests", {}))
        self.violations = list(data.get("violations", []))
        self.last_stamp_us = int(data.get("lastStampUs", 0))

    def save(self) -> None:
        """Write the state file atomically (temp file in the same folder + os.replace)."""
        self.dirty = False
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.state_file.name + ".", suffix=".tmp", dir=self.state_file.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self._persisted(), f, separators=(",", ":"))
            os.replace(tmp, self.state_file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def flush(self) -> None:
        if self.dirty:
            self.save()

"""The long-running-operation engine: start, lazy completion, and the per-provider finish hooks.

Operations complete lazily: every request first calls :meth:`OperationEngine.advance`,
which finishes the operations whose absolute end time has passed. No timer threads
exist, and a restarted emulator completes in-flight operations at the right moment.
Each service registers a hook that applies a finished operation to its resources.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from . import domain
from .errors import ResourceNotFound, detail
from .faults import Faults
from .model import Operation
from .store import Store

FinishHook = Callable[[Operation, "dict[str, Any] | None"], None]


class OperationEngine:
    def __init__(self, store: Store, time_scale: float, faults: Faults) -> None:
        self.store = store
        self.time_scale = float(time_scale)
        self.faults = faults
        self._hooks: dict[str, FinishHook] = {}

    def on_finish(self, provider: str, hook: FinishHook) -> None:
        """Register what finishing an operation of ``provider`` does to the resources."""
        self._hooks[provider] = hook

    def start(
        self,
        kind: str,
        provider: str,
        target: str,
        subscription: str,
        location: str,
        fail_with: dict[str, Any] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Operation:
        if fail_with is None and self.faults.roll("lro-fail"):
            fail_with = detail("InternalServerError", "Injected fault (lro-fail): the operation failed.")
        s = self.store
        now = s.clock()
        op = Operation(
            id=str(uuid.uuid4()),
            kind=kind,
            provider=provider,
            target=target,
            subscription=subscription,
            location=location,
            started_at=now,
            ends_at=now + domain.DURATIONS[kind] * self.time_scale,
            fail_with=fail_with,
            payload=payload or {},
        )
        s.operations[op.id] = op
        s.inflight[target.lower()] = op.id
        s.dirty = True
        return op

    def advance(self) -> None:
        """Finish every operation whose end time has passed."""
        s = self.store
        if not s.inflight:
            return
        now = s.clock()
        for op_id in list(s.inflight.values()):
            op = s.operations[op_id]
            if op.ends_at <= now:
                self.finish(op)

    def finish(self, op: Operation, error: dict[str, Any] | None = None, ended_at: float | None = None) -> None:
        s = self.store
        if s.inflight.get(op.target.lower()) == op.id:
            del s.inflight[op.target.lower()]
        err = error or op.fail_with
        op.status = "Failed" if err else "Succeeded"
        op.error = err
        op.ended_at = op.ends_at if ended_at is None else ended_at
        s.dirty = True
        self._hooks[op.provider](op, err)

    def get(self, op_id: str) -> Operation:
        ops = self.store.operations
        op = ops.get(op_id) or next((o for k, o in ops.items() if k.lower() == op_id.lower()), None)
        if op is None:
            raise ResourceNotFound(f"Operation '{op_id}' was not found.")
        return op

    def inflight_op(self, target: str) -> Operation | None:
        op_id = self.store.inflight.get(target.lower())
        return self.store.operations.get(op_id) if op_id else None

    def remaining(self, op: Operation) -> float:
        return op.ends_at - self.store.clock()

    def retry_after(self, op: Operation) -> float:
        """Seconds until the operation ends, clamped to [0.01, 10].

        Never 0: azure-core treats a zero Retry-After as absent and falls back to its
        30 s default polling interval.
        """
        return min(10.0, max(0.01, self.remaining(op)))

    def audit(self) -> list[dict[str, Any]]:
        return [
            {
                "operationId": op.id,
                "compute": op.target,
                "kind": op.kind,
                "startedAt": domain.iso(op.started_at),
                "endedAt": domain.iso(op.ended_at) if op.ended_at is not None else None,
                "status": op.status,
            }
            for op in self.store.operations.values()
        ]

"""Runs a Plan: steps as a dependency graph, independent clusters in parallel.

Safety does not rest on the plan alone: before every attach or create the
workspace is read again, and the step is refused if any other attachment of
that cluster exists or is in flight. A failed step stops its dependents; the
others finish. Every wait has a timeout.

This module is the scheduling; the handlers of each op live in `executor_compute` (legacy AKS computes) and
`executor_kubernetes` (extension, Kubernetes computes, Run Command), and `Executor` dispatches on `Op` through
one table.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.clients import AksApi, ComputesApi, KubernetesApi
from reconciler.executor_base import (
    FreshListing,
    SecretResolver,
    StepError,
    resolve_extension_secrets,
    resolve_tls_secrets,
)
from reconciler.executor_compute import ComputeSteps
from reconciler.executor_kubernetes import KubernetesSteps
from reconciler.plan import Change, Op, Plan, Step
from reconciler.progress import Progress
from reconciler.state import ObservedState
from reconciler.throttling import DEFAULT_PARALLELISM

__all__ = [
    "DEFAULT_TIMEOUTS",
    "ApplyResult",
    "Executor",
    "FreshListing",
    "SecretResolver",
    "StepError",
    "StepResult",
    "resolve_extension_secrets",
    "resolve_tls_secrets",
]


# Azure's typical durations with a wide margin.
DEFAULT_TIMEOUTS: dict[str, float] = {op: max(300.0, op.expected_seconds * 3.0) for op in Op}

_SIGNAL_CHECK_S = 0.25  # how long a Ctrl-C can wait to be seen while steps run


class _NotStarted(Exception):
    """A step a worker picked up after Ctrl-C: skipped, never sent to Azure."""


@dataclass
class StepResult:
    step_id: str
    status: str  # succeeded | failed | skipped
    message: str = ""


@dataclass
class ApplyResult:
    results: dict[str, StepResult] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C: the steps not yet started were skipped

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results.values() if r.status != "succeeded"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        out = {"succeeded": 0, "failed": 0, "skipped": 0}
        for r in self.results.values():
            out[r.status] += 1
        return out


class Executor(ComputeSteps, KubernetesSteps):
    """Schedules a plan's steps; each runs through the handler its `Op` names in `_handlers`."""

    def __init__(
        self,
        computes: ComputesApi,
        aks: AksApi,
        observed: ObservedState,
        progress: Progress,
        *,
        parallelism: int = DEFAULT_PARALLELISM,
        timeouts: dict[str, float] | None = None,
        resolve_secrets: SecretResolver = resolve_tls_secrets,
        kube: KubernetesApi | None = None,
    ) -> None:
        self.computes, self.aks, self.observed, self.progress = computes, aks, observed, progress
        self.kube = kube
        self.tls_backups: Path | None = None  # where save-tls steps write (set by the workflow)
        self.parallelism = max(1, parallelism)
        self.timeouts = {**DEFAULT_TIMEOUTS, **(timeouts or {})}
        self.resolve_secrets = resolve_secrets
        self.fresh_listing = FreshListing(computes.list)
        self.ready_at: dict[str, int] = {}
        self._interrupted = threading.Event()
        self._running_guard = threading.RLock()  # re-entered by a Ctrl-C handler on the main thread
        self._running: dict[cf.Future[None], Step] = {}
        self._started: dict[str, Step] = {}  # begun on a worker, not yet collected by run()
        self._handlers: dict[Op, Callable[[Step, Change], None]] = {
            Op.DETACH: self._remove,
            Op.DELETE: self._remove,
            Op.SCALE: self._scale,
            Op.CREATE: self._write,
            Op.ATTACH: self._write,
            Op.UPDATE: self._write,
            Op.INSTALL: self._install,
            Op.UPGRADE: self._upgrade,
            Op.UNINSTALL: self._uninstall,
            Op.CREATE_NAMESPACE: self._create_namespace,
            Op.K8S_ATTACH: self._put_kubernetes,
            Op.K8S_DETACH: self._detach_kubernetes,
            Op.REMOVE_LEGACY_FE: self._remove_legacy_fe,
            Op.SAVE_TLS: self._save_tls,
        }

    def interrupt(self) -> list[Step]:
        """Start no new step (Ctrl-C); returns the steps still running in Azure, which run() waits for."""
        self._interrupted.set()
        with self._running_guard:
            for future in self._running:
                future.cancel()  # queued behind --parallelism: never sent to Azure
            running = {step.id: step for future, step in self._running.items() if not future.cancelled()}
            # A Ctrl-C handled between `pool.submit` and the line that records its future: the step is
            # already on a worker, and must be named (and waited for) all the same.
            return list({**running, **self._started}.values())

    def run(self, plan: Plan) -> ApplyResult:
        """Run every step; after `interrupt()` only the running ones finish, the rest are not started.

        An exception out of a wait (a second Ctrl-C) leaves without waiting for the worker threads:
        their operations go on in Azure, and the next apply settles them.
        """
        changes = {s.id: c for c in plan.changes for s in c.steps}
        steps = {s.id: s for s in plan.steps()}
        result = ApplyResult()
        pending = dict(steps)
        running = self._running
        for step in steps.values():
            self.progress.queued(step.id, step.op, step.compute)
        pool = cf.ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="apply")
        try:
            while pending or running:
                if self._interrupted.is_set():
                    for step_id in list(pending):
                        del pending[step_id]
                        result.results[step_id] = StepResult(
                            step_id, "skipped", "not started: the apply was interrupted"
                        )
                        self.progress.finished(step_id, "skipped")
                # Taken after the steps of this round became ready: their pre-checks may share a listing that
                # started after it. Not for a step queued behind --parallelism: it lists when it starts.
                ticket = self.fresh_listing.ticket()
                for step in self._ready(pending, result):
                    if self._interrupted.is_set():
                        break  # the next round marks what is pending as skipped
                    del pending[step.id]
                    if len(running) < self.parallelism:
                        self.ready_at[step.id] = ticket
                    with self._running_guard:
                        future = pool.submit(self._start_step, step, changes[step.id])
                        running[future] = step
                        if self._interrupted.is_set():  # interrupted during submit: interrupt() missed it
                            future.cancel()
                if not running:
                    break
                # A timeout, so that a Ctrl-C landing just as this wait blocks again (after the first one's
                # handler ran) is handled within a second, not when the next operation ends.
                done, _ = cf.wait(running, timeout=_SIGNAL_CHECK_S, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    with self._running_guard:
                        step = running.pop(future)
                        self._started.pop(step.id, None)
                    if future.cancelled() or isinstance(future.exception(), _NotStarted):
                        result.results[step.id] = StepResult(
                            step.id, "skipped", "not started: the apply was interrupted"
                        )
                        self.progress.finished(step.id, "skipped")
                        continue
                    try:
                        future.result()
                        result.results[step.id] = StepResult(step.id, "succeeded")
                        self.progress.finished(step.id, "succeeded")
                    except Exception as exc:  # each failure is reported, the others go on
                        message = _safe_message(exc)
                        result.results[step.id] = StepResult(step.id, "failed", message)
                        self.progress.finished(step.id, "failed", message)
        finally:
            pool.shutdown(wait=not running, cancel_futures=True)
        return result

    def _ready(self, pending: dict[str, Step], result: ApplyResult) -> list[Step]:
        """Steps whose dependencies succeeded; dependents of a failure are skipped."""
        ready = []
        for step in list(pending.values()):
            states = [result.results[d].status if d in result.results else None for d in step.depends_on]
            if any(s in ("failed", "skipped") for s in states):
                del pending[step.id]
                result.results[step.id] = StepResult(step.id, "skipped", "a step it depends on did not succeed")
                self.progress.finished(step.id, "skipped")
            elif all(s == "succeeded" for s in states):
                ready.append(step)
        return ready

    # -- one step ---------------------------------------------------------------
    def _start_step(self, step: Step, change: Change) -> None:
        """On a worker: the step really starts now (it may have queued behind --parallelism)."""
        with self._running_guard:
            if self._interrupted.is_set():  # picked up by a worker after Ctrl-C: never sent to Azure
                raise _NotStarted
            self._started[step.id] = step
        self.progress.started(step.id, step.op, step.compute)
        self._run_step(step, change)

    def _run_step(self, step: Step, change: Change) -> None:
        """One table from op to handler: adding an op means adding a row here and in `plan.Op`."""
        self._handlers[step.op](step, change)


def _safe_message(exc: BaseException) -> str:
    """First line of an error: Azure messages never carry our secrets, bodies are not echoed."""
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    for line in text.splitlines():
        if line.startswith("Message:"):
            first = line[len("Message:") :].strip()
            break
    return first[:500]

"""Ctrl-C during apply: the first stops new steps and waits, the second stops waiting (exit 130).

Apart from the workflow because signal handling has its own state (whether operations were abandoned),
which the CLI reads to end the process without joining the threads still waiting on Azure.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from reconciler.failure import EXIT_INTERRUPTED, WorkflowError

if TYPE_CHECKING:
    from reconciler.executor import Executor
    from reconciler.plan import Step
    from reconciler.workflow import Ui


def abandoned_operations() -> bool:
    """True once a second Ctrl-C left operations running: the process must end without joining their threads."""
    return _ABANDONED.is_set()


_ABANDONED = threading.Event()


class Interrupted(WorkflowError):
    """Ctrl-C during apply: exit 130. `abandoned` when a second Ctrl-C stopped waiting for running operations."""

    def __init__(self, message: str, abandoned: bool) -> None:
        super().__init__(message, EXIT_INTERRUPTED)
        self.abandoned = abandoned


def _describe(steps: list[Step]) -> str:
    return ", ".join(f"{s.op} of {s.compute!r} ({s.id})" for s in steps) or "none"


@contextlib.contextmanager
def _ctrl_c(executor: Executor, ui: Ui) -> Iterator[list[bool]]:
    """First Ctrl-C: start nothing new, say what still runs in Azure and wait for it (nothing half-done).
    Second Ctrl-C: stop waiting; those operations go on in Azure and the next apply settles them."""
    import signal

    interrupted = [False]
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def handler(signum: int, frame: object) -> None:
        running = executor.interrupt()
        if interrupted[0]:
            _ABANDONED.set()
            raise Interrupted(
                f"stopped waiting; still running in Azure: {_describe(running)}. They continue there; the next "
                "`reconciler apply` waits for them and settles the rest",
                abandoned=True,
            )
        interrupted[0] = True
        ui.err(
            f"Interrupted: no new steps will start. Waiting for the operations still running in Azure, so that "
            f"nothing is left half-done: {_describe(running)}. Press Ctrl-C again to stop waiting (they continue "
            "in Azure; the next apply settles them)."
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)

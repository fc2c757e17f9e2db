"""Progress of running operations: a live rich table on a TTY, one log line per state change otherwise.

Every step of the plan is shown from the start (queued), so a long run tells what is still to come.
A failure is printed once, when it happens, with Azure's ids in its message (see `cloud.arm.CloudError`).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any, Protocol

from reconciler import logs
from reconciler.plan import expected_seconds


class Progress(Protocol):
    def queued(self, step_id: str, op: str, compute: str) -> None: ...
    def started(self, step_id: str, op: str, compute: str) -> None: ...
    def finished(self, step_id: str, status: str, message: str = "") -> None: ...
    def close(self) -> None: ...


_Line = tuple[str, str, dict[str, Any], float]  # level, event, fields, when it happened (time.time())


class LogProgress:
    """Structured lines on stderr: what pipelines read. One line per state change, never a heartbeat.

    The lines are written in order by a thread of their own, once steps have stopped starting for
    `QUIET_S`, or at the latest `MAX_DELAY_S` after the first line waiting. Starting an operation is CPU
    work (its request), and on the one core the CLI keeps to, a line written meanwhile delays the
    operations still to start; so does structlog's import, with the first line. Written after the
    burst, they let the last of 50 attaches start ~10 ms sooner. Each line carries the time of its
    event, not of its writing. `close()` writes what is left before it returns.
    """

    QUIET_S = 0.02  # steps start ~1 ms apart in a burst: a pause this long means the burst is over
    MAX_DELAY_S = 0.5  # progress is never held back longer, however many steps keep starting
    CLOSE_TIMEOUT_S = 10.0  # a stderr nobody reads must not hold the exit for ever

    def __init__(self) -> None:
        self.started_at: dict[str, float] = {}
        self.waiting: list[str] = []
        self._lines: queue.SimpleQueue[_Line | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="progress-log", daemon=True)
        self._writer.start()

    def _write(self) -> None:
        log = None
        while True:
            batch = self._batch()
            for line in batch:
                if line is None:
                    return
                if log is None:
                    log = logs.get("reconciler.apply")
                level, event, fields, at = line
                getattr(log, level)(event, **fields, timestamp=logs.dated(at))

    def _batch(self) -> list[_Line | None]:
        """The lines waiting once the steps have paused (or `MAX_DELAY_S` has passed, or close() asked)."""
        batch: list[_Line | None] = [self._lines.get()]
        deadline = time.monotonic() + self.MAX_DELAY_S
        while batch[-1] is not None and (left := deadline - time.monotonic()) > 0:
            try:
                batch.append(self._lines.get(timeout=min(self.QUIET_S, left)))
            except queue.Empty:
                break
        return batch

    def _log(self, level: str, event: str, **fields: Any) -> None:
        self._lines.put((level, event, fields, time.time()))

    def queued(self, step_id: str, op: str, compute: str) -> None:
        self.waiting.append(step_id)

    def started(self, step_id: str, op: str, compute: str) -> None:
        if self.waiting:  # the whole plan once, before the first step starts
            self._log("info", "steps queued", steps=self.waiting)
            self.waiting = []
        self.started_at[step_id] = time.monotonic()
        self._log("info", "step started", step=step_id, op=op, compute=compute, expected_s=expected_seconds(op))

    def finished(self, step_id: str, status: str, message: str = "") -> None:
        elapsed = round(time.monotonic() - self.started_at.get(step_id, time.monotonic()), 2)
        level = "info" if status == "succeeded" else "error"
        self._log(level, "step " + status, step=step_id, elapsed_s=elapsed, **({"message": message} if message else {}))

    def close(self) -> None:
        self._lines.put(None)
        self._writer.join(self.CLOSE_TIMEOUT_S)


class RichProgress:
    """One row per step (queued, running, done) with elapsed and expected time and its state."""

    def __init__(self, time_scale: float = 1.0, color: bool = True) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True, no_color=not color)
        self.time_scale = time_scale
        self.rows: dict[str, list[Any]] = {}
        self.lock = threading.Lock()
        self.live = Live(
            self._table(), console=self.console, refresh_per_second=4, transient=False, get_renderable=self._table
        )
        self.live.start()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(box=None, show_header=True, header_style="bold")
        for col in ("step", "operation", "state", "elapsed", "expected"):
            table.add_column(col)
        now = time.monotonic()
        with self.lock:
            rows = list(self.rows.items())
        for step_id, (op, state, start, end) in rows:
            elapsed = f"{(end or now) - start:.0f}s" if start is not None else ""
            expected = (expected_seconds(op) or 0) * self.time_scale
            style = {"running": "yellow", "succeeded": "green", "queued": "dim", "skipped": "dim"}.get(state, "red")
            table.add_row(step_id, op, f"[{style}]{state}[/{style}]", elapsed, f"~{expected:.0f}s")
        return table

    def queued(self, step_id: str, op: str, compute: str) -> None:
        with self.lock:
            self.rows[step_id] = [op, "queued", None, None]

    def started(self, step_id: str, op: str, compute: str) -> None:
        with self.lock:
            self.rows[step_id] = [op, "running", time.monotonic(), None]

    def finished(self, step_id: str, status: str, message: str = "") -> None:
        with self.lock:
            row = self.rows.get(step_id)
            if row:
                row[1], row[3] = status, time.monotonic()
                if row[2] is None:
                    row[2] = row[3]
        if message and status == "failed":
            self.console.print(f"{step_id}: {message}", style="red", markup=False, highlight=False)

    def close(self) -> None:
        self.live.stop()


def for_terminal(time_scale: float = 1.0, *, live: bool | None = None, color: bool = True) -> Progress:
    """The live table on a terminal (console logs), log lines otherwise."""
    live = sys.stderr.isatty() if live is None else live
    return RichProgress(time_scale, color) if live else LogProgress()

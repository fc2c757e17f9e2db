"""Progress of running operations: a live rich table on a TTY, one log line per state change otherwise."""

from __future__ import annotations

import sys
import threading
import time
from typing import Protocol

from reconciler import logs
from reconciler.plan import expected_seconds


class Progress(Protocol):
    def started(self, step_id: str, op: str, compute: str) -> None: ...
    def finished(self, step_id: str, status: str, message: str = "") -> None: ...
    def close(self) -> None: ...


class LogProgress:
    """Structured lines on stderr: what pipelines read."""

    def __init__(self) -> None:
        self.log = logs.get("reconciler.apply")
        self.started_at: dict[str, float] = {}

    def started(self, step_id: str, op: str, compute: str) -> None:
        self.started_at[step_id] = time.monotonic()
        self.log.info("step started", step=step_id, op=op, compute=compute, expected_s=expected_seconds(op))

    def finished(self, step_id: str, status: str, message: str = "") -> None:
        elapsed = round(time.monotonic() - self.started_at.get(step_id, time.monotonic()), 2)
        level = self.log.info if status == "succeeded" else self.log.error
        level("step " + status, step=step_id, elapsed_s=elapsed, **({"message": message} if message else {}))

    def close(self) -> None:
        pass


class RichProgress:
    """One row per running operation with elapsed and expected time and its state."""

    def __init__(self, time_scale: float = 1.0) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.time_scale = time_scale
        self.rows: dict[str, list] = {}
        self.lock = threading.Lock()
        self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False, get_renderable=self._table)
        self.live.start()

    def _table(self):
        from rich.table import Table

        table = Table(box=None, show_header=True, header_style="bold")
        for col in ("step", "operation", "state", "elapsed", "expected"):
            table.add_column(col)
        now = time.monotonic()
        with self.lock:
            rows = list(self.rows.items())
        for step_id, (op, state, start, end) in rows:
            elapsed = (end or now) - start
            expected = (expected_seconds(op) or 0) * self.time_scale
            style = {"running": "yellow", "succeeded": "green"}.get(state, "red")
            table.add_row(step_id, op, f"[{style}]{state}[/{style}]", f"{elapsed:.0f}s", f"~{expected:.0f}s")
        return table

    def started(self, step_id: str, op: str, compute: str) -> None:
        with self.lock:
            self.rows[step_id] = [op, "running", time.monotonic(), None]

    def finished(self, step_id: str, status: str, message: str = "") -> None:
        with self.lock:
            row = self.rows.get(step_id)
            if row:
                row[1], row[3] = status, time.monotonic()
        if message:
            self.console.print(f"[red]{step_id}: {message}[/red]")

    def close(self) -> None:
        self.live.stop()


def for_terminal(time_scale: float = 1.0) -> Progress:
    return RichProgress(time_scale) if sys.stderr.isatty() else LogProgress()

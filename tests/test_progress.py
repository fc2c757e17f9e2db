"""Progress lines for pipelines: every line written, in order, by the time `close()` returns."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from reconciler import logs, progress


class _Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []
        self.thread_names: set[str] = set()

    def __getattr__(self, level: str) -> Any:
        def log(event: str, **fields: Any) -> None:
            self.thread_names.add(threading.current_thread().name)
            self.lines.append((level, event, fields))

        return log


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    rec = _Recorder()
    monkeypatch.setattr(logs, "get", lambda name="reconciler": rec)
    return rec


def test_log_progress_writes_every_line_in_order_before_close_returns(recorder: _Recorder) -> None:
    reporter = progress.LogProgress()
    for i in range(3):
        reporter.queued(f"ws/c{i}#1", "attach", f"c{i}")
    for i in range(3):
        reporter.started(f"ws/c{i}#1", "attach", f"c{i}")
    reporter.finished("ws/c0#1", "succeeded")
    reporter.finished("ws/c1#1", "failed", "Azure said no")
    reporter.close()
    events = [(level, event) for level, event, _ in recorder.lines]
    assert events == [
        ("info", "steps queued"),
        ("info", "step started"),
        ("info", "step started"),
        ("info", "step started"),
        ("info", "step succeeded"),
        ("error", "step failed"),
    ]
    assert recorder.lines[0][2]["steps"] == ["ws/c0#1", "ws/c1#1", "ws/c2#1"]
    assert recorder.lines[-1][2]["message"] == "Azure said no"


def test_log_progress_lines_are_written_off_the_threads_that_run_steps(recorder: _Recorder) -> None:
    """The first line waits for structlog's import; a step must not wait for it."""
    reporter = progress.LogProgress()
    reporter.started("ws/c0#1", "attach", "c0")
    reporter.close()
    assert recorder.thread_names == {"progress-log"}

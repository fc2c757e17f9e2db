"""Progress lines for pipelines: every line written, in order, by the time `close()` returns."""

from __future__ import annotations

import threading
import time
from datetime import datetime
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


@pytest.fixture
def quiet_for(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets how long steps must pause, and how long a line may wait at most, before lines are written."""

    def set_(quiet_s: float, max_delay_s: float) -> None:
        monkeypatch.setattr(progress.LogProgress, "QUIET_S", quiet_s)
        monkeypatch.setattr(progress.LogProgress, "MAX_DELAY_S", max_delay_s)

    return set_


def _lines_within(recorder: _Recorder, seconds: float, while_waiting: Any = lambda: None) -> bool:
    deadline = time.monotonic() + seconds
    while not recorder.lines and time.monotonic() < deadline:
        while_waiting()
        time.sleep(0.02)
    return bool(recorder.lines)


def test_log_progress_writes_nothing_while_steps_keep_starting(
    recorder: _Recorder, quiet_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting an operation is CPU work: a line written (or structlog imported) meanwhile delays the rest."""
    asked: list[str] = []
    monkeypatch.setattr(logs, "get", lambda name="reconciler": asked.append(name) or recorder)
    quiet_for(5.0, 10.0)
    reporter = progress.LogProgress()
    for i in range(3):
        reporter.started(f"ws/c{i}#1", "attach", f"c{i}")
    time.sleep(0.2)
    assert (recorder.lines, asked) == ([], [])
    reporter.close()
    assert [event for _, event, _ in recorder.lines] == ["step started"] * 3
    assert asked == ["reconciler.apply"]


def test_log_progress_writes_lines_once_steps_pause_without_waiting_for_close(
    recorder: _Recorder, quiet_for: Any
) -> None:
    quiet_for(0.05, 10.0)
    reporter = progress.LogProgress()
    reporter.started("ws/c0#1", "attach", "c0")
    try:
        assert _lines_within(recorder, 10.0)
    finally:
        reporter.close()


def test_log_progress_never_holds_lines_longer_than_its_max_delay(recorder: _Recorder, quiet_for: Any) -> None:
    """Steps that never pause (a huge apply) must still show progress."""
    quiet_for(60.0, 0.1)
    reporter = progress.LogProgress()
    steps = iter(range(10_000))
    try:
        assert _lines_within(recorder, 10.0, lambda: reporter.started(f"ws/c{next(steps)}#1", "attach", "c"))
    finally:
        reporter.close()


def test_log_progress_dates_each_line_by_its_event_not_its_writing(recorder: _Recorder, quiet_for: Any) -> None:
    quiet_for(5.0, 10.0)
    reporter = progress.LogProgress()
    before = time.time()
    reporter.started("ws/c0#1", "attach", "c0")
    after = time.time()
    time.sleep(0.1)
    reporter.close()
    stamps = [
        datetime.fromisoformat(fields["timestamp"].replace("Z", "+00:00")).timestamp() for *_, fields in recorder.lines
    ]
    assert len(stamps) == 1 and before - 1e-6 <= stamps[0] <= after + 1e-6

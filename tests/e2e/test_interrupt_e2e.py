"""Ctrl-C during `reconciler apply` against a slow emulator (operations last seconds): the first SIGINT says at
once what still runs in Azure and waits for it; a second one stops waiting. Exit 130 either way."""

from __future__ import annotations

import json
import queue
import re
import signal
import threading
import time

from tests.e2e.conftest import attach_doc, seed

SLOW = 0.03  # attach ~9 s, detach ~2 s: long enough to interrupt mid-operation
PROMPT_S = 1.0  # the first Ctrl-C must be answered at once
WAIT_S = 60


def _lines(proc) -> queue.Queue:
    """stderr lines as they come, read on a thread so the test can wait with a timeout."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _until(lines: queue.Queue, text: str, timeout: float) -> str:
    seen = []
    while True:
        line = lines.get(timeout=timeout)
        assert line is not None, f"stderr ended before {text!r}:\n{''.join(seen)}"
        seen.append(line)
        if text in line:
            return line


def _running_compute(said: str) -> str:
    """The one compute the message names as running (--parallelism 1: the other is queued, never started)."""
    names = re.findall(r"attach of '(scoring-[ab])'", json.loads(said)["event"])
    assert len(names) == 1, said
    return names[0]


def _start_apply(make_cloud):
    cloud = make_cloud(seed(), time_scale=SLOW)
    cloud.write(a=attach_doc("scoring-a", "scoring-aks"), b=attach_doc("scoring-b", "internal-aks"))
    proc = cloud.popen("--log-format", "json", "apply", "--auto-approve", "--parallelism", "1")
    lines = _lines(proc)
    _until(lines, '"step started"', WAIT_S)
    # Mid-operation: the attach has reached Azure (a step is logged as started just before its request is sent).
    deadline = time.monotonic() + WAIT_S
    while not cloud.computes():
        assert time.monotonic() < deadline, "the first attach never reached the emulator"
        time.sleep(0.05)
    return cloud, proc, lines


def test_first_ctrl_c_names_running_operations_at_once_and_waits_for_them(make_cloud):
    cloud, proc, lines = _start_apply(make_cloud)
    proc.send_signal(signal.SIGINT)
    said = _until(lines, "still running in Azure", PROMPT_S)
    running = _running_compute(said)
    assert "Ctrl-C again" in said
    assert proc.wait(WAIT_S) == 130
    rest = "".join(iter(lines.get, None))
    assert "Traceback" not in rest and "interrupted" in rest
    assert set(cloud.computes()) == {running}  # the running attach finished; the queued one never started
    assert cloud.computes()[running]["properties"]["provisioningState"] == "Succeeded"
    again = cloud.cli("apply", "--auto-approve")
    assert again.code == 0, again.stdout + again.stderr
    assert set(cloud.computes()) == {"scoring-a", "scoring-b"}


def test_second_ctrl_c_stops_waiting_and_the_next_apply_settles(make_cloud):
    cloud, proc, lines = _start_apply(make_cloud)
    proc.send_signal(signal.SIGINT)
    _until(lines, "still running in Azure", PROMPT_S)
    proc.send_signal(signal.SIGINT)
    said = _until(lines, "stopped waiting", PROMPT_S)
    running = _running_compute(said)
    assert "next `reconciler apply`" in said
    assert proc.wait(WAIT_S) == 130
    assert "Traceback" not in "".join(iter(lines.get, None))
    assert cloud.computes()[running]["properties"]["provisioningState"] == "Creating"  # still going in Azure
    again = cloud.cli("apply", "--auto-approve")
    assert again.code == 0, again.stdout + again.stderr
    assert set(cloud.computes()) == {"scoring-a", "scoring-b"}

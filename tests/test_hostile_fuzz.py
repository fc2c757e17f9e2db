"""Seeded hostile manifests through `validate` and the offline plan pipeline.

Every case must end with exit 0 or 1, no traceback on stdout or stderr, a position
on every error finding, within 10 s and 512 MiB. Most cases run in-process (fast);
a sample runs as real processes under resource limits, where a segfault or a
memory blow-up would show as a signal.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import hostile

ROOT = Path(__file__).resolve().parents[1]
CASE_SECONDS = 10
CASE_BYTES = 512 * 1024 * 1024


class _CaseTimeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int):
    def expire(signum, frame):
        raise _CaseTimeout(f"case took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _in_process(tmp_path: Path, seed: int, count: int) -> None:
    failures = []
    for index in range(count):
        case = hostile.generate(seed, index)
        root = tmp_path / str(index)
        root.mkdir()
        try:
            with _time_limit(CASE_SECONDS):
                outcome = hostile.run(case, root)
        except _CaseTimeout as exc:
            failures.append(f"{case.name}: {exc}")
            continue
        if outcome.problems:
            failures.append(f"{case.name}: {outcome.problems}")
    assert not failures, "\n".join(failures[:10])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert peak < CASE_BYTES, f"peak memory {peak // 2**20} MiB"


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CASE_BYTES, CASE_BYTES))


def _as_process(case: hostile.Case, root: Path) -> list[str]:
    target = case.make(root)
    run = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(target)],
        cwd=root,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=CASE_SECONDS,
        preexec_fn=_limits,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    problems = hostile.check(run.returncode, run.stdout, run.stderr, content=case.path == "m.yaml")
    if run.returncode < 0:
        problems.append(f"killed by signal {-run.returncode}")
    return [f"{case.name}: {p}" for p in problems]


SAMPLE = [hostile.nesting(hostile.random.Random(0), 0, style, 30000) for style in hostile.NEST_STYLES] + [
    hostile.nesting(hostile.random.Random(0), 0, "complex-key", 60000),
    hostile.special(hostile.random.Random(3), 0),
]


def test_hostile_cases_in_process_exit_0_or_1_without_traceback(tmp_path):
    _in_process(tmp_path, seed=1, count=300)


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: c.name)
def test_nesting_bombs_as_processes_end_cleanly_within_limits(tmp_path, case):
    assert _as_process(case, tmp_path) == []


@pytest.mark.slow
def test_many_hostile_cases_in_process(tmp_path):
    _in_process(tmp_path, seed=2, count=1000)


@pytest.mark.slow
def test_random_hostile_cases_as_processes(tmp_path):
    failures = []
    for index in range(20):
        root = tmp_path / str(index)
        root.mkdir()
        failures += _as_process(hostile.generate(3, index), root)
    assert failures == []

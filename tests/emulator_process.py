"""The emulator in a process of its own, as the end-to-end tests and the benchmarks run it: Azure does
not share our interpreter (or its GIL)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_emulator(seed_file: Path, *options: str, stderr: int | None = None) -> tuple[subprocess.Popen[str], str]:
    """`python -m reconciler.emulator --port 0 --seed SEED_FILE OPTIONS`: the process and its URL once it listens.

    `stderr`: subprocess.PIPE to keep the emulator's own output for a failure message (default: inherited)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler.emulator", "--port", "0", "--seed", str(seed_file), *options],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        stop_emulator(proc)
        said = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"the emulator did not start: {line!r} {said}".strip())
    return proc, line.split()[-1]


def stop_emulator(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)

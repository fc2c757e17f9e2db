"""The emulator in a process of its own, for the benchmarks: Azure does not share our interpreter or its GIL."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def emulator(seed: dict, *, time_scale: float = 0.0, latency_ms: int = 0) -> Iterator[str]:
    """Start `python -m reconciler.emulator` on a free port with `seed`; yields its URL."""
    with tempfile.TemporaryDirectory() as tmp:
        seed_file = Path(tmp) / "seed.json"
        seed_file.write_text(json.dumps(seed))  # JSON is YAML
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler.emulator",
                "--port",
                "0",
                "--seed",
                str(seed_file),
                "--time-scale",
                str(time_scale),
                "--latency-ms",
                str(latency_ms),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line.startswith("listening on "):
                raise SystemExit(f"emulator did not start: {line!r}")
            yield line.split()[-1]
        finally:
            proc.terminate()
            proc.wait(10)

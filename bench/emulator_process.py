"""The emulator in a process of its own, for the benchmarks: Azure does not share our interpreter or its GIL."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.emulator_process import start_emulator, stop_emulator


@contextlib.contextmanager
def emulator(seed: dict, *, time_scale: float = 0.0, latency_ms: int = 0) -> Iterator[str]:
    """Start `python -m reconciler.emulator` on a free port with `seed`; yields its URL."""
    with tempfile.TemporaryDirectory() as tmp:
        seed_file = Path(tmp) / "seed.json"
        seed_file.write_text(json.dumps(seed))  # JSON is YAML
        try:
            proc, url = start_emulator(seed_file, "--time-scale", str(time_scale), "--latency-ms", str(latency_ms))
        except RuntimeError as exc:
            raise SystemExit(str(exc)) from None
        try:
            yield url
        finally:
            stop_emulator(proc)

"""`--cloud local`: the emulator started in-process, state kept across runs.

State lives in `.reconciler/local-cloud.json`, seeded on first use from
`manifests/local-cloud.yaml`, so plan → apply → plan converges with no Azure account.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

STATE_FILE = Path(".reconciler") / "local-cloud.json"
SEED_FILE = Path("manifests") / "local-cloud.yaml"
# Azure's 10-minute create takes 6 s here: the whole demo runs in well under a minute.
DEFAULT_TIME_SCALE = 0.01


class LocalCloudError(Exception):
    pass


def time_scale() -> float:
    return float(os.environ.get("RECONCILER_LOCAL_TIME_SCALE", DEFAULT_TIME_SCALE))


@contextlib.contextmanager
def running(seed: Path | None = None, state: Path | None = None) -> Iterator[str]:
    """Yield the base URL of an in-process emulator holding the local cloud."""
    from reconciler.emulator import Emulator

    seed = seed or Path(os.environ.get("RECONCILER_LOCAL_SEED", SEED_FILE))
    state = state or Path(os.environ.get("RECONCILER_LOCAL_STATE", STATE_FILE))
    scale = time_scale()
    if not state.exists() and not seed.exists():
        raise LocalCloudError(
            f"no local cloud yet and no seed file at {seed}: run from the repository root or create {seed}"
        )
    state.parent.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(seed if seed.exists() else None, state_file=state, time_scale=scale)
    url = emulator.start()
    try:
        yield url
    finally:
        emulator.stop()

"""Waiting for operations already in flight before planning (after a crash, or another apply).

Apart from the workflow because it is a polling loop with its own deadline and progress display.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from reconciler import logs
from reconciler.desired import Desired
from reconciler.failure import fail
from reconciler.state import ObservedState

if TYPE_CHECKING:
    from reconciler.connection import Cloud

Waiting = Callable[[str, float, float], None]  # (what is in flight, seconds waited, limit); "" when done


def settle(
    desired: Desired,
    cloud: Cloud,
    timeout: float,
    waiting: Waiting | None = None,
    replace: frozenset[str] = frozenset(),
) -> ObservedState:
    """Observe; if operations are still running in a declared workspace (say, after a
    crash, or another apply), wait for them to end first: planning over them would be guessing.
    `replace`: the --replace names, whose clusters the plan will check."""
    started = time.monotonic()
    deadline = started + timeout
    show = waiting or _log_waiting()
    shown = False
    try:
        while True:
            observed = cloud.observe(desired, replace)
            busy = sorted(
                [
                    f"{c.name} ({c.provisioning_state})"
                    for ws in observed.workspaces.values()
                    for c in [*ws.computes.values(), *ws.kubernetes.values()]
                    if c.in_flight
                ]
                + [
                    f"{e.name} ({e.provisioning_state})"
                    for exts in observed.extensions.values()
                    for e in exts
                    if e.is_azureml and e.in_flight
                ]
            )
            if not busy:
                return observed
            if time.monotonic() >= deadline:
                fail(f"operations still in flight on {', '.join(busy)} after {timeout:.0f} s; run apply again later")
            show(", ".join(busy), time.monotonic() - started, timeout)
            shown = True
            time.sleep(min(2.0, max(0.05, deadline - time.monotonic())))
    finally:
        if shown:
            show("", time.monotonic() - started, timeout)


def _log_waiting() -> Waiting:
    """Without a terminal: one log line when what is in flight changes, not one per poll."""
    last = [""]

    def show(what: str, elapsed: float, limit: float) -> None:
        if what and what != last[0]:  # structlog is imported only when there is something to say
            logs.get("reconciler.apply").info(
                "waiting for operations in flight", computes=what, waited_s=round(elapsed), limit_s=round(limit)
            )
        last[0] = what

    return show

"""Run the emulator in the foreground until SIGINT/SIGTERM (both command lines end up here)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from .options import EmulatorOptions, UsageError, parse, parser
from .server import Emulator


def serve(options: EmulatorOptions) -> None:
    """Serve until SIGINT/SIGTERM; the first stdout line is ``listening on URL``, then with TLS ``CA bundle: PATH``."""
    emu = Emulator(
        options.seed,
        state_file=options.state,
        time_scale=options.time_scale,
        latency_ms=options.latency_ms,
        faults=options.faults,
        fault_seed=options.fault_seed,
        port=options.port,
        tls=options.tls,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        url = emu.start()
        print(f"listening on {url}", flush=True)
        if emu.ca_bundle is not None:
            print(f"CA bundle: {emu.ca_bundle}", flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        emu.stop()
        for s, h in previous.items():
            signal.signal(s, h)


def run(argv: Sequence[str], prog: str, usage_exit: int) -> int:
    """Parse, serve, and return the exit code: ``usage_exit`` for a bad command line, 1 for a bad seed/state."""
    try:
        options = parse(argv, prog)
    except UsageError as e:
        parser(prog).print_usage(sys.stderr)
        print(f"{prog}: error: {e}", file=sys.stderr)
        return usage_exit
    try:
        serve(options)
    except KeyboardInterrupt:
        pass
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0

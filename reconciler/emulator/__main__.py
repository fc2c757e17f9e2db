"""``python -m reconciler.emulator [--port N] [--seed FILE] [--state FILE] ...``"""

from __future__ import annotations

import argparse
import sys

from .faults import parse_faults
from .server import serve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m reconciler.emulator",
                                 description="Run the local Azure ARM emulator on loopback.")
    ap.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    ap.add_argument("--seed", help="seed YAML file (docs/seed.md)")
    ap.add_argument("--state", help="state file: loaded if present, written after every change")
    ap.add_argument("--time-scale", type=float, default=1.0, help="multiplier of operation durations (0: instant)")
    ap.add_argument("--latency-ms", type=int, default=0, help="delay every response by N ms")
    ap.add_argument("--faults", help='fault rates, e.g. "429=0.1,500=0.05,reset=0.02,lro-fail=0.05"')
    ap.add_argument("--fault-seed", type=int, help="random seed for deterministic faults")
    args = ap.parse_args(argv)
    try:
        parse_faults(args.faults)
    except ValueError as e:
        ap.error(str(e))
    if args.time_scale < 0:
        ap.error("--time-scale must be >= 0")
    try:
        serve(port=args.port, seed=args.seed, state_file=args.state, time_scale=args.time_scale,
              latency_ms=args.latency_ms, faults=args.faults, fault_seed=args.fault_seed)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

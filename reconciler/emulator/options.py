"""The emulator's command-line options, defined once for ``python -m reconciler.emulator``
and ``reconciler emulator`` (which forwards its arguments here)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from .faults import parse_faults


class UsageError(ValueError):
    """A bad command line; the caller picks the exit code (2 for the module, 64 for the CLI)."""


@dataclass(frozen=True)
class EmulatorOptions:
    port: int = 0
    seed: Path | None = None
    state: Path | None = None
    time_scale: float = 1.0
    latency_ms: int = 0
    faults: str | None = None
    fault_seed: int | None = None
    tls: bool = False


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parser(prog: str) -> argparse.ArgumentParser:
    ap = _Parser(
        prog=prog,
        description="Run the local Azure ARM emulator (Azure ML computes + AKS) on loopback "
        "until interrupted. The first line printed is "
        "`listening on http://127.0.0.1:PORT` (https with --tls).",
        epilog=f"Examples: {prog} --port 8443 --seed manifests/local-cloud.yaml --time-scale 0.01",
    )
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--seed", type=Path, help="seed file (YAML or JSON): subscriptions, clusters, workspaces")
    ap.add_argument("--state", type=Path, help="state file: loaded if present, written atomically after every change")
    ap.add_argument(
        "--time-scale", type=float, default=1.0, help="multiplier of Azure's operation durations (0: instant)"
    )
    ap.add_argument("--latency-ms", type=int, default=0, help="delay every response by N ms")
    ap.add_argument("--faults", help='fault rates, e.g. "429=0.1,500=0.05,reset=0.02,lro-fail=0.05"')
    ap.add_argument("--fault-seed", type=int, help="random seed for deterministic faults")
    ap.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a local CA; the second line printed is `CA bundle: PATH` "
        "(trust it with REQUESTS_CA_BUNDLE or SSL_CERT_FILE)",
    )
    return ap


def parse(argv: Sequence[str], prog: str) -> EmulatorOptions:
    """Options from a command line, checked; raises :class:`UsageError`."""
    args = parser(prog).parse_args(list(argv))
    try:
        parse_faults(args.faults)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.time_scale < 0:
        raise UsageError("--time-scale must be >= 0")
    if args.latency_ms < 0:
        raise UsageError("--latency-ms must be >= 0")
    if args.seed is not None and not args.seed.is_file():
        raise UsageError(f"--seed {args.seed}: no such file")
    return EmulatorOptions(
        port=args.port,
        seed=args.seed,
        state=args.state,
        time_scale=args.time_scale,
        latency_ms=args.latency_ms,
        faults=args.faults,
        fault_seed=args.fault_seed,
        tls=args.tls,
    )

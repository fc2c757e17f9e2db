"""`reconciler emulator`: hands its arguments untouched to the emulator's own parser (one option definition for both
`reconciler emulator` and `python -m reconciler.emulator`)."""

from typing import Any

import typer

from reconciler.commands.common import EXIT_USAGE

# The emulator parses its own options, `--help` included.
CONTEXT_SETTINGS: dict[str, Any] = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def emulator(ctx: typer.Context) -> None:
    """Run the local ARM emulator (Azure ML computes + AKS) on loopback until interrupted.

    The first line printed is `listening on http://127.0.0.1:PORT`. Options: `reconciler emulator --help`.
    """
    from reconciler.emulator.runner import run

    raise typer.Exit(run(ctx.args, prog="reconciler emulator", usage_exit=EXIT_USAGE))

"""The `reconciler` commands, one module per group; `reconciler.cli` registers them on the app.

Each command parses its options and calls an operation module (mostly `reconciler.workflow`);
heavy imports stay inside the command functions so `--help` and `validate` start fast.
These modules (and `reconciler.cli`) do not use `from __future__ import annotations`: typer
reads every command's signature on each start, and string annotations would be compiled
and evaluated again each time (~4 ms per start).
"""

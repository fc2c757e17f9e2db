"""The `reconciler` commands, one module per group; `reconciler.cli` registers them on the app.

Each command parses its options and calls an operation module (mostly `reconciler.workflow`);
heavy imports stay inside the command functions so `--help` and `validate` start fast.
"""

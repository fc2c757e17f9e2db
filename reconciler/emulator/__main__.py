"""``python -m reconciler.emulator [--port N] [--seed FILE] [--state FILE] ...`` (see ``--help``)."""

from __future__ import annotations

import sys

from .runner import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], prog="python -m reconciler.emulator", usage_exit=2))

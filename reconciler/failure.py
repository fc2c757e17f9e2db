"""How a command ends: the exit codes and the one-line error that carries one.

Apart from the workflow so that every module it calls on (connecting, locking, settling, importing)
can fail the same way without importing the workflow itself.
"""

from __future__ import annotations

from typing import NoReturn

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2, 64
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class WorkflowError(Exception):
    """A failure the user must see as one line (never a traceback), with the exit code to end on."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def fail(message: str, exit_code: int = EXIT_ERROR) -> NoReturn:
    raise WorkflowError(message, exit_code)

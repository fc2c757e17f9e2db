"""The workflow's face on a terminal: one-line errors, the plan in colour on a TTY, the prompt, progress.

Cheap to import (the CLI imports it for `--help`): the rest of the product is imported where used.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Iterator, NoReturn

import typer

if TYPE_CHECKING:
    from reconciler.plan import Plan
    from reconciler.progress import Progress

EXIT_ERROR = 1


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """One line on stderr, then the exit code: what every user mistake ends with."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """A WorkflowError ends the command with its one line and exit code."""
    from reconciler.workflow import WorkflowError

    try:
        yield
    except WorkflowError as exc:
        fail(exc.message, exc.exit_code)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def print_plan(result: Plan) -> None:
    """The text plan on stdout, in colour only on a terminal."""
    from reconciler import render

    if sys.stdout.isatty():
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(render.to_text(result, color=True), end="")
    else:
        typer.echo(render.to_text(result), nl=False)


class TerminalUi:
    """Implements `workflow.Ui` with typer: stdout for results, stderr for problems."""

    def out(self, text: str) -> None:
        typer.echo(text)

    def err(self, text: str) -> None:
        typer.echo(text, err=True)

    def show_plan(self, plan: Plan) -> None:
        print_plan(plan)

    def confirm(self) -> None:
        from reconciler.workflow import WorkflowError

        if not sys.stdin.isatty():
            raise WorkflowError(
                "refusing to apply without confirmation: no terminal to ask on; pass --auto-approve "
                "(or apply a reviewed plan with --plan FILE)"
            )
        answer = typer.prompt("Do you want to perform these actions? Only 'yes' will be accepted", default="", show_default=False)
        if answer.strip() != "yes":
            raise WorkflowError("apply cancelled; nothing was changed")

    def progress(self, time_scale: float) -> Progress:
        from reconciler import progress

        return progress.for_terminal(time_scale)

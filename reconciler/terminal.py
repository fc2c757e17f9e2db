"""The workflow's face on a terminal: one-line errors, the plan in colour on a TTY, the prompt, progress.

Cheap to import (the CLI imports it for `--help`): the rest of the product is imported where used.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn, TextIO

import typer

if TYPE_CHECKING:
    from reconciler.findings import Finding
    from reconciler.plan import Plan
    from reconciler.progress import Progress

EXIT_ERROR = 1
LOG_FORMATS = ("console", "json")


class Settings:
    """How stderr is written, set once per run by the CLI (`--log-format`, `--no-color`)."""

    log_format: str | None = None  # None: console on a terminal, json otherwise
    no_color: bool = False


SETTINGS = Settings()


def configure(log_format: str | None = None, no_color: bool = False) -> None:
    SETTINGS.log_format, SETTINGS.no_color = log_format, no_color


def log_format() -> str:
    """The resolved format of stderr: with json, every line on stderr is one JSON object."""
    return SETTINGS.log_format or ("console" if sys.stderr.isatty() else "json")


def color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with --no-color or NO_COLOR (https://no-color.org)."""
    return not SETTINGS.no_color and not os.environ.get("NO_COLOR") and stream.isatty()


def err_line(text: str, level: str = "info", **fields: object) -> None:
    """A message on stderr: as is on a console, one JSON object (text in `event`) with --log-format json."""
    if log_format() == "json":
        record = {"event": text, "level": level, "timestamp": datetime.now(UTC).isoformat(), **fields}
        typer.echo(json.dumps(record, default=str), err=True)
    else:
        typer.echo(text, err=True)


def report_finding(finding: Finding) -> None:
    """A manifest finding on stderr (text with its hint, or one JSON object)."""
    if log_format() == "json":
        err_line(finding.message, level=finding.severity.value, kind="finding", **finding.as_json())
    else:
        typer.echo(finding.format(), err=True)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """One line on stderr, then the exit code: what every user mistake ends with."""
    if log_format() == "json":
        err_line(message, level="error", exitCode=code)
    else:
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

    if color(sys.stdout):
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(render.to_text(result, color=True), end="")
    else:
        typer.echo(render.to_text(result), nl=False)


class TerminalUi:
    """Implements `workflow.Ui` with typer: stdout for results, stderr for problems."""

    def out(self, text: str) -> None:
        typer.echo(text)

    def err(self, text: str) -> None:
        err_line(text, level="warning")

    def __init__(self) -> None:
        self._last_wait = ""

    def show_plan(self, plan: Plan) -> None:
        print_plan(plan)

    def waiting(self, what: str, elapsed: float, limit: float) -> None:
        """While settling: one status line updated in place on a terminal; a line per change otherwise."""
        if sys.stderr.isatty() and log_format() == "console":
            text = (
                f"waiting for operations in flight: {what} ({elapsed:.0f} s of at most {limit:.0f} s)" if what else ""
            )
            sys.stderr.write("\r\x1b[2K" + text)  # an empty text clears the line when the wait ends
            sys.stderr.flush()
        elif what and what != self._last_wait:
            event = "waiting for operations in flight" + ("" if log_format() == "json" else f": {what}")
            err_line(event, computes=what, waitedS=round(elapsed), limitS=round(limit))
        self._last_wait = what

    def confirm(self) -> None:
        from reconciler.workflow import WorkflowError

        if not sys.stdin.isatty():
            raise WorkflowError(
                "refusing to apply without confirmation: no terminal to ask on; pass --auto-approve "
                "(or apply a reviewed plan with --plan FILE)"
            )
        answer = typer.prompt(
            "Do you want to perform these actions? Only 'yes' will be accepted", default="", show_default=False
        )
        if answer.strip() != "yes":
            raise WorkflowError("apply cancelled; nothing was changed")

    def progress(self, time_scale: float) -> Progress:
        from reconciler import progress

        return progress.for_terminal(
            time_scale, live=sys.stderr.isatty() and log_format() == "console", color=color(sys.stderr)
        )

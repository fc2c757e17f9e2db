"""The `reconciler` command line: the typer app, its global options, and the mapping of every outcome to an exit code.

Exit codes: 0 ok, 1 error, 2 changes present (plan --detailed-exitcode only),
64 usage error. The commands live in `reconciler.commands` (one module per group) and
import Azure libraries inside the functions that need them, so `--help` and `validate` start fast.
"""

import os
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from typer._click import exceptions as click_exc
else:
    try:  # typer >= 0.25 vendors click
        from typer._click import exceptions as click_exc
    except ImportError:  # pragma: no cover - older typer, on real click
        from click import exceptions as click_exc

from reconciler import __version__, own_process
from reconciler.commands import emulator, inspect, migration, plan_apply, validate
from reconciler.commands.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    OPTIONS,
    Cloud,
)
from reconciler.terminal import fail

app = typer.Typer(
    name="reconciler",
    help=(
        "Declarative reconciler for Azure ML inference clusters on AKS.\n\n"
        "Commit YAML manifests that say which AKS compute targets each Azure ML workspace must have; "
        "`plan` shows what would change, `apply` makes it so without ever attaching one AKS cluster "
        "twice in a workspace (Azure silently breaks the earlier attachment when that happens).\n\n"
        "Exit codes: 0 ok, 1 error, 2 changes present (plan --detailed-exitcode), 64 usage error, "
        "130 interrupted (Ctrl-C).\n\n"
        "Examples:\n\n"
        "  reconciler validate\n\n"
        "  reconciler plan --out plan.json\n\n"
        "  reconciler apply --plan plan.json\n\n"
        "  reconciler --cloud local apply --auto-approve"
    ),
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,  # plain click help: rich's markdown renderer (markdown_it) costs ~60 ms per start
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


_TYPE_NAMES = {
    "INT RANGE": "INTEGER",
    "FLOAT RANGE": "NUMBER",
    "str": "TEXT",
    "Path": "PATH",
    "path": "PATH",
    "file": "FILE",
    "directory": "DIR",
    "int": "INTEGER",
    "float": "NUMBER",
}


def _readable_help_types() -> None:
    """Help shows TEXT, PATH, a choice or nothing for a flag, never Python types such as `<list[str]>` or `<bool>`."""
    import re

    from typer import core

    def display(original: Any) -> Any:
        def display_type_rich(self: Any, ctx: Any) -> str | None:
            if getattr(self, "is_flag", False):
                return None
            if self.metavar:
                return str(self.metavar)
            text: str | None = original(self, ctx)
            if not text:
                return text
            inner = re.sub(r"^<(?:list\[)?(.*?)\]?>(?:\.\.\.)?$", r"\1", text)
            return _TYPE_NAMES.get(inner, inner if "|" in inner else inner.upper())

        return display_type_rich

    for cls in (core.TyperOption, core.TyperArgument):
        cls.display_type_rich = display(cls.display_type_rich)  # type: ignore[method-assign]


_readable_help_types()


class LogFormat(str, Enum):
    console = "console"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reconciler {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    cloud: Annotated[
        Cloud,
        typer.Option(
            envvar="RECONCILER_CLOUD",
            help="azure: real Azure; local: an in-process emulator with state in .reconciler/",
        ),
    ] = Cloud.azure,
    endpoint: Annotated[
        str | None,
        typer.Option(
            envvar="RECONCILER_ARM_ENDPOINT",
            metavar="URL",
            help="ARM endpoint URL; plain http only for loopback (an emulator)",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            envvar="RECONCILER_LOG_FORMAT",
            help="Format of stderr: console, or json (every line one JSON object). Default: console on a terminal, json otherwise. Also accepted after the command",
        ),
    ] = None,
    no_color: Annotated[
        bool,
        typer.Option("--no-color", help="No colour in any output (also NO_COLOR=1). Also accepted after the command"),
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    OPTIONS.cloud, OPTIONS.endpoint = cloud, endpoint
    if endpoint is not None:
        from reconciler.cloud.auth import CloudConfigError, check_endpoint

        try:
            check_endpoint(endpoint)
        except CloudConfigError as exc:
            fail(str(exc), EXIT_USAGE)
    from reconciler import logs, terminal

    if log_format is not None and terminal.SETTINGS.log_format is None:
        terminal.SETTINGS.log_format = log_format.value
    terminal.SETTINGS.no_color = terminal.SETTINGS.no_color or no_color
    logs.configure(terminal.log_format(), color=terminal.color(sys.stderr))


# Registered in the order `--help` lists them.
app.command()(validate.validate)
app.command()(plan_apply.plan)
app.command()(plan_apply.apply)
app.command("force-unlock")(plan_apply.force_unlock)
app.command("import")(inspect.import_)
app.command("backup-tls")(migration.backup_tls)
app.command()(migration.migrate)
app.command()(inspect.show)
app.command()(inspect.version)
app.command()(inspect.schema)
app.command(context_settings=emulator.CONTEXT_SETTINGS)(emulator.emulator)


ANYWHERE = ("--log-format", "--no-color")  # global options also accepted after the command


def _hoist_global_options(argv: list[str]) -> list[str]:
    """`reconciler plan --log-format json` = `reconciler --log-format json plan`: move them before the command."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg == "--no-color" or arg.startswith("--log-format="):
            front.append(arg)
        elif arg == "--log-format" and i + 1 < len(argv):
            front += argv[i : i + 2]
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _preset_log_format(argv: list[str]) -> None:
    """Know the stderr format before parsing, so that even a usage error is one JSON object with json."""
    from reconciler import terminal

    terminal.configure()
    fmt = os.environ.get("RECONCILER_LOG_FORMAT")
    for i, arg in enumerate(argv):
        if arg == "--log-format" and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif arg.startswith("--log-format="):
            fmt = arg.split("=", 1)[1]
        elif arg == "--no-color":
            terminal.SETTINGS.no_color = True
    if fmt in terminal.LOG_FORMATS:
        terminal.SETTINGS.log_format = fmt


def _usage_error(exc: click_exc.ClickException, code: int) -> int:
    from reconciler import terminal

    if terminal.log_format() == "json":
        terminal.err_line(exc.format_message(), level="error", exitCode=code)
    else:
        exc.show()
    return code


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 64, never 2 (2 means "changes present").

    `argv` is given by in-process callers (tests, the fuzz harness); None means this is the
    process (the console script, `python -m reconciler`).
    """
    # As the process (the console script, `python -m reconciler`), set it up for one short command;
    # a caller running many commands in one process keeps its own settings.
    as_process = argv is None
    if as_process:
        own_process.prepare()
    # Third-party pydantic plugins (found by scanning every installed distribution's entry
    # points, ~50 ms with the Azure SDKs installed) have no business seeing manifests.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from reconciler.terminal import err_line

    args = _hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    _preset_log_format(args)
    try:
        code = app(args=args, prog_name="reconciler", standalone_mode=False)
    except click_exc.UsageError as exc:
        code = _usage_error(exc, EXIT_USAGE)
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        err_line("aborted", level="error")
        code = EXIT_INTERRUPTED
    except click_exc.ClickException as exc:
        code = _usage_error(exc, EXIT_ERROR)
    except KeyboardInterrupt:
        err_line("interrupted", level="error")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `reconciler plan | head`
        sys.stderr.close()
        code = EXIT_OK
    code = code if isinstance(code, int) else EXIT_OK
    if as_process:
        own_process.leave(code)
    sys.exit(code)

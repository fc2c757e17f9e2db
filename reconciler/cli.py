"""The `reconciler` command line (DESIGN §4).

Exit codes: 0 ok, 1 error, 2 changes present (plan --detailed-exitcode only),
64 usage error. Azure libraries are imported inside the commands that need
them, so `--help` and `validate` start fast.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

try:  # typer >= 0.2x vendors click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer
    from click import exceptions as click_exc  # type: ignore[no-redef]

from reconciler import __version__

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2, 64

app = typer.Typer(
    name="reconciler",
    help=(
        "Declarative reconciler for Azure ML inference clusters on AKS.\n\n"
        "Commit YAML manifests that say which AKS compute targets each Azure ML workspace must have; "
        "`plan` shows what would change, `apply` makes it so without ever attaching one AKS cluster "
        "twice in a workspace (Azure silently breaks the earlier attachment when that happens).\n\n"
        "Exit codes: 0 ok, 1 error, 2 changes present (plan --detailed-exitcode), 64 usage error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Cloud(str, Enum):
    azure = "azure"
    local = "local"


class LogFormat(str, Enum):
    console = "console"
    json = "json"


class GlobalOptions:
    cloud: Cloud = Cloud.azure
    endpoint: str | None = None
    log_format: LogFormat | None = None


OPTIONS = GlobalOptions()

PathsArg = Annotated[
    Optional[list[Path]],
    typer.Argument(help="Manifest files or folders (every *.yaml / *.yml below). Default: manifests/", show_default=False),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reconciler {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    cloud: Annotated[Cloud, typer.Option(envvar="RECONCILER_CLOUD", help="azure: real Azure; local: an in-process emulator with state in .reconciler/")] = Cloud.azure,
    endpoint: Annotated[Optional[str], typer.Option(envvar="RECONCILER_ARM_ENDPOINT", help="ARM endpoint URL; plain http only for loopback (an emulator)")] = None,
    log_format: Annotated[Optional[LogFormat], typer.Option(help="Log format on stderr (default: console on a TTY, json otherwise)")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")] = False,
) -> None:
    OPTIONS.cloud, OPTIONS.endpoint, OPTIONS.log_format = cloud, endpoint, log_format


@app.command()
def validate(paths: PathsArg = None) -> None:
    """Check manifests offline: YAML, schema and every domain rule. No network.

    Prints one line per finding (`file:line:col: error|warning RULE: message`) and a
    hint, then a count. Exit 0 when there are no errors (warnings allowed), 1 otherwise.
    """
    from reconciler import loader, rules

    result = loader.load(paths)
    findings = result.findings + rules.check(result)
    for finding in findings:
        typer.echo(finding.format())
    errors = sum(f.is_error for f in findings)
    warnings = len(findings) - errors
    typer.echo(
        f"{_count(errors, 'error')}, {_count(warnings, 'warning')} in {_count(len(result.files), 'file')} "
        f"({_count(len(result.documents), 'document')})"
    )
    raise typer.Exit(EXIT_ERROR if errors else EXIT_OK)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the manifests (also committed as schemas/manifest.schema.json)."""
    from reconciler.manifest import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
def emulator(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one")] = 0,
    seed: Annotated[Optional[Path], typer.Option(help="Seed file (YAML, DESIGN §8)", exists=True, dir_okay=False)] = None,
    state: Annotated[Optional[Path], typer.Option(help="Persist state here (atomically) and resume from it")] = None,
    time_scale: Annotated[float, typer.Option(min=0.0, help="Multiplier of Azure's operation durations (0: instant)")] = 1.0,
    latency_ms: Annotated[int, typer.Option(min=0, help="Delay every response by this many milliseconds")] = 0,
    faults: Annotated[Optional[str], typer.Option(help='Fault rates, e.g. "429=0.1,500=0.05,reset=0.02,lro-fail=0.05"')] = None,
    fault_seed: Annotated[Optional[int], typer.Option(help="Seed for deterministic faults")] = None,
) -> None:
    """Run the local ARM emulator (Azure ML computes + AKS) on loopback until interrupted.

    The first line printed is `listening on http://127.0.0.1:PORT`.
    """
    from reconciler.emulator import serve

    try:
        serve(port=port, seed=seed, state_file=state, time_scale=time_scale, latency_ms=latency_ms, faults=faults, fault_seed=fault_seed)
    except ValueError as exc:
        _fail(str(exc))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: click's usage errors exit 64, never 2 (2 means "changes present")."""
    try:
        code = app(args=argv, prog_name="reconciler", standalone_mode=False)
    except click_exc.UsageError as exc:
        exc.show()
        code = EXIT_USAGE
    except (click_exc.Exit, typer.Exit) as exc:
        code = exc.exit_code
    except (click_exc.Abort, typer.Abort):
        typer.echo("aborted", err=True)
        code = 130
    except click_exc.ClickException as exc:
        exc.show()
        code = EXIT_ERROR
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    sys.exit(code if isinstance(code, int) else EXIT_OK)

"""The `reconciler` command line.

Exit codes: 0 ok, 1 error, 2 changes present (plan --detailed-exitcode only),
64 usage error. Azure libraries are imported inside the commands that need
them, so `--help` and `validate` start fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

try:  # typer >= 0.25 vendors click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer, on real click
    from click import exceptions as click_exc  # type: ignore[no-redef]

from reconciler import __version__
from reconciler.terminal import count, fail, user_errors

if TYPE_CHECKING:
    from reconciler.desired import Desired
    from reconciler.workflow import Cloud as CloudClients

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
    from reconciler import logs

    logs.configure(log_format.value if log_format else None)


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
        f"{count(errors, 'error')}, {count(warnings, 'warning')} in {count(len(result.files), 'file')} "
        f"({count(len(result.documents), 'document')})"
    )
    raise typer.Exit(EXIT_ERROR if errors else EXIT_OK)


class PlanFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


TargetOpt = Annotated[Optional[list[str]], typer.Option("--target", help="Limit to this compute name or address (WORKSPACE/NAME), plus what it depends on; repeatable")]
TlsBackupsOpt = Annotated[Path, typer.Option("--tls-backups", envvar="RECONCILER_TLS_BACKUPS", help="Folder of `backup-tls` backups: a detach or re-attach of a leaf-label TLS compute needs one there")]
BackupTlsOpt = Annotated[bool, typer.Option("--backup-tls", help="Save a leaf-label TLS certificate into --tls-backups (AKS Run Command) as the first step of its detach or re-attach")]
ReplaceOpt = Annotated[Optional[list[str]], typer.Option("--replace", help="Allow or force replacing this compute (delete + re-create a created cluster); repeatable")]


@app.command()
def plan(
    paths: PathsArg = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Also write the plan as JSON to this file (mode 0600), for `apply --plan`")] = None,
    format: Annotated[PlanFormat, typer.Option("--format", help="Output on stdout: text, json (the plan file) or markdown (pull-request comment)")] = PlanFormat.text,
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when there are none")] = False,
    target: TargetOpt = None,
    replace: ReplaceOpt = None,
    tls_backups: TlsBackupsOpt = Path("tls-backups"),
    backup_tls: BackupTlsOpt = False,
) -> None:
    """Observe the workspaces and AKS clusters and show what `apply` would change.

    Exit 0 ok, 1 error (invalid manifests, Azure errors, plan errors), 2 changes present
    (only with --detailed-exitcode).
    """
    from reconciler import planfile, render, workflow
    from reconciler.plan import PlanOptions
    from reconciler.terminal import print_plan

    desired = _load_desired(paths)
    with user_errors(), _connection() as cloud:
        result = workflow.plan(desired, cloud, PlanOptions(frozenset(target or []), frozenset(replace or [])), tls_backups=tls_backups,
                               backup_tls=backup_tls)
    if format is PlanFormat.json:
        typer.echo(render.to_json(result), nl=False)
    elif format is PlanFormat.markdown:
        typer.echo(render.to_markdown(result), nl=False)
    else:
        print_plan(result)
    if out is not None:
        planfile.write(out, result)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


def _load_desired(paths: list[Path] | None) -> "Desired":
    from reconciler import workflow

    with user_errors():
        return workflow.load(paths, lambda line: typer.echo(line, err=True))


def _connection() -> "contextlib.AbstractContextManager[CloudClients]":
    from reconciler import workflow

    return workflow.connect(OPTIONS.endpoint, local=OPTIONS.cloud is Cloud.local)


@app.command()
def apply(
    paths: PathsArg = None,
    plan_file: Annotated[Optional[Path], typer.Option("--plan", help="Apply this saved plan (from `plan --out`); refused if anything it touches changed since", exists=True, dir_okay=False)] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation (required without a TTY)")] = False,
    parallelism: Annotated[int, typer.Option(min=1, max=100, help="Operations on independent clusters run at once")] = 10,
    lock_timeout: Annotated[float, typer.Option(min=0, help="Seconds to wait for another apply's workspace lock")] = 0.0,
    operation_timeout: Annotated[Optional[float], typer.Option(min=1, help="Seconds each Azure operation may take (default: Azure's typical duration x3, at least 300)")] = None,
    settle_timeout: Annotated[float, typer.Option(min=0, help="Seconds to wait for operations already in flight before planning")] = 900.0,
    target: TargetOpt = None,
    replace: ReplaceOpt = None,
    tls_backups: TlsBackupsOpt = Path("tls-backups"),
    backup_tls: BackupTlsOpt = False,
    accept_new_domain: Annotated[bool, typer.Option("--accept-new-domain", help="Detach or re-attach a leaf-label TLS compute without a certificate backup: its scoring FQDN changes")] = False,
) -> None:
    """Plan, confirm, execute and verify: make the workspaces match the manifests.

    Detaches always run before attaches of the same cluster, operations on one
    cluster never overlap, and each attach re-reads the workspace first. Safe to run
    again after any failure or crash: state lives in Azure. Exit 0 converged, 1 error.
    """
    from reconciler import workflow

    desired = _load_desired(paths)
    options = workflow.ApplyOptions(
        frozenset(target or []), frozenset(replace or []), plan_file, auto_approve, parallelism, lock_timeout,
        operation_timeout, settle_timeout, tls_backups, accept_new_domain, backup_tls,
    )
    from reconciler.terminal import TerminalUi

    with user_errors():
        outcome = workflow.apply(desired, _connection, options, TerminalUi())
    raise typer.Exit(outcome.exit_code)


@app.command("force-unlock")
def force_unlock(
    workspace: Annotated[str, typer.Argument(help="Workspace alias (metadata.name) from the manifests, or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE")],
    paths: Annotated[Optional[list[Path]], typer.Option("--manifests", help="Manifests that declare the workspace (default: manifests/)")] = None,
) -> None:
    """Break a workspace lock left by an apply that can no longer release it.

    Only for a lock whose holder is gone (a killed pipeline): a running apply keeps
    its lock alive and must be stopped instead.
    """
    from reconciler import workflow

    with user_errors():
        message = workflow.force_unlock(workspace, paths)
    typer.echo(message)


@app.command("import")
def import_(
    workspace: Annotated[str, typer.Option("--workspace", help="SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE to read")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the manifests into")] = Path("manifests"),
    alias: Annotated[Optional[str], typer.Option("--alias", help="metadata.name of the Workspace manifest (default: the workspace name)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite manifest files that already exist")] = False,
) -> None:
    """Write manifests for the AKS computes a workspace already has.

    One manifest per compute (attach form for attached clusters, create form for
    created ones), plus the Workspace manifest. TLS certificates and keys are never returned by Azure: they become references to fill
    in, listed at the end. Then `reconciler plan OUT` shows no changes.
    """
    from reconciler import workflow

    with user_errors():
        written, notes = workflow.import_manifests(workspace, out, alias, force, _connection)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"wrote {count(written, 'manifest')} to {out}")


@app.command("backup-tls")
def backup_tls(
    compute: Annotated[str, typer.Argument(help="Name of a legacy AKS compute with TLS enabled")],
    workspace: Annotated[Optional[str], typer.Option("--workspace", help="Workspace alias from the manifests, or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE (default: the manifests' only workspace)")] = None,
    out: Annotated[Path, typer.Option("--out", help="Backup folder (files land in OUT/WORKSPACE/COMPUTE/)")] = Path("tls-backups"),
    paths: Annotated[Optional[list[Path]], typer.Option("--manifests", help="Manifests that declare the workspace (default: manifests/)")] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds the Run Command may take")] = 300.0,
) -> None:
    """Save the TLS certificate and key of a legacy AKS compute (secret azuremlfessl) as PEM files.

    Read through AKS Run Command (no kubeconfig needed); files are created with mode 0600 and
    never overwritten; their content is never printed. A re-attach (or the Kubernetes compute's
    extension) can then use them as a custom certificate with the same cname, keeping the FQDN.
    """
    from reconciler import workflow

    with user_errors():
        where, names = workflow.backup_tls(compute, workspace, paths, out, timeout, _connection, lambda line: typer.echo(line, err=True))
    typer.echo(f"saved {where}/cert.pem and {where}/key.pem (mode 0600)")
    if names:
        typer.echo(f"certificate for: {', '.join(names)} (use it as tls.cname to keep this name)")


class MigrationStrategy(str, Enum):
    new_cluster = "new-cluster"
    same_cluster = "same-cluster"


@app.command()
def migrate(
    paths: PathsArg = None,
    strategy: Annotated[MigrationStrategy, typer.Option("--strategy", help="new-cluster: blue/green on another cluster, no downtime; same-cluster: detach, clean up, install, attach (downtime)")] = MigrationStrategy.new_cluster,
    target_cluster: Annotated[Optional[str], typer.Option("--target-cluster", help="ARM id of the AKS cluster that gets the extension (new-cluster)")] = None,
    out: Annotated[Path, typer.Option("--out", help="Empty folder for the new manifests and MIGRATION.md")] = Path("migrated"),
    tls_backups: TlsBackupsOpt = Path("tls-backups"),
) -> None:
    """Write Kubernetes-compute manifests replacing the legacy InferenceClusters, and OUT/MIGRATION.md.

    Reads the manifests and what Azure holds; writes a ClusterExtension per cluster and a
    KubernetesCompute per legacy compute (namespace named after it, `replaces` naming it), the
    other documents carried over, and MIGRATION.md: what changes per compute (scoring URL, keys,
    TLS, cluster-wide settings and their conflicts), the phases, the downtime and the commands.
    Then `plan OUT` / `apply OUT` do the migration. Nothing is overwritten.
    """
    from reconciler import workflow

    with user_errors():
        written, notes = workflow.migrate(paths, strategy.value, target_cluster, out, tls_backups, _connection)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"wrote {count(len(written), 'file')} to {out}: {', '.join(written)}")
    typer.echo(f"next: read {out}/MIGRATION.md, then `reconciler plan {out}`")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the manifests (also committed as schemas/manifest.schema.json)."""
    from reconciler.manifest import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []})
def emulator(ctx: typer.Context) -> None:
    """Run the local ARM emulator (Azure ML computes + AKS) on loopback until interrupted.

    The first line printed is `listening on http://127.0.0.1:PORT`. Options: `reconciler emulator --help`.
    """
    from reconciler.emulator.runner import run

    raise typer.Exit(run(ctx.args, prog="reconciler emulator", usage_exit=EXIT_USAGE))


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 64, never 2 (2 means "changes present")."""
    try:
        code = app(args=argv, prog_name="reconciler", standalone_mode=False)
    except click_exc.UsageError as exc:
        exc.show()
        code = EXIT_USAGE
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        code = 130
    except click_exc.ClickException as exc:
        exc.show()
        code = EXIT_ERROR
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    except BrokenPipeError:  # e.g. `reconciler plan | head`
        sys.stderr.close()
        code = EXIT_OK
    sys.exit(code if isinstance(code, int) else EXIT_OK)

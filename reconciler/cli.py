"""The `reconciler` command line.

Exit codes: 0 ok, 1 error, 2 changes present (plan --detailed-exitcode only),
64 usage error. Azure libraries are imported inside the commands that need
them, so `--help` and `validate` start fast.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

try:  # typer >= 0.25 vendors click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer, on real click
    from click import exceptions as click_exc  # type: ignore[no-redef]

from reconciler import __version__
from reconciler.throttling import DEFAULT_PARALLELISM, MAX_PARALLELISM
from reconciler.terminal import count, fail, user_errors

if TYPE_CHECKING:
    from reconciler.desired import Desired
    from reconciler.workflow import Cloud as CloudClients

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 64, 130

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


_TYPE_NAMES = {"INT RANGE": "INTEGER", "FLOAT RANGE": "NUMBER", "str": "TEXT", "Path": "PATH", "path": "PATH", "file": "FILE", "directory": "DIR", "int": "INTEGER",
               "float": "NUMBER"}


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
    typer.Argument(help="Manifest files or folders (every *.yaml / *.yml below). Default: manifests/", show_default=False, metavar="PATH"),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reconciler {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    cloud: Annotated[Cloud, typer.Option(envvar="RECONCILER_CLOUD", help="azure: real Azure; local: an in-process emulator with state in .reconciler/")] = Cloud.azure,
    endpoint: Annotated[Optional[str], typer.Option(envvar="RECONCILER_ARM_ENDPOINT", metavar="URL", help="ARM endpoint URL; plain http only for loopback (an emulator)")] = None,
    log_format: Annotated[Optional[LogFormat], typer.Option(envvar="RECONCILER_LOG_FORMAT", help="Format of stderr: console, or json (every line one JSON object). Default: console on a terminal, json otherwise. Also accepted after the command")] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour in any output (also NO_COLOR=1). Also accepted after the command")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")] = False,
) -> None:
    OPTIONS.cloud, OPTIONS.endpoint, OPTIONS.log_format = cloud, endpoint, log_format
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


class ValidateFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    azure_pipelines = "azure-pipelines"


@app.command()
def validate(
    paths: PathsArg = None,
    format: Annotated[ValidateFormat, typer.Option("--format", help="text: findings on stderr, the count on stdout; json: one JSON document on stdout; github: GitHub Actions annotations (::error file=…,line=…,col=…::) on stdout; azure-pipelines: ##vso[task.logissue] commands on stdout")] = ValidateFormat.text,
) -> None:
    """Check manifests offline: YAML, schema and every domain rule. No network.

    Prints one line per finding (`file:line:col: error|warning RULE: message`) and a
    hint, then a count. Exit 0 when there are no errors (warnings allowed), 1 otherwise.

    Examples:

      reconciler validate

      reconciler validate manifests/ --format github

      reconciler validate --format json | jq '.findings[] | select(.severity == "error")'
    """
    from datetime import datetime, timezone

    from reconciler import loader, rules, secrets
    from reconciler.terminal import report_finding

    result = loader.load(paths)
    findings = result.findings + rules.check(result) + secrets.pem_findings(result.clusters, datetime.now(timezone.utc))
    errors = sum(f.is_error for f in findings)
    warnings = len(findings) - errors
    summary = (f"{count(errors, 'error')}, {count(warnings, 'warning')} in {count(len(result.files), 'file')} "
               f"({count(len(result.documents), 'document')})")
    if format is ValidateFormat.json:
        doc = {"errors": errors, "warnings": warnings, "files": len(result.files), "documents": len(result.documents),
               "findings": [f.as_json() for f in findings]}
        typer.echo(json.dumps(doc, indent=2))
    elif format in (ValidateFormat.github, ValidateFormat.azure_pipelines):
        for finding in findings:
            typer.echo(finding.github_annotation() if format is ValidateFormat.github else finding.azure_pipelines_issue())
        typer.echo(summary)
    else:
        for finding in findings:
            report_finding(finding)
        typer.echo(summary)
    raise typer.Exit(EXIT_ERROR if errors else EXIT_OK)


class LockMode(str, Enum):
    auto = "auto"
    blob = "blob"
    file = "file"


class PlanFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


TargetOpt = Annotated[Optional[list[str]], typer.Option("--target", metavar="NAME", help="Limit to this compute name or address (WORKSPACE/NAME), plus what it depends on; repeatable")]
ReplaceOpt = Annotated[Optional[list[str]], typer.Option("--replace", metavar="NAME", help="Allow or force replacing this compute (delete + re-create a created cluster); repeatable")]
TlsBackupsOpt = Annotated[Path, typer.Option("--tls-backups", envvar="RECONCILER_TLS_BACKUPS", help="Folder of `backup-tls` backups: a detach or re-attach of a leaf-label TLS compute needs one there")]
BackupTlsOpt = Annotated[bool, typer.Option("--backup-tls", help="Save a leaf-label TLS certificate into --tls-backups (AKS Run Command) as the first step of its detach or re-attach")]


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

    Examples:

      reconciler plan

      reconciler plan manifests/ --out plan.json --format markdown > comment.md

      reconciler plan --target prod/scoring --detailed-exitcode
    """
    from reconciler import planfile, render, workflow
    from reconciler.plan import PlanOptions
    from reconciler.terminal import print_plan

    desired = _load_desired(paths)
    with user_errors(), _connection() as cloud:
        result = workflow.plan(desired, cloud, PlanOptions(frozenset(target or []), frozenset(replace or [])), tls_backups=tls_backups,
                               backup_tls=backup_tls)
    if format is PlanFormat.json:
        typer.echo(planfile.to_json(result, desired), nl=False)
    elif format is PlanFormat.markdown:
        import os

        typer.echo(render.to_markdown(result, ci=render.ci_run(os.environ)), nl=False)
    else:
        print_plan(result)
    if out is not None:
        try:
            planfile.write(out, result, desired)
        except planfile.PlanFileError as exc:
            fail(str(exc))
    if result.errors:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


def _load_desired(paths: list[Path] | None) -> "Desired":
    from reconciler import workflow

    with user_errors():
        from reconciler.terminal import report_finding

        return workflow.load(paths, report_finding)


def _connection() -> "contextlib.AbstractContextManager[CloudClients]":
    from reconciler import workflow

    return workflow.connect(OPTIONS.endpoint, local=OPTIONS.cloud is Cloud.local)


MAX_TIMEOUT_SECONDS = 7 * 24 * 3600


def _finite(value: float | None, name: str) -> float | None:
    """Timeouts must be real numbers of seconds: inf, nan or 1e309 would break every deadline."""
    import math

    if value is not None and (math.isnan(value) or not 0 <= value <= MAX_TIMEOUT_SECONDS):
        raise typer.BadParameter(f"{value} is not a number of seconds between 0 and {MAX_TIMEOUT_SECONDS}", param_hint=name)
    return value


@app.command()
def apply(
    paths: PathsArg = None,
    plan_file: Annotated[Optional[Path], typer.Option("--plan", help="Apply this saved plan (from `plan --out`); refused if anything it touches changed since", exists=True, dir_okay=False)] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation (required without a TTY)")] = False,
    parallelism: Annotated[int, typer.Option(min=1, max=MAX_PARALLELISM, help="Operations on independent clusters run at once (default: what ARM's per-subscription request limits sustain, see the README)")] = DEFAULT_PARALLELISM,
    lock_timeout: Annotated[float, typer.Option(min=0, callback=lambda v: _finite(v, "--lock-timeout"), help="Seconds to wait for another apply's workspace lock")] = 0.0,
    operation_timeout: Annotated[Optional[float], typer.Option(min=1, callback=lambda v: _finite(v, "--operation-timeout"), help="Seconds each Azure operation may take (default: Azure's typical duration x3, at least 300)")] = None,
    settle_timeout: Annotated[float, typer.Option(min=0, callback=lambda v: _finite(v, "--settle-timeout"), help="Seconds to wait for operations already in flight before planning")] = 900.0,
    target: TargetOpt = None,
    replace: ReplaceOpt = None,
    lock: Annotated[LockMode, typer.Option("--lock", help="auto: the lock the manifests set, else on Azure a Blob lease in the workspace's storage account (role Storage Blob Data Contributor), else a local file; file: this machine only; blob: a shared lock or an error")] = LockMode.auto,
    tls_backups: TlsBackupsOpt = Path("tls-backups"),
    backup_tls: BackupTlsOpt = False,
    accept_new_domain: Annotated[bool, typer.Option("--accept-new-domain", help="Detach or re-attach a leaf-label TLS compute without a certificate backup: its scoring FQDN changes")] = False,
) -> None:
    """Plan, confirm, execute and verify: make the workspaces match the manifests.

    Detaches always run before attaches of the same cluster, operations on one
    cluster never overlap, and each attach re-reads the workspace first. Safe to run
    again after any failure or crash: state lives in Azure. Exit 0 converged, 1 error,
    130 interrupted (Ctrl-C: the first waits for operations running in Azure, a second stops waiting).

    Examples:

      reconciler apply

      reconciler apply --plan plan.json

      reconciler apply --auto-approve --target prod/scoring --lock-timeout 600
    """
    from reconciler import workflow

    desired = _load_desired(paths)
    options = workflow.ApplyOptions(
        frozenset(target or []), frozenset(replace or []), plan_file, auto_approve, parallelism, lock_timeout,
        operation_timeout, settle_timeout, lock.value, tls_backups, accept_new_domain, backup_tls,
    )
    from reconciler.terminal import TerminalUi

    try:
        with user_errors():
            outcome = workflow.apply(desired, _connection, options, TerminalUi())
    except typer.Exit as exc:
        if exc.exit_code == EXIT_INTERRUPTED and workflow.abandoned_operations():
            # A second Ctrl-C: worker threads still wait on Azure operations, and a normal exit would join them.
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        raise
    raise typer.Exit(outcome.exit_code)


@app.command("force-unlock")
def force_unlock(
    workspace: Annotated[str, typer.Argument(help="Workspace alias (metadata.name) from the manifests, or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE")],
    paths: Annotated[Optional[list[Path]], typer.Option("--manifests", help="Manifests that declare the workspace (default: manifests/)")] = None,
    lock: Annotated[LockMode, typer.Option("--lock", help="Which lock to break, as for apply (auto: on Azure the Blob lease in the workspace's storage account)")] = LockMode.auto,
) -> None:
    """Break a workspace lock left by an apply that can no longer release it.

    Only for a lock whose holder is gone (a killed pipeline): a running apply keeps
    its lock alive and must be stopped instead.

    Examples:

      reconciler force-unlock prod

      reconciler force-unlock SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE
    """
    from reconciler import workflow

    with user_errors():
        message = workflow.force_unlock(workspace, paths, lock.value, _connection)
    typer.echo(message)


@app.command("import")
def import_(
    workspace: Annotated[str, typer.Option("--workspace", help="SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE to read")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the manifests into")] = Path("manifests"),
    alias: Annotated[Optional[str], typer.Option("--alias", help="metadata.name of the Workspace manifest (default: the workspace name)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite manifest files that already exist")] = False,
    schema_dir: Annotated[Optional[Path], typer.Option("--schema-dir", metavar="DIR", file_okay=False, help="Write the JSON Schema here; the manifests' modeline points at it (default: OUT/../schemas)")] = None,
) -> None:
    """Write manifests for the AKS computes a workspace already has.

    One manifest per compute (attach form for attached clusters, create form for
    created ones), plus the Workspace manifest. TLS certificates and keys are never returned by Azure: they become references to fill
    in, listed at the end. Then `reconciler plan OUT` shows no changes.

    Examples:

      reconciler import --workspace 00000000-0000-0000-0000-000000000000/ml-rg/ml-prod --out manifests/
    """
    from reconciler import workflow

    with user_errors():
        written, notes = workflow.import_manifests(workspace, out, alias, force, _connection, schema_dir)
    from reconciler.terminal import err_line

    for note in notes:
        err_line(f"note: {note}", level="warning")
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


class ShowFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def show(
    paths: PathsArg = None,
    format: Annotated[ShowFormat, typer.Option("--format", help="table, or json (computes[] and missingWorkspaces[])")] = ShowFormat.table,
) -> None:
    """Show what the declared workspaces hold now: AKS computes, their clusters, owners and states.

    Read-only; every AKS compute of each workspace is listed, declared in the manifests or not.

    Examples:

      reconciler show

      reconciler show manifests/ --format json | jq '.computes[] | select(.state != "Succeeded")'
    """
    from reconciler import show as shown
    from reconciler import workflow

    desired = _load_desired(paths)
    with user_errors(), _connection() as cloud:
        found, missing = workflow.show(desired, cloud)
    typer.echo(shown.to_json(found, missing) if format is ShowFormat.json else shown.to_text(found, missing), nl=False)


@app.command()
def version() -> None:
    """Print the version (the same as --version), to pin in pipelines.

    Examples:

      reconciler version
    """
    typer.echo(f"reconciler {__version__}")


@app.command()
def schema(
    write: Annotated[Optional[Path], typer.Option("--write", metavar="DIR", file_okay=False, help="Write DIR/manifest.schema.json instead of printing, and print the modeline for manifests next to it")] = None,
) -> None:
    """Print the JSON Schema of the manifests (also committed as schemas/manifest.schema.json).

    Editors with yaml-language-server (VS Code's YAML extension, Neovim, ...) validate and
    complete a manifest whose first line is `# yaml-language-server: $schema=PATH`.

    Examples:

      reconciler schema --write schemas

      reconciler schema > schemas/manifest.schema.json
    """
    if write is None:
        from reconciler.manifest import json_schema

        typer.echo(json.dumps(json_schema(), indent=2))
        return
    from reconciler import workflow

    with user_errors():
        target = workflow.write_schema(write)
    typer.echo(f"wrote {target}")
    typer.echo(f"first line of manifests in a sibling folder: # yaml-language-server: $schema=../{write.name}/{target.name}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []})
def emulator(ctx: typer.Context) -> None:
    """Run the local ARM emulator (Azure ML computes + AKS) on loopback until interrupted.

    The first line printed is `listening on http://127.0.0.1:PORT`. Options: `reconciler emulator --help`.
    """
    from reconciler.emulator.runner import run

    raise typer.Exit(run(ctx.args, prog="reconciler emulator", usage_exit=EXIT_USAGE))


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
            front += argv[i:i + 2]
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


def _usage_error(exc: "click_exc.ClickException", code: int) -> int:
    from reconciler import terminal

    if terminal.log_format() == "json":
        terminal.err_line(exc.format_message(), level="error", exitCode=code)
    else:
        exc.show()
    return code


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 64, never 2 (2 means "changes present")."""
    # The garbage collector need not revisit what is alive now (the imported modules), and
    # at exit need not visit anything: the process ends; that last collection of every
    # object (the manifests, the observed state) cost 0.1-0.2 s for 1,000 computes.
    gc.freeze()
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
    gc.freeze()
    sys.exit(code if isinstance(code, int) else EXIT_OK)

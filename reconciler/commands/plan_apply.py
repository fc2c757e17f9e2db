"""`plan`, `apply` and `force-unlock`: the commands that change Azure, and the options they share (targets, locks).

Each parses its options and calls `reconciler.workflow`; the orchestration lives there.
"""

import contextlib
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.commands.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PathsArg,
    TlsBackupsOpt,
    connection,
    load_desired,
)
from reconciler.terminal import fail, user_errors
from reconciler.throttling import DEFAULT_PARALLELISM, MAX_PARALLELISM


class LockMode(str, Enum):
    auto = "auto"
    blob = "blob"
    file = "file"


class PlanFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        metavar="NAME",
        help="Limit to this compute name or address (WORKSPACE/NAME), plus what it depends on; repeatable",
    ),
]
ReplaceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--replace",
        metavar="NAME",
        help="Allow or force replacing this compute (delete + re-create a created cluster); repeatable",
    ),
]
BackupTlsOpt = Annotated[
    bool,
    typer.Option(
        "--backup-tls",
        help="Save a leaf-label TLS certificate into --tls-backups (AKS Run Command) as the first step of its detach or re-attach",
    ),
]


def plan(
    paths: PathsArg = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the plan as JSON to this file (mode 0600), for `apply --plan`"),
    ] = None,
    format: Annotated[
        PlanFormat,
        typer.Option(
            "--format", help="Output on stdout: text, json (the plan file) or markdown (pull-request comment)"
        ),
    ] = PlanFormat.text,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when there are none")
    ] = False,
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

    desired = load_desired(paths)
    with user_errors(), connection() as cloud:
        result = workflow.plan(
            desired,
            cloud,
            PlanOptions(frozenset(target or []), frozenset(replace or [])),
            tls_backups=tls_backups,
            backup_tls=backup_tls,
        )
    if format is PlanFormat.json:
        typer.echo(planfile.to_json(result, desired), nl=False)
    elif format is PlanFormat.markdown:
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


MAX_TIMEOUT_SECONDS = 7 * 24 * 3600


def _finite(value: float | None, name: str) -> float | None:
    """Timeouts must be real numbers of seconds: inf, nan or 1e309 would break every deadline."""
    import math

    if value is not None and (math.isnan(value) or not 0 <= value <= MAX_TIMEOUT_SECONDS):
        raise typer.BadParameter(
            f"{value} is not a number of seconds between 0 and {MAX_TIMEOUT_SECONDS}", param_hint=name
        )
    return value


def apply(
    paths: PathsArg = None,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="Apply this saved plan (from `plan --out`); refused if anything it touches changed since",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Do not ask for confirmation (required without a TTY)")
    ] = False,
    parallelism: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_PARALLELISM,
            help="Operations on independent clusters run at once (default: what ARM's per-subscription request limits sustain, see the README)",
        ),
    ] = DEFAULT_PARALLELISM,
    lock_timeout: Annotated[
        float,
        typer.Option(
            min=0,
            callback=lambda v: _finite(v, "--lock-timeout"),
            help="Seconds to wait for another apply's workspace lock",
        ),
    ] = 0.0,
    operation_timeout: Annotated[
        float | None,
        typer.Option(
            min=1,
            callback=lambda v: _finite(v, "--operation-timeout"),
            help="Seconds each Azure operation may take (default: Azure's typical duration x3, at least 300)",
        ),
    ] = None,
    settle_timeout: Annotated[
        float,
        typer.Option(
            min=0,
            callback=lambda v: _finite(v, "--settle-timeout"),
            help="Seconds to wait for operations already in flight before planning",
        ),
    ] = 900.0,
    target: TargetOpt = None,
    replace: ReplaceOpt = None,
    lock: Annotated[
        LockMode,
        typer.Option(
            "--lock",
            help="auto: the lock the manifests set, else on Azure a Blob lease in the workspace's storage account (role Storage Blob Data Contributor), else a local file; file: this machine only; blob: a shared lock or an error",
        ),
    ] = LockMode.auto,
    tls_backups: TlsBackupsOpt = Path("tls-backups"),
    backup_tls: BackupTlsOpt = False,
    accept_new_domain: Annotated[
        bool,
        typer.Option(
            "--accept-new-domain",
            help="Detach or re-attach a leaf-label TLS compute without a certificate backup: its scoring FQDN changes",
        ),
    ] = False,
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

    desired = load_desired(paths)
    options = workflow.ApplyOptions(
        frozenset(target or []),
        frozenset(replace or []),
        plan_file,
        auto_approve,
        parallelism,
        lock_timeout,
        operation_timeout,
        settle_timeout,
        lock.value,
        tls_backups,
        accept_new_domain,
        backup_tls,
    )
    from reconciler.terminal import TerminalUi

    try:
        with user_errors():
            outcome = workflow.apply(desired, connection, options, TerminalUi())
    except typer.Exit as exc:
        if exc.exit_code == EXIT_INTERRUPTED and workflow.abandoned_operations():
            # A second Ctrl-C: worker threads still wait on Azure operations, and a normal exit would join them.
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        raise
    raise typer.Exit(outcome.exit_code)


def force_unlock(
    workspace: Annotated[
        str,
        typer.Argument(
            help="Workspace alias (metadata.name) from the manifests, or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE"
        ),
    ],
    paths: Annotated[
        list[Path] | None,
        typer.Option("--manifests", help="Manifests that declare the workspace (default: manifests/)"),
    ] = None,
    lock: Annotated[
        LockMode,
        typer.Option(
            "--lock",
            help="Which lock to break, as for apply (auto: on Azure the Blob lease in the workspace's storage account)",
        ),
    ] = LockMode.auto,
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
        message = workflow.force_unlock(workspace, paths, lock.value, connection)
    typer.echo(message)

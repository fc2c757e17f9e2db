"""Where plan and apply happen: load → observe → plan → (confirm) → execute → verify.

The CLI parses options and prints; benchmarks and tests call these functions directly,
so they measure and exercise what users run. No typer and no `sys.exit` here: a user
mistake or an Azure error raises `WorkflowError`, which carries the exit code.

This module holds the orchestration (`plan`, `apply`); the jobs it calls on live next to it,
each in a module named for it, and are re-exported here so `workflow.X` keeps working:
`failure` (WorkflowError, exit codes), `connection` (Cloud, connect, the local cloud),
`settle` (waiting for operations in flight), `locking` (choosing and taking the workspace locks,
force-unlock), `preflight`, `interrupt` (Ctrl-C), `importing` (import, schema) and `legacy`
(backup-tls, migrate).

Seams for later work, each one place:
- locks: `apply(..., locks=...)` takes the factory of the workspace locks (today the
  backend each workspace's manifest selects, see `reconciler.lock` and `reconciler.locking`);
- preflight: `preflight()` runs after the plan is confirmed and before the first step;
- saved plans: `planfile.read` is where a binding digest would be checked;
- interruption: `_execute` is the one place steps run, and where Ctrl-C is handled (`_ctrl_c`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reconciler import planfile, planner, render
from reconciler.connection import Cloud as Cloud
from reconciler.connection import _endpoint as _endpoint
from reconciler.connection import cloud_errors as cloud_errors
from reconciler.connection import connect as connect
from reconciler.desired import Desired
from reconciler.failure import EXIT_CHANGES as EXIT_CHANGES
from reconciler.failure import EXIT_ERROR as EXIT_ERROR
from reconciler.failure import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from reconciler.failure import EXIT_OK as EXIT_OK
from reconciler.failure import EXIT_USAGE as EXIT_USAGE
from reconciler.failure import WorkflowError as WorkflowError
from reconciler.failure import fail as fail
from reconciler.importing import SCHEMA_FILE as SCHEMA_FILE
from reconciler.importing import import_manifests as import_manifests
from reconciler.importing import write_schema as write_schema
from reconciler.interrupt import _ABANDONED as _ABANDONED
from reconciler.interrupt import Interrupted as Interrupted
from reconciler.interrupt import _ctrl_c as _ctrl_c
from reconciler.interrupt import _describe as _describe
from reconciler.interrupt import abandoned_operations as abandoned_operations
from reconciler.legacy import _workspace_ref as _workspace_ref
from reconciler.legacy import backup_tls as backup_tls
from reconciler.legacy import migrate as migrate
from reconciler.locking import LockFactory as LockFactory
from reconciler.locking import _default_locks as _default_locks
from reconciler.locking import _lock_backend as _lock_backend
from reconciler.locking import _workspace_for_unlock as _workspace_for_unlock
from reconciler.locking import force_unlock as force_unlock
from reconciler.locking import workspace_locks as workspace_locks
from reconciler.plan import Plan, PlanOptions
from reconciler.preflight import preflight as preflight
from reconciler.settle import Waiting as Waiting
from reconciler.settle import _log_waiting as _log_waiting
from reconciler.settle import settle as settle
from reconciler.state import ObservedState
from reconciler.throttling import DEFAULT_PARALLELISM

if TYPE_CHECKING:
    from reconciler.executor import ApplyResult
    from reconciler.findings import Finding
    from reconciler.progress import Progress
    from reconciler.show import ComputeRow


@dataclass(frozen=True)
class ApplyOptions:
    """Everything `apply` is asked to do beyond the manifests."""

    targets: frozenset[str] = frozenset()
    replace: frozenset[str] = frozenset()
    plan_file: Path | None = None
    auto_approve: bool = False
    parallelism: int = DEFAULT_PARALLELISM
    lock_timeout: float = 0.0
    operation_timeout: float | None = None
    settle_timeout: float = 900.0
    lock: str = "auto"  # auto | blob | file
    tls_backups: Path = Path("tls-backups")  # where `backup-tls` saved leaf-label certificates
    accept_new_domain: bool = False  # detach/re-attach a leaf-label TLS compute without a backup
    backup_tls: bool = False  # plan a save-tls step (AKS Run Command) before losing a leaf-label certificate


class Ui(Protocol):
    """What the workflow shows and asks; the CLI prints to the terminal, benchmarks stay quiet."""

    def out(self, text: str) -> None: ...  # a line on stdout

    def err(self, text: str) -> None: ...  # a line on stderr

    def show_plan(self, plan: Plan) -> None: ...

    def confirm(self) -> None: ...  # returns when approved, raises WorkflowError otherwise

    def progress(self, time_scale: float) -> Progress: ...


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- loading ----------------------------------------------------------------------------------
def load(paths: list[Path] | None, report: Callable[[Finding], None]) -> Desired:
    """Load + offline rules, each finding reported; any error ends with exit 1 before any network call."""
    from reconciler import loader, rules, secrets
    from reconciler.desired import desired_from

    result = loader.load(paths)
    findings = result.findings + rules.check(result) + secrets.pem_findings(result.clusters, datetime.now(UTC))
    for finding in findings:
        report(finding)
    errors = sum(f.is_error for f in findings)
    if errors:
        fail(f"{errors} error{'' if errors == 1 else 's'} in the manifests; nothing was planned")
    return desired_from(result)


# -- plan -------------------------------------------------------------------------------------
def plan(
    desired: Desired,
    cloud: Cloud,
    options: PlanOptions = PlanOptions(),
    *,
    tls_backups: Path | None = None,
    backup_tls: bool = False,
) -> Plan:
    from reconciler import tlsbackup

    check_targets(desired, options)
    result = planner.plan(desired, cloud.observe(desired, options.replace), options, created_at=now())
    if backup_tls:
        tlsbackup.add_save_steps(result, tls_backups or tlsbackup.DEFAULT_FOLDER)
    result.warnings.extend(tlsbackup.findings(result, desired, tls_backups or tlsbackup.DEFAULT_FOLDER))
    return result


def check_targets(desired: Desired, options: PlanOptions) -> None:
    """A --target or --replace that names nothing declared is a mistake, never "No changes"."""
    import difflib

    names = sorted({c.name for c in desired.clusters} | {c.address for c in desired.clusters})
    for flag, given in (("--target", options.targets), ("--replace", options.replace)):
        for name in sorted(given):
            if name in names:
                continue
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(c.address for c in desired.clusters) or "none"
            fail(f"{flag} {name!r} names no declared compute{hint}\n  declared: {shown}")


# -- apply ------------------------------------------------------------------------------------
@dataclass
class ApplyOutcome:
    exit_code: int
    plan: Plan | None = None
    result: ApplyResult | None = None
    execute_seconds: float = 0.0  # the steps alone, for benchmarks


def apply(
    desired: Desired,
    connection: Callable[[], AbstractContextManager[Cloud]],
    options: ApplyOptions,
    ui: Ui,
    *,
    locks: LockFactory | None = None,
) -> ApplyOutcome:
    """Plan, confirm, execute and verify; the outcome carries the exit code. Raises WorkflowError.

    `connection` is called once the saved plan (if any) has been read: `lambda: connect(url)`.
    """
    if options.plan_file is not None and (options.targets or options.replace):
        fail(
            "--target and --replace cannot be used with --plan: a saved plan carries its own (make a new plan instead)",
            EXIT_USAGE,
        )
    if options.plan_file is None:
        check_targets(desired, PlanOptions(options.targets, options.replace))
    saved = _read_saved(options.plan_file, desired)
    if saved is not None:
        _check_binding(saved, desired)
    _import_in_background("reconciler.executor", "reconciler.progress", "reconciler.cloud.polling")
    with connection() as cloud, (locks or _default_locks(cloud, options.lock, ui))(desired, options.lock_timeout):
        plan_options = saved.options if saved is not None else PlanOptions(options.targets, options.replace)
        observed = settle(desired, cloud, options.settle_timeout, getattr(ui, "waiting", None), plan_options.replace)
        result = planner.plan(desired, observed, plan_options, created_at=now())
        from reconciler import tlsbackup

        if options.backup_tls or (saved is not None and tlsbackup.saves_tls(saved.data)):
            tlsbackup.add_save_steps(result, options.tls_backups)
        if saved is not None:
            _check_binding(saved, desired, result)
            _refuse_stale(saved, result)
        if not options.accept_new_domain:
            result.warnings.extend(tlsbackup.findings(result, desired, options.tls_backups))
        ui.show_plan(result)
        if result.errors:
            return ApplyOutcome(EXIT_ERROR, result)
        refusal = None if options.accept_new_domain else tlsbackup.refusal(result, options.tls_backups)
        if refusal:
            fail(refusal)
        if result.pending:  # an operation started after settling: never plan over it
            fail(
                f"operations started in flight on {', '.join(c.address for c in result.pending)} while planning; "
                "run apply again when they end"
            )
        if not result.has_changes:
            return ApplyOutcome(EXIT_OK, result)
        if not (options.auto_approve or saved is not None):
            ui.confirm()
        preflight(desired, observed, result)
        started = time.perf_counter()
        outcome = _execute(result, observed, cloud, options, ui)
        elapsed = time.perf_counter() - started
        _report(outcome, ui)
        if outcome.interrupted:
            raise Interrupted(
                "apply interrupted; the operations that had started have ended. Run `reconciler apply` "
                "again to do the rest",
                abandoned=False,
            )
        if not outcome.ok:
            return ApplyOutcome(EXIT_ERROR, result, outcome, elapsed)
        _verify(desired, cloud, plan_options, result, ui)
    return ApplyOutcome(EXIT_OK, result, outcome, elapsed)


def _import_in_background(*modules: str) -> None:
    """Import what the steps need while the first observe waits on the network, not after it:
    every millisecond before the first operation starts adds to the whole apply."""
    import importlib
    import threading

    threading.Thread(target=lambda: [importlib.import_module(m) for m in modules], name="imports", daemon=True).start()


def _read_saved(path: Path | None, desired: Desired) -> planfile.SavedPlan | None:
    if path is None:
        return None
    try:
        return planfile.read(path, desired.digest)
    except planfile.PlanFileError as exc:
        fail(str(exc))


def _check_binding(saved: planfile.SavedPlan, desired: Desired, current: Plan | None = None) -> None:
    try:
        planfile.check_binding(saved, desired, current)
    except planfile.PlanFileError as exc:
        fail(str(exc))


def _refuse_stale(saved: planfile.SavedPlan, current: Plan) -> None:
    try:
        planfile.refuse_stale(saved, current)
    except planfile.PlanFileError as exc:
        fail(str(exc))


def _execute(plan: Plan, observed: ObservedState, cloud: Cloud, options: ApplyOptions, ui: Ui) -> ApplyResult:
    from reconciler.executor import DEFAULT_TIMEOUTS, Executor

    timeouts = {op: options.operation_timeout for op in DEFAULT_TIMEOUTS} if options.operation_timeout else None
    reporter = ui.progress(cloud.time_scale)
    try:
        executor = Executor(
            cloud.computes,
            cloud.aks,
            observed,
            reporter,
            parallelism=options.parallelism,
            timeouts=timeouts,
            kube=cloud.kube,
        )
        executor.tls_backups = options.tls_backups
        with _ctrl_c(executor, ui) as interrupted:
            result = executor.run(plan)
        result.interrupted = interrupted[0]
        return result
    finally:
        reporter.close()


def _report(outcome: ApplyResult, ui: Ui) -> None:
    counts = outcome.counts()  # each failure was printed once, when it happened (progress)
    ui.out(f"Apply: {counts['succeeded']} steps succeeded, {counts['failed']} failed, {counts['skipped']} skipped.")
    if not outcome.ok:
        ui.err("Nothing is lost: run `reconciler apply` again to continue from where Azure is now.")


def _verify(desired: Desired, cloud: Cloud, options: PlanOptions, applied: Plan, ui: Ui) -> None:
    """A fresh observe must show no changes for what was applied."""
    # --replace forces a replacement once; verifying must not force it again.
    after = planner.plan(desired, cloud.observe(desired), PlanOptions(options.targets), created_at=now())
    touched = {c.address for c in applied.actionable}
    remaining = [c for c in after.actionable if c.address in touched]
    if remaining or after.errors:
        leftover = Plan(remaining, [], after.errors, after.manifests_digest)
        ui.err(render.to_text(leftover))
        fail("apply finished but the workspaces still differ from the manifests (see above)")
    ui.out("Verified: the workspaces match the manifests.")


# -- show -------------------------------------------------------------------------------------
def show(desired: Desired, cloud: Cloud) -> tuple[list[ComputeRow], list[str]]:
    """The AKS computes of the declared workspaces, with their clusters; and the aliases of workspaces not found."""
    from reconciler import show as shown

    refs = [ws.ref for ws in desired.workspaces.values()]
    first = cloud.read(refs, [], [])
    cluster_ids = sorted(
        {c.cluster_id for ws in first.workspaces.values() for c in ws.computes.values() if c.cluster_id}
    )
    observed = cloud.read(refs, cluster_ids, []) if cluster_ids else first
    aliases = {ws.ref.key: ws.alias for ws in desired.workspaces.values()}
    declared = {(c.workspace.key, c.name.lower()) for c in desired.clusters}
    missing = sorted(ws.alias for ws in desired.workspaces.values() if not observed.workspace(ws.ref).exists)
    return shown.rows(aliases, declared, observed), missing

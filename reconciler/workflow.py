"""Where plan and apply happen: load → observe → plan → (confirm) → execute → verify.

The CLI parses options and prints; benchmarks and tests call these functions directly,
so they measure and exercise what users run. No typer and no `sys.exit` here: a user
mistake or an Azure error raises `WorkflowError`, which carries the exit code.

Seams for later work, each one place:
- locks: `apply(..., locks=...)` takes the factory of the workspace locks (today the
  backend each workspace's manifest selects, see `reconciler.lock`);
- preflight: `preflight()` runs after the plan is confirmed and before the first step;
- saved plans: `planfile.read` is where a binding digest would be checked;
- interruption: `_execute` is the one place steps run, and where Ctrl-C is handled (`_ctrl_c`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager, NoReturn, Protocol

from reconciler import logs, planfile, planner, render
from reconciler.clients import AksApi, ComputesApi, KubernetesApi
from reconciler.desired import Desired
from reconciler.plan import Plan, PlanOptions
from reconciler.state import ObservedState, WorkspaceRef
from reconciler.throttling import DEFAULT_PARALLELISM

if TYPE_CHECKING:
    from reconciler.cloud.observe import ObserveStats
    from reconciler.executor import ApplyResult, Executor
    from reconciler.findings import Finding
    from reconciler.lock import Backend
    from reconciler.manifest import LockSpec
    from reconciler.plan import Step
    from reconciler.progress import Progress
    from reconciler.show import ComputeRow

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


@dataclass
class Cloud:
    """One connection's clients. `time_scale` < 1 on the local cloud, so progress expects shorter runs."""

    computes: ComputesApi
    aks: AksApi
    read: Callable[[list[WorkspaceRef], list[str], list[str]], ObservedState]
    time_scale: float = 1.0
    kube: KubernetesApi | None = None
    # Adds extensions, versions and what is inside clusters: (observed, cluster ids, pinned ids, wanted ids).
    read_kubernetes: Callable[[ObservedState, list[str], list[str], list[str]], None] | None = None
    # The default shared lock: the workspace's storage account (None: --cloud local, file lock).
    default_lock: Callable[[WorkspaceRef], Backend | None] | None = None
    loopback: bool = False  # an emulator: a workspace without a storage account falls back to the file lock

    def observe(self, desired: Desired) -> ObservedState:
        """The workspaces, attach targets and regions the manifests name, and the Kubernetes side."""
        refs = [ws.ref for ws in desired.workspaces.values()]
        attach_ids = [c.cluster_id for c in desired.clusters if c.cluster_id]
        kube_ids = desired.kubernetes_cluster_ids
        regions = sorted({c.spec.spec.create.location for c in desired.clusters if c.spec.spec.create})
        observed = self.read(refs, attach_ids + kube_ids, regions)
        if kube_ids and self.read_kubernetes is not None:
            pinned = [e.cluster_id for e in desired.extensions if e.spec.spec.version.version]
            wanted = [e.cluster_id for e in desired.extensions if e.present]
            self.read_kubernetes(observed, kube_ids, pinned, wanted)
        return observed


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- loading and connecting -------------------------------------------------------------------
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


@contextlib.contextmanager
def connect(endpoint: str | None = None, *, local: bool = False, stats: ObserveStats | None = None) -> Iterator[Cloud]:
    """Clients for Azure (or an ARM endpoint), or for the local cloud; Azure errors become WorkflowError."""
    from reconciler.cloud.aks import AksClient
    from reconciler.cloud.arm import ComputesClient
    from reconciler.cloud.auth import connect as connect_arm
    from reconciler.cloud.kubernetes import KubernetesClient, observe_kubernetes
    from reconciler.cloud.observe import observe, observe_with
    from reconciler.cloud.storage import WorkspaceStorage

    with _endpoint(endpoint, local) as (url, scale), cloud_errors():
        conn = connect_arm(url)
        computes, aks = ComputesClient(conn), AksClient(conn)
        kube = KubernetesClient(conn, aks)
        try:
            if stats is None:  # the same clients observe, execute and verify

                def read(refs: list[WorkspaceRef], attach_ids: list[str], regions: list[str]) -> ObservedState:
                    return observe_with(conn, computes, aks, refs, attach_ids, regions)
            else:  # counting clients for this connection's observations

                def read(refs: list[WorkspaceRef], attach_ids: list[str], regions: list[str]) -> ObservedState:
                    return observe(conn, refs, attach_ids, regions, stats=stats)

            def read_kubernetes(observed: ObservedState, ids: list[str], pinned: list[str], wanted: list[str]) -> None:
                observe_kubernetes(kube, observed, ids, pinned, wanted, workers=conn.max_workers)

            yield Cloud(
                computes,
                aks,
                read,
                scale,
                kube,
                read_kubernetes,
                None if local else WorkspaceStorage(conn).backend,
                conn.is_local,
            )
        finally:
            kube.close()
            computes.close()
            aks.close()
            conn.close()


@contextlib.contextmanager
def _endpoint(endpoint: str | None, local: bool) -> Iterator[tuple[str | None, float]]:
    if not local:
        yield endpoint, 1.0
        return
    if endpoint:
        fail("--endpoint and --cloud local exclude each other", EXIT_USAGE)
    from reconciler.localcloud import LocalCloudError, running, time_scale

    try:
        with running() as url:
            yield url, time_scale()
    except LocalCloudError as exc:
        fail(str(exc))


@contextlib.contextmanager
def cloud_errors() -> Iterator[None]:
    """Azure and configuration errors become one clear line, never a traceback."""
    from reconciler.cloud.arm import CloudError
    from reconciler.cloud.auth import CloudConfigError

    try:
        yield
    except (CloudConfigError, CloudError) as exc:
        message = str(exc)
        if "DefaultAzureCredential failed" in message or "authentication unavailable" in message:
            message += (
                "\n  hint: sign in with `az login`, or set AZURE_CLIENT_ID / AZURE_TENANT_ID (and a secret or "
                "federated token file) for a service principal; to try the tool without Azure, use --cloud local"
            )
        fail(message)
    except Exception as exc:  # azure-core errors: authentication, network
        module = type(exc).__module__
        if module.startswith("azure.") or isinstance(exc, OSError):
            fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        raise


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
    result = planner.plan(desired, cloud.observe(desired), options, created_at=now())
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
LockFactory = Callable[[Desired, float], ContextManager[None]]


@dataclass
class ApplyOutcome:
    exit_code: int
    plan: Plan | None = None
    result: ApplyResult | None = None
    execute_seconds: float = 0.0  # the steps alone, for benchmarks


def apply(
    desired: Desired,
    connection: Callable[[], ContextManager[Cloud]],
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
    _import_in_background("reconciler.executor", "reconciler.progress", "structlog")
    with connection() as cloud, (locks or _default_locks(cloud, options.lock, ui))(desired, options.lock_timeout):
        plan_options = saved.options if saved is not None else PlanOptions(options.targets, options.replace)
        observed = settle(desired, cloud, options.settle_timeout, getattr(ui, "waiting", None))
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


def _default_locks(cloud: Cloud, mode: str, ui: Ui) -> LockFactory:
    return lambda desired, timeout: workspace_locks(desired, timeout, mode=mode, cloud=cloud, warn=ui.err)


@contextlib.contextmanager
def workspace_locks(
    desired: Desired,
    timeout: float,
    *,
    mode: str = "file",
    cloud: Cloud | None = None,
    warn: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """One lock per workspace for the whole apply, taken in a fixed order (no deadlock).

    `mode` auto: a lock set in the manifest or environment, else on Azure the Blob lease in
    the workspace's storage account, else (--cloud local) the file lock. blob: a shared lock
    or an error. file: this machine only (the explicit opt-out).
    """
    from reconciler import lock

    with contextlib.ExitStack() as stack:
        for ws in sorted(desired.workspaces.values(), key=lambda w: w.ref.key):
            try:
                backend = _lock_backend(ws.ref, ws.lock, mode, cloud, warn)
                stack.enter_context(
                    lock.workspace_lock(ws.ref, ws.lock, command="apply", timeout=timeout, backend=backend)
                )
            except lock.LockError as exc:
                fail(str(exc))
        yield


def _lock_backend(
    ref: WorkspaceRef, spec: LockSpec | None, mode: str, cloud: Cloud | None, warn: Callable[[str], None] | None
) -> Backend | None:
    """None: the lock the manifest or environment configures."""
    from reconciler import lock

    if mode == "file":
        return lock.file_backend(ref)
    if lock.configured(spec):
        return None
    if cloud is None or cloud.default_lock is None:
        if mode == "blob":
            fail(
                "--lock blob needs a storage account: set spec.lock in the Workspace manifest or RECONCILER_LOCK_*, "
                "or use Azure (the workspace's own storage account); --cloud local has none"
            )
        return lock.file_backend(ref)
    backend = cloud.default_lock(ref)
    if backend is not None:
        return backend
    if cloud.loopback and mode != "blob":
        if warn is not None:
            warn(
                f"warning: workspace {ref.workspace_name!r} has no storage account in this emulator; "
                "using the file lock (this machine only)"
            )
        return lock.file_backend(ref)
    fail(
        f"workspace lock: workspace {ref.workspace_name!r} has no storage account for the shared lock; "
        "opt out with `--lock file` if only this machine ever applies to it"
    )


Waiting = Callable[[str, float, float], None]  # (what is in flight, seconds waited, limit); "" when done


def settle(desired: Desired, cloud: Cloud, timeout: float, waiting: Waiting | None = None) -> ObservedState:
    """Observe; if operations are still running in a declared workspace (say, after a
    crash, or another apply), wait for them to end first: planning over them would be guessing."""
    started = time.monotonic()
    deadline = started + timeout
    show = waiting or _log_waiting()
    shown = False
    try:
        while True:
            observed = cloud.observe(desired)
            busy = sorted(
                [
                    f"{c.name} ({c.provisioning_state})"
                    for ws in observed.workspaces.values()
                    for c in [*ws.computes.values(), *ws.kubernetes.values()]
                    if c.in_flight
                ]
                + [
                    f"{e.name} ({e.provisioning_state})"
                    for exts in observed.extensions.values()
                    for e in exts
                    if e.is_azureml and e.in_flight
                ]
            )
            if not busy:
                return observed
            if time.monotonic() >= deadline:
                fail(f"operations still in flight on {', '.join(busy)} after {timeout:.0f} s; run apply again later")
            show(", ".join(busy), time.monotonic() - started, timeout)
            shown = True
            time.sleep(min(2.0, max(0.05, deadline - time.monotonic())))
    finally:
        if shown:
            show("", time.monotonic() - started, timeout)


def _log_waiting() -> Waiting:
    """Without a terminal: one log line when what is in flight changes, not one per poll."""
    log = logs.get("reconciler.apply")
    last = [""]

    def show(what: str, elapsed: float, limit: float) -> None:
        if what and what != last[0]:
            log.info("waiting for operations in flight", computes=what, waited_s=round(elapsed), limit_s=round(limit))
        last[0] = what

    return show


def preflight(desired: Desired, observed: ObservedState, plan: Plan, *, at: datetime | None = None) -> None:
    """Every input a step will need, read and checked before the first step runs.

    A chain whose later step cannot run must not start its first: a re-attach with an
    unreadable or invalid certificate would detach a working compute and then fail.
    """
    from reconciler import secrets
    from reconciler.plan import Op
    from reconciler.tlscheck import check

    log = logs.get("reconciler.apply")
    when = at or datetime.now(UTC)
    problems: list[str] = []
    for change in plan.actionable:
        dc = change.desired
        ops = {s.op for s in change.steps}
        if dc is None:
            continue
        tls = dc.spec.spec.tls
        if ops & {Op.CREATE, Op.ATTACH, Op.UPDATE} and tls.enabled and tls.cname:
            cert, key, unreadable = secrets.read_tls(tls.certificate, tls.key, dc.base_dir)
            problems += [f"{change.address}: {why}" for why in unreadable]
            for problem in check(cert, key, tls.cname, when):
                if problem.error:
                    problems.append(f"{change.address}: {problem.message}")
                else:
                    log.warning(problem.message, address=change.address)
        if Op.ATTACH in ops and dc.cluster_id and not (change.observed and change.observed.created):
            if observed.cluster(dc.cluster_id) is None:
                problems.append(
                    f"{change.address}: AKS cluster {dc.cluster_id} does not exist (or is not visible to you)"
                )
    if problems:
        fail("preflight failed, nothing was changed:\n  " + "\n  ".join(problems))


def abandoned_operations() -> bool:
    """True once a second Ctrl-C left operations running: the process must end without joining their threads."""
    return _ABANDONED.is_set()


_ABANDONED = threading.Event()


class Interrupted(WorkflowError):
    """Ctrl-C during apply: exit 130. `abandoned` when a second Ctrl-C stopped waiting for running operations."""

    def __init__(self, message: str, abandoned: bool) -> None:
        super().__init__(message, EXIT_INTERRUPTED)
        self.abandoned = abandoned


def _describe(steps: list[Step]) -> str:
    return ", ".join(f"{s.op} of {s.compute!r} ({s.id})" for s in steps) or "none"


@contextlib.contextmanager
def _ctrl_c(executor: Executor, ui: Ui) -> Iterator[list[bool]]:
    """First Ctrl-C: start nothing new, say what still runs in Azure and wait for it (nothing half-done).
    Second Ctrl-C: stop waiting; those operations go on in Azure and the next apply settles them."""
    import signal

    interrupted = [False]
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def handler(signum: int, frame: object) -> None:
        running = executor.interrupt()
        if interrupted[0]:
            _ABANDONED.set()
            raise Interrupted(
                f"stopped waiting; still running in Azure: {_describe(running)}. They continue there; the next "
                "`reconciler apply` waits for them and settles the rest",
                abandoned=True,
            )
        interrupted[0] = True
        ui.err(
            f"Interrupted: no new steps will start. Waiting for the operations still running in Azure, so that "
            f"nothing is left half-done: {_describe(running)}. Press Ctrl-C again to stop waiting (they continue "
            "in Azure; the next apply settles them)."
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


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


# -- force-unlock -----------------------------------------------------------------------------
def force_unlock(
    workspace: str,
    paths: list[Path] | None,
    mode: str = "file",
    connection: Callable[[], ContextManager[Cloud]] | None = None,
) -> str:
    """Break the lock of a workspace given by alias (from the manifests) or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE.

    The same lock apply would take: with `mode` auto on Azure, the default Blob lease.
    """
    from reconciler import lock

    ref, spec = _workspace_for_unlock(workspace, paths)
    try:
        if mode != "file" and not lock.configured(spec) and connection is not None:
            with connection() as cloud:
                backend = _lock_backend(ref, spec, mode, cloud, None)
                if backend is not None:
                    return backend.force_unlock()
        return lock.force_unlock(ref, spec)
    except lock.LockError as exc:
        fail(str(exc))


def _workspace_for_unlock(name: str, paths: list[Path] | None) -> tuple[WorkspaceRef, LockSpec | None]:
    parts = name.split("/")
    if len(parts) == 3:
        return WorkspaceRef(*parts), None
    from reconciler import loader

    result = loader.load(paths)
    for _, ws in result.workspaces:
        if ws.metadata.name == name:
            return WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName), ws.spec.lock
    fail(
        f"no Workspace named {name!r} in the manifests; give SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE instead", EXIT_USAGE
    )


# -- import -----------------------------------------------------------------------------------
SCHEMA_FILE = "manifest.schema.json"


def write_schema(folder: Path) -> Path:
    """The manifests' JSON Schema as FOLDER/manifest.schema.json, for editors in a repository of manifests."""
    import json

    from reconciler.manifest import json_schema

    target = folder / SCHEMA_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(json_schema(), indent=2) + "\n")
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    return target


def import_manifests(
    workspace: str,
    out: Path,
    alias: str | None,
    force: bool,
    connection: Callable[[], ContextManager[Cloud]],
    schema_dir: Path | None = None,
) -> tuple[int, list[str]]:
    """Write manifests for the AKS computes a workspace has, and the schema their modeline points at
    (SCHEMA_DIR, default OUT/../schemas); returns how many files and the notes to show."""
    import os
    import re

    from reconciler.importer import import_kubernetes, import_workspace

    parts = workspace.strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        fail("--workspace takes SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE", EXIT_USAGE)
    ref = WorkspaceRef(*parts)
    name = alias or re.sub(r"[^a-z0-9-]", "-", ref.workspace_name.lower())
    from reconciler.importer import ImportWriteError, out_problem, write_files

    problem = out_problem(name, out)  # an alias is a file name; --out must be a folder
    if problem:
        fail(problem, EXIT_USAGE)
    with connection() as cloud:
        observed = cloud.read([ref], [], [])
        kube_ids = sorted({c.cluster_id for c in observed.workspace(ref).kubernetes.values() if c.cluster_id})
        if kube_ids and cloud.read_kubernetes is not None:
            observed = cloud.read([ref], kube_ids, [])
            cloud.read_kubernetes(observed, kube_ids, [], [])
    ows = observed.workspace(ref)
    if not ows.exists:
        fail(f"workspace {ref.workspace_name!r} not found in resource group {ref.resource_group!r}")
    schema_dir = schema_dir if schema_dir is not None else out.absolute().parent / "schemas"
    schema_ref = Path(os.path.relpath(schema_dir.absolute() / SCHEMA_FILE, out.absolute())).as_posix()
    imported = import_workspace(name, ows, observed.clusters, schema_ref)
    import_kubernetes(name, ows, observed.extensions, imported, schema_ref)
    existing = [f for f in imported.files if (out / f).exists()]
    if existing and not force:
        fail(f"{', '.join(existing)} already exist in {out}; use --force to overwrite or --out another folder")
    try:
        write_files(imported, out)
    except ImportWriteError as exc:
        fail(str(exc))
    write_schema(schema_dir)
    return len(imported.files), list(imported.notes)


# -- backup-tls -------------------------------------------------------------------------------
def backup_tls(
    compute: str,
    workspace: str | None,
    paths: list[Path] | None,
    out: Path,
    timeout: float,
    connection: Callable[[], ContextManager[Cloud]],
    report: Callable[[str], None],
) -> tuple[Path, list[str]]:
    """Save the certificate and key of a legacy TLS compute from `azuremlfessl` (AKS Run Command) as PEM files.

    Returns the folder written and the certificate's DNS names. The secret's content never reaches output or logs.
    """
    from reconciler import clusterside, tlsbackup

    ref = _workspace_ref(workspace, paths)
    if tlsbackup.has_backup(out, ref, compute) or (tlsbackup.backup_dir(out, ref, compute) / tlsbackup.CERT).exists():
        fail(f"{tlsbackup.backup_dir(out, ref, compute)} already holds a backup; backups are never overwritten")
    with connection() as cloud:
        current = cloud.computes.get(ref, compute)
        if current is None or current.is_kubernetes:
            fail(f"no legacy AKS compute {compute!r} in workspace {ref.workspace_name!r}")
        if not current.tls.enabled:
            fail(f"compute {compute!r} has TLS disabled: there is no certificate to save")
        if not current.cluster_id or cloud.kube is None:
            fail(f"compute {compute!r} has no AKS cluster to read the secret from")
        report(f"reading secret {clusterside.TLS_SECRET} of {compute!r} by AKS Run Command (timeout {timeout:.0f} s)")
        code, logs = cloud.kube.run_command(current.cluster_id, clusterside.READ_TLS_SECRET, timeout=timeout)
    if code != 0:
        fail(f"reading secret {clusterside.TLS_SECRET} failed (exit code {code}): {clusterside.redact(logs)}")
    try:
        pair = clusterside.parse_tls_secret(logs)
    except clusterside.SecretFormatError as exc:
        fail(str(exc))
    try:
        where = tlsbackup.write_backup(out, ref, compute, pair.certificate, pair.key)
    except tlsbackup.BackupExistsError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the backup in {out}: {exc.strerror or type(exc).__name__}")
    return where, clusterside.certificate_names(pair.certificate)


def _workspace_ref(name: str | None, paths: list[Path] | None) -> WorkspaceRef:
    """A workspace by alias from the manifests, SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE, or the manifests' only one."""
    if name is not None:
        return _workspace_for_unlock(name, paths)[0]
    from reconciler import loader

    result = loader.load(paths)
    found = [
        WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName)
        for _, ws in result.workspaces
    ]
    if len(found) != 1:
        fail("name the workspace with --workspace ALIAS (or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE)", EXIT_USAGE)
    return found[0]


# -- migrate ----------------------------------------------------------------------------------
def migrate(
    paths: list[Path] | None,
    strategy: str,
    target: str | None,
    out: Path,
    tls_backups: Path,
    connection: Callable[[], ContextManager[Cloud]],
) -> tuple[list[str], list[str]]:
    """Write the v2 manifests and MIGRATION.md for the legacy InferenceClusters; returns the files written and notes."""
    from reconciler import loader, rules, tlsbackup
    from reconciler.clusterside import certificate_names
    from reconciler.ids import parse_cluster_id
    from reconciler.migration import Backup, MigrationError, Strategy, plan_migration

    chosen = Strategy(strategy)
    if chosen is Strategy.NEW_CLUSTER and not target:
        fail("--strategy new-cluster needs --target-cluster ID (the AKS cluster that gets the extension)", EXIT_USAGE)
    if target and parse_cluster_id(target) is None:
        fail(f"--target-cluster {target!r} is not an AKS managed cluster id", EXIT_USAGE)
    result = loader.load(paths)
    findings = result.findings + rules.check(result)
    errors = [f for f in findings if f.is_error]
    if errors:
        fail("\n".join(f.format() for f in errors) + f"\n{len(errors)} error(s) in the manifests; nothing was migrated")
    if not result.clusters:
        fail("no InferenceCluster in the manifests: nothing to migrate")
    refs = [
        WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName)
        for _, ws in result.workspaces
    ]
    ids = sorted(
        {ic.spec.attach.clusterId for _, ic in result.clusters if ic.spec.attach} | ({target} if target else set())
    )
    with connection() as cloud:
        observed = cloud.read(refs, ids, [])
    if target and observed.cluster(target) is None:
        fail(f"--target-cluster {target} does not exist (or is not visible to you)")
    backups: dict[tuple[str, str], Backup] = {}
    by_alias = {ws.metadata.name: ref for (_, ws), ref in zip(result.workspaces, refs)}
    for _, ic in result.clusters:
        ref = by_alias[ic.spec.workspace]
        if (
            ic.spec.tls.enabled
            and ic.spec.tls.leafDomainLabel
            and tlsbackup.has_backup(tls_backups, ref, ic.metadata.name)
        ):
            where = tlsbackup.backup_dir(tls_backups, ref, ic.metadata.name)
            cert = where / tlsbackup.CERT
            if cert.stat().st_size > 1 << 20:
                fail(f"{cert} is larger than 1 MiB: not a certificate backup")
            backups[(ref.key, ic.metadata.name)] = Backup(
                cert,
                where / tlsbackup.KEY,
                tuple(certificate_names(cert.read_text(encoding="ascii", errors="replace"))),
            )
    try:
        output = plan_migration(result, observed, chosen, target, out, backups)
    except MigrationError as exc:
        fail(str(exc))
    files = {**output.files, "MIGRATION.md": output.markdown}
    existing = sorted(name for name in files if (out / name).exists())
    if existing:
        fail(f"{', '.join(existing)} already exist in {out}; migrate into an empty folder (nothing is overwritten)")
    out.mkdir(parents=True, exist_ok=True)
    import os

    from reconciler import safeio

    for name, text in files.items():
        try:
            fd = safeio.create_exclusive(out / name, 0o644)
        except OSError as exc:
            fail(f"cannot write {out / name}: {safeio.describe_error(exc)}; nothing is overwritten")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    return sorted(files), output.notes

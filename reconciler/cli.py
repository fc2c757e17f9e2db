"""The `reconciler` command line (DESIGN §4).

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
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer

try:  # typer >= 0.25 vendors click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer, on real click
    from click import exceptions as click_exc  # type: ignore[no-redef]

from reconciler import __version__

if TYPE_CHECKING:
    from reconciler.desired import Desired
    from reconciler.planner import Plan

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
    if endpoint is not None:
        from reconciler.cloud.auth import CloudConfigError, check_endpoint

        try:
            check_endpoint(endpoint)
        except CloudConfigError as exc:
            _fail(str(exc), EXIT_USAGE)
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
        f"{_count(errors, 'error')}, {_count(warnings, 'warning')} in {_count(len(result.files), 'file')} "
        f"({_count(len(result.documents), 'document')})"
    )
    raise typer.Exit(EXIT_ERROR if errors else EXIT_OK)


class PlanFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


TargetOpt = Annotated[Optional[list[str]], typer.Option("--target", help="Limit to this compute name or address (WORKSPACE/NAME), plus what it depends on; repeatable")]
ReplaceOpt = Annotated[Optional[list[str]], typer.Option("--replace", help="Allow or force replacing this compute (delete + re-create a created cluster); repeatable")]


@app.command()
def plan(
    paths: PathsArg = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Also write the plan as JSON to this file (mode 0600), for `apply --plan`")] = None,
    format: Annotated[PlanFormat, typer.Option("--format", help="Output on stdout: text, json (DESIGN §5) or markdown (pull-request comment)")] = PlanFormat.text,
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when there are none")] = False,
    target: TargetOpt = None,
    replace: ReplaceOpt = None,
) -> None:
    """Observe the workspaces and AKS clusters and show what `apply` would change.

    Exit 0 ok, 1 error (invalid manifests, Azure errors, plan errors), 2 changes present
    (only with --detailed-exitcode).
    """
    from reconciler import render

    desired = _load_desired(paths)
    result = _observe_and_plan(desired, target or [], replace or [])
    if format is PlanFormat.json:
        typer.echo(render.to_json(result), nl=False)
    elif format is PlanFormat.markdown:
        typer.echo(render.to_markdown(result), nl=False)
    else:
        _print_plan(result)
    if out is not None:
        _write_private(out, render.to_json(result))
    if result.errors:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


def _print_plan(result: "Plan") -> None:
    """The text plan on stdout, in colour only on a terminal."""
    from reconciler import render

    if sys.stdout.isatty():
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(render.to_text(result, color=True), end="")
    else:
        typer.echo(render.to_text(result), nl=False)


def _write_private(path: Path, text: str) -> None:
    """Plan files are written 0600 and atomically: they describe your infrastructure."""
    from reconciler.safeio import UnsafeFileError, write_private

    try:
        write_private(path, text)  # O_EXCL|O_NOFOLLOW temp file, then a rename
    except UnsafeFileError as exc:
        _fail(f"cannot write {path}: {exc}")


def _load_desired(paths: list[Path] | None) -> "Desired":
    """Load + offline rules; any error ends the command with exit 1 before any network call."""
    from reconciler import loader, rules
    from reconciler.desired import desired_from

    result = loader.load(paths)
    findings = result.findings + rules.check(result)
    for finding in findings:
        typer.echo(finding.format(), err=True)
    errors = sum(f.is_error for f in findings)
    if errors:
        _fail(f"{_count(errors, 'error')} in the manifests; nothing was planned")
    return desired_from(result)


@contextlib.contextmanager
def _endpoint() -> Iterator[str | None]:
    if OPTIONS.cloud is Cloud.local:
        if OPTIONS.endpoint:
            _fail("--endpoint and --cloud local exclude each other", EXIT_USAGE)
        from reconciler.localcloud import LocalCloudError, running

        try:
            with running() as url:
                yield url
        except LocalCloudError as exc:
            _fail(str(exc))
    else:
        yield OPTIONS.endpoint


@contextlib.contextmanager
def _connection() -> Iterator[object]:
    """A connection to Azure, or to the local cloud, with Azure errors as one clear line."""
    from reconciler.cloud.auth import connect

    with _endpoint() as endpoint, _cloud_errors():
        yield connect(endpoint)


@contextlib.contextmanager
def _cloud_errors() -> Iterator[None]:
    """Azure and configuration errors become one clear line, never a traceback."""
    from reconciler.cloud.auth import CloudConfigError
    from reconciler.cloud.arm import CloudError

    try:
        yield
    except (CloudConfigError, CloudError) as exc:
        message = str(exc)
        if "DefaultAzureCredential failed" in message or "authentication unavailable" in message:
            message += (
                "\n  hint: sign in with `az login`, or set AZURE_CLIENT_ID / AZURE_TENANT_ID (and a secret or "
                "federated token file) for a service principal; to try the tool without Azure, use --cloud local"
            )
        _fail(message)
    except Exception as exc:  # azure-core errors: authentication, network
        module = type(exc).__module__
        if module.startswith("azure.") or isinstance(exc, OSError):
            _fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        raise


def _observe(desired: "Desired", conn: object):
    from reconciler.cloud.observe import observe

    refs = [ws.ref for ws in desired.workspaces.values()]
    attach_ids = [c.cluster_id for c in desired.clusters if c.cluster_id]
    regions = sorted({c.spec.spec.create.location for c in desired.clusters if c.spec.spec.create})
    return observe(conn, refs, attach_ids, regions)  # type: ignore[arg-type]


def _observe_and_plan(desired: "Desired", targets: list[str], replace: list[str]) -> "Plan":
    from reconciler import planner

    with _connection() as conn:
        observed = _observe(desired, conn)
    return planner.plan(desired, observed, planner.PlanOptions(frozenset(targets), frozenset(replace)))


@app.command()
def apply(
    paths: PathsArg = None,
    plan_file: Annotated[Optional[Path], typer.Option("--plan", help="Apply this saved plan (from `plan --out`); refused if anything it touches changed since", exists=True, dir_okay=False)] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation (required without a TTY)")] = False,
    parallelism: Annotated[int, typer.Option(min=1, max=100, help="Operations on independent clusters run at once")] = 10,
    lock_timeout: Annotated[float, typer.Option(min=0, callback=lambda v: _finite(v, "--lock-timeout"), help="Seconds to wait for another apply's workspace lock")] = 0.0,
    operation_timeout: Annotated[Optional[float], typer.Option(min=1, callback=lambda v: _finite(v, "--operation-timeout"), help="Seconds each Azure operation may take (default: Azure's typical duration x3, at least 300)")] = None,
    settle_timeout: Annotated[float, typer.Option(min=0, callback=lambda v: _finite(v, "--settle-timeout"), help="Seconds to wait for operations already in flight before planning")] = 900.0,
    target: TargetOpt = None,
    replace: ReplaceOpt = None,
) -> None:
    """Plan, confirm, execute and verify: make the workspaces match the manifests.

    Detaches always run before attaches of the same cluster, operations on one
    cluster never overlap, and each attach re-reads the workspace first. Safe to run
    again after any failure or crash: state lives in Azure. Exit 0 converged, 1 error.
    """
    from reconciler import planner

    desired = _load_desired(paths)
    saved = _read_saved_plan(plan_file, desired) if plan_file else None
    with _connection() as conn, _workspace_locks(desired, lock_timeout):
        options = _plan_options(target, replace, saved)
        observed = _settle(desired, conn, settle_timeout)
        result = planner.plan(desired, observed, options)
        if saved is not None:
            _refuse_stale(saved, result)
        _print_plan(result)
        if result.errors:
            raise typer.Exit(EXIT_ERROR)
        if not result.has_changes:
            raise typer.Exit(EXIT_OK)
        if not (auto_approve or saved is not None):
            _confirm()
        outcome = _execute(result, observed, conn, parallelism, operation_timeout)
        _report(outcome)
        if not outcome.ok:
            raise typer.Exit(EXIT_ERROR)
        _verify(desired, conn, options, result)
    raise typer.Exit(EXIT_OK)


@app.command("force-unlock")
def force_unlock(
    workspace: Annotated[str, typer.Argument(help="Workspace alias (metadata.name) from the manifests, or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE")],
    paths: Annotated[Optional[list[Path]], typer.Option("--manifests", help="Manifests that declare the workspace (default: manifests/)")] = None,
) -> None:
    """Break a workspace lock left by an apply that can no longer release it.

    Only for a lock whose holder is gone (a killed pipeline): a running apply keeps
    its lock alive and must be stopped instead.
    """
    from reconciler import lock

    ref, spec = _workspace_for_unlock(workspace, paths)
    try:
        typer.echo(lock.force_unlock(ref, spec))
    except lock.LockError as exc:
        _fail(str(exc))


def _workspace_for_unlock(name: str, paths: list[Path] | None):
    from reconciler.state import WorkspaceRef

    parts = name.split("/")
    if len(parts) == 3:
        return WorkspaceRef(*parts), None
    from reconciler import loader

    result = loader.load(paths)
    for _, ws in result.workspaces:
        if ws.metadata.name == name:
            return WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName), ws.spec.lock
    _fail(f"no Workspace named {name!r} in the manifests; give SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE instead", EXIT_USAGE)
    raise AssertionError


def _plan_options(target: list[str] | None, replace: list[str] | None, saved: dict | None):
    from reconciler.planner import PlanOptions

    if saved is not None:  # a saved plan carries its own targets and replacements
        targets = saved.get("options", {}).get("targets", [])
        replaces = saved.get("options", {}).get("replace", [])
        return PlanOptions(frozenset(targets), frozenset(replaces))
    return PlanOptions(frozenset(target or []), frozenset(replace or []))


def _read_saved_plan(path: Path, desired: "Desired") -> dict:
    from reconciler import savedplan

    try:
        saved = savedplan.read(path)  # bounded, no FIFO or device, shape checked
    except savedplan.SavedPlanError as exc:
        _fail(str(exc))
    if saved.get("manifestsDigest") != desired.digest:
        _fail(f"the manifests changed since {path} was made; run `reconciler plan --out {path}` again")
    if saved.get("errors"):
        _fail(f"{path} has planning errors; it cannot be applied")
    return saved


def _plan_fingerprint(changes: list[dict]) -> list[tuple]:
    return sorted(
        (c["address"], c["action"], json.dumps(c.get("observed"), sort_keys=True), tuple(s["op"] for s in c["steps"]))
        for c in changes if c["action"] != "noop"
    )


def _refuse_stale(saved: dict, current: "Plan") -> None:
    """A saved plan applies only to the world it was made from."""
    from reconciler import render

    now = render.to_dict(current)["changes"]
    if _plan_fingerprint(saved.get("changes", [])) != _plan_fingerprint(now):
        _fail("the saved plan is stale: the workspaces changed since it was made (or it was already applied); run `reconciler plan` again")


def _confirm() -> None:
    if not sys.stdin.isatty():
        _fail("refusing to apply without confirmation: no terminal to ask on; pass --auto-approve (or apply a reviewed plan with --plan FILE)")
    answer = typer.prompt("Do you want to perform these actions? Only 'yes' will be accepted", default="", show_default=False)
    if answer.strip() != "yes":
        _fail("apply cancelled; nothing was changed")


@contextlib.contextmanager
def _workspace_locks(desired: "Desired", timeout: float) -> Iterator[None]:
    """One lock per workspace for the whole apply, taken in a fixed order (no deadlock)."""
    from reconciler import lock

    with contextlib.ExitStack() as stack:
        for ws in sorted(desired.workspaces.values(), key=lambda w: w.ref.key):
            try:
                stack.enter_context(lock.workspace_lock(ws.ref, ws.lock, command="apply", timeout=timeout))
            except lock.LockError as exc:
                _fail(str(exc))
        yield


def _settle(desired: "Desired", conn: object, timeout: float):
    """Observe; if operations are still running in a declared workspace (say, after a
    crash), wait for them to end first: planning over them would be guessing."""
    import time

    from reconciler import logs

    deadline = time.monotonic() + timeout
    log = logs.get("reconciler.apply")
    while True:
        observed = _observe(desired, conn)
        busy = sorted(c.name for ws in observed.workspaces.values() for c in ws.computes.values() if c.in_flight)
        if not busy:
            return observed
        if time.monotonic() >= deadline:
            _fail(f"operations still in flight on {', '.join(busy)} after {timeout:.0f} s; run apply again later")
        log.info("waiting for operations in flight", computes=busy)
        time.sleep(min(2.0, max(0.05, deadline - time.monotonic())))


def _execute(result: "Plan", observed, conn, parallelism: int, operation_timeout: float | None):
    from reconciler import progress
    from reconciler.cloud.aks import AksClient
    from reconciler.cloud.arm import ComputesClient
    from reconciler.executor import DEFAULT_TIMEOUTS, Executor

    timeouts = {op: operation_timeout for op in DEFAULT_TIMEOUTS} if operation_timeout else None
    scale = 1.0
    if OPTIONS.cloud is Cloud.local:
        from reconciler.localcloud import time_scale

        scale = time_scale()
    reporter = progress.for_terminal(scale)
    try:
        return Executor(ComputesClient(conn), AksClient(conn), observed, reporter, parallelism=parallelism, timeouts=timeouts).run(result)
    finally:
        reporter.close()


def _report(outcome) -> None:
    counts = outcome.counts()
    for failure in outcome.failed:
        typer.echo(f"{failure.step_id}: {failure.status}: {failure.message}", err=True)
    typer.echo(f"Apply: {counts['succeeded']} steps succeeded, {counts['failed']} failed, {counts['skipped']} skipped.")
    if not outcome.ok:
        typer.echo("Nothing is lost: run `reconciler apply` again to continue from where Azure is now.", err=True)


def _verify(desired: "Desired", conn: object, options, applied: "Plan") -> None:
    """A fresh observe must show no changes for what was applied."""
    from reconciler import planner, render

    # --replace forces a replacement once; verifying must not force it again.
    after = planner.plan(desired, _observe(desired, conn), planner.PlanOptions(options.targets))
    touched = {c.address for c in applied.actionable}
    remaining = [c for c in after.actionable if c.address in touched]
    if remaining or after.errors:
        leftover = planner.Plan(remaining, [], after.errors, after.manifests_digest)
        typer.echo(render.to_text(leftover), err=True)
        _fail("apply finished but the workspaces still differ from the manifests (see above)")
    typer.echo("Verified: the workspaces match the manifests.")


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
    import re

    from reconciler.importer import import_workspace
    from reconciler.state import WorkspaceRef

    parts = workspace.strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        _fail("--workspace takes SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE", EXIT_USAGE)
    ref = WorkspaceRef(*parts)
    name = alias or re.sub(r"[^a-z0-9-]", "-", ref.workspace_name.lower())
    from reconciler.importer import out_problem

    problem = out_problem(name, out)
    if problem:
        _fail(problem, EXIT_USAGE)
    from reconciler.cloud.observe import observe

    with _connection() as conn:
        observed = observe(conn, [ref], [], [])
    ows = observed.workspace(ref)
    if not ows.exists:
        _fail(f"workspace {ref.workspace_name!r} not found in resource group {ref.resource_group!r}")
    imported = import_workspace(name, ows, observed.clusters)
    existing = [f for f in imported.files if (out / f).exists()]
    if existing and not force:
        _fail(f"{', '.join(existing)} already exist in {out}; use --force to overwrite or --out another folder")
    from reconciler.importer import ImportWriteError, write_files

    try:
        write_files(imported, out)
    except ImportWriteError as exc:
        _fail(str(exc))
    for note in imported.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"wrote {_count(len(imported.files), 'manifest')} to {out}")


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


MAX_TIMEOUT_SECONDS = 7 * 24 * 3600


def _finite(value: float | None, name: str) -> float | None:
    """Timeouts must be real numbers of seconds: inf, nan or 1e309 would break every deadline."""
    import math

    if value is not None and (math.isnan(value) or not 0 <= value <= MAX_TIMEOUT_SECONDS):
        raise typer.BadParameter(f"{value} is not a number of seconds between 0 and {MAX_TIMEOUT_SECONDS}", param_hint=name)
    return value


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


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

"""Runs a Plan: steps as a dependency graph, independent clusters in parallel.

Safety does not rest on the plan alone: before every attach or create the
workspace is read again, and the step is refused if any other attachment of
that cluster exists or is in flight. A failed step stops its dependents; the
others finish. Every wait has a timeout.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import threading
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable, Literal

from reconciler import bodies, clusterside, secrets
from reconciler import extension_body
from reconciler.clients import AksApi, ComputesApi, KubernetesApi, Poller
from reconciler.desired import DesiredCluster, DesiredExtension
from reconciler.ids import cluster_key
from reconciler.plan import Change, Op, Plan, Step
from reconciler.progress import Progress
from reconciler.state import AksCluster, Compute, ObservedState, WorkspaceRef
from reconciler.throttling import DEFAULT_PARALLELISM

# Azure's typical durations with a wide margin.
DEFAULT_TIMEOUTS: dict[str, float] = {op: max(300.0, op.expected_seconds * 3.0) for op in Op}


class StepError(Exception):
    """A step that could not run or failed; the message is safe to print."""


@dataclass
class StepResult:
    step_id: str
    status: str  # succeeded | failed | skipped
    message: str = ""


@dataclass
class ApplyResult:
    results: dict[str, StepResult] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C: the steps not yet started were skipped

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results.values() if r.status != "succeeded"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        out = {"succeeded": 0, "failed": 0, "skipped": 0}
        for r in self.results.values():
            out[r.status] += 1
        return out


SecretResolver = Callable[[DesiredCluster], dict[str, str] | None]


class FreshListing:
    """Workspace listings shared by concurrent steps without losing freshness.

    A caller gets the result of a list call that *started after it asked*, so the
    safety check sees every attachment made before the step was ready; callers that
    arrive together share one call instead of each listing the whole workspace.
    """

    def __init__(self, fetch: Callable[[WorkspaceRef], list[Compute] | None]) -> None:
        self._fetch = fetch
        self._tickets = itertools.count()
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._last: dict[str, tuple[int, list[Compute]]] = {}

    def __call__(self, ws: WorkspaceRef) -> list[Compute]:
        asked = next(self._tickets)
        with self._guard:
            lock = self._locks.setdefault(ws.key, threading.Lock())
        with lock:
            last = self._last.get(ws.key)
            if last is not None and last[0] > asked:
                return last[1]
            started = next(self._tickets)
            result = self._fetch(ws) or []
            self._last[ws.key] = (started, result)
            return result


def resolve_tls_secrets(dc: DesiredCluster) -> dict[str, str] | None:
    """Read the certificate and key only now, at apply time: plans never hold them."""
    tls = dc.spec.spec.tls
    if not (tls.enabled and tls.cname):
        return None
    try:
        return {k: secrets.resolve(getattr(tls, k), dc.base_dir) for k in ("certificate", "key") if getattr(tls, k) is not None}
    except secrets.SecretError as exc:
        raise StepError(f"TLS secret of {dc.address}: {exc}") from None


def resolve_extension_secrets(de: DesiredExtension) -> dict[str, str] | None:
    """The extension's PEM pair, read only now, at apply time."""
    if not de.pem_tls:
        return None
    tls = de.spec.spec.inference.tls
    assert tls is not None and tls.certificate is not None and tls.key is not None
    try:
        return {"certificate": secrets.resolve(tls.certificate, de.base_dir), "key": secrets.resolve(tls.key, de.base_dir)}
    except secrets.SecretError as exc:
        raise StepError(f"TLS secret of {de.address}: {exc}") from None


class Executor:
    def __init__(self, computes: ComputesApi, aks: AksApi, observed: ObservedState, progress: Progress, *,
                 parallelism: int = DEFAULT_PARALLELISM, timeouts: dict[str, float] | None = None,
                 resolve_secrets: SecretResolver = resolve_tls_secrets, kube: KubernetesApi | None = None) -> None:
        self.computes, self.aks, self.observed, self.progress = computes, aks, observed, progress
        self.kube = kube
        self.tls_backups: Path | None = None  # where save-tls steps write (set by the workflow)
        self.parallelism = max(1, parallelism)
        self.timeouts = {**DEFAULT_TIMEOUTS, **(timeouts or {})}
        self.resolve_secrets = resolve_secrets
        self.fresh_listing = FreshListing(computes.list)
        self._interrupted = threading.Event()
        self._running_guard = threading.RLock()  # re-entered by a Ctrl-C handler on the main thread
        self._running: dict[cf.Future[None], Step] = {}
        self._handlers: dict[Op, Callable[[Step, Change], None]] = {
            Op.DETACH: self._remove, Op.DELETE: self._remove, Op.SCALE: self._scale,
            Op.CREATE: self._write, Op.ATTACH: self._write, Op.UPDATE: self._write,
            Op.INSTALL: self._install, Op.UPGRADE: self._upgrade, Op.UNINSTALL: self._uninstall,
            Op.CREATE_NAMESPACE: self._create_namespace, Op.K8S_ATTACH: self._put_kubernetes,
            Op.K8S_DETACH: self._detach_kubernetes, Op.REMOVE_LEGACY_FE: self._remove_legacy_fe,
            Op.SAVE_TLS: self._save_tls,
        }

    def interrupt(self) -> list[Step]:
        """Start no new step (Ctrl-C); returns the steps still running in Azure, which run() waits for."""
        self._interrupted.set()
        with self._running_guard:
            for future in self._running:
                future.cancel()  # queued behind --parallelism: never sent to Azure
            return [step for future, step in self._running.items() if not future.cancelled()]

    def run(self, plan: Plan) -> ApplyResult:
        """Run every step; after `interrupt()` only the running ones finish, the rest are not started.

        An exception out of a wait (a second Ctrl-C) leaves without waiting for the worker threads:
        their operations go on in Azure, and the next apply settles them.
        """
        changes = {s.id: c for c in plan.changes for s in c.steps}
        steps = {s.id: s for s in plan.steps()}
        result = ApplyResult()
        pending = dict(steps)
        running = self._running
        for step in steps.values():
            self.progress.queued(step.id, step.op, step.compute)
        pool = cf.ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="apply")
        try:
            while pending or running:
                if self._interrupted.is_set():
                    for step_id in list(pending):
                        del pending[step_id]
                        result.results[step_id] = StepResult(step_id, "skipped", "not started: the apply was interrupted")
                        self.progress.finished(step_id, "skipped")
                for step in self._ready(pending, result):
                    del pending[step.id]
                    with self._running_guard:
                        running[pool.submit(self._start_step, step, changes[step.id])] = step
                if not running:
                    break
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    with self._running_guard:
                        step = running.pop(future)
                    if future.cancelled():
                        result.results[step.id] = StepResult(step.id, "skipped", "not started: the apply was interrupted")
                        self.progress.finished(step.id, "skipped")
                        continue
                    try:
                        future.result()
                        result.results[step.id] = StepResult(step.id, "succeeded")
                        self.progress.finished(step.id, "succeeded")
                    except Exception as exc:  # each failure is reported, the others go on
                        message = _safe_message(exc)
                        result.results[step.id] = StepResult(step.id, "failed", message)
                        self.progress.finished(step.id, "failed", message)
        finally:
            pool.shutdown(wait=not running, cancel_futures=True)
        return result

    def _ready(self, pending: dict[str, Step], result: ApplyResult) -> list[Step]:
        """Steps whose dependencies succeeded; dependents of a failure are skipped."""
        ready = []
        for step in list(pending.values()):
            states = [result.results[d].status if d in result.results else None for d in step.depends_on]
            if any(s in ("failed", "skipped") for s in states):
                del pending[step.id]
                result.results[step.id] = StepResult(step.id, "skipped", "a step it depends on did not succeed")
                self.progress.finished(step.id, "skipped")
            elif all(s == "succeeded" for s in states):
                ready.append(step)
        return ready

    # -- one step ---------------------------------------------------------------
    def _start_step(self, step: Step, change: Change) -> None:
        """On a worker: the step really starts now (it may have queued behind --parallelism)."""
        self.progress.started(step.id, step.op, step.compute)
        self._run_step(step, change)

    def _run_step(self, step: Step, change: Change) -> None:
        """One table from op to handler: adding an op means adding a row here and in `plan.Op`."""
        self._handlers[step.op](step, change)

    @staticmethod
    def _ws(change: Change) -> WorkspaceRef:
        if change.workspace is None:
            raise StepError(f"{change.address}: not a workspace compute")
        return change.workspace

    def _remove(self, step: Step, change: Change) -> None:
        """Detach (keep the AKS cluster) or delete (the workspace created it)."""
        current = self._current(self._ws(change), step.compute)
        if current is None:
            return  # already gone: a re-run after a crash
        self._refuse_if_in_flight(current)
        action: Literal["Detach", "Delete"] = "Delete" if step.op is Op.DELETE else "Detach"
        self._wait(step, self.computes.begin_delete(self._ws(change), step.compute, action))

    def _declared(self, step: Step, change: Change) -> DesiredCluster:
        if change.desired is None:
            raise StepError(f"{step.id}: nothing declared to {step.op}")
        return change.desired

    def _write(self, step: Step, change: Change) -> None:
        """Create, attach or update: PUT the compute, after the one-attachment check."""
        dc = self._declared(step, change)
        cluster_id = self._target_cluster(step, change)
        if step.op in (Op.ATTACH, Op.CREATE):
            self._refuse_second_attachment(step, cluster_id)
        tls = self.resolve_secrets(dc)
        was_created = change.observed is not None and change.observed.created
        location = self._location(cluster_id, change)
        if step.op is Op.CREATE:
            body = bodies.create_body(dc, tls)
        elif step.op is Op.ATTACH:
            body = bodies.attach_body(dc, cluster_id or "", location, tls, created=was_created)
        else:
            created = was_created or (change.observed is None and dc.spec.spec.create is not None)
            body = bodies.update_body(dc, cluster_id, location, tls, created=created)
        self._wait(step, self.computes.begin_create_or_update(self._ws(change), step.compute, body))
        if step.op in (Op.ATTACH, Op.CREATE):
            self._check_after(step, cluster_id)

    def _check_after(self, step: Step, cluster_id: str | None) -> None:
        """List the workspace again: an attachment made meanwhile elsewhere (another machine, a
        person in the portal) must fail the run loudly, with the repair, never pass unseen."""
        computes = self.fresh_listing(step.workspace)
        mine = next((c for c in computes if c.name.lower() == step.compute.lower()), None)
        key = cluster_key(cluster_id) if cluster_id else (mine.cluster_key if mine else None)
        if not key:
            return
        others = [c for c in computes
                  if c.name.lower() != step.compute.lower() and c.cluster_key == key and not c.is_kubernetes]
        if others:
            names = ", ".join(repr(c.name) for c in others)
            raise StepError(
                f"after {step.op} of {step.compute!r}: cluster {key.rsplit('/', 1)[-1]!r} is also attached as {names} in this "
                f"workspace, so one of the attachments is broken. Repair: detach {names} (or {step.compute!r} if that is "
                f"the one to keep elsewhere), then run `reconciler apply`"
            )

    def _target_cluster(self, step: Step, change: Change) -> str | None:
        if step.op is Op.CREATE:
            return None
        if step.op is Op.ATTACH and change.desired is not None and change.desired.cluster_id and not (change.observed and change.observed.created):
            return change.desired.cluster_id
        current = self._current(self._ws(change), step.compute)
        if current is not None and current.cluster_id:
            return current.cluster_id
        if change.desired is not None and change.desired.cluster_id:
            return change.desired.cluster_id
        return change.observed.cluster_id if change.observed else None

    def _location(self, cluster_id: str | None, change: Change) -> str | None:
        cluster = self.observed.cluster(cluster_id)
        if cluster is not None:
            return cluster.location
        return change.observed.location if change.observed else None

    def _scale(self, step: Step, change: Change) -> None:
        dc = self._declared(step, change)
        current = self._current(self._ws(change), step.compute)
        if current is None or not current.cluster_id:
            raise StepError(f"{step.id}: compute {step.compute!r} or its cluster no longer exists")
        cluster = self.aks.get_cluster(current.cluster_id)
        if cluster is None or cluster.primary_pool is None:
            raise StepError(f"{step.id}: AKS cluster {current.cluster_id} not found")
        count = dc.spec.spec.create.agentCount  # type: ignore[union-attr]
        self._wait(step, self.aks.begin_scale(current.cluster_id, cluster.primary_pool.name, count))

    # -- the Kubernetes side ------------------------------------------------------------
    def _kube(self) -> KubernetesApi:
        if self.kube is None:
            raise StepError("no Kubernetes client configured")
        return self.kube

    def _extension_of(self, step: Step, change: Change) -> DesiredExtension:
        if change.extension is None or change.cluster_id is None:
            raise StepError(f"{step.id}: nothing declared to {step.op}")
        return change.extension

    def _cluster(self, cluster_id: str) -> AksCluster:
        cluster = self.observed.cluster(cluster_id) or self.aks.get_cluster(cluster_id)
        if cluster is None:
            raise StepError(f"AKS cluster {cluster_id} not found")
        return cluster

    def _install(self, step: Step, change: Change) -> None:
        """PUT the extension with every setting the Azure CLI would send (derived ones included)."""
        de = self._extension_of(step, change)
        cluster = self._cluster(de.cluster_id)
        current = self._kube().get_extension(de.cluster_id, step.compute)
        if current is not None and current.in_flight:
            raise StepError(f"extension {step.compute!r} has an operation in flight ({current.provisioning_state}); run apply again when it ends")
        if current is not None and current.provisioning_state.lower() == "succeeded":
            return  # installed meanwhile (a re-run after a crash): verify compares the settings
        body = extension_body.install_body(de, cluster, resolve_extension_secrets(de))
        self._wait(step, self._kube().begin_install(de.cluster_id, step.compute, body))

    def _upgrade(self, step: Step, change: Change) -> None:
        """PATCH in place, from the extension as it is now; never uninstall + install."""
        de = self._extension_of(step, change)
        cluster = self._cluster(de.cluster_id)
        current = self._kube().get_extension(de.cluster_id, step.compute)
        if current is None:
            raise StepError(f"extension {step.compute!r} on {cluster.name!r} no longer exists; plan again")
        if current.in_flight:
            raise StepError(f"extension {step.compute!r} has an operation in flight ({current.provisioning_state}); run apply again when it ends")
        digest = de.protected_digest()
        send_protected = bool(digest) and current.settings.get(extension_body.DIGEST_KEY) != digest
        pem = resolve_extension_secrets(de) if send_protected else None
        patch = extension_body.upgrade_body(de, cluster, current, pem, send_protected=send_protected)
        self._wait(step, self._kube().begin_upgrade(de.cluster_id, step.compute, patch))

    def _uninstall(self, step: Step, change: Change) -> None:
        """Refused if any Kubernetes compute in a visible workspace still uses the cluster: it would break them all."""
        de = self._extension_of(step, change)
        users = [f"{ref.workspace_name}/{c.name}" for ref in self._visible_workspaces()
                 for c in self.fresh_listing(ref) if c.is_kubernetes and c.cluster_key == de.cluster_key]
        if users:
            raise StepError(f"refusing to uninstall the extension of {de.cluster_id.rsplit('/', 1)[-1]!r}: "
                            f"Kubernetes compute(s) {', '.join(sorted(users))} still use it")
        if self._kube().get_extension(de.cluster_id, step.compute) is None:
            return  # already gone: a re-run after a crash
        self._wait(step, self._kube().begin_uninstall(de.cluster_id, step.compute))

    def _visible_workspaces(self) -> list[WorkspaceRef]:
        return [ows.ref for ows in self.observed.workspaces.values() if ows.exists]

    def _create_namespace(self, step: Step, change: Change) -> None:
        """`kubectl create namespace` by AKS Run Command; an existing namespace is success (idempotent)."""
        if change.kubernetes is None:
            raise StepError(f"{step.id}: nothing declared to {step.op}")
        namespace = change.kubernetes.namespace
        timeout = self.timeouts.get(step.op, 300.0)
        code, logs = self._kube().run_command(change.kubernetes.cluster_id, f"kubectl create namespace {namespace}", timeout=timeout)
        if code != 0 and "alreadyexists" not in logs.replace(" ", "").lower():
            raise StepError(f"creating namespace {namespace!r} failed (exit code {code}): {logs.strip()[:300]}")

    def _save_tls(self, step: Step, change: Change) -> None:
        """Read azuremlfessl by AKS Run Command into the backup folder (0600, never overwritten); content never shown."""
        from reconciler import tlsbackup

        if change.workspace is None or self.tls_backups is None:
            raise StepError(f"{step.id}: no backup folder configured")
        if tlsbackup.has_backup(self.tls_backups, change.workspace, step.compute):
            return  # saved by an earlier run
        current = self._current(change.workspace, step.compute)
        if current is None or not current.cluster_id:
            raise StepError(f"compute {step.compute!r} is gone: its certificate can no longer be read")
        code, logs = self._kube().run_command(current.cluster_id, clusterside.READ_TLS_SECRET,
                                              timeout=self.timeouts.get(step.op, 300.0))
        if code != 0:
            raise StepError(f"reading secret {clusterside.TLS_SECRET} failed (exit code {code}): {clusterside.redact(logs)}")
        try:
            pair = clusterside.parse_tls_secret(logs)
            tlsbackup.write_backup(self.tls_backups, change.workspace, step.compute, pair.certificate, pair.key)
        except (clusterside.SecretFormatError, tlsbackup.BackupExistsError) as exc:
            raise StepError(str(exc)) from None

    def _remove_legacy_fe(self, step: Step, change: Change) -> None:
        """Delete the azureml-fe objects in `default` by AKS Run Command; refused while any visible workspace
        still has a legacy compute attached to the cluster (it would stop serving). Idempotent."""
        de = self._extension_of(step, change)
        users = [f"{ref.workspace_name}/{c.name}" for ref in self._visible_workspaces()
                 for c in self.fresh_listing(ref) if not c.is_kubernetes and c.cluster_key == de.cluster_key]
        if users:
            raise StepError(f"refusing to remove the azureml-fe objects of {de.cluster_id.rsplit('/', 1)[-1]!r}: legacy "
                            f"compute(s) {', '.join(sorted(users))} are still attached to it")
        timeout = self.timeouts.get(step.op, 300.0)
        code, logs = self._kube().run_command(de.cluster_id, clusterside.REMOVE_LEGACY_FE, timeout=timeout)
        if code != 0:
            raise StepError(f"removing the azureml-fe objects failed (exit code {code}): {clusterside.redact(logs)}")

    def _put_kubernetes(self, step: Step, change: Change) -> None:
        dk = change.kubernetes
        if dk is None:
            raise StepError(f"{step.id}: nothing declared to {step.op}")
        cluster = self._cluster(dk.cluster_id)
        self._wait(step, self.computes.begin_create_or_update(dk.workspace, step.compute, bodies.kubernetes_body(dk, cluster.location)))

    def _detach_kubernetes(self, step: Step, change: Change) -> None:
        """Always Detach: a Kubernetes compute is never removed with Delete."""
        if change.workspace is None:
            raise StepError(f"{step.id}: no workspace")
        current = self._current(change.workspace, step.compute)
        if current is None:
            return
        self._refuse_if_in_flight(current)
        self._wait(step, self.computes.begin_delete(change.workspace, step.compute, "Detach"))

    # -- safety checks ------------------------------------------------------------
    def _current(self, ws: WorkspaceRef, name: str) -> Compute | None:
        return self.computes.get(ws, name)

    def _refuse_if_in_flight(self, compute: Compute) -> None:
        if compute.in_flight:
            raise StepError(f"compute {compute.name!r} has an operation in flight ({compute.provisioning_state}); run apply again when it ends")

    def _refuse_second_attachment(self, step: Step, cluster_id: str | None) -> None:
        """Re-read the workspace: never start an attachment next to another one of the same cluster."""
        if step.workspace is None:
            raise StepError(f"{step.id}: not a workspace compute")
        computes = self.fresh_listing(step.workspace)
        for compute in computes:
            if compute.name.lower() == step.compute.lower():
                self._refuse_if_in_flight(compute)
                continue
            if cluster_id and compute.cluster_key == cluster_key(cluster_id):
                state = "in flight" if compute.in_flight else compute.provisioning_state
                raise StepError(
                    f"refusing to {step.op} {step.compute!r}: cluster {cluster_id.rsplit('/', 1)[-1]!r} is already attached "
                    f"as {compute.name!r} ({state}) in this workspace; a second attachment would break it"
                )

    def _wait(self, step: Step, poller: Poller) -> None:
        timeout = self.timeouts.get(step.op, 1800.0)
        poller.result(timeout=timeout)
        if not poller.done():
            raise StepError(f"{step.op} of {step.compute!r} did not finish within {timeout:.0f} s; it may still be running in Azure")


def _safe_message(exc: BaseException) -> str:
    """First line of an error: Azure messages never carry our secrets, bodies are not echoed."""
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    for line in text.splitlines():
        if line.startswith("Message:"):
            first = line[len("Message:"):].strip()
            break
    return first[:500]

"""What every step handler of the executor shares: the clients, the fresh workspace listing, timeouts, and the
secrets read only at apply time.

The scheduling (`executor`) and the handlers per kind of op (`executor_compute`, `executor_kubernetes`) sit on
this base, so a handler never needs the dependency graph and the graph never needs a REST body.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

from reconciler import secrets
from reconciler.clients import AksApi, ComputesApi, KubernetesApi, Poller
from reconciler.desired import DesiredCluster, DesiredExtension
from reconciler.plan import Change, Step
from reconciler.state import AksCluster, Compute, ObservedState, WorkspaceRef


class StepError(Exception):
    """A step that could not run or failed; the message is safe to print."""


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

    def ticket(self) -> int:
        """A point in time: a later call given it gets a listing that started after this."""
        return next(self._tickets)

    def __call__(self, ws: WorkspaceRef, asked: int | None = None) -> list[Compute]:
        """A listing that started after `asked` (default: now)."""
        if asked is None:
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
        return {
            k: secrets.resolve(getattr(tls, k), dc.base_dir)
            for k in ("certificate", "key")
            if getattr(tls, k) is not None
        }
    except secrets.SecretError as exc:
        raise StepError(f"TLS secret of {dc.address}: {exc}") from None


def resolve_extension_secrets(de: DesiredExtension) -> dict[str, str] | None:
    """The extension's PEM pair, read only now, at apply time."""
    if not de.pem_tls:
        return None
    tls = de.spec.spec.inference.tls
    assert tls is not None and tls.certificate is not None and tls.key is not None
    try:
        return {
            "certificate": secrets.resolve(tls.certificate, de.base_dir),
            "key": secrets.resolve(tls.key, de.base_dir),
        }
    except secrets.SecretError as exc:
        raise StepError(f"TLS secret of {de.address}: {exc}") from None


class StepBase:
    """The state the handlers read and the checks they share; `Executor` fills it in."""

    computes: ComputesApi
    aks: AksApi
    kube: KubernetesApi | None
    observed: ObservedState
    timeouts: dict[str, float]
    resolve_secrets: SecretResolver
    fresh_listing: FreshListing
    tls_backups: Path | None
    ready_at: dict[str, int]  # step id -> listing ticket taken when the step became ready and a worker was free

    def _listed_since_ready(self, ws: WorkspaceRef, step: Step) -> list[Compute]:
        """The workspace as listed after `step` became ready: the steps a round starts together share one
        listing, instead of each worker (started a few ms after the last) waiting for a listing of its own."""
        return self.fresh_listing(ws, self.ready_at.get(step.id))

    @staticmethod
    def _ws(change: Change) -> WorkspaceRef:
        if change.workspace is None:
            raise StepError(f"{change.address}: not a workspace compute")
        return change.workspace

    def _current(self, ws: WorkspaceRef, name: str) -> Compute | None:
        return self.computes.get(ws, name)

    def _refuse_if_in_flight(self, compute: Compute) -> None:
        if compute.in_flight:
            raise StepError(
                f"compute {compute.name!r} has an operation in flight ({compute.provisioning_state}); run apply again when it ends"
            )

    def _wait(self, step: Step, poller: Poller) -> None:
        timeout = self.timeouts.get(step.op, 1800.0)
        poller.result(timeout=timeout)
        if not poller.done():
            raise StepError(
                f"{step.op} of {step.compute!r} did not finish within {timeout:.0f} s; it may still be running in Azure"
            )

    def _kube(self) -> KubernetesApi:
        if self.kube is None:
            raise StepError("no Kubernetes client configured")
        return self.kube

    def _cluster(self, cluster_id: str) -> AksCluster:
        cluster = self.observed.cluster(cluster_id) or self.aks.get_cluster(cluster_id)
        if cluster is None:
            raise StepError(f"AKS cluster {cluster_id} not found")
        return cluster

    def _visible_workspaces(self) -> list[WorkspaceRef]:
        return [ows.ref for ows in self.observed.workspaces.values() if ows.exists]

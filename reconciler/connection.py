"""Connecting to Azure, an ARM endpoint or the local cloud: the clients one command uses (`Cloud`).

Apart from the workflow because every command (plan, apply, show, import, force-unlock) needs a
connection, and Azure's errors must become one clear line the same way for all of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from reconciler.clients import AksApi, ComputesApi, KubernetesApi
from reconciler.desired import Desired
from reconciler.failure import EXIT_USAGE, fail
from reconciler.state import ObservedState, WorkspaceRef

if TYPE_CHECKING:
    from reconciler.cloud.observe import ClustersNeeded, ObserveStats
    from reconciler.lock import Backend


class Read(Protocol):
    """(workspaces, attach target ids, regions) → observed; `needed` chooses the clusters read once
    the workspaces are listed (default: every cluster their computes point at)."""

    def __call__(
        self,
        refs: list[WorkspaceRef],
        attach_ids: list[str],
        regions: list[str],
        needed: ClustersNeeded | None = None,
        /,
    ) -> ObservedState: ...


@dataclass
class Cloud:
    """One connection's clients. `time_scale` < 1 on the local cloud, so progress expects shorter runs."""

    computes: ComputesApi
    aks: AksApi
    read: Read
    time_scale: float = 1.0
    kube: KubernetesApi | None = None
    # Adds extensions, versions and what is inside clusters: (observed, cluster ids, pinned ids, wanted ids).
    read_kubernetes: Callable[[ObservedState, list[str], list[str], list[str]], None] | None = None
    # The default shared lock: the workspace's storage account (None: --cloud local, file lock).
    default_lock: Callable[[WorkspaceRef], Backend | None] | None = None
    loopback: bool = False  # an emulator: a workspace without a storage account falls back to the file lock

    def observe(self, desired: Desired, replace: frozenset[str] = frozenset()) -> ObservedState:
        """The workspaces, the clusters a plan needs, the regions the manifests name, and the Kubernetes
        side. `replace`: the --replace names (their clusters are checked again)."""
        from reconciler.planner import clusters_to_read

        refs = [ws.ref for ws in desired.workspaces.values()]
        kube_ids = desired.kubernetes_cluster_ids
        regions = sorted({c.spec.spec.create.location for c in desired.clusters if c.spec.spec.create})
        # The legacy computes' clusters are chosen once the workspaces are listed: only those a plan
        # must check or compare (a matching attachment needs none).
        observed = self.read(refs, kube_ids, regions, partial(clusters_to_read, desired, replace=replace))
        if kube_ids and self.read_kubernetes is not None:
            pinned = [e.cluster_id for e in desired.extensions if e.spec.spec.version.version]
            wanted = [e.cluster_id for e in desired.extensions if e.present]
            self.read_kubernetes(observed, kube_ids, pinned, wanted)
        return observed


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

            def read(
                refs: list[WorkspaceRef],
                attach_ids: list[str],
                regions: list[str],
                needed: ClustersNeeded | None = None,
            ) -> ObservedState:
                if stats is None:  # the same clients observe, execute and verify
                    return observe_with(conn, computes, aks, refs, attach_ids, regions, needed)
                return observe(conn, refs, attach_ids, regions, stats=stats, needed=needed)  # counting clients

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

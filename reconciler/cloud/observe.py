"""Build the observed state with the fewest ARM calls, all independent ones concurrent.

Calls: one computes list per workspace (W); AKS clusters through one list per
subscription holding relevant clusters, or a GET when a subscription holds a
single one (S); Kubernetes versions once per region of the attach targets and
of `extra_regions` (L). Never a call per compute. Relevant clusters are the
attach targets plus, once the workspaces are listed, the clusters `needed`
names (by default every cluster the observed AKS computes point at).

Scheduling is dependency-driven rather than in rigid waves: the first round
(computes lists, the attach targets' clusters, versions of the extra regions)
starts at once; versions of a region start as soon as the cluster that reveals
it arrives; the clusters chosen once all computes lists are in follow. `plan`
and `apply` pass `needed` so that a fleet whose attachments all match reads no
cluster at all: a subscription's cluster list is pages long, each page waiting
for the one before, and that chain was most of a large plan's wall time.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from reconciler.cloud.aks import AksClient
from reconciler.cloud.arm import ComputesClient
from reconciler.cloud.auth import Connection
from reconciler.ids import cluster_key, parse_cluster_id
from reconciler.state import AksCluster, Compute, KubernetesVersion, ObservedState, ObservedWorkspace, WorkspaceRef

# Given the listed workspaces: the cluster ids to read as well (each checked like an attach target).
ClustersNeeded = Callable[[ObservedState], Iterable[str]]


@dataclass
class ObserveStats:
    """What one observation cost: HTTP requests sent (pages and retries included), by kind."""

    calls: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    workspaces: int = 0  # W
    cluster_fetches: int = 0  # S: lists and GETs planned
    regions: int = 0  # L
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def lower_bound(self) -> int:
        """W + S + L: one call per workspace, per cluster fetch and per region (one page each)."""
        return self.workspaces + self.cluster_fetches + self.regions

    def record(self, pipeline_request: Any) -> None:
        """raw_request_hook: runs once per request actually sent (so per retry and per page)."""
        kind = _kind(pipeline_request.http_request.method, pipeline_request.http_request.url)
        with self._lock:
            self.calls += 1
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


def _kind(method: str, url: str) -> str:
    path = url.split("?", 1)[0].lower()
    if "/kubernetesversions" in path:
        return "kubernetesVersions"
    if path.endswith("/computes"):
        return "computesList"
    if "/managedclusters/" in path:
        return "clusterGet"
    if path.endswith("/managedclusters"):
        return "clustersList"
    return f"{method} other"


def observe(
    conn: Connection,
    workspaces: Iterable[WorkspaceRef],
    attach_cluster_ids: Iterable[str] = (),
    extra_regions: Iterable[str] = (),
    *,
    stats: ObserveStats | None = None,
    needed: ClustersNeeded | None = None,
) -> ObservedState:
    """Observe the workspaces, the relevant AKS clusters and the needed regions' versions.

    Pass `stats` to learn how many calls it took (see `ObserveStats`), `needed` to choose
    the clusters read once the workspaces are listed (default: all their computes point at).
    """
    stats = stats if stats is not None else ObserveStats()
    started = time.perf_counter()
    computes = ComputesClient(conn, on_request=stats.record)
    aks = AksClient(conn, on_request=stats.record)
    try:
        return _Observation(conn, computes, aks, stats, needed).run(workspaces, attach_cluster_ids, extra_regions)
    finally:
        stats.seconds = time.perf_counter() - started
        computes.close()  # the connection's session (and its kept-alive connections) stays open
        aks.close()


def observe_with(
    conn: Connection,
    computes: ComputesClient,
    aks: AksClient,
    workspaces: Iterable[WorkspaceRef],
    attach_cluster_ids: Iterable[str] = (),
    extra_regions: Iterable[str] = (),
    needed: ClustersNeeded | None = None,
) -> ObservedState:
    """Observe through clients the caller keeps (and closes): apply observes twice and executes
    in between on the same clients, so nothing is built twice."""
    return _Observation(conn, computes, aks, ObserveStats(), needed).run(workspaces, attach_cluster_ids, extra_regions)


def observe_with_stats(
    conn: Connection,
    workspaces: Iterable[WorkspaceRef],
    attach_cluster_ids: Iterable[str] = (),
    extra_regions: Iterable[str] = (),
) -> tuple[ObservedState, ObserveStats]:
    stats = ObserveStats()
    return observe(conn, workspaces, attach_cluster_ids, extra_regions, stats=stats), stats


class _Observation:
    """The scheduler of one observe(): submits fetches as their inputs become known."""

    def __init__(
        self,
        conn: Connection,
        computes: ComputesClient,
        aks: AksClient,
        stats: ObserveStats,
        needed: ClustersNeeded | None = None,
    ) -> None:
        self.conn, self.computes, self.aks, self.stats, self.needed = conn, computes, aks, stats, needed
        self.state = ObservedState()
        self.relevant: dict[str, str] = {}  # cluster key -> id as first seen
        self.listed_subs: set[str] = set()  # subscriptions whose list was fetched (or is in flight)
        self.fetched: set[str] = set()  # cluster keys fetched by GET (or in flight)
        self.regions: set[str] = set()  # regions whose versions were fetched (or are in flight)
        self.attach_keys: set[str] = set()
        self.referenced: list[str] = []  # cluster ids the computes point at
        self.seen: dict[str, AksCluster] = {}  # every cluster fetched, by key; filtered at the end
        self.pending: dict[cf.Future[Any], Callable[[Any], None]] = {}
        self.lists_left = 0

    def run(self, workspaces: Iterable[WorkspaceRef], attach_ids: Iterable[str], extra: Iterable[str]) -> ObservedState:
        refs = list({ref.key: ref for ref in workspaces}.values())
        targets = {cluster_key(i): i for i in attach_ids if i and parse_cluster_id(i)}
        self.attach_keys = set(targets)
        self.relevant.update(targets)
        ws_subs = {ref.subscription_id.lower() for ref in refs}
        default_sub = (
            refs[0].subscription_id
            if refs
            else next((cid.subscription for i in targets.values() if (cid := parse_cluster_id(i))), None)
        )
        self.stats.workspaces = len(refs)
        self.lists_left = len(refs)
        # Threads are started only as calls wait for one, so the pool is as large as the work needs
        # (one per workspace and per first-round fetch), never more than the connection's bound.
        with cf.ThreadPoolExecutor(max_workers=max(1, self.conn.max_workers), thread_name_prefix="observe") as pool:
            self.pool = pool
            try:
                # Longest chains first: a subscription's cluster list may run to many pages, each
                # waiting for the one before; the computes lists are many but one page each, mostly.
                # A workspace subscription is listed even for one target: its computes likely point at more.
                self._fetch_clusters(list(targets.values()), list_if_single=ws_subs)
                for region in {r.lower() for r in extra if r}:
                    if default_sub:
                        self._fetch_versions(default_sub, region)
                for ref in refs:
                    self._submit(partial(self.computes.list, ref), partial(self._on_computes, ref))
                if not refs:
                    self._after_lists()
                self._drain()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        # Only relevant clusters: a list may return many more; absent means "not found".
        self.state.clusters = {key: self.seen[key] for key in self.relevant if key in self.seen}
        return self.state

    # -- scheduling --------------------------------------------------------------
    def _submit(self, fn: Callable[[], Any], then: Callable[[Any], None]) -> None:
        self.pending[self.pool.submit(fn)] = then

    def _drain(self) -> None:
        while self.pending:
            done, _ = cf.wait(list(self.pending), return_when=cf.FIRST_COMPLETED)
            for future in done:
                then = self.pending.pop(future)
                then(future.result())  # a CloudError ends the observation

    def _fetch_clusters(self, ids: list[str], list_if_single: AbstractSet[str] = frozenset()) -> None:
        """Per subscription: a GET for a lone cluster, otherwise one list."""
        by_sub: dict[str, list[str]] = {}
        spelled: dict[str, str] = {}  # subscription as first seen, by lower-case key
        for cluster_id in ids:
            key = cluster_key(cluster_id)
            cid = parse_cluster_id(cluster_id)
            if cid is None or key in self.fetched or cid.subscription.lower() in self.listed_subs:
                continue
            by_sub.setdefault(cid.subscription.lower(), []).append(cluster_id)
            spelled.setdefault(cid.subscription.lower(), cid.subscription)
        for sub, sub_ids in by_sub.items():
            if len(sub_ids) == 1 and sub not in list_if_single:
                self.fetched.add(cluster_key(sub_ids[0]))
                self.stats.cluster_fetches += 1
                self._submit(partial(self.aks.get_cluster, sub_ids[0]), self._on_cluster)
            else:
                self.listed_subs.add(sub)
                self.stats.cluster_fetches += 1
                self._submit(partial(self.aks.list_clusters, spelled[sub]), self._on_clusters)

    def _fetch_versions(self, subscription: str, region: str) -> None:
        if region in self.regions:
            return
        self.regions.add(region)
        self.stats.regions += 1
        self._submit(
            lambda: self.aks.kubernetes_versions(subscription, region),
            lambda versions: self._on_versions(region, versions),
        )

    # -- results -----------------------------------------------------------------
    def _on_computes(self, ref: WorkspaceRef, listed: list[Compute] | None) -> None:
        ows = ObservedWorkspace(ref, exists=listed is not None)
        others: set[str] = set()
        referenced: list[str] = []
        for compute in listed or []:
            if compute.is_kubernetes:
                ows.kubernetes[compute.name] = compute
            if compute.compute_type.upper() != "AKS":
                others.add(compute.name)
                continue
            ows.computes[compute.name] = compute
            if compute.cluster_id:
                referenced.append(compute.cluster_id)
        ows.other_computes = frozenset(others)
        self.state.workspaces[ref.key] = ows
        self.referenced.extend(referenced)
        self.lists_left -= 1
        if self.lists_left == 0:
            self._after_lists()

    def _after_lists(self) -> None:
        """Every workspace is listed: fetch the clusters still wanted that are not covered."""
        if self.needed is None:
            later = self.referenced
        else:
            later = [i for i in self.needed(self.state) if i and parse_cluster_id(i)]
            self.attach_keys.update(cluster_key(i) for i in later)  # checked as attach targets are
        for cluster_id in later:
            self.relevant.setdefault(cluster_key(cluster_id), cluster_id)
        self._fetch_clusters(later)

    def _on_cluster(self, cluster: AksCluster | None) -> None:
        if cluster is not None:
            self._keep(cluster)

    def _on_clusters(self, clusters: list[AksCluster]) -> None:
        for cluster in clusters:
            self._keep(cluster)

    def _keep(self, cluster: AksCluster) -> None:
        self.seen[cluster.key] = cluster
        if cluster.key in self.attach_keys and cluster.location:
            sub = parse_cluster_id(cluster.id)
            if sub is not None:
                self._fetch_versions(sub.subscription, cluster.location.lower())

    def _on_versions(self, region: str, versions: tuple[KubernetesVersion, ...]) -> None:
        self.state.versions[region] = versions

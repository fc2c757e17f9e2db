"""Desired × observed → Plan: a pure function, tested without any server.

The one rule above all (an Azure ML fact): an AKS cluster never has two attachments,
or an attachment plus one in flight, in one workspace. So every step touching
one cluster in one workspace is put on a single dependency chain: detaches and
deletes first, then the attach or create, then updates and scales.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Iterable

from deepdiff import DeepDiff

from reconciler import vmsizes
from reconciler.desired import Desired, DesiredCluster, DesiredWorkspace
from reconciler.findings import Finding, Position, Severity
from reconciler.ids import cluster_key
from reconciler.manifest import ClusterPurpose, LoadBalancerType
from reconciler.rules import Rule, define
from reconciler.secrets import redact
from reconciler.state import MANAGED_TAG, SPEC_TAG, AksCluster, Compute, ObservedState, ObservedWorkspace, WorkspaceRef

E, W = Severity.ERROR, Severity.WARNING
AKS020 = define("AKS020", E, "attach target cluster not found", "check the clusterId, or create the cluster in AKS first")
AKS021 = define("AKS021", E, "Kubernetes version not supported in the cluster's region", "upgrade the AKS cluster to a supported version (az aks get-versions -l <region>)")
AKS022 = define("AKS022", W, "preview Kubernetes version", "preview versions have no SLA; prefer a generally available version for production")
AKS023 = define("AKS023", E, "cluster has too few vCPUs for its purpose", "production needs >= 12 vCPUs over its agent pools, DevTest >= 2: scale the cluster in AKS or use DevTest")
AKS024 = define("AKS024", W, "private AKS cluster", "a private cluster (Private Link) must be reachable by Azure ML: attach from a workspace with network access to it")
AKS025 = define("AKS025", W, "API server authorized IP ranges", "allow the Azure ML control-plane ranges of the region pair in the cluster's authorized IP ranges")
AKS026 = define("AKS026", W, "Basic load balancer SKU", "authorized IP ranges and internal load balancers need the Standard load balancer: recreate the cluster with the Standard SKU")
AKS027 = define("AKS027", W, "VM size of the cluster not known", "its vCPUs could not be checked against the purpose's minimum")
AKS028 = define(
    "AKS028", E, "cluster already attached under a compute these manifests do not manage",
    "declare the cluster under that compute name, adopt it with `reconciler import`, or detach that compute first",
)
AKS029 = define("AKS029", E, "change needs a replacement", "location, vmSize and network of a created cluster cannot change in place: re-run with --replace NAME to delete and re-create it")
AKS030 = define("AKS030", E, "workspace not found", "check subscriptionId, resourceGroup and workspaceName, and your access to them")
AKS031 = define("AKS031", E, "region has no default Kubernetes version", "check create.location: AKS must be offered in that region")
AKS032 = define("AKS032", W, "TLS secret not available to plan", "the certificate change cannot be detected without it; provide the file or environment variable where you plan")
AKS033 = define("AKS033", E, "compute name taken by a non-AKS compute", "pick another compute name")
AKS034 = define("AKS034", E, "operation in progress", "wait for the running operation on this compute to finish, then plan again")
AKS035 = define("AKS035", W, "managed compute no longer declared", "set prune: true on the workspace to detach it, or declare it again")


class Action(str, Enum):
    CREATE = "create"
    ATTACH = "attach"
    UPDATE = "update"
    SCALE = "scale"
    REATTACH = "reattach"
    DETACH = "detach"
    REPLACE = "replace"
    NOOP = "noop"


SUMMARY_ORDER = [a.value for a in Action]


@dataclass(frozen=True)
class FieldDiff:
    path: str
    before: Any
    after: Any


@dataclass
class Step:
    id: str
    op: str  # create | attach | update | scale | detach | delete
    compute: str
    workspace: WorkspaceRef
    cluster: str | None  # cluster key the step touches (None: a cluster not yet created)
    depends_on: list[str] = field(default_factory=list)


@dataclass
class Change:
    address: str
    action: Action
    workspace: WorkspaceRef
    compute_name: str
    cluster_id: str | None
    reasons: list[str] = field(default_factory=list)
    diff: list[FieldDiff] = field(default_factory=list)
    observed: Compute | None = None
    steps: list[Step] = field(default_factory=list)
    desired: DesiredCluster | None = None


@dataclass(frozen=True)
class PlanOptions:
    targets: frozenset[str] = frozenset()
    replace: frozenset[str] = frozenset()


@dataclass
class Plan:
    changes: list[Change]
    warnings: list[Finding]
    errors: list[Finding]
    manifests_digest: str = ""
    options: PlanOptions = PlanOptions()
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NOOP]

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def summary(self) -> dict[str, int]:
        counts = {a: 0 for a in SUMMARY_ORDER}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def steps(self) -> list[Step]:
        return [s for c in self.changes for s in c.steps]


REATTACH_FIELDS = ("mode", "clusterId", "clusterPurpose", "tls.enabled", "tls.leafDomainLabel", "tls.cname", "specDigest")
REPLACE_FIELDS = ("location", "vmSize", "network")
SCALE_FIELDS = ("agentCount",)


def plan(desired: Desired, observed: ObservedState, options: PlanOptions = PlanOptions()) -> Plan:
    """Compute the changes that make `observed` match `desired`, safely ordered."""
    changes: list[Change] = []
    warnings: list[Finding] = []
    errors: list[Finding] = []
    for alias, dws in desired.workspaces.items():
        ows = observed.workspace(dws.ref)
        if not ows.exists:
            errors.append(_finding(AKS030, f"workspace {dws.ref.workspace_name!r} not found in resource group {dws.ref.resource_group!r}", dws.position, alias))
            continue
        planner = _WorkspacePlanner(dws, desired.in_workspace(alias), ows, observed, options)
        planner.run()
        changes.extend(planner.changes)
        warnings.extend(planner.warnings)
        errors.extend(planner.errors)
    changes = _select_targets(changes, options.targets)
    for ws_changes in _by_workspace(changes).values():
        _order_steps(ws_changes)
    return Plan(changes, warnings, errors, desired.digest, options)


def _finding(rule: Rule, message: str, position: Position, address: str | None) -> Finding:
    return Finding(rule.id, rule.severity, message, position, rule.hint, address)


class _WorkspacePlanner:
    def __init__(self, dws: DesiredWorkspace, clusters: list[DesiredCluster], ows: ObservedWorkspace, observed: ObservedState, options: PlanOptions) -> None:
        self.dws, self.alias, self.prune = dws, dws.alias, dws.prune
        self.declared, self.ows, self.observed, self.options = clusters, ows, observed, options
        self.by_name = {c.name.lower(): c for c in clusters}
        self.changes: list[Change] = []
        self.warnings: list[Finding] = []
        self.errors: list[Finding] = []
        self.detaching: set[str] = set()  # observed compute names planned to detach

    def run(self) -> None:
        for dc in self.declared:
            self._declared(dc)
        for name, compute in sorted(self.ows.computes.items()):
            if name.lower() in self.by_name or name in self.detaching:
                continue
            if compute.managed:
                if self.prune:
                    self._detach(compute, ["no longer declared and the workspace has prune: true"])
                else:
                    self._warn(AKS035, f"managed compute {name!r} is no longer declared (prune is off)", None, f"{self.alias}/{name}")
        self._check_conflicts()

    # -- one declared cluster -------------------------------------------------
    def _declared(self, dc: DesiredCluster) -> None:
        name = dc.name
        if name in self.ows.other_computes:
            self._error(AKS033, f"compute {name!r} exists in the workspace with another compute type", dc)
            return
        current = self._observed_compute(name)
        if dc.custom_tls and not dc.secrets_known:
            self._warn(AKS032, f"TLS certificate or key of {name!r} could not be read here", dc)
        if current is not None and current.in_flight:
            self._error(AKS034, f"compute {name!r} is {current.provisioning_state}", dc)
            return
        if current is None:
            if dc.spec.spec.create is not None:
                self._check_create(dc)
                self._add(dc, Action.CREATE, None, ["not in the workspace"], _diff({}, _desired_view(dc)))
            else:
                self._check_attach_target(dc)
                self._add(dc, Action.ATTACH, None, ["not in the workspace"], _diff({}, _desired_view(dc)))
            return
        self._compare(dc, current)

    def _compare(self, dc: DesiredCluster, current: Compute) -> None:
        cluster = self.observed.cluster(current.cluster_id)
        before, after = _observed_view(current, cluster, dc), _desired_view(dc)
        if not dc.secrets_known or not current.spec_digest:
            before.pop("specDigest", None)
            after.pop("specDigest", None)
        diff = _diff(before, after)
        changed = {d.path.split(".")[0] if d.path.startswith("network") else d.path for d in diff}
        forced = dc.name in self.options.replace or dc.address in self.options.replace
        is_create = dc.spec.spec.create is not None
        reasons = [f"{d.path} changed" for d in diff]

        if current.failed:
            gone = current.created and current.cluster_id and cluster is None
            reasons = [f"provisioningState is Failed{': ' + current.provisioning_errors[0] if current.provisioning_errors else ''}"]
            if is_create and (gone or not current.cluster_id):
                self._add(dc, Action.REPLACE, current, reasons + ["its cluster no longer exists"], diff, gone=True)
            else:
                if not is_create:
                    self._check_attach_target(dc)
                self._add(dc, Action.REATTACH, current, reasons, diff, repair_created=is_create)
            return
        if is_create and current.created and current.cluster_id and cluster is None:
            self._add(dc, Action.REPLACE, current, ["its AKS cluster no longer exists"], diff, gone=True)
            return
        if is_create != current.created:
            if is_create:
                self._replace_or_error(dc, current, ["the manifest creates a cluster; the workspace has an attached one"], diff, forced=forced)
            else:
                self._check_attach_target(dc)
                self._add(dc, Action.REATTACH, current, ["the manifest attaches a cluster; the workspace created its own"], diff)
            return
        if changed & set(REPLACE_FIELDS) or (forced and is_create):
            self._replace_or_error(dc, current, [r for r in reasons if r.split(" ")[0].split(".")[0] in REPLACE_FIELDS] or ["--replace requested"], diff, forced=forced)
            return
        if changed & set(REATTACH_FIELDS) or forced:
            if not is_create:
                self._check_attach_target(dc)
            specific = [_reason(d) for d in diff if d.path in REATTACH_FIELDS and d.path != "specDigest"]
            digest = [_reason(d) for d in diff if d.path == "specDigest"]
            why = specific or digest or ["--replace requested"]
            self._add(dc, Action.REATTACH, current, why, diff, repair_created=is_create)
            return
        if changed & set(SCALE_FIELDS):
            self._add(dc, Action.SCALE, current, [_reason(d) for d in diff], diff, also_update=bool(changed - set(SCALE_FIELDS)))
            return
        if diff:
            # An unmanaged compute that matches is simply declared now (e.g. after `import`);
            # the managed tag is added by its next write.
            self._add(dc, Action.UPDATE, current, [_reason(d) for d in diff], diff)
            return
        self._add(dc, Action.NOOP, current, [], [])

    def _replace_or_error(self, dc: DesiredCluster, current: Compute, reasons: list[str], diff: list[FieldDiff], *, forced: bool) -> None:
        if not forced:
            self._error(AKS029, f"{dc.name!r} must be replaced ({'; '.join(reasons)})", dc)
            return
        self._check_create(dc)
        self._add(dc, Action.REPLACE, current, reasons, diff)

    # -- checks that need Azure -----------------------------------------------
    def _check_attach_target(self, dc: DesiredCluster) -> None:
        cluster = self.observed.cluster(dc.cluster_id)
        if cluster is None:
            self._error(AKS020, f"AKS cluster {dc.cluster_id} does not exist (or is not visible to you)", dc)
            return
        versions = self.observed.region_versions(cluster.location)
        if versions is not None:
            match = next((v for v in versions if v.version == cluster.kubernetes_version), None)
            if match is None:
                supported = ", ".join(v.version + (" (preview)" if v.preview else "") for v in versions) or "none"
                self._error(AKS021, f"cluster {cluster.name!r} runs Kubernetes {cluster.kubernetes_version}, not supported in {cluster.location}; supported: {supported}", dc)
            elif match.preview:
                self._warn(AKS022, f"cluster {cluster.name!r} runs preview Kubernetes {cluster.kubernetes_version}", dc)
        vcpus = cluster.vcpus
        dev = dc.spec.spec.clusterPurpose is ClusterPurpose.DEV_TEST
        needed = vmsizes.MIN_VCPUS_DEVTEST if dev else vmsizes.MIN_VCPUS_PRODUCTION
        if vcpus is None:
            sizes = ", ".join(sorted({p.vm_size for p in cluster.agent_pools}))
            self._warn(AKS027, f"cluster {cluster.name!r} uses VM sizes not in the built-in table ({sizes})", dc)
        elif vcpus < needed:
            self._error(AKS023, f"cluster {cluster.name!r} has {vcpus} vCPUs; {dc.spec.spec.clusterPurpose.value} needs at least {needed}", dc)
        if cluster.private:
            self._warn(AKS024, f"cluster {cluster.name!r} is a private cluster", dc)
        if cluster.authorized_ip_ranges:
            self._warn(AKS025, f"cluster {cluster.name!r} restricts its API server to authorized IP ranges", dc)
        if cluster.load_balancer_sku.lower() == "basic":
            self._warn(AKS026, f"cluster {cluster.name!r} uses the Basic load balancer SKU", dc)

    def _check_create(self, dc: DesiredCluster) -> None:
        location = dc.spec.spec.create.location  # type: ignore[union-attr]
        versions = self.observed.region_versions(location)
        if versions is not None and not any(v.default for v in versions):
            self._error(AKS031, f"no default AKS Kubernetes version in region {location!r}", dc)

    # -- the one-attachment rule ------------------------------------------------
    def _check_conflicts(self) -> None:
        """Every attach must wait for, or be refused by, other attachments of its cluster."""
        for change in list(self.changes):
            if change.action not in (Action.ATTACH, Action.REATTACH) or change.desired is None or not change.desired.cluster_key:
                continue
            key = change.desired.cluster_key
            for other in self.ows.by_cluster(key):
                if other.name == change.compute_name:
                    continue
                if other.name.lower() in self.by_name:
                    continue  # declared: its own change detaches it, and the cluster chain orders both
                if other.in_flight:
                    self._error(AKS034, f"compute {other.name!r} has an operation in flight on the same cluster", change.desired)
                elif other.managed:
                    self._detach(other, [f"renamed to {change.compute_name!r} (same cluster, detached first)"])
                else:
                    self._error(
                        AKS028,
                        f"cluster {other.cluster_id.rsplit('/', 1)[-1]!r} is already attached as {other.name!r}, which these manifests do not manage",
                        change.desired,
                    )
                    if change in self.changes:
                        self.changes.remove(change)
                    break

    # -- building changes -----------------------------------------------------
    def _observed_compute(self, name: str) -> Compute | None:
        for observed_name, compute in self.ows.computes.items():
            if observed_name.lower() == name.lower():
                return compute
        return None

    def _add(self, dc: DesiredCluster, action: Action, current: Compute | None, reasons: list[str], diff: list[FieldDiff], *,
             gone: bool = False, repair_created: bool = False, also_update: bool = False) -> None:
        change = Change(dc.address, action, dc.workspace, current.name if current else dc.name, dc.cluster_id or (current.cluster_id if current else None),
                        reasons, diff, current, [], dc)
        ops: list[tuple[str, str | None]] = []
        old = current.cluster_key if current else None
        new = dc.cluster_key or old
        internal = dc.spec.spec.loadBalancer.type is LoadBalancerType.INTERNAL
        if action is Action.CREATE:
            ops = [("create", None)]
        elif action is Action.ATTACH:
            ops = [("attach", new)] + ([("update", new)] if internal else [])
        elif action is Action.UPDATE:
            ops = [("update", old)]
        elif action is Action.SCALE:
            ops = [("scale", old)] + ([("update", old)] if also_update else [])
        elif action is Action.REATTACH:
            target = old if repair_created else new
            ops = [("detach", old), ("attach", target)] + ([("update", target)] if internal else [])
        elif action is Action.REPLACE:
            ops = [("detach" if gone or not current.created else "delete", old), ("create", None)]  # type: ignore[union-attr]
        change.steps = [Step(f"{dc.address}#{i}", op, change.compute_name, dc.workspace, cluster) for i, (op, cluster) in enumerate(ops, 1)]
        self.changes.append(change)

    def _detach(self, compute: Compute, reasons: list[str]) -> None:
        if compute.name in self.detaching:
            return
        self.detaching.add(compute.name)
        address = f"{self.alias}/{compute.name}"
        change = Change(address, Action.DETACH, self.ows.ref, compute.name, compute.cluster_id, reasons,
                        [FieldDiff("computeName", compute.name, None)], compute)
        change.steps = [Step(f"{address}#1", "detach", compute.name, self.ows.ref, compute.cluster_key)]
        self.changes.append(change)

    def _error(self, rule: Rule, message: str, dc: DesiredCluster) -> None:
        self.errors.append(_finding(rule, message, dc.position, dc.address))

    def _warn(self, rule: Rule, message: str, dc: DesiredCluster | None, address: str | None = None) -> None:
        pos = dc.position if dc else self.dws.position
        self.warnings.append(_finding(rule, message, pos, dc.address if dc else address))


# -- views and diffs ----------------------------------------------------------
def _desired_view(dc: DesiredCluster) -> dict[str, Any]:
    s = dc.spec.spec
    view: dict[str, Any] = {"mode": "create" if s.create else "attach"}
    if s.attach:
        view["clusterId"] = s.attach.clusterId
    if s.create:
        view.update(location=s.create.location, vmSize=s.create.vmSize, agentCount=s.create.agentCount)
        if s.create.network:
            view["network"] = s.create.network.model_dump(exclude_none=True)
    view.update({
        "clusterPurpose": s.clusterPurpose.value,
        "description": s.description,
        "loadBalancer.type": s.loadBalancer.type.value,
        "loadBalancer.subnet": s.loadBalancer.subnet if s.loadBalancer.type is LoadBalancerType.INTERNAL else None,
        "tls.enabled": s.tls.enabled,
        "tls.leafDomainLabel": s.tls.leafDomainLabel if s.tls.enabled else None,
        "tls.cname": s.tls.cname if s.tls.enabled else None,
        "tags": dict(s.tags),
        "specDigest": dc.digest(),
    })
    if s.tls.enabled and s.tls.certificate:
        view["tls.certificate"] = redact(dc.fingerprints.get("certificate"))
    if s.tls.enabled and s.tls.key:
        view["tls.key"] = redact(dc.fingerprints.get("key"))
    return view


def _observed_view(compute: Compute, cluster: AksCluster | None, dc: DesiredCluster) -> dict[str, Any]:
    view: dict[str, Any] = {"mode": "create" if compute.created else "attach"}
    if not compute.created:
        view["clusterId"] = compute.cluster_id
    else:
        pool = cluster.primary_pool if cluster else None
        view.update(
            location=(cluster.location if cluster else compute.location),
            vmSize=(pool.vm_size if pool else compute.agent_vm_size),
            agentCount=(pool.count if pool else compute.agent_count),
        )
        if compute.network:
            view["network"] = {k: v for k, v in compute.network.items() if v is not None}
    tls = compute.tls
    view.update({
        "clusterPurpose": compute.purpose or ClusterPurpose.FAST_PROD.value,
        "description": compute.description,
        "loadBalancer.type": compute.load_balancer_type,
        "loadBalancer.subnet": compute.load_balancer_subnet if compute.load_balancer_type == LoadBalancerType.INTERNAL.value else None,
        "tls.enabled": tls.enabled,
        "tls.leafDomainLabel": tls.leaf_domain_label if tls.enabled else None,
        "tls.cname": tls.cname if tls.enabled else None,
        "tags": {k: v for k, v in compute.tags.items() if not k.startswith("reconciler-")},
        "specDigest": compute.spec_digest,
    })
    desired_tls = dc.spec.spec.tls
    # Azure never returns certificates: one that is there is compared through the digest.
    if tls.enabled and tls.cname:
        if desired_tls.enabled and desired_tls.certificate:
            view["tls.certificate"] = redact(dc.fingerprints.get("certificate"))
        if desired_tls.enabled and desired_tls.key:
            view["tls.key"] = redact(dc.fingerprints.get("key"))
    return view


def _normalise(view: dict[str, Any]) -> dict[str, Any]:
    out = dict(view)
    if out.get("clusterId"):
        out["clusterId"] = cluster_key(out["clusterId"])
    if out.get("location"):
        out["location"] = out["location"].replace(" ", "").lower()
    if out.get("vmSize"):
        out["vmSize"] = out["vmSize"].lower()
    return out


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[FieldDiff]:
    """Field-level differences (deepdiff), reported with the values as written."""
    if not before:  # a new compute: every field it will have
        return [FieldDiff(k, None, v) for k, v in sorted(after.items()) if v not in (None, {}, "") and k != "specDigest"]
    nb, na = _normalise(before), _normalise(after)
    result = DeepDiff(nb, na, view="tree", ignore_order=True)
    diffs: dict[str, FieldDiff] = {}
    for levels in result.values():
        for level in levels:
            parts = level.path(output_format="list")
            top = parts[0]
            path = ".".join(str(p) for p in parts)
            b = _at(before, parts)
            a = _at(after, parts)
            if top in ("tags", "network") and len(parts) == 1:
                path = top
            diffs[path] = FieldDiff(path, b, a)
    return sorted(diffs.values(), key=lambda d: d.path)


def _at(view: dict[str, Any], parts: list[Any]) -> Any:
    value: Any = view
    for p in parts:
        if not isinstance(value, dict) or p not in value:
            return None
        value = value[p]
    return value


def _reason(d: FieldDiff) -> str:
    if d.path == "specDigest":
        return "attach-time settings changed (e.g. the TLS certificate or key)"
    return f"{d.path} changed"


# -- targets and ordering -----------------------------------------------------
def _select_targets(changes: list[Change], targets: Iterable[str]) -> list[Change]:
    """--target NAME: those changes, plus what they depend on through their clusters."""
    targets = set(targets)
    if not targets:
        return changes
    chosen = [c for c in changes if c.compute_name in targets or c.address in targets]
    keys = {(c.workspace.key, s.cluster) for c in chosen for s in c.steps if s.cluster}
    more = [c for c in changes if c not in chosen and any((c.workspace.key, s.cluster) in keys for s in c.steps)]
    return [c for c in changes if c in chosen or c in more]


def _by_workspace(changes: list[Change]) -> dict[str, list[Change]]:
    grouped: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        grouped[change.workspace.key].append(change)
    return grouped


_PHASE = {"detach": 0, "delete": 0, "attach": 1, "create": 1, "update": 2, "scale": 2}


def _order_steps(changes: list[Change]) -> None:
    """Steps in a change run in order; steps on one cluster form one chain, detaches first."""
    chains: dict[str, list[tuple[int, int, Step]]] = defaultdict(list)
    for ci, change in enumerate(changes):
        for si, step in enumerate(change.steps):
            step.depends_on = [change.steps[si - 1].id] if si else []
            if step.cluster:
                chains[step.cluster].append((_PHASE[step.op], ci * 100 + si, step))
    for chain in chains.values():
        chain.sort(key=lambda t: (t[0], t[1]))
        for (_, _, prev), (_, _, step) in zip(chain, chain[1:]):
            if prev.id not in step.depends_on:
                step.depends_on.append(prev.id)

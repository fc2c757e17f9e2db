"""The legacy AKS computes of one workspace: desired × observed → changes (pure).

The one rule above all (an Azure ML fact): an AKS cluster never has two attachments,
or an attachment plus one in flight, in one workspace. So this module decides, per
declared cluster, create, attach, update, scale, re-attach or replace; refuses what
another owner holds; and detaches renamed or pruned computes. The order of the steps
is `planner_order`'s job, the checks against Azure's clusters `planner_checks`'.
"""

from __future__ import annotations

from reconciler.catalogue import AKS028, AKS029, AKS032, AKS033, AKS034, AKS035, AKS036, AKS037, Rule
from reconciler.desired import DesiredCluster, DesiredKubernetes, DesiredWorkspace
from reconciler.diff import compared_views, desired_view
from reconciler.diff import diff as diff_views
from reconciler.findings import Finding, Position
from reconciler.manifest import LoadBalancerType
from reconciler.plan import Action, Change, FieldDiff, Op, PlanOptions, Step, downtime_seconds
from reconciler.planner_checks import check_attach_target, check_create
from reconciler.secrets import SENSITIVE, SENSITIVE_CHANGED
from reconciler.state import Compute, ObservedState, ObservedWorkspace

REATTACH_FIELDS = (
    "mode",
    "clusterId",
    "clusterPurpose",
    "tls.enabled",
    "tls.leafDomainLabel",
    "tls.cname",
    "specDigest",
)
REPLACE_FIELDS = ("location", "vmSize", "network")
SCALE_FIELDS = ("agentCount",)
SENDS_TLS = (Op.CREATE, Op.ATTACH, Op.UPDATE)  # the PUTs that carry the certificate and key


def _finding(rule: Rule, message: str, position: Position, address: str | None) -> Finding:
    return rule.finding(message, position, address)


class WorkspacePlanner:
    """Plans the legacy AKS computes declared in one workspace against that workspace as observed."""

    def __init__(
        self,
        dws: DesiredWorkspace,
        clusters: list[DesiredCluster],
        ows: ObservedWorkspace,
        observed: ObservedState,
        options: PlanOptions,
    ) -> None:
        self.dws, self.alias, self.prune = dws, dws.alias, dws.prune
        self.declared, self.ows, self.observed, self.options = clusters, ows, observed, options
        self.by_name = {c.name.lower(): c for c in clusters}
        self.changes: list[Change] = []
        self.warnings: list[Finding] = []
        self.errors: list[Finding] = []
        self.detaching: set[str] = set()  # observed compute names planned to detach
        self.replaced: dict[str, DesiredKubernetes] = {}  # legacy name (lower) → the Kubernetes compute replacing it

    def run(self) -> None:
        for dc in self.declared:
            self._declared(dc)
        # Renames first: a compute a rename detaches is not "no longer declared (prune is off)".
        self._check_conflicts()
        for name, compute in sorted(self.ows.computes.items()):
            if name.lower() in self.by_name or name in self.detaching:
                continue
            if compute.foreign_to(self.dws.owner):
                continue  # another team's: never pruned, not even warned about
            if name.lower() in self.replaced:  # migration: detach (never Delete), whatever prune says
                self._detach(compute, [f"replaced by Kubernetes compute {self.replaced[name.lower()].name!r}"])
                continue
            if compute.managed:
                if self.prune:
                    self._detach(compute, ["no longer declared and the workspace has prune: true"])
                else:
                    self._warn(
                        AKS035,
                        f"managed compute {name!r} is no longer declared (prune is off)",
                        None,
                        f"{self.alias}/{name}",
                    )

    # -- one declared cluster -------------------------------------------------
    def _declared(self, dc: DesiredCluster) -> None:
        name = dc.name
        if name in self.ows.other_computes:
            self._error(AKS033, f"compute {name!r} exists in the workspace with another compute type", dc)
            return
        current = self.ows.compute(name)
        if current is not None and current.foreign_to(self.dws.owner):
            self._error(
                AKS036,
                f"compute {name!r} belongs to owner {current.owner!r}, not {self.dws.owner!r}; "
                f"it is never updated or detached from these manifests",
                dc,
            )
            return
        if current is not None and current.in_flight:
            self._pending(dc, current)
            return
        if current is None:
            if dc.spec.spec.create is not None:
                self._check_create(dc)
                self._add(dc, Action.CREATE, None, ["not in the workspace"], diff_views({}, desired_view(dc)))
            else:
                self._check_attach_target(dc)
                self._add(dc, Action.ATTACH, None, ["not in the workspace"], diff_views({}, desired_view(dc)))
            return
        self._compare(dc, current)

    def _compare(self, dc: DesiredCluster, current: Compute) -> None:
        cluster = self.observed.cluster(current.cluster_id)
        before, after = compared_views(current, cluster, dc)
        diff = diff_views(before, after)
        changed = {d.path.split(".")[0] if d.path.startswith("network") else d.path for d in diff}
        forced = dc.name in self.options.replace or dc.address in self.options.replace
        is_create = dc.spec.spec.create is not None
        reasons = [f"{d.path} changed" for d in diff]

        if current.failed:
            gone = current.created and current.cluster_id and cluster is None
            reasons = [
                f"provisioningState is Failed{': ' + current.provisioning_errors[0] if current.provisioning_errors else ''}"
            ]
            if is_create and (gone or not current.cluster_id):
                self._add(dc, Action.REPLACE, current, [*reasons, "its cluster no longer exists"], diff, gone=True)
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
                self._replace_or_error(
                    dc,
                    current,
                    ["the manifest creates a cluster; the workspace has an attached one"],
                    diff,
                    forced=forced,
                )
            else:
                self._check_attach_target(dc)
                self._add(
                    dc,
                    Action.REATTACH,
                    current,
                    ["the manifest attaches a cluster; the workspace created its own"],
                    diff,
                )
            return
        if changed & set(REPLACE_FIELDS) or (forced and is_create):
            self._replace_or_error(
                dc,
                current,
                [r for r in reasons if r.split(" ")[0].split(".")[0] in REPLACE_FIELDS] or ["--replace requested"],
                diff,
                forced=forced,
            )
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
            self._add(
                dc,
                Action.SCALE,
                current,
                [_reason(d) for d in diff],
                diff,
                also_update=bool(changed - set(SCALE_FIELDS)),
            )
            return
        if diff:
            # An unmanaged compute that matches is simply declared now (e.g. after `import`);
            # the managed tag is added by its next write.
            self._add(dc, Action.UPDATE, current, [_reason(d) for d in diff], diff)
            return
        self._add(dc, Action.NOOP, current, [], [])

    def _replace_or_error(
        self, dc: DesiredCluster, current: Compute, reasons: list[str], diff: list[FieldDiff], *, forced: bool
    ) -> None:
        if not forced:
            self._error(AKS029, f"{dc.name!r} must be replaced ({'; '.join(reasons)})", dc)
            return
        self._check_create(dc)
        self._add(dc, Action.REPLACE, current, reasons, diff)

    # -- checks that need Azure -----------------------------------------------
    def _check_attach_target(self, dc: DesiredCluster) -> None:
        check_attach_target(dc, self.observed, self._error, self._warn)

    def _check_create(self, dc: DesiredCluster) -> None:
        check_create(dc, self.observed, self._error)

    # -- the one-attachment rule ------------------------------------------------
    def _check_conflicts(self) -> None:
        """Every attach must wait for, or be refused by, other attachments of its cluster."""
        for change in list(self.changes):
            if (
                change.action not in (Action.ATTACH, Action.REATTACH)
                or change.desired is None
                or not change.desired.cluster_key
            ):
                continue
            key = change.desired.cluster_key
            for other in self.ows.by_cluster(key):
                if other.name == change.compute_name:
                    continue
                if other.foreign_to(self.dws.owner):
                    self._error(
                        AKS036,
                        f"cluster {(other.cluster_id or '').rsplit('/', 1)[-1]!r} is held by compute {other.name!r} of owner "
                        f"{other.owner!r}; {change.compute_name!r} cannot be attached to it",
                        change.desired,
                    )
                    if change in self.changes:
                        self.changes.remove(change)
                    break
                if other.name.lower() in self.by_name:
                    continue  # declared: its own change detaches it, and the cluster chain orders both
                if other.in_flight:
                    self._warn(
                        AKS034,
                        f"compute {other.name!r} has an operation in flight on the same cluster "
                        f"({other.provisioning_state}); {change.compute_name!r} is planned once it ends",
                        change.desired,
                    )
                    self.changes.remove(change)
                    self._pending_change(change.desired, other)
                    break
                elif other.managed:
                    self._detach(other, [f"renamed to {change.compute_name!r} (same cluster, detached first)"])
                    attach_ops = [s.op for s in change.steps]
                    change.downtime_seconds = downtime_seconds([Op.DETACH, *attach_ops])
                else:
                    self._error(
                        AKS028,
                        f"cluster {(other.cluster_id or '').rsplit('/', 1)[-1]!r} is already attached as {other.name!r}, which these manifests do not manage",
                        change.desired,
                    )
                    if change in self.changes:
                        self.changes.remove(change)
                    break

    # -- building changes -----------------------------------------------------
    def _add(
        self,
        dc: DesiredCluster,
        action: Action,
        current: Compute | None,
        reasons: list[str],
        diff: list[FieldDiff],
        *,
        gone: bool = False,
        repair_created: bool = False,
        also_update: bool = False,
    ) -> None:
        change = Change(
            dc.address,
            action,
            dc.workspace,
            current.name if current else dc.name,
            dc.cluster_id or (current.cluster_id if current else None),
            reasons,
            _shown(diff, dc),
            current,
            [],
            dc,
        )
        ops: list[tuple[Op, str | None]] = []
        old = current.cluster_key if current else None
        new = dc.cluster_key or old
        internal = dc.spec.spec.loadBalancer.type is LoadBalancerType.INTERNAL
        if action is Action.CREATE:
            ops = [(Op.CREATE, None)]
        elif action is Action.ATTACH:
            ops = [(Op.ATTACH, new)] + ([(Op.UPDATE, new)] if internal else [])
        elif action is Action.UPDATE:
            ops = [(Op.UPDATE, old)]
        elif action is Action.SCALE:
            ops = [(Op.SCALE, old)] + ([(Op.UPDATE, old)] if also_update else [])
        elif action is Action.REATTACH:
            target = old if repair_created else new
            ops = [(Op.DETACH, old), (Op.ATTACH, target)] + ([(Op.UPDATE, target)] if internal else [])
        elif action is Action.REPLACE:
            removal = Op.DETACH if gone or current is None or not current.created else Op.DELETE
            ops = [(removal, old), (Op.CREATE, None)]
        change.steps = [
            Step(f"{dc.address}#{i}", op, change.compute_name, dc.workspace, cluster)
            for i, (op, cluster) in enumerate(ops, 1)
        ]
        change.downtime_seconds = downtime_seconds([op for op, _ in ops])
        self.changes.append(change)
        if dc.custom_tls and not dc.secrets_known:
            if any(op in SENDS_TLS for op, _ in ops) and dc.spec.spec.tls.cname:
                self._error(
                    AKS037,
                    f"TLS certificate or key of {dc.name!r} cannot be read here, and the planned "
                    f"{action.value} sends them to Azure",
                    dc,
                )
            else:
                self._warn(AKS032, f"TLS certificate or key of {dc.name!r} could not be read here", dc)

    def _pending(self, dc: DesiredCluster, current: Compute) -> None:
        """An operation runs in Azure now (another apply, the portal): report it and plan it next time."""
        self._warn(
            AKS034,
            f"compute {current.name!r} is {current.provisioning_state} (an operation is in flight); "
            "it is planned once that ends",
            dc,
        )
        self._pending_change(dc, current)

    def _pending_change(self, dc: DesiredCluster, current: Compute) -> None:
        reason = f"{current.name}: {current.provisioning_state} (operation in flight)"
        self.changes.append(
            Change(
                dc.address,
                Action.PENDING,
                dc.workspace,
                dc.name,
                dc.cluster_id or current.cluster_id,
                [reason],
                [],
                current,
                [],
                dc,
            )
        )

    def _detach(self, compute: Compute, reasons: list[str]) -> None:
        if compute.name in self.detaching:
            return
        self.detaching.add(compute.name)
        address = f"{self.alias}/{compute.name}"
        change = Change(
            address,
            Action.DETACH,
            self.ows.ref,
            compute.name,
            compute.cluster_id,
            reasons,
            [FieldDiff("computeName", compute.name, None)],
            compute,
        )
        change.steps = [Step(f"{address}#1", Op.DETACH, compute.name, self.ows.ref, compute.cluster_key)]
        self.changes.append(change)

    def _error(self, rule: Rule, message: str, dc: DesiredCluster) -> None:
        self.errors.append(_finding(rule, message, dc.position, dc.address))

    def _warn(self, rule: Rule, message: str, dc: DesiredCluster | None, address: str | None = None) -> None:
        pos = dc.position if dc else self.dws.position
        self.warnings.append(_finding(rule, message, pos, dc.address if dc else address))


def _shown(diff: list[FieldDiff], dc: DesiredCluster) -> list[FieldDiff]:
    """The diff as output shows it: the attach-time digest (an ARM tag) is never shown; a rotated
    certificate or key appears as `(sensitive, changed)`, never as a value or a hash of one."""
    shown = [d for d in diff if d.path != "specDigest"]
    digest_only = any(d.path == "specDigest" for d in diff) and not any(d.path in REATTACH_FIELDS for d in shown)
    if digest_only and dc.custom_tls:
        tls = dc.spec.spec.tls
        shown = [d for d in shown if d.path not in ("tls.certificate", "tls.key")]
        shown += [
            FieldDiff(f"tls.{k}", SENSITIVE, SENSITIVE_CHANGED)
            for k in ("certificate", "key")
            if getattr(tls, k) is not None
        ]
    return sorted(shown, key=lambda d: d.path)


def _reason(d: FieldDiff) -> str:
    if d.path == "specDigest":
        return "attach-time settings changed (e.g. the TLS certificate or key)"
    return f"{d.path} changed"

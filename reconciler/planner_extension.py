"""Desired × observed → the changes of the Azure ML extension on each cluster: install, upgrade, uninstall (pure).

Apart from the Kubernetes computes (`planner_kubernetes`) because the extension is cluster-wide, in no workspace:
its decisions read the cluster, the offered versions and every workspace's attachments of it. An upgrade is a
PATCH, never uninstall + install; an uninstall is refused while a Kubernetes compute uses the cluster; a cluster
with a legacy attachment or its leftovers cannot take the extension.
"""

from __future__ import annotations

from reconciler import extension_body as eb
from reconciler.catalogue import AKS020, KUBE020, KUBE021, KUBE022, KUBE023, KUBE024, KUBE025, KUBE026, KUBE027, Rule
from reconciler.desired import Desired, DesiredExtension
from reconciler.diff import diff as diff_views
from reconciler.findings import Finding, Position
from reconciler.plan import Action, Change, FieldDiff, Op, Step
from reconciler.planner_checks import missing_cluster
from reconciler.secrets import SENSITIVE
from reconciler.state import AksCluster, Extension, ObservedState

TLS_SECRETS = "inference.tls.certificate+key"


class ExtensionPlanner:
    """Plans every ClusterExtension of the manifests, after the Kubernetes computes are planned."""

    def __init__(
        self,
        desired: Desired,
        observed: ObservedState,
        detaching: set[tuple[str, str]],
        legacy_detaching: set[tuple[str, str]],
    ) -> None:
        self.desired, self.observed = desired, observed
        self.detaching = detaching  # Kubernetes computes this plan detaches: (workspace key, name lower)
        self.legacy_detaching = legacy_detaching  # legacy AKS computes this plan detaches
        self.changes: list[Change] = []
        self.warnings: list[Finding] = []
        self.errors: list[Finding] = []
        self.cleanup: set[str] = set()  # cluster keys whose azureml-fe leftovers are removed before the install

    def run(self) -> None:
        for de in self.desired.extensions:
            self._extension(de)

    # -- the extension ----------------------------------------------------------------------------
    def _extension(self, de: DesiredExtension) -> None:
        cluster = self.observed.cluster(de.cluster_id)
        if cluster is None:
            self._error(
                AKS020,
                missing_cluster(de.cluster_id),
                de.position,
                de.address,
            )
            return
        ext = self.observed.azureml_extension(de.cluster_id)
        if ext is not None and ext.in_flight:
            self.warnings.append(
                KUBE025.finding(
                    f"extension {ext.name!r} on cluster {cluster.name!r} is {ext.provisioning_state} (an operation is in "
                    "flight); it is planned once that ends",
                    de.position,
                    de.address,
                )
            )
            reason = f"{ext.name}: {ext.provisioning_state} (operation in flight)"
            self.changes.append(
                Change(
                    de.address,
                    Action.PENDING,
                    None,
                    ext.name,
                    cluster.id,
                    [reason],
                    [],
                    None,
                    extension=de,
                    observed_extension=ext,
                )
            )
            return
        if not de.present:
            self._uninstall(de, cluster, ext)
            return
        self._check_cluster(de, cluster)
        if de.pem_tls and not de.secrets_known:
            self.warnings.append(
                KUBE026.finding(
                    f"TLS certificate or key of {de.address!r} could not be read here", de.position, de.address
                )
            )
        after = eb.desired_view(de, cluster)
        if ext is None or ext.failed:
            if not self._can_take_extension(de, cluster):
                return
            reasons = (
                ["the cluster has no Azure ML extension"]
                if ext is None
                else [f"the extension's last operation failed{': ' + ext.error if ext.error else ''}"]
            )
            before = eb.observed_view(ext, de) if ext is not None else {}
            self._add_extension(de, cluster, Action.INSTALL, ext, reasons, _redact(diff_views(before, after)))
            return
        before = eb.observed_view(ext, de)
        removed = sorted(
            k[len(eb.NODE_SELECTOR) :] for k in before if k.startswith(eb.NODE_SELECTOR) and k not in after
        )
        if removed:
            self._error(
                KUBE021,
                f"nodeSelector key(s) {', '.join(removed)} would be removed from the extension on {cluster.name!r}",
                de.position,
                de.address,
            )
            return
        diff = _redact(diff_views(before, after))
        if not diff:
            self._add_extension(de, cluster, Action.NOOP, ext, [], [])
            return
        reasons = [_extension_reason(d) for d in diff]
        self._add_extension(de, cluster, Action.UPGRADE, ext, reasons, diff)

    def _check_cluster(self, de: DesiredExtension, cluster: AksCluster) -> None:
        inf = de.spec.spec.inference
        nodes = sum(p.count for p in cluster.agent_pools)
        if inf.enabled and inf.highAvailability and nodes < 3:
            self._error(
                KUBE020,
                f"cluster {cluster.name!r} has {nodes} node(s); the HA inference router needs 3",
                de.position,
                de.address,
            )
        pinned = de.spec.spec.version.version
        versions = self.observed.extension_versions.get(de.cluster_key)
        if pinned and versions is not None:
            entry = next((v for v in versions if v.version == pinned), None)
            minor = ".".join(cluster.kubernetes_version.split(".")[:2])
            if entry is None:
                offered = ", ".join(v.version for v in versions) or "none"
                self._error(
                    KUBE024,
                    f"extension version {pinned} is not offered for cluster {cluster.name!r} (offered: {offered})",
                    de.position,
                    de.address,
                )
            elif minor in entry.unsupported_kubernetes:
                self._error(
                    KUBE024,
                    f"extension version {pinned} does not support Kubernetes {cluster.kubernetes_version} "
                    f"of cluster {cluster.name!r}",
                    de.position,
                    de.address,
                )

    def _can_take_extension(self, de: DesiredExtension, cluster: AksCluster) -> bool:
        """A legacy AKS attachment, or the azureml-fe objects one leaves, make the install fail (E45004/E45005)."""
        legacy = sorted(
            f"{ows.ref.workspace_name}/{c.name}"
            for ows in self.observed.workspaces.values()
            for c in ows.by_cluster(de.cluster_key)
            if (ows.ref.key, c.name.lower()) not in self.legacy_detaching
        )
        detached = any(
            (ows.ref.key, c.name.lower()) in self.legacy_detaching
            for ows in self.observed.workspaces.values()
            for c in ows.by_cluster(de.cluster_key)
        )
        inside = self.observed.insides.get(de.cluster_key)
        if (
            not legacy
            and de.spec.spec.removeLegacyFrontEnd
            and (detached or (inside is not None and inside.legacy_objects))
        ):
            self.cleanup.add(de.cluster_key)  # migration: detach → clean-up → install, on the cluster's chain
            return True
        if not legacy and detached:
            self._error(
                KUBE023,
                f"cluster {cluster.name!r}: the legacy AKS detach planned here leaves the azureml-fe "
                "objects in namespace default, so the install would fail (E45005); set "
                "removeLegacyFrontEnd: true on the ClusterExtension to remove them first",
                de.position,
                de.address,
            )
            return False
        if legacy:
            self._error(
                KUBE023,
                f"cluster {cluster.name!r} is attached as legacy AKS compute(s) {', '.join(legacy)}; the "
                "Azure ML extension cannot be installed next to them (E45004). Run `reconciler migrate` "
                "to plan the move to a Kubernetes compute",
                de.position,
                de.address,
            )
            return False
        if inside is not None and inside.legacy_objects:
            self._error(
                KUBE023,
                f"cluster {cluster.name!r} still holds the legacy azureml-fe objects "
                f"({', '.join(inside.legacy_objects)}) in namespace default, left by a detached legacy "
                "AKS compute; the install would fail (E45005). Run `reconciler migrate` to plan their "
                "clean-up (or set removeLegacyFrontEnd: true on the ClusterExtension)",
                de.position,
                de.address,
            )
            return False
        return True

    def _uninstall(self, de: DesiredExtension, cluster: AksCluster, ext: Extension | None) -> None:
        if ext is None:
            self._add_extension(de, cluster, Action.NOOP, None, [], [])
            return
        users = sorted(
            f"{ows.ref.workspace_name}/{c.name}"
            for ows in self.observed.workspaces.values()
            for c in ows.kubernetes_on(de.cluster_key)
            if (ows.ref.key, c.name.lower()) not in self.detaching
        )
        if users:
            self._error(
                KUBE022,
                f"uninstalling the extension of {cluster.name!r} would break the Kubernetes compute(s) "
                f"{', '.join(users)}",
                de.position,
                de.address,
            )
            return
        self._add_extension(
            de, cluster, Action.UNINSTALL, ext, ["ensure: absent"], [FieldDiff("extension", ext.name, None)]
        )

    def _add_extension(
        self,
        de: DesiredExtension,
        cluster: AksCluster,
        action: Action,
        ext: Extension | None,
        reasons: list[str],
        diff: list[FieldDiff],
    ) -> None:
        name = ext.name if ext is not None else de.name
        op = {Action.INSTALL: Op.INSTALL, Action.UPGRADE: Op.UPGRADE, Action.UNINSTALL: Op.UNINSTALL}.get(action)
        change = Change(
            de.address, action, None, name, cluster.id, reasons, diff, None, extension=de, observed_extension=ext
        )
        if action is Action.UPGRADE:
            change.disruptive = sorted({d.path for d in diff if eb.is_disruptive(d.path)})
            if change.disruptive:
                self.warnings.append(
                    KUBE027.finding(
                        f"changing {', '.join(change.disruptive)} on {cluster.name!r} interrupts running endpoints",
                        de.position,
                        de.address,
                    )
                )
        ops = ([Op.REMOVE_LEGACY_FE] if action is Action.INSTALL and de.cluster_key in self.cleanup else []) + (
            [op] if op else []
        )
        change.steps = [Step(f"{de.address}#{i}", o, name, None, de.cluster_key) for i, o in enumerate(ops, 1)]
        if Op.REMOVE_LEGACY_FE in ops:
            change.reasons.append("the legacy azureml-fe objects in namespace default are removed first (E45005)")
        self.changes.append(change)

    def _error(self, rule: Rule, message: str, position: Position, address: str) -> None:
        self.errors.append(rule.finding(message, position, address))


def _redact(diff: list[FieldDiff]) -> list[FieldDiff]:
    """The protected settings' digest never reaches output: only that it changed."""
    return [
        FieldDiff(
            TLS_SECRETS, SENSITIVE if d.before else None, f"{SENSITIVE[:-1]}, changed)" if d.before else SENSITIVE
        )
        if d.path == eb.DIGEST_KEY
        else d
        for d in diff
    ]


def _extension_reason(d: FieldDiff) -> str:
    if d.path == TLS_SECRETS:
        return "the TLS certificate or key changed"
    return f"{d.path} changed" + (" (disruptive)" if eb.is_disruptive(d.path) else "")

"""Desired × observed → the changes of the Kubernetes side: the Azure ML extension and Kubernetes computes.

Pure, like `planner`. Unlike legacy AKS computes, one cluster carries many Kubernetes computes
(one namespace each, in one or several workspaces), so the one-attachment chain does not apply;
the order that does is per cluster, across workspaces: Kubernetes detaches, then an uninstall,
then install or upgrade, then the namespace, then the attach (`planner_order.order_kubernetes`).
"""

from __future__ import annotations

from typing import Any

from reconciler import extension_body as eb
from reconciler.catalogue import (
    AKS020,
    AKS035,
    KUBE009,
    KUBE011,
    KUBE020,
    KUBE021,
    KUBE022,
    KUBE023,
    KUBE024,
    KUBE025,
    KUBE026,
    KUBE027,
    KUBE028,
    KUBE029,
    Rule,
)
from reconciler.desired import Desired, DesiredExtension, DesiredKubernetes
from reconciler.diff import diff as diff_views
from reconciler.findings import Finding, Position
from reconciler.plan import Action, Change, FieldDiff, Op, Step, downtime_seconds
from reconciler.secrets import SENSITIVE
from reconciler.state import AksCluster, Compute, Extension, ObservedState

TLS_SECRETS = "inference.tls.certificate+key"
REATTACH_FIELDS = ("clusterId", "namespace", "defaultInstanceType", "instanceTypes")
MANAGED_TAG = "reconciler-managed"


class KubernetesPlanner:
    """Plans every ClusterExtension and KubernetesCompute of the manifests against one observation."""

    def __init__(self, desired: Desired, observed: ObservedState) -> None:
        self.desired, self.observed = desired, observed
        self.changes: list[Change] = []
        self.warnings: list[Finding] = []
        self.errors: list[Finding] = []
        self.detaching: set[tuple[str, str]] = set()  # (workspace key, compute name lower)
        self.legacy_detaching: set[tuple[str, str]] = set()  # legacy AKS computes this plan detaches (set by `planner`)
        self.cleanup: set[str] = set()  # cluster keys whose azureml-fe leftovers are removed before the install

    def run(self) -> None:
        for dk in self.desired.kubernetes:
            self._compute(dk)
        self._undeclared_computes()
        for de in self.desired.extensions:
            self._extension(de)

    # -- Kubernetes computes ------------------------------------------------------------------
    def _compute(self, dk: DesiredKubernetes) -> None:
        ows = self.observed.workspace(dk.workspace)
        if not ows.exists:
            return  # the workspace's own error (AKS030) is reported by the main planner
        name = dk.name.lower()
        if any(n.lower() == name for n in ows.computes) or any(
            n.lower() == name for n in ows.other_computes if n.lower() not in {k.lower() for k in ows.kubernetes}
        ):
            self._error(
                KUBE028,
                f"compute {dk.name!r} exists in the workspace with another compute type",
                dk.position,
                dk.address,
            )
            return
        current = next((c for n, c in ows.kubernetes.items() if n.lower() == name), None)
        if current is not None and current.in_flight:
            self.warnings.append(
                KUBE029.finding(
                    f"Kubernetes compute {dk.name!r} is {current.provisioning_state} (an operation is in flight); "
                    "it is planned once that ends",
                    dk.position,
                    dk.address,
                )
            )
            reason = f"{current.name}: {current.provisioning_state} (operation in flight)"
            self.changes.append(
                Change(
                    dk.address,
                    Action.PENDING,
                    dk.workspace,
                    current.name,
                    dk.cluster_id,
                    [reason],
                    [],
                    current,
                    kubernetes=dk,
                )
            )
            return
        cluster = self.observed.cluster(dk.cluster_id)
        if cluster is None:
            self._error(
                AKS020,
                f"AKS cluster {dk.cluster_id} does not exist (or is not visible to you)",
                dk.position,
                dk.address,
            )
            return
        declared = any(e.cluster_key == dk.cluster_key and e.present for e in self.desired.extensions)
        if not declared and self.observed.azureml_extension(dk.cluster_id) is None:
            self._error(
                KUBE009,
                f"cluster {cluster.name!r} has no Azure ML extension and no ClusterExtension declares one",
                dk.position,
                dk.address,
            )
            return
        self._shared_namespace(dk)
        after = kubernetes_view(dk)
        if current is None:
            self._add_compute(dk, Action.ATTACH, None, ["not in the workspace"], diff_views({}, after))
            return
        before = observed_kubernetes_view(current, dk)
        diff = diff_views(before, after)
        changed = {d.path.split(".")[0] for d in diff}
        if current.failed:
            why = current.provisioning_errors[0] if current.provisioning_errors else "provisioningState is Failed"
            self._add_compute(dk, Action.REATTACH, current, [f"provisioningState is Failed: {why}"], diff)
        elif changed & set(REATTACH_FIELDS):
            self._add_compute(
                dk,
                Action.REATTACH,
                current,
                [
                    f"{d.path} changed (only by detach + attach)"
                    for d in diff
                    if d.path.split(".")[0] in REATTACH_FIELDS
                ],
                diff,
            )
        elif diff:
            self._add_compute(dk, Action.UPDATE, current, [f"{d.path} changed" for d in diff], diff)
        else:
            self._add_compute(dk, Action.NOOP, current, [], [])

    def _shared_namespace(self, dk: DesiredKubernetes) -> None:
        """Another compute, in any workspace, already uses this namespace of the cluster (pairs of declared ones
        are reported offline)."""
        declared = {(k.workspace.key, k.name.lower()) for k in self.desired.kubernetes}
        for ows in self.observed.workspaces.values():
            for other in ows.kubernetes_on(dk.cluster_key):
                key = (ows.ref.key, other.name.lower())
                if key not in declared and (other.namespace or "default") == dk.namespace:
                    self.warnings.append(
                        KUBE011.finding(
                            f"namespace {dk.namespace!r} of the cluster is already used by "
                            f"{ows.ref.workspace_name}/{other.name}",
                            dk.position,
                            dk.address,
                        )
                    )

    def _add_compute(
        self, dk: DesiredKubernetes, action: Action, current: Compute | None, reasons: list[str], diff: list[FieldDiff]
    ) -> None:
        key = dk.cluster_key
        plans: dict[Action, list[tuple[Op, str | None]]] = {
            Action.ATTACH: [(Op.CREATE_NAMESPACE, key), (Op.K8S_ATTACH, key)],
            Action.REATTACH: [
                (Op.K8S_DETACH, current.cluster_key if current else key),
                (Op.CREATE_NAMESPACE, key),
                (Op.K8S_ATTACH, key),
            ],
            Action.UPDATE: [(Op.K8S_ATTACH, key)],
            Action.NOOP: [],
        }
        ops = plans[action]
        name = current.name if current else dk.name
        change = Change(dk.address, action, dk.workspace, name, dk.cluster_id, reasons, diff, current, kubernetes=dk)
        change.downtime_seconds = downtime_seconds([op for op, _ in ops])
        change.steps = [
            Step(f"{dk.address}#{i}", op, name, dk.workspace, cluster) for i, (op, cluster) in enumerate(ops, 1)
        ]
        self.changes.append(change)

    def _undeclared_computes(self) -> None:
        for alias, dws in self.desired.workspaces.items():
            ows = self.observed.workspace(dws.ref)
            declared = {k.name.lower() for k in self.desired.kubernetes if k.alias == alias}
            for name, compute in sorted(ows.kubernetes.items()):
                if name.lower() in declared or str(compute.tags.get(MANAGED_TAG, "")).lower() != "true":
                    continue
                address = f"{alias}/{name}"
                if not dws.prune:
                    self.warnings.append(
                        AKS035.finding(
                            f"managed Kubernetes compute {name!r} is no longer declared (prune is off)",
                            dws.position,
                            address,
                        )
                    )
                    continue
                self.detaching.add((dws.ref.key, name.lower()))
                change = Change(
                    address,
                    Action.DETACH,
                    dws.ref,
                    name,
                    compute.cluster_id,
                    ["no longer declared and the workspace has prune: true"],
                    [FieldDiff("computeName", name, None)],
                    compute,
                )
                change.steps = [Step(f"{address}#1", Op.K8S_DETACH, name, dws.ref, compute.cluster_key)]
                self.changes.append(change)

    # -- the extension ----------------------------------------------------------------------------
    def _extension(self, de: DesiredExtension) -> None:
        cluster = self.observed.cluster(de.cluster_id)
        if cluster is None:
            self._error(
                AKS020,
                f"AKS cluster {de.cluster_id} does not exist (or is not visible to you)",
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


# -- views of a Kubernetes compute ---------------------------------------------------------------
def _leaves(value: Any) -> Any:
    """Numbers and strings compared as strings: `cpu: 1` and `"1"` are the same quantity."""
    if isinstance(value, dict):
        return {str(k): _leaves(v) for k, v in sorted(value.items()) if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_leaves(v) for v in value]
    return str(value).lower() if isinstance(value, bool) else str(value)


def kubernetes_view(dk: DesiredKubernetes) -> dict[str, Any]:
    spec = dk.spec.spec
    view: dict[str, Any] = {
        "clusterId": dk.cluster_key,
        "namespace": spec.namespace,
        "instanceTypes": _leaves({k: v.model_dump(mode="json") for k, v in spec.instanceTypes.items()}),
        "identity": _identity(
            spec.identity.type if spec.identity else None, spec.identity.ids if spec.identity else ()
        ),
        "description": spec.description,
    }
    if spec.defaultInstanceType:
        view["defaultInstanceType"] = spec.defaultInstanceType
    for key, value in sorted(spec.tags.items()):
        view[f"tags.{key}"] = value
    return view


def observed_kubernetes_view(c: Compute, dk: DesiredKubernetes) -> dict[str, Any]:
    view: dict[str, Any] = {
        "clusterId": c.cluster_key,
        "namespace": c.namespace or "default",
        "instanceTypes": _leaves(dict(c.instance_types or {})),
        "identity": _identity(c.identity_type, c.identity_ids),
        "description": c.description,
    }
    if dk.spec.spec.defaultInstanceType:
        view["defaultInstanceType"] = c.default_instance_type
    for key, value in sorted(c.tags.items()):
        if key in dk.spec.spec.tags:
            view[f"tags.{key}"] = value
    return view


def _identity(kind: str | None, ids: Any) -> str | None:
    if not kind or kind.lower() == "none":
        return None
    return kind + (f" {', '.join(sorted(i.lower() for i in ids))}" if ids else "")

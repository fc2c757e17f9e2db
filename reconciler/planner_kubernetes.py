"""Desired × observed → the changes of the Kubernetes side: Kubernetes computes, then the Azure ML extension.

Pure, like `planner`. This module decides the Kubernetes computes (attach, re-attach, update, prune) and hands
the extension of each cluster to `planner_extension`, which needs to know which computes are detached first.

Unlike legacy AKS computes, one cluster carries many Kubernetes computes (one namespace each, in one or several
workspaces), so the one-attachment chain does not apply; the order that does is per cluster, across workspaces:
Kubernetes detaches, then an uninstall, then install or upgrade, then the namespace, then the attach
(`planner_order.order_kubernetes`).
"""

from __future__ import annotations

from typing import Any

from reconciler.catalogue import AKS020, AKS035, AKS036, KUBE009, KUBE011, KUBE028, KUBE029, Rule
from reconciler.desired import Desired, DesiredKubernetes
from reconciler.diff import diff as diff_views
from reconciler.findings import Finding, Position
from reconciler.plan import Action, Change, FieldDiff, Op, Step, downtime_seconds
from reconciler.planner_checks import missing_cluster
from reconciler.planner_extension import ExtensionPlanner
from reconciler.state import Compute, ObservedState

REATTACH_FIELDS = ("clusterId", "namespace", "defaultInstanceType", "instanceTypes")


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
        extensions = ExtensionPlanner(self.desired, self.observed, self.detaching, self.legacy_detaching)
        extensions.run()
        self.changes.extend(extensions.changes)
        self.warnings.extend(extensions.warnings)
        self.errors.extend(extensions.errors)
        self.cleanup = extensions.cleanup

    # -- Kubernetes computes ------------------------------------------------------------------
    def _compute(self, dk: DesiredKubernetes) -> None:
        ows = self.observed.workspace(dk.workspace)
        if not ows.exists:
            return  # the workspace's own error (AKS030) is reported by the main planner
        name = dk.name.lower()
        current = next((c for n, c in ows.kubernetes.items() if n.lower() == name), None)
        # A name among the other computes is taken by another type unless it is this Kubernetes compute.
        if ows.compute(name) is not None or (current is None and any(n.lower() == name for n in ows.other_computes)):
            self._error(
                KUBE028,
                f"compute {dk.name!r} exists in the workspace with another compute type",
                dk.position,
                dk.address,
            )
            return
        if current is not None and current.foreign_to(dk.owner):
            self._error(
                AKS036,
                f"Kubernetes compute {dk.name!r} belongs to owner {current.owner!r}, not {dk.owner!r}; "
                "it is never updated or detached from these manifests",
                dk.position,
                dk.address,
            )
            return
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
                missing_cluster(dk.cluster_id),
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
                if name.lower() in declared or not compute.managed or compute.foreign_to(dws.owner):
                    continue  # another team's is never pruned, not even warned about
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

    def _error(self, rule: Rule, message: str, position: Position, address: str) -> None:
        self.errors.append(rule.finding(message, position, address))


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

"""Desired × observed → Plan: a pure function, tested without any server.

The one rule above all (an Azure ML fact): an AKS cluster never has two attachments,
or an attachment plus one in flight, in one workspace. So every step touching
one cluster in one workspace is put on a single dependency chain: detaches and
deletes first, then the attach or create, then updates and scales.

This module only puts the parts together: the legacy decisions per workspace (`planner_legacy`), the
Kubernetes side (`planner_kubernetes`), the migration checks (`planner_migration`), then `--target` and the
order of the steps (`planner_order`). The plan's types are re-exported from `plan` for existing callers.
"""

from __future__ import annotations

from reconciler import planner_migration as migration
from reconciler.catalogue import AKS030
from reconciler.desired import Desired
from reconciler.diff import views_match
from reconciler.findings import Finding
from reconciler.plan import SUMMARY_ORDER, Action, Change, FieldDiff, Op, Plan, PlanOptions, Step
from reconciler.planner_kubernetes import KubernetesPlanner
from reconciler.planner_legacy import WorkspacePlanner
from reconciler.planner_order import order, select_targets
from reconciler.state import ObservedState

__all__ = [
    "SUMMARY_ORDER",
    "Action",
    "Change",
    "FieldDiff",
    "Op",
    "Plan",
    "PlanOptions",
    "Step",
    "clusters_to_read",
    "plan",
]


def clusters_to_read(desired: Desired, observed: ObservedState, replace: frozenset[str] = frozenset()) -> list[str]:
    """The AKS clusters a plan of the legacy computes must see, once the workspaces are listed.

    Every attach target except those already attached exactly as declared (the planner checks a
    target before each attach and re-attach: it exists, its Kubernetes version, its vCPUs), and
    the cluster of a compute the workspace created (its pool is compared with the manifest) or
    that has failed (its repair). A healthy attachment that matches its manifest needs none: on a
    large fleet that is nearly every compute, and a subscription's cluster list runs to many
    pages, each waiting for the one before. `replace`: the --replace names (re-attached anyway).
    """
    ids: list[str] = []
    for dc in desired.clusters:
        if not dc.cluster_id:
            continue
        current = observed.workspace(dc.workspace).compute(dc.name)
        settled = (
            current is not None
            and not current.failed
            and current.cluster_key == dc.cluster_key
            and not {dc.name, dc.address} & replace
            and views_match(current, dc)
        )
        if not settled:
            ids.append(dc.cluster_id)
    for ows in observed.workspaces.values():
        ids += [c.cluster_id for c in ows.computes.values() if c.cluster_id and (c.created or c.failed)]
    return ids


def plan(
    desired: Desired, observed: ObservedState, options: PlanOptions = PlanOptions(), *, created_at: str = ""
) -> Plan:
    """Compute the changes that make `observed` match `desired`, safely ordered.

    Pure: `created_at` (ISO 8601) is recorded as given, the caller reads the clock.
    """
    changes: list[Change] = []
    warnings: list[Finding] = []
    errors: list[Finding] = []
    declared = desired.by_workspace()
    for alias, dws in desired.workspaces.items():
        ows = observed.workspace(dws.ref)
        if not ows.exists:
            errors.append(
                AKS030.finding(
                    f"workspace {dws.ref.workspace_name!r} not found in resource group {dws.ref.resource_group!r}",
                    dws.position,
                    alias,
                )
            )
            continue
        planner = WorkspacePlanner(dws, declared[alias], ows, observed, options)
        planner.replaced = migration.replaced(desired, alias)
        planner.run()
        changes.extend(planner.changes)
        warnings.extend(planner.warnings)
        errors.extend(planner.errors)
    kubernetes = KubernetesPlanner(desired, observed)
    kubernetes.legacy_detaching = migration.legacy_detaches(changes)
    kubernetes.run()
    changes.extend(kubernetes.changes)
    warnings.extend(kubernetes.warnings)
    errors.extend(kubernetes.errors)
    found = migration.check(desired, observed, changes)
    warnings.extend(found[0])
    errors.extend(found[1])
    changes = select_targets(changes, options.targets)
    order(changes)
    return Plan(changes, warnings, errors, desired.digest, options, created_at)

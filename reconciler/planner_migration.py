"""Migration from legacy AKS computes to Kubernetes computes: the planner's part (pure).

A KubernetesCompute may name the legacy compute it `replaces` (in its workspace). While that
compute's InferenceCluster is still declared it keeps serving (new-cluster strategy: MIG001);
once the manifest is gone it is detached, whatever `prune` says, and never with `Delete` (a
cluster Azure ML created would be deleted with it). On the same cluster the detach is the head
of the cluster's one chain: legacy detach → azureml-fe clean-up → install → namespace → attach,
and the detach is marked as downtime (MIG002).
"""

from __future__ import annotations

from reconciler.catalogue import MIG001, MIG002, MIG004
from reconciler.desired import Desired, DesiredKubernetes
from reconciler.findings import Finding
from reconciler.plan import Change, Op
from reconciler.state import ObservedState

DOWNTIME = "downtime: endpoints on this compute stop serving until the Kubernetes compute replacing it is attached"


def replaced(desired: Desired, alias: str) -> dict[str, DesiredKubernetes]:
    """Legacy compute name (lower case) → the KubernetesCompute of workspace `alias` that replaces it."""
    return {
        dk.spec.spec.replaces.lower(): dk for dk in desired.kubernetes if dk.alias == alias and dk.spec.spec.replaces
    }


def legacy_detaches(changes: list[Change]) -> set[tuple[str, str]]:
    """(workspace key, compute name lower) of every legacy detach the plan holds."""
    return {
        (c.workspace.key, c.compute_name.lower())
        for c in changes
        if c.workspace is not None
        for s in c.steps
        if s.op is Op.DETACH
    }


def check(desired: Desired, observed: ObservedState, changes: list[Change]) -> tuple[list[Finding], list[Finding]]:
    """Warnings (still serving, downtime) and errors (a replacement the planner cannot order); marks downtime."""
    warnings: list[Finding] = []
    errors: list[Finding] = []
    detaching = legacy_detaches(changes)
    for dk in desired.kubernetes:
        old = dk.spec.spec.replaces
        if not old:
            continue
        ows = observed.workspace(dk.workspace)
        legacy = ows.compute(old)
        if legacy is None:
            continue  # already detached: the migration of this compute is done
        declared = any(dc.alias == dk.alias and dc.name.lower() == old.lower() for dc in desired.clusters)
        if declared:
            warnings.append(
                MIG001.finding(
                    f"legacy compute {legacy.name!r} still serves traffic; {dk.name!r} replaces it",
                    dk.position,
                    dk.address,
                )
            )
            continue
        if (dk.workspace.key, legacy.name.lower()) not in detaching:
            continue
        if legacy.cluster_key != dk.cluster_key:
            continue  # new-cluster: detaching it now costs nothing on the new cluster
        ext = next((e for e in desired.extensions if e.cluster_key == dk.cluster_key and e.present), None)
        if ext is None or not ext.spec.spec.removeLegacyFrontEnd:
            if observed.azureml_extension(dk.cluster_id) is None:
                errors.append(
                    MIG004.finding(
                        f"{dk.name!r} replaces {legacy.name!r} on the same cluster, but no ClusterExtension "
                        "of that cluster sets removeLegacyFrontEnd: true",
                        dk.position,
                        dk.address,
                    )
                )
            continue
        warnings.append(
            MIG002.finding(
                f"same-cluster migration: {legacy.name!r} is detached before {dk.name!r} is attached; "
                "its endpoints are down in between",
                dk.position,
                dk.address,
            )
        )
        for change in changes:
            if (
                change.workspace == dk.workspace
                and change.compute_name.lower() == legacy.name.lower()
                and DOWNTIME not in change.disruptive
            ):
                change.disruptive.append(DOWNTIME)
    return warnings, errors

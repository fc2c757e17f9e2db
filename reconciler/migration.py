"""`reconciler migrate`: legacy InferenceClusters → ClusterExtension + KubernetesCompute manifests and MIGRATION.md.

Pure: the workflow loads the manifests, observes Azure and finds certificate backups; this module
decides what to write. Every input document is carried into the new set (the output folder
replaces the manifests folder), except that each legacy InferenceCluster becomes a
KubernetesCompute (namespace named after the old compute, `replaces` naming it) on a cluster
with a ClusterExtension. Settings that become cluster-wide (TLS, internal load balancer, HA)
are merged per cluster; when the computes on one cluster disagree, the written manifest
carries a `TODO(migrate)` comment and MIGRATION.md lists the conflict. A leaf-label
certificate without a backup cannot be carried: its cname is written as a `TODO(migrate)`
value, which `validate` and `plan` refuse (MIG010) until it is replaced.

This module decides which computes move where; the merge of cluster-wide settings and its conflicts are
`migration_conflicts`', the YAML written `migration_manifests`', MIGRATION.md `migration_report`'s.
"""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.ids import cluster_key
from reconciler.loader import LoadResult
from reconciler.migration_conflicts import merge
from reconciler.migration_manifests import document_stem, dump_model, extension_text, kubernetes_text, unique
from reconciler.migration_model import (
    SAME_CLUSTER_OPS,
    SCHEMA_LINE,
    TODO,
    Backup,
    ClusterPlan,
    Legacy,
    MigrationError,
    Output,
    Strategy,
)
from reconciler.state import ObservedState, WorkspaceRef

__all__ = [
    "SAME_CLUSTER_OPS",
    "SCHEMA_LINE",
    "TODO",
    "Backup",
    "ClusterPlan",
    "Legacy",
    "MigrationError",
    "Output",
    "Strategy",
    "namespace_of",
    "new_name",
    "plan_migration",
]


def new_name(old: str) -> str:
    """The Kubernetes compute's name: the old one with `-k8s` (a name cannot change type in place)."""
    return f"{old[:20].rstrip('-')}-k8s"


def namespace_of(old: str) -> str:
    """A Kubernetes namespace (DNS label) named after the old compute."""
    name = re.sub(r"[^a-z0-9-]", "-", old.lower()).strip("-")[:63].strip("-")
    return name or "scoring"


def _legacies(
    result: LoadResult,
    observed: ObservedState,
    strategy: Strategy,
    target: str | None,
    backups: dict[tuple[str, str], Backup],
) -> tuple[list[Legacy], list[str]]:
    """Each legacy InferenceCluster with where it runs and where its Kubernetes compute goes; notes for the skipped."""
    workspaces = {
        ws.metadata.name: WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName)
        for _, ws in result.workspaces
    }
    legacies: list[Legacy] = []
    notes: list[str] = []
    for doc, ic in result.clusters:
        ref = workspaces[ic.spec.workspace]
        ows = observed.workspace(ref)
        current = ows.compute(ic.metadata.name)
        source = (ic.spec.attach.clusterId if ic.spec.attach else None) or (current.cluster_id if current else None)
        if strategy is Strategy.SAME_CLUSTER:
            goes_to = source
        else:
            goes_to = target
        if goes_to is None:
            notes.append(
                f"{ic.spec.workspace}/{ic.metadata.name}: its cluster is created by the workspace and does not exist "
                "yet; nothing to migrate on the same cluster (it is carried over unchanged)"
            )
            continue
        if strategy is Strategy.NEW_CLUSTER and source and cluster_key(source) == cluster_key(goes_to):
            raise MigrationError(
                f"--target-cluster is the cluster {ic.metadata.name!r} runs on today; use --strategy same-cluster"
            )
        legacies.append(
            Legacy(
                doc,
                ic,
                ic.spec.workspace,
                ref,
                current,
                source,
                goes_to,
                new_name(ic.metadata.name),
                namespace_of(ic.metadata.name),
                backups.get((ref.key, ic.metadata.name)),
            )
        )
    return legacies, notes


def plan_migration(
    result: LoadResult,
    observed: ObservedState,
    strategy: Strategy,
    target: str | None,
    out: Path,
    backups: dict[tuple[str, str], Backup],
) -> Output:
    """What to write for this migration; `backups` by (workspace key, compute name)."""
    legacies, notes = _legacies(result, observed, strategy, target, backups)
    migrated = {id(lg.doc) for lg in legacies}
    groups: dict[str, ClusterPlan] = {}
    for lg in legacies:
        key = cluster_key(lg.target or "")
        if key not in groups:
            declared = next((ext for _, ext in result.extensions if cluster_key(ext.spec.clusterId) == key), None)
            groups[key] = ClusterPlan(lg.target or "", [], declared)
        groups[key].computes.append(lg)
    for group in groups.values():
        merge(group, out)
        cluster = observed.cluster(group.cluster_id)
        nodes = sum(p.count for p in cluster.agent_pools) if cluster is not None else None
        if group.declared is None and group.settings.get("highAvailability") and nodes is not None and nodes < 3:
            group.todos.append(
                f"highAvailability: {group.name} has {nodes} node(s) and the HA router needs 3: scale the "
                "cluster or set highAvailability: false (plan refuses it as KUBE020 until then)"
            )

    files: dict[str, str] = {}
    for doc in result.documents:
        if doc.model is None:
            continue
        if id(doc) in migrated and strategy is Strategy.SAME_CLUSTER:
            continue  # its absence (with `replaces`) detaches it before the attach on the same cluster
        header = ""
        if id(doc) in migrated:
            lg = next(x for x in legacies if x.doc is doc)
            header = (
                f"# Legacy compute kept while it still serves traffic (new-cluster migration). Once clients use\n"
                f"# {lg.new_name!r}, delete this file: the next apply detaches it (never deletes its cluster).\n"
            )
        stem = f"legacy-{doc.model.metadata.name}" if id(doc) in migrated else document_stem(doc)
        files[unique(files, f"{stem}.yaml")] = header + dump_model(doc, out)
    for group in groups.values():
        if group.declared is None:
            files[unique(files, f"{group.name}-extension.yaml")] = extension_text(group, strategy)
    for lg in legacies:
        files[unique(files, f"{lg.new_name}.yaml")] = kubernetes_text(lg)
    from reconciler.migration_report import markdown as render_markdown

    markdown = render_markdown(legacies, groups, strategy, out, notes)
    return Output(files, markdown, notes)

"""Ordering a plan's steps, and choosing the ones `--target` asks for.

Apart from the decisions because it reads only steps, ops and clusters: on a legacy cluster one workspace's steps
form one chain (detaches and deletes first, then the attach or create, then updates and scales); on a cluster with
Kubernetes steps every workspace's steps are ordered phase after phase (`Op.phase`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise

from reconciler.plan import Change, Step


def order(changes: list[Change]) -> None:
    """Every dependency of the plan: legacy chains per workspace and cluster, then the Kubernetes phases."""
    for ws_changes in by_workspace([c for c in changes if c.workspace is not None and not c.kubernetes]).values():
        order_legacy(ws_changes)
    order_kubernetes(changes)


def select_targets(changes: list[Change], targets: Iterable[str]) -> list[Change]:
    """--target NAME: those changes, plus what they depend on through their clusters."""
    targets = set(targets)
    if not targets:
        return changes
    chosen = [c for c in changes if c.compute_name in targets or c.address in targets]
    keys = {chain_key(c, s) for c in chosen for s in c.steps if s.cluster}
    more = [c for c in changes if c not in chosen and any(chain_key(c, s) in keys for s in c.steps)]
    return [c for c in changes if c in chosen or c in more]


def chain_key(change: Change, step: Step) -> tuple[str, str | None]:
    """Steps that must run together: one workspace's steps on a cluster; Kubernetes steps on a cluster in any workspace."""
    if step.op.kubernetes or change.workspace is None:
        return ("", step.cluster)
    return (change.workspace.key, step.cluster)


def by_workspace(changes: list[Change]) -> dict[str, list[Change]]:
    grouped: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        grouped[change.workspace.key if change.workspace else ""].append(change)
    return grouped


def order_legacy(changes: list[Change]) -> None:
    """Steps in a change run in order; steps on one cluster form one chain, detaches first."""
    chains: dict[str, list[tuple[int, int, Step]]] = defaultdict(list)
    for ci, change in enumerate(changes):
        for si, step in enumerate(change.steps):
            step.depends_on = [change.steps[si - 1].id] if si else []
            if step.cluster:
                chains[step.cluster].append((step.op.phase, ci * 100 + si, step))
    for chain in chains.values():
        chain.sort(key=lambda t: (t[0], t[1]))
        for (_, _, prev), (_, _, step) in pairwise(chain):
            if prev.id not in step.depends_on:
                step.depends_on.append(prev.id)


def order_kubernetes(changes: list[Change]) -> None:
    """Per cluster, over every workspace, phase after phase: Kubernetes detaches → uninstall → install/upgrade →
    namespace → attach. Each step waits for every step of the cluster's previous phase; steps of one phase
    (two computes' attaches, say) run side by side. Legacy steps on such a cluster take part at their phase."""
    k8s_clusters = {s.cluster for c in changes for s in c.steps if s.op.kubernetes and s.cluster}
    phases: dict[str, dict[int, list[Step]]] = defaultdict(lambda: defaultdict(list))
    for change in changes:
        for prev, step in pairwise(change.steps):
            if prev.id not in step.depends_on:
                step.depends_on.append(prev.id)
        for step in change.steps:
            if step.cluster in k8s_clusters:
                phases[step.cluster][step.op.phase].append(step)
    for by_phase in phases.values():
        ordered = sorted(by_phase)
        for before, after in pairwise(ordered):
            for step in by_phase[after]:
                step.depends_on.extend(s.id for s in by_phase[before] if s.id not in step.depends_on)

"""`reconciler show`: what the declared workspaces hold now (computes, their clusters, owners, states).

Pure functions of the observed state; the workflow reads Azure, the CLI prints.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from reconciler.state import OWNER_TAG, ObservedState

__all__ = ["OWNER_TAG"]


@dataclass(frozen=True)
class ComputeRow:
    workspace: str  # the workspace's alias in the manifests
    compute: str
    kind: str  # attached | created | kubernetes (namespace NS)
    cluster: str | None  # AKS cluster name
    clusterId: str | None
    state: str  # the compute's provisioningState
    owner: str  # the owner tag (spec.owner of the manifests that wrote it), "default" when managed without one, "-" when not managed
    declared: bool
    kubernetesVersion: str | None
    nodes: str | None  # e.g. "3 x Standard_D3_v2"
    clusterState: str | None


def rows(aliases: dict[str, str], declared: set[tuple[str, str]], observed: ObservedState) -> list[ComputeRow]:
    """One row per AKS or Kubernetes compute of each workspace (`aliases`: workspace key → alias; `declared`: (key, name lower))."""
    out: list[ComputeRow] = []
    for key, alias in sorted(aliases.items(), key=lambda kv: kv[1]):
        ows = observed.workspaces.get(key)
        if ows is None or not ows.exists:
            continue
        for name, c in sorted({**ows.computes, **ows.kubernetes}.items()):
            cluster = observed.cluster(c.cluster_id)
            pool = cluster.primary_pool if cluster else None
            owner = c.owner or "-"
            kind = f"kubernetes (namespace {c.namespace or 'default'})" if c.is_kubernetes else "created" if c.created else "attached"
            out.append(ComputeRow(
                alias, name, kind,
                c.cluster_id.rstrip("/").rsplit("/", 1)[-1] if c.cluster_id else None, c.cluster_id,
                c.provisioning_state, owner, (key, name.lower()) in declared,
                cluster.kubernetes_version if cluster else None,
                f"{pool.count} x {pool.vm_size}" if pool else None,
                cluster.provisioning_state if cluster else None,
            ))
    return out


def to_json(found: list[ComputeRow], missing: list[str]) -> str:
    return json.dumps({"computes": [asdict(r) for r in found], "missingWorkspaces": missing}, indent=2) + "\n"


def to_text(found: list[ComputeRow], missing: list[str]) -> str:
    head = ("WORKSPACE", "COMPUTE", "KIND", "STATE", "OWNER", "DECLARED", "CLUSTER", "K8S", "NODES", "CLUSTER STATE")
    table: list[tuple[Any, ...]] = [head] + [
        (r.workspace, r.compute, r.kind, r.state, r.owner, "yes" if r.declared else "no", r.cluster or "-",
         r.kubernetesVersion or "-", r.nodes or "-", r.clusterState or "not found" if r.clusterId else "-")
        for r in found
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in table]
    if not found:
        lines.append("(no AKS or Kubernetes computes)")
    lines += [f"workspace {alias!r} not found" for alias in missing]
    return "\n".join(lines) + "\n"

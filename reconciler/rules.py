"""Offline domain rules; their ids, severities and hints are in `catalogue`.

`check` is a pure function of the loaded manifests: no network, no clock.
Rules that need Azure (versions, real agent pools) belong to the planner. The rules themselves
live in `rules_aks` (workspaces, legacy AKS computes) and `rules_kubernetes` (extension, Kubernetes
computes); this module runs them in a fixed order and sorts the findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from reconciler.catalogue import RULES
from reconciler.findings import Finding
from reconciler.loader import LoadResult
from reconciler.rules_aks import (
    SERVICE_NAME_PATTERN,
    address,
    cluster_fields,
    per_workspace_uniqueness,
    workspaces_unique,
)
from reconciler.rules_kubernetes import (
    DNS_LABEL,
    GPU_RESOURCES,
    extension_address,
    extensions,
    kubernetes_address,
    kubernetes_computes,
    migration_todos,
)

__all__ = [
    "DNS_LABEL",
    "GPU_RESOURCES",
    "RULES",
    "SERVICE_NAME_PATTERN",
    "address",
    "check",
    "extension_address",
    "kubernetes_address",
]

Check = Callable[[LoadResult], Iterator[Finding]]


def check(result: LoadResult) -> list[Finding]:
    """All offline rule findings, in file order."""
    findings = [f for fn in _CHECKS for f in fn(result)]
    return sorted(findings, key=lambda f: (str(f.position.path), f.position.line, f.position.col, f.rule))


# Every check, in the order they run (their findings are then sorted by position).
_CHECKS: tuple[Check, ...] = (
    workspaces_unique,
    cluster_fields,
    per_workspace_uniqueness,
    extensions,
    kubernetes_computes,
    migration_todos,
)

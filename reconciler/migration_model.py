"""The values `reconciler migrate` passes between its parts: the legacy computes, the plan of each target
cluster, the strategy and the output.

Their own module so the decisions (`migration`), the conflict analysis (`migration_conflicts`), the written
manifests (`migration_manifests`) and MIGRATION.md (`migration_report`) share them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from reconciler.loader import Document
from reconciler.manifest import ClusterExtension, ClusterPurpose, InferenceCluster, LoadBalancerType
from reconciler.plan import Op
from reconciler.state import Compute, WorkspaceRef

TODO = "TODO(migrate)"
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
SAME_CLUSTER_OPS = (Op.DETACH, Op.REMOVE_LEGACY_FE, Op.INSTALL, Op.CREATE_NAMESPACE, Op.K8S_ATTACH)


class Strategy(str, Enum):
    NEW_CLUSTER = "new-cluster"
    SAME_CLUSTER = "same-cluster"


class MigrationError(Exception):
    """The input cannot be migrated as asked (the message says why)."""


@dataclass(frozen=True)
class Backup:
    """A `backup-tls` backup of a leaf-label certificate: where its files are and the names it serves."""

    certificate: Path
    key: Path
    names: tuple[str, ...]


@dataclass
class Legacy:
    """One legacy compute being migrated."""

    doc: Document
    spec: InferenceCluster
    alias: str
    ref: WorkspaceRef
    observed: Compute | None
    source: str | None  # the cluster it runs on today
    target: str | None  # the cluster its Kubernetes compute goes to
    new_name: str
    namespace: str
    backup: Backup | None = None

    @property
    def name(self) -> str:
        return self.spec.metadata.name

    @property
    def tls_mode(self) -> str:
        tls = self.spec.spec.tls
        if not tls.enabled:
            return "none"
        return "custom" if tls.certificate is not None else "leaf"

    @property
    def internal(self) -> bool:
        return self.spec.spec.loadBalancer.type is LoadBalancerType.INTERNAL

    @property
    def dev_test(self) -> bool:
        return self.spec.spec.clusterPurpose is ClusterPurpose.DEV_TEST


@dataclass
class ClusterPlan:
    """The ClusterExtension of one target cluster and what its computes disagree on."""

    cluster_id: str
    computes: list[Legacy]
    declared: ClusterExtension | None  # an extension already in the manifests
    settings: dict[str, Any] = field(default_factory=dict)  # spec.inference as written
    conflicts: list[str] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.cluster_id.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Output:
    files: dict[str, str]  # file name in the output folder → text
    markdown: str
    notes: list[str]

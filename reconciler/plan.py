"""The plan as a value: what will change, in which steps, in which order.

`Op` owns everything that is a property of one kind of operation (its ordering phase on
a cluster chain and Azure's typical duration), so the planner, the executor and the
progress display read it from one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from reconciler.desired import DesiredCluster, DesiredExtension, DesiredKubernetes
from reconciler.findings import Finding
from reconciler.state import Compute, Extension, WorkspaceRef


class Op(StrEnum):
    """One Azure operation of a step. Compares equal to its value ("create", ...)."""

    CREATE = "create"
    ATTACH = "attach"
    UPDATE = "update"
    SCALE = "scale"
    DETACH = "detach"
    DELETE = "delete"
    # The Azure ML cluster extension and Kubernetes computes:
    INSTALL = "install"  # extension PUT
    UPGRADE = "upgrade"  # extension PATCH: version policy and settings, in place
    UNINSTALL = "uninstall"  # extension DELETE
    CREATE_NAMESPACE = "create-namespace"  # AKS Run Command, idempotent
    K8S_ATTACH = "attach-kubernetes"  # Kubernetes compute PUT
    K8S_DETACH = "detach-kubernetes"  # Kubernetes compute DELETE, always underlyingResourceAction=Detach
    SAVE_TLS = "save-tls"  # AKS Run Command: azuremlfessl into a backup-tls backup, before a legacy detach
    REMOVE_LEGACY_FE = (
        "remove-legacy-fe"  # AKS Run Command: delete the azureml-fe objects a legacy detach left in default
    )

    @property
    def phase(self) -> int:
        """Order on one cluster's chain: detaches and deletes first, then attach/create, then updates."""
        return _PHASE[self]

    @property
    def expected_seconds(self) -> int:
        """Azure's typical duration, shown as "expected" and the base of the default timeout."""
        return _EXPECTED_SECONDS[self]

    @property
    def removes(self) -> bool:
        """Detach and delete end an attachment; everything else writes the compute."""
        return self in (Op.DETACH, Op.DELETE, Op.K8S_DETACH)

    @property
    def kubernetes(self) -> bool:
        """Ops of the Kubernetes side: ordered on one chain per cluster across every workspace."""
        return self in _KUBERNETES


# On one cluster: (legacy) detaches, Kubernetes detaches, uninstall, then install/upgrade → namespace → attach.
_PHASE = {
    Op.SAVE_TLS: 0,
    Op.DETACH: 0,
    Op.DELETE: 0,
    Op.K8S_DETACH: 0,
    Op.ATTACH: 1,
    Op.CREATE: 1,
    Op.UNINSTALL: 1,
    Op.UPDATE: 2,
    Op.SCALE: 2,
    Op.REMOVE_LEGACY_FE: 2,
    Op.INSTALL: 3,
    Op.UPGRADE: 3,
    Op.CREATE_NAMESPACE: 4,
    Op.K8S_ATTACH: 5,
}
_EXPECTED_SECONDS = {
    Op.CREATE: 600,
    Op.ATTACH: 300,
    Op.DETACH: 60,
    Op.DELETE: 600,
    Op.UPDATE: 120,
    Op.SCALE: 180,
    Op.INSTALL: 600,
    Op.UPGRADE: 300,
    Op.UNINSTALL: 300,
    Op.CREATE_NAMESPACE: 10,
    Op.K8S_ATTACH: 120,
    Op.K8S_DETACH: 60,
    Op.REMOVE_LEGACY_FE: 10,
    Op.SAVE_TLS: 10,
}
_KUBERNETES = frozenset(
    {Op.REMOVE_LEGACY_FE, Op.INSTALL, Op.UPGRADE, Op.UNINSTALL, Op.CREATE_NAMESPACE, Op.K8S_ATTACH, Op.K8S_DETACH}
)


def downtime_seconds(ops: list[Op]) -> int:
    """The endpoint's dark window in a chain of ops: from the first removal through the attach or create after it.

    Zero when nothing is removed before being written again (a plain update keeps serving).
    """
    total, removing = 0, False
    for op in ops:
        if op.removes:
            removing = True
        if removing:
            total += op.expected_seconds
            if op in (Op.ATTACH, Op.CREATE, Op.K8S_ATTACH):
                return total
    return 0


def expected_seconds(op: str) -> int | None:
    """Typical duration of an op given by name; None for a name that is not an op."""
    try:
        return Op(op).expected_seconds
    except ValueError:
        return None


class Action(str, Enum):
    CREATE = "create"
    ATTACH = "attach"
    UPDATE = "update"
    SCALE = "scale"
    REATTACH = "reattach"
    DETACH = "detach"
    REPLACE = "replace"
    INSTALL = "install"
    UPGRADE = "upgrade"
    UNINSTALL = "uninstall"
    PENDING = "pending"  # an operation is in flight in Azure: planned again once it ends
    NOOP = "noop"


SUMMARY_ORDER = [a.value for a in Action]


@dataclass(frozen=True)
class FieldDiff:
    path: str
    before: Any
    after: Any


@dataclass
class Step:
    id: str
    op: Op
    compute: str  # the compute name, or the extension name for extension ops
    workspace: WorkspaceRef | None  # None: an extension (cluster-wide, in no workspace)
    cluster: str | None  # cluster key the step touches (None: a cluster not yet created)
    depends_on: list[str] = field(default_factory=list)


@dataclass
class Change:
    address: str
    action: Action
    workspace: WorkspaceRef | None  # None for an extension change
    compute_name: str
    cluster_id: str | None
    reasons: list[str] = field(default_factory=list)
    diff: list[FieldDiff] = field(default_factory=list)
    observed: Compute | None = None
    steps: list[Step] = field(default_factory=list)
    desired: DesiredCluster | None = None
    extension: DesiredExtension | None = None  # an extension change
    observed_extension: Extension | None = None  # the extension as observed (extension changes)
    kubernetes: DesiredKubernetes | None = None  # a Kubernetes compute change
    disruptive: list[str] = field(default_factory=list)  # settings whose change interrupts running endpoints
    downtime_seconds: int = 0  # the scoring endpoint is unavailable this long (detach → attach window)

    @property
    def downtime_minutes(self) -> int:
        return max(1, round(self.downtime_seconds / 60)) if self.downtime_seconds else 0


@dataclass(frozen=True)
class PlanOptions:
    targets: frozenset[str] = frozenset()
    replace: frozenset[str] = frozenset()


@dataclass
class Plan:
    changes: list[Change]
    warnings: list[Finding]
    errors: list[Finding]
    manifests_digest: str = ""
    options: PlanOptions = PlanOptions()
    created_at: str = ""  # ISO 8601, given by the caller: planning itself reads no clock

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action not in (Action.NOOP, Action.PENDING)]

    @property
    def pending(self) -> list[Change]:
        """Computes with an operation in flight: reported, not planned (apply waits for them first)."""
        return [c for c in self.changes if c.action is Action.PENDING]

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def summary(self) -> dict[str, int]:
        counts = {a: 0 for a in SUMMARY_ORDER}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def steps(self) -> list[Step]:
        return [s for c in self.changes for s in c.steps]

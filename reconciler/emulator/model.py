"""State records of the emulated cloud (plain dataclasses, JSON-serialisable).

Everything is keyed by lower-cased ids because ARM matches ids case-insensitively;
the records keep the canonical spelling for responses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .kube_model import ClusterInside, StorageAccount


def cluster_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"


def workspace_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{name}"


@dataclass
class AgentPool:
    name: str
    vm_size: str
    count: int
    mode: str = "System"
    provisioning_state: str = "Succeeded"


@dataclass
class Cluster:
    subscription: str
    resource_group: str
    name: str
    location: str
    kubernetes_version: str
    agent_pools: list[AgentPool] = field(default_factory=list)
    load_balancer_sku: str = "standard"
    private_cluster: bool = False
    authorized_ip_ranges: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    provisioning_state: str = "Succeeded"
    network: dict[str, Any] | None = None
    created_by: str | None = None  # id of the compute whose create made this cluster

    @property
    def id(self) -> str:
        return cluster_id(self.subscription, self.resource_group, self.name)

    def pool(self, name: str) -> AgentPool | None:
        for p in self.agent_pools:
            if p.name.lower() == name.lower():
                return p
        return None


@dataclass
class Compute:
    workspace_id: str
    name: str
    location: str
    attached: bool
    resource_id: str | None
    settings: dict[str, Any]  # properties.properties, secrets removed
    provisioning_state: str
    created_on_us: int
    modified_on_us: int
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    provisioning_errors: list[dict[str, Any]] = field(default_factory=list)
    compute_type: str = "AKS"  # "AKS" (legacy) or "Kubernetes"
    identity: dict[str, Any] | None = None  # Kubernetes computes: {type, userAssignedIdentities}

    @property
    def id(self) -> str:
        return f"{self.workspace_id}/computes/{self.name}"


@dataclass
class Workspace:
    subscription: str
    resource_group: str
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)
    computes: dict[str, Compute] = field(default_factory=dict)  # lower name → compute
    storage_account: str | None = None  # ARM id of the workspace's storage account

    @property
    def id(self) -> str:
        return workspace_id(self.subscription, self.resource_group, self.name)


@dataclass
class Operation:
    """One long-running operation; ``ends_at`` is absolute so it survives restarts."""

    id: str
    kind: str  # create | attach | update | detach | delete | scale
    provider: str  # "ml" | "aks"
    target: str  # resource id of the compute, cluster or agent pool
    subscription: str
    location: str
    started_at: float
    ends_at: float
    status: str = "InProgress"
    ended_at: float | None = None
    error: dict[str, Any] | None = None
    fail_with: dict[str, Any] | None = None  # decided at start: the op will end Failed with this
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    """The whole emulated cloud."""

    kubernetes_versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict[str, Any])  # region → entries
    subscriptions: dict[str, str] = field(default_factory=dict)  # lower → canonical id
    resource_groups: dict[str, str] = field(default_factory=dict)  # "sub/rg" lower → rg name
    clusters: dict[str, Cluster] = field(default_factory=dict)  # lower id → cluster
    workspaces: dict[str, Workspace] = field(default_factory=dict)  # lower id → workspace
    extra_regions: list[str] = field(default_factory=list)  # placeholder regions a seed declares (spec examples)
    insides: dict[str, ClusterInside] = field(default_factory=dict)  # lower cluster id → its inside
    storage_accounts: dict[str, StorageAccount] = field(default_factory=dict)  # lower id → account
    extension_types: dict[str, list[dict[str, Any]]] = field(default_factory=dict[str, Any])  # lower type → versions
    extension_violations: list[dict[str, Any]] = field(default_factory=list)  # audit: uninstalls under computes
    cluster_deletions: list[dict[str, Any]] = field(default_factory=list)  # audit: clusters deleted through ML

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> World:
        clusters = {}
        for k, c in d.get("clusters", {}).items():
            c = dict(c)
            c["agent_pools"] = [AgentPool(**p) for p in c.get("agent_pools", [])]
            clusters[k] = Cluster(**c)
        workspaces = {}
        for k, w in d.get("workspaces", {}).items():
            w = dict(w)
            w["computes"] = {n: Compute(**c) for n, c in w.get("computes", {}).items()}
            workspaces[k] = Workspace(**w)
        return cls(
            kubernetes_versions=d.get("kubernetes_versions", {}),
            subscriptions=d.get("subscriptions", {}),
            resource_groups=d.get("resource_groups", {}),
            clusters=clusters,
            workspaces=workspaces,
            extra_regions=list(d.get("extra_regions", [])),
            insides={k: ClusterInside.from_dict(v) for k, v in d.get("insides", {}).items()},
            storage_accounts={k: StorageAccount(**v) for k, v in d.get("storage_accounts", {}).items()},
            extension_types=d.get("extension_types", {}),
            extension_violations=list(d.get("extension_violations", [])),
            cluster_deletions=list(d.get("cluster_deletions", [])),
        )

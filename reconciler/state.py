"""The observed state, normalised from Azure's REST shapes.

The planner compares manifests with these objects only, so it never sees a
REST body or an SDK model, and tests can build observed states by hand. The
REST → domain conversions live in `reconciler.cloud`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from reconciler import vmsizes
from reconciler.ids import cluster_key

MANAGED_TAG = "reconciler-managed"
SPEC_TAG = "reconciler-spec"
OWNER_TAG = "reconciler-owner"
DEFAULT_OWNER = "default"
CREATED_TAG = "reconciler-created"  # a created cluster re-attached after a failure stays "created"


@dataclass(frozen=True)
class WorkspaceRef:
    subscription_id: str
    resource_group: str
    workspace_name: str

    @property
    def key(self) -> str:
        return self.arm_id.lower()

    @property
    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.workspace_name}"
        )

    def as_json(self) -> dict[str, str]:
        return {
            "subscriptionId": self.subscription_id,
            "resourceGroup": self.resource_group,
            "workspaceName": self.workspace_name,
        }


@dataclass(frozen=True)
class Tls:
    status: str = "Disabled"  # Enabled | Disabled | Auto
    leaf_domain_label: str | None = None
    overwrite_existing_domain: bool = False
    cname: str | None = None

    @property
    def enabled(self) -> bool:
        return self.status.lower() in ("enabled", "auto")


@dataclass(frozen=True)
class Compute:
    """One AKS compute of a workspace, as Azure reports it."""

    name: str
    compute_type: str = "AKS"
    attached: bool = True
    cluster_id: str | None = None
    location: str | None = None
    description: str | None = None
    purpose: str | None = None
    tls: Tls = Tls()
    load_balancer_type: str = "PublicIp"
    load_balancer_subnet: str | None = None
    agent_count: int | None = None
    agent_vm_size: str | None = None
    network: Mapping[str, str] | None = None
    provisioning_state: str = "Succeeded"
    provisioning_errors: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    modified_on: str | None = None
    etag: str | None = None
    # Kubernetes computes (compute_type "Kubernetes") only:
    namespace: str | None = None
    default_instance_type: str | None = None
    instance_types: Mapping[str, object] | None = None
    identity_type: str | None = None
    identity_ids: tuple[str, ...] = ()

    @property
    def is_kubernetes(self) -> bool:
        return self.compute_type.lower() == "kubernetes"

    @property
    def managed(self) -> bool:
        return str(self.tags.get(MANAGED_TAG, "")).lower() == "true"

    @property
    def owner(self) -> str | None:
        """The team whose manifests wrote it: the owner tag; a managed compute without one is `default`'s."""
        tagged = str(self.tags.get(OWNER_TAG, "")).strip()
        if tagged:
            return tagged
        return DEFAULT_OWNER if self.managed else None

    def foreign_to(self, owner: str) -> bool:
        """Written by another owner's manifests: never updated, detached or pruned by this one."""
        return self.owner is not None and self.owner != owner

    @property
    def spec_digest(self) -> str | None:
        return self.tags.get(SPEC_TAG)

    @property
    def created(self) -> bool:
        """Created by the workspace (rather than attached), including after a repair re-attach."""
        return not self.attached or str(self.tags.get(CREATED_TAG, "")).lower() == "true"

    @cached_property  # asked for every compute by every check and comparison
    def cluster_key(self) -> str | None:
        return cluster_key(self.cluster_id) if self.cluster_id else None

    @property
    def failed(self) -> bool:
        return self.provisioning_state.lower() == "failed"

    @property
    def in_flight(self) -> bool:
        return self.provisioning_state.lower() in ("creating", "updating", "deleting")

    @property
    def version(self) -> str | None:
        """What changes on every write: the etag when Azure sends one, else modifiedOn."""
        return self.etag or self.modified_on


@dataclass(frozen=True)
class AgentPool:
    name: str
    vm_size: str
    count: int
    mode: str = "System"


@dataclass(frozen=True)
class AksCluster:
    id: str
    location: str
    kubernetes_version: str
    agent_pools: tuple[AgentPool, ...] = ()
    load_balancer_sku: str = "standard"
    private: bool = False
    authorized_ip_ranges: tuple[str, ...] = ()
    provisioning_state: str = "Succeeded"

    @property
    def key(self) -> str:
        return cluster_key(self.id)

    @property
    def name(self) -> str:
        return self.id.rstrip("/").rsplit("/", 1)[-1]

    @property
    def primary_pool(self) -> AgentPool | None:
        system = [p for p in self.agent_pools if p.mode.lower() == "system"]
        pools = system or list(self.agent_pools)
        return pools[0] if pools else None

    @property
    def vcpus(self) -> int | None:
        """Total cores over all pools; None when a VM size is not in the built-in table."""
        total = 0
        for pool in self.agent_pools:
            size = vmsizes.lookup(pool.vm_size)
            if size is None:
                return None
            total += size.cores * pool.count
        return total


@dataclass(frozen=True)
class KubernetesVersion:
    version: str
    default: bool = False
    preview: bool = False


AZUREML_EXTENSION_TYPE = "Microsoft.AzureML.Kubernetes"


@dataclass(frozen=True)
class Extension:
    """The Azure ML cluster extension as Azure reports it (protected settings are never returned)."""

    id: str
    name: str
    extension_type: str
    cluster_id: str
    settings: Mapping[str, str] = field(default_factory=dict)  # configurationSettings
    protected_keys: tuple[str, ...] = ()  # never sent back by Azure: usually empty
    auto_upgrade: bool = True
    release_train: str | None = None
    version: str | None = None  # the pinned version, or the one installed
    provisioning_state: str = "Succeeded"
    error: str | None = None
    modified_on: str | None = None

    @property
    def is_azureml(self) -> bool:
        return self.extension_type.lower() == AZUREML_EXTENSION_TYPE.lower()

    @property
    def cluster_key(self) -> str:
        return cluster_key(self.cluster_id)

    @property
    def failed(self) -> bool:
        return self.provisioning_state.lower() == "failed"

    @property
    def in_flight(self) -> bool:
        return self.provisioning_state.lower() in ("creating", "updating", "deleting", "accepted", "running")

    @property
    def etag(self) -> str | None:
        return None


@dataclass(frozen=True)
class ExtensionVersion:
    version: str
    release_train: str = "stable"
    unsupported_kubernetes: tuple[str, ...] = ()  # minor versions, e.g. "1.26"


@dataclass(frozen=True)
class ClusterInside:
    """What a Run Command saw inside a cluster: the legacy azureml-fe objects left in `default`."""

    legacy_objects: tuple[str, ...] = ()


@dataclass
class ObservedWorkspace:
    ref: WorkspaceRef
    exists: bool = True
    location: str | None = None
    computes: dict[str, Compute] = field(default_factory=dict)
    other_computes: frozenset[str] = frozenset()  # names taken by non-AKS computes
    kubernetes: dict[str, Compute] = field(default_factory=dict)  # Kubernetes computes, by name

    def compute(self, name: str) -> Compute | None:
        """The AKS compute of this name: Azure ML compute names are case-insensitive."""
        exact = self.computes.get(name)  # the usual case, without a scan of the workspace
        if exact is not None:
            return exact
        wanted = name.lower()
        return next((c for n, c in self.computes.items() if n.lower() == wanted), None)

    def kubernetes_on(self, key: str) -> list[Compute]:
        return [c for c in self.kubernetes.values() if c.cluster_key == key]

    def by_cluster(self, key: str) -> list[Compute]:
        return [c for c in self.computes.values() if c.cluster_key == key]


@dataclass
class ObservedState:
    workspaces: dict[str, ObservedWorkspace] = field(default_factory=dict)  # by WorkspaceRef.key
    clusters: dict[str, AksCluster] = field(default_factory=dict)  # by cluster key; absent = not found
    versions: dict[str, tuple[KubernetesVersion, ...]] = field(default_factory=dict)  # by region, lower case
    # Kubernetes compute side, by cluster key: the cluster's extensions (absent key = not observed),
    # the extension type's versions for it, and what a Run Command saw inside it.
    extensions: dict[str, tuple[Extension, ...]] = field(default_factory=dict)
    extension_versions: dict[str, tuple[ExtensionVersion, ...]] = field(default_factory=dict)
    insides: dict[str, ClusterInside] = field(default_factory=dict)

    def azureml_extension(self, cluster_id: str | None) -> Extension | None:
        if not cluster_id:
            return None
        return next((e for e in self.extensions.get(cluster_key(cluster_id), ()) if e.is_azureml), None)

    def workspace(self, ref: WorkspaceRef) -> ObservedWorkspace:
        return self.workspaces.get(ref.key) or ObservedWorkspace(ref, exists=False)

    def cluster(self, cluster_id: str | None) -> AksCluster | None:
        return self.clusters.get(cluster_key(cluster_id)) if cluster_id else None

    def region_versions(self, region: str) -> tuple[KubernetesVersion, ...] | None:
        return self.versions.get(region.lower())

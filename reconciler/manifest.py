"""Pydantic models of the YAML manifests: the desired state.

The models check shape and types only. Cross-field and cross-document rules
live in `rules.py` so that each has a stable id, a hint and a position.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

API_VERSION = "reconciler.aml/v1"
SUBSCRIPTION_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class _Strict(BaseModel):
    """Unknown fields are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ClusterPurpose(str, Enum):
    FAST_PROD = "FastProd"
    DENSE_PROD = "DenseProd"
    DEV_TEST = "DevTest"


class LoadBalancerType(str, Enum):
    PUBLIC_IP = "PublicIp"
    INTERNAL = "InternalLoadBalancer"


class SecretRef(_Strict):
    """Where a secret comes from; the value itself never enters a manifest."""

    file: str | None = Field(None, description="Path of a PEM file, relative to the manifest file.")
    env: str | None = Field(None, description="Name of an environment variable holding the PEM text.")

    @model_validator(mode="after")
    def _exactly_one(self) -> "SecretRef":
        if (self.file is None) == (self.env is None):
            raise ValueError("a secret reference takes exactly one of 'file' or 'env'")
        return self


class Metadata(_Strict):
    name: str = Field(..., min_length=1, max_length=253)


class LockSpec(_Strict):
    """Optional shared lock for pipelines: an Azure Blob lease instead of a local file."""

    backend: Literal["file", "blob"] = "file"
    accountUrl: str | None = Field(None, description="Blob service URL, e.g. https://acct.blob.core.windows.net")
    container: str | None = Field(None, description="Container that holds the lock blobs.")


class WorkspaceSpec(_Strict):
    subscriptionId: str = Field(..., pattern=SUBSCRIPTION_PATTERN)
    resourceGroup: str = Field(..., min_length=1, max_length=90)
    workspaceName: str = Field(..., min_length=1, max_length=260)
    prune: bool = Field(False, description="Detach managed computes that are no longer declared.")
    lock: LockSpec | None = None


class Workspace(_Strict):
    apiVersion: Literal["reconciler.aml/v1"]
    kind: Literal["Workspace"]
    metadata: Metadata
    spec: WorkspaceSpec


class AttachSpec(_Strict):
    clusterId: str = Field(..., description="ARM id of an existing AKS managed cluster.")


class NetworkSpec(_Strict):
    """Virtual network of a created cluster: all four fields or none (rule AKS015)."""

    subnetId: str | None = None
    serviceCidr: str | None = None
    dnsServiceIP: str | None = None
    dockerBridgeCidr: str | None = None


class CreateSpec(_Strict):
    location: str = Field(..., min_length=1)
    vmSize: str = Field("Standard_D3_v2", min_length=1)
    agentCount: int = 3
    network: NetworkSpec | None = None


class LoadBalancerSpec(_Strict):
    type: LoadBalancerType = LoadBalancerType.PUBLIC_IP
    subnet: str | None = None


class TlsSpec(_Strict):
    enabled: bool = False
    leafDomainLabel: str | None = None
    overwriteExistingDomain: bool = False
    cname: str | None = None
    certificate: SecretRef | None = None
    key: SecretRef | None = None


class InferenceClusterSpec(_Strict):
    workspace: str = Field(..., min_length=1, description="metadata.name of a Workspace document.")
    description: str | None = None
    clusterPurpose: ClusterPurpose = ClusterPurpose.FAST_PROD
    attach: AttachSpec | None = None
    create: CreateSpec | None = None
    loadBalancer: LoadBalancerSpec = LoadBalancerSpec()
    tls: TlsSpec = TlsSpec()
    tags: dict[str, str] = Field(default_factory=dict, description="Extra ARM tags on the compute.")


class InferenceCluster(_Strict):
    apiVersion: Literal["reconciler.aml/v1"]
    kind: Literal["InferenceCluster"]
    metadata: Metadata
    spec: InferenceClusterSpec


# -- Azure ML Kubernetes compute (v2) and its cluster extension --------------------------
class RouterServiceType(str, Enum):
    LOAD_BALANCER = "LoadBalancer"
    NODE_PORT = "NodePort"
    CLUSTER_IP = "ClusterIP"


class ExtensionTlsSpec(_Strict):
    """HTTPS of the inference router: cname plus either the PEM pair or a secret in namespace azureml."""

    cname: str | None = Field(None, description="Host name clients use (sslCname); required for HTTPS.",
                              examples=["scoring.contoso.com"])
    certificate: SecretRef | None = Field(None, description="PEM certificate (chain); sent base64 in protected settings.")
    key: SecretRef | None = Field(None, description="PEM private key; sent base64 in protected settings.")
    secretName: str | None = Field(None, description="A Kubernetes TLS secret in namespace azureml (sslSecret), "
                                   "instead of certificate + key.")


class InferenceSpec(_Strict):
    """The extension's inference router (azureml-fe); cluster-wide, shared by every compute on the cluster."""

    enabled: bool = Field(True, description="Install the inference router (enableInference).")
    routerServiceType: RouterServiceType = Field(
        RouterServiceType.LOAD_BALANCER, description="Kubernetes service type of the router (inferenceRouterServiceType).")
    internalLoadBalancer: bool = Field(False, description="Azure internal load balancer (AKS only, not with NodePort).")
    highAvailability: bool = Field(True, description="Three router replicas (inferenceRouterHA); needs >= 3 nodes.")
    allowInsecureConnections: bool = Field(False, description="Serve plain HTTP; then no tls block.")
    tls: ExtensionTlsSpec | None = Field(None, description="HTTPS: cname + (certificate + key | secretName).")


class ExtensionVersionSpec(_Strict):
    """Either a release train with auto-upgrade, or a pinned version with auto-upgrade off."""

    releaseTrain: str | None = Field(None, description="Release train followed when autoUpgrade is on (default stable).",
                                     examples=["stable"])
    version: str | None = Field(None, description="Pinned extension version; needs autoUpgrade: false.",
                                examples=["1.1.70"])
    autoUpgrade: bool = Field(True, description="autoUpgradeMinorVersion: Azure upgrades minor versions itself.")


class ClusterExtensionSpec(_Strict):
    clusterId: str = Field(..., description="ARM id of the AKS managed cluster that gets the Azure ML extension.",
                           examples=["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
                                     "/providers/Microsoft.ContainerService/managedClusters/scoring-aks"])
    extensionName: str = Field("azureml", min_length=1, max_length=253,
                               description="Name of the extension resource on the cluster.")
    ensure: Literal["present", "absent"] = Field(
        "present", description="absent: uninstall (refused while a Kubernetes compute uses the cluster).")
    training: bool = Field(False, description="Install the training components (enableTraining).")
    inference: InferenceSpec = Field(default_factory=InferenceSpec, description="The inference router.")
    version: ExtensionVersionSpec = Field(default_factory=ExtensionVersionSpec, description="Version policy.")
    nodeSelector: dict[str, str] = Field(default_factory=dict,
                                         description="Node labels the extension's pods run on; keys may be added, "
                                         "never removed in place.")
    removeLegacyFrontEnd: bool = Field(
        False, description="Migration: before the install, delete the azureml-fe objects (and the azuremlfessl secret) "
        "a detached legacy AKS compute left in namespace default, through AKS Run Command. Refused while a legacy "
        "compute is still attached to the cluster in any visible workspace.")


class ClusterExtension(_Strict):
    """The Azure ML extension on one cluster (cluster-wide)."""

    apiVersion: Literal["reconciler.aml/v1"] = Field(..., description="Always reconciler.aml/v1.")
    kind: Literal["ClusterExtension"] = Field(..., description="ClusterExtension.")
    metadata: Metadata = Field(..., description="metadata.name is an alias of the cluster's extension.")
    spec: ClusterExtensionSpec = Field(..., description="The extension's settings.")


class IdentitySpec(_Strict):
    type: Literal["SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"] = Field(
        ..., description="SystemAssigned or UserAssigned (never both).")
    ids: list[str] = Field(default_factory=list, description="User-assigned identity ids (UserAssigned only; the first "
                           "is used).")


class ResourcesSpec(_Strict):
    requests: dict[str, str | int | float] = Field(default_factory=dict,
                                                   description="cpu and memory requests (non-zero); no GPUs here.")
    limits: dict[str, str | int | float] = Field(default_factory=dict,
                                                 description="cpu, memory and nvidia.com/gpu limits (non-zero).")


class InstanceTypeSpec(_Strict):
    nodeSelector: dict[str, str] = Field(default_factory=dict, description="Node labels the instance type runs on.")
    resources: ResourcesSpec = Field(..., description="Requests and limits of one instance.")


class KubernetesComputeSpec(_Strict):
    workspace: str = Field(..., min_length=1, description="metadata.name of a Workspace document.")
    clusterId: str = Field(..., description="ARM id of the AKS cluster (in the workspace's subscription).")
    namespace: str = Field("default", description="Kubernetes namespace of the compute; created if missing.",
                           examples=["team-a"])
    identity: IdentitySpec | None = Field(None, description="Managed identity of the compute.")
    defaultInstanceType: str | None = Field(None, description="Instance type used when a deployment names none.")
    instanceTypes: dict[str, InstanceTypeSpec] = Field(default_factory=dict,
                                                       description="Instance types by name.")
    description: str | None = Field(None, description="Description of the compute.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra ARM tags on the compute.")
    replaces: str | None = Field(
        None, description="Migration: the legacy AKS compute of the same workspace this compute replaces. While its "
        "InferenceCluster is still declared it keeps serving (the plan says so); once that manifest is removed, it is "
        "detached (never deleted), whatever `prune` says.")


class KubernetesCompute(_Strict):
    """A workspace compute (computeType Kubernetes) in one namespace of a cluster with the extension."""

    apiVersion: Literal["reconciler.aml/v1"] = Field(..., description="Always reconciler.aml/v1.")
    kind: Literal["KubernetesCompute"] = Field(..., description="KubernetesCompute.")
    metadata: Metadata = Field(..., description="metadata.name is the compute name.")
    spec: KubernetesComputeSpec = Field(..., description="The compute's settings.")


Manifest = Annotated[Union[Workspace, InferenceCluster, ClusterExtension, KubernetesCompute], Field(discriminator="kind")]
Model = Workspace | InferenceCluster | ClusterExtension | KubernetesCompute
KINDS: dict[str, type[Model]] = {
    "Workspace": Workspace,
    "InferenceCluster": InferenceCluster,
    "ClusterExtension": ClusterExtension,
    "KubernetesCompute": KubernetesCompute,
}


def json_schema() -> dict:
    """The manifest JSON Schema, as committed in schemas/manifest.schema.json."""
    from pydantic import TypeAdapter

    schema = TypeAdapter(Manifest).json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://reconciler.aml/schemas/manifest.schema.json",
        "title": "reconciler manifest (reconciler.aml/v1)",
        **schema,
    }

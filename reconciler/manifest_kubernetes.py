"""The Azure ML Kubernetes compute (kind KubernetesCompute) and its cluster extension (kind ClusterExtension).

Apart from the legacy AKS models: these kinds follow the extension's settings and the v2 compute's shape.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import Field

from reconciler.manifest_common import Metadata, SecretRef, _Strict


class RouterServiceType(str, Enum):
    LOAD_BALANCER = "LoadBalancer"
    NODE_PORT = "NodePort"
    CLUSTER_IP = "ClusterIP"


class ExtensionTlsSpec(_Strict):
    """HTTPS of the inference router: cname plus either the PEM pair or a secret in namespace azureml."""

    cname: str | None = Field(
        None, description="Host name clients use (sslCname); required for HTTPS.", examples=["scoring.contoso.com"]
    )
    certificate: SecretRef | None = Field(
        None, description="PEM certificate (chain); sent base64 in protected settings."
    )
    key: SecretRef | None = Field(None, description="PEM private key; sent base64 in protected settings.")
    secretName: str | None = Field(
        None, description="A Kubernetes TLS secret in namespace azureml (sslSecret), instead of certificate + key."
    )


class InferenceSpec(_Strict):
    """The extension's inference router (azureml-fe); cluster-wide, shared by every compute on the cluster."""

    enabled: bool = Field(True, description="Install the inference router (enableInference).")
    routerServiceType: RouterServiceType = Field(
        RouterServiceType.LOAD_BALANCER,
        description="Kubernetes service type of the router (inferenceRouterServiceType).",
    )
    internalLoadBalancer: bool = Field(False, description="Azure internal load balancer (AKS only, not with NodePort).")
    highAvailability: bool = Field(True, description="Three router replicas (inferenceRouterHA); needs >= 3 nodes.")
    allowInsecureConnections: bool = Field(False, description="Serve plain HTTP; then no tls block.")
    tls: ExtensionTlsSpec | None = Field(None, description="HTTPS: cname + (certificate + key | secretName).")


class ExtensionVersionSpec(_Strict):
    """Either a release train with auto-upgrade, or a pinned version with auto-upgrade off."""

    releaseTrain: str | None = Field(
        None, description="Release train followed when autoUpgrade is on (default stable).", examples=["stable"]
    )
    version: str | None = Field(
        None, description="Pinned extension version; needs autoUpgrade: false.", examples=["1.1.70"]
    )
    autoUpgrade: bool = Field(True, description="autoUpgradeMinorVersion: Azure upgrades minor versions itself.")


class ClusterExtensionSpec(_Strict):
    clusterId: str = Field(
        ...,
        description="ARM id of the AKS managed cluster that gets the Azure ML extension.",
        examples=[
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
            "/providers/Microsoft.ContainerService/managedClusters/scoring-aks"
        ],
    )
    extensionName: str = Field(
        "azureml", min_length=1, max_length=253, description="Name of the extension resource on the cluster."
    )
    ensure: Literal["present", "absent"] = Field(
        "present", description="absent: uninstall (refused while a Kubernetes compute uses the cluster)."
    )
    training: bool = Field(False, description="Install the training components (enableTraining).")
    inference: InferenceSpec = Field(default_factory=InferenceSpec, description="The inference router.")
    version: ExtensionVersionSpec = Field(default_factory=ExtensionVersionSpec, description="Version policy.")
    nodeSelector: dict[str, str] = Field(
        default_factory=dict,
        description="Node labels the extension's pods run on; keys may be added, never removed in place.",
    )
    removeLegacyFrontEnd: bool = Field(
        False,
        description="Migration: before the install, delete the azureml-fe objects (and the azuremlfessl secret) "
        "a detached legacy AKS compute left in namespace default, through AKS Run Command. Refused while a legacy "
        "compute is still attached to the cluster in any visible workspace.",
    )


class ClusterExtension(_Strict):
    """The Azure ML extension on one cluster (cluster-wide)."""

    apiVersion: Literal["reconciler.aml/v1"] = Field(..., description="Always reconciler.aml/v1.")
    kind: Literal["ClusterExtension"] = Field(..., description="ClusterExtension.")
    metadata: Metadata = Field(..., description="metadata.name is an alias of the cluster's extension.")
    spec: ClusterExtensionSpec = Field(..., description="The extension's settings.")


class IdentitySpec(_Strict):
    type: Literal["SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"] = Field(
        ..., description="SystemAssigned or UserAssigned (never both)."
    )
    ids: list[str] = Field(
        default_factory=list, description="User-assigned identity ids (UserAssigned only; the first is used)."
    )


class ResourcesSpec(_Strict):
    requests: dict[str, str | int | float] = Field(
        default_factory=dict, description="cpu and memory requests (non-zero); no GPUs here."
    )
    limits: dict[str, str | int | float] = Field(
        default_factory=dict, description="cpu, memory and nvidia.com/gpu limits (non-zero)."
    )


class InstanceTypeSpec(_Strict):
    nodeSelector: dict[str, str] = Field(default_factory=dict, description="Node labels the instance type runs on.")
    resources: ResourcesSpec = Field(..., description="Requests and limits of one instance.")


class KubernetesComputeSpec(_Strict):
    workspace: str = Field(..., min_length=1, description="metadata.name of a Workspace document.")
    clusterId: str = Field(..., description="ARM id of the AKS cluster (in the workspace's subscription).")
    namespace: str = Field(
        "default", description="Kubernetes namespace of the compute; created if missing.", examples=["team-a"]
    )
    identity: IdentitySpec | None = Field(None, description="Managed identity of the compute.")
    defaultInstanceType: str | None = Field(None, description="Instance type used when a deployment names none.")
    instanceTypes: dict[str, InstanceTypeSpec] = Field(default_factory=dict, description="Instance types by name.")
    description: str | None = Field(None, description="Description of the compute.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra ARM tags on the compute.")
    replaces: str | None = Field(
        None,
        description="Migration: the legacy AKS compute of the same workspace this compute replaces. While its "
        "InferenceCluster is still declared it keeps serving (the plan says so); once that manifest is removed, it is "
        "detached (never deleted), whatever `prune` says.",
    )


class KubernetesCompute(_Strict):
    """A workspace compute (computeType Kubernetes) in one namespace of a cluster with the extension."""

    apiVersion: Literal["reconciler.aml/v1"] = Field(..., description="Always reconciler.aml/v1.")
    kind: Literal["KubernetesCompute"] = Field(..., description="KubernetesCompute.")
    metadata: Metadata = Field(..., description="metadata.name is the compute name.")
    spec: KubernetesComputeSpec = Field(..., description="The compute's settings.")

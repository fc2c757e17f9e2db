"""Pydantic models of the YAML manifests: the desired state.

The models check shape and types only. Cross-field and cross-document rules
live in `rules.py` so that each has a stable id, a hint and a position.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

API_VERSION = "reconciler.aml/v1"
SUBSCRIPTION_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _case_insensitive(text: str) -> str:
    """A JSON Schema pattern has no flags: `ab` → `[aA][bB]` (Azure compares ids case-insensitively)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else ("\\." if c == "." else c) for c in text)


_GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_AKS_ID_PATTERN = (
    f"^/{_case_insensitive('subscriptions')}/{_GUID}/{_case_insensitive('resourceGroups')}/[-\\w.()]{{1,90}}"
    f"/{_case_insensitive('providers')}/{_case_insensitive('Microsoft.ContainerService')}"
    f"/{_case_insensitive('managedClusters')}/[a-zA-Z0-9][-_a-zA-Z0-9]{{0,62}}$"
)
_AKS_EXAMPLE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aks-rg/providers/"
    "Microsoft.ContainerService/managedClusters/scoring-aks"
)
# Azure ML compute names: 3-24 letters, digits, '-', a letter first, not ending in '-' + digits (rule AKS001).
COMPUTE_NAME_PATTERN = r"^[a-zA-Z](?![a-zA-Z0-9-]*-[0-9]+$)[a-zA-Z0-9-]{2,23}$"


def _cluster_spec_schema(schema: dict[str, Any]) -> None:
    """What JSON Schema can say across fields: attach xor create (AKS004), node counts for the vCPU minimums (AKS008)."""
    from reconciler import vmsizes

    schema["oneOf"] = [
        {"required": ["attach"], "not": {"required": ["create"]}},
        {"required": ["create"], "not": {"required": ["attach"]}},
    ]
    rules: list[dict[str, Any]] = []
    for purpose_test, minimum_vcpus in ((False, vmsizes.MIN_VCPUS_PRODUCTION), (True, vmsizes.MIN_VCPUS_DEVTEST)):
        by_count: dict[int, list[str]] = {}
        for size in vmsizes.VM_SIZES.values():
            by_count.setdefault(-(-minimum_vcpus // size.cores), []).append(size.name)
        for count, names in sorted(by_count.items()):
            if count <= 1:
                continue
            sizes = "|".join(_case_insensitive(n) for n in sorted(names))
            # Production when clusterPurpose is absent (the default) or a production purpose.
            purpose: dict[str, Any] = (
                {"properties": {"clusterPurpose": {"const": "DevTest"}}, "required": ["clusterPurpose"]}
                if purpose_test
                else {
                    "properties": {
                        "clusterPurpose": {
                            "enum": [p.value for p in ClusterPurpose if p is not ClusterPurpose.DEV_TEST]
                        }
                    }
                }
            )
            # One flat `if` (yaml-language-server does not evaluate `allOf` or `not` inside `if`).
            condition = {
                "properties": {
                    **purpose["properties"],
                    "create": {"properties": {"vmSize": {"pattern": f"^(?:{sizes})$"}}, "required": ["vmSize"]},
                },
                "required": [*purpose.get("required", []), "create"],
            }
            rules.append(
                {
                    "if": condition,
                    "then": {
                        "properties": {
                            "create": {
                                "properties": {
                                    "agentCount": {
                                        "minimum": count,
                                        "description": f"at least {count} nodes of this size for {minimum_vcpus} vCPUs",
                                    }
                                }
                            }
                        }
                    },
                }
            )
    schema["allOf"] = rules


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

    file: str | None = Field(
        None, description="Path of a PEM file, relative to the manifest file.", examples=["secrets/scoring.pem"]
    )
    env: str | None = Field(
        None, description="Name of an environment variable holding the PEM text.", examples=["SCORING_TLS_CERT"]
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.file is None) == (self.env is None):
            raise ValueError("a secret reference takes exactly one of 'file' or 'env'")
        return self


class Metadata(_Strict):
    name: str = Field(
        ...,
        min_length=1,
        max_length=253,
        description="Workspace: the alias other documents refer to (spec.workspace). InferenceCluster: the "
        "compute name in Azure ML (3 to 24 letters, digits and '-', starting with a letter, "
        "not ending in '-' and digits); changing it renames the compute (detach, then attach).",
        examples=["prod", "scoring-prod"],
    )


class LockSpec(_Strict):
    """Optional shared lock for pipelines: an Azure Blob lease instead of a local file."""

    backend: Literal["file", "blob"] = Field(
        "file",
        description="file: a lock file on this machine; blob: an Azure Blob lease shared by every pipeline run.",
        examples=["blob"],
    )
    accountUrl: str | None = Field(
        None,
        description="Blob service URL, e.g. https://acct.blob.core.windows.net",
        examples=["https://mlopslocks.blob.core.windows.net"],
    )
    container: str | None = Field(
        None, description="Container that holds the lock blobs.", examples=["reconciler-locks"]
    )


class WorkspaceSpec(_Strict):
    subscriptionId: str = Field(
        ...,
        pattern=SUBSCRIPTION_PATTERN,
        description="Azure subscription id (a GUID) of the workspace.",
        examples=["00000000-0000-0000-0000-000000000000"],
    )
    resourceGroup: str = Field(
        ..., min_length=1, max_length=90, description="Resource group of the workspace.", examples=["ml-prod-rg"]
    )
    workspaceName: str = Field(
        ..., min_length=1, max_length=260, description="Name of the Azure ML workspace.", examples=["ml-prod"]
    )
    prune: StrictBool = Field(
        False, description="Detach managed computes that are no longer declared.", examples=[True]
    )
    lock: LockSpec | None = Field(
        None,
        description="Where applies take this workspace's lock (default: on Azure a Blob lease in the workspace's storage account, with --cloud local a local file).",
        examples=[
            {
                "backend": "blob",
                "accountUrl": "https://mlopslocks.blob.core.windows.net",
                "container": "reconciler-locks",
            }
        ],
    )
    owner: str = Field(
        "default",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$",
        description="Who owns the computes these manifests write (ARM tag reconciler-owner); computes of other owners "
        "are never updated, detached or pruned.",
        examples=["team-scoring"],
    )


class Workspace(_Strict):
    """An Azure ML workspace the manifests manage computes in."""

    apiVersion: Literal["reconciler.aml/v1"] = Field(description="Manifest format version.", examples=[API_VERSION])
    kind: Literal["Workspace"] = Field(
        description="Workspace: the workspace that holds the computes.", examples=["Workspace"]
    )
    metadata: Metadata = Field(description="The workspace's alias.", examples=[{"name": "prod"}])
    spec: WorkspaceSpec = Field(
        description="Where the workspace is in Azure, and how it is managed.",
        examples=[
            {
                "subscriptionId": "00000000-0000-0000-0000-000000000000",
                "resourceGroup": "ml-prod-rg",
                "workspaceName": "ml-prod",
            }
        ],
    )


class AttachSpec(_Strict):
    clusterId: str = Field(
        ...,
        description="ARM id of an existing AKS managed cluster, in the workspace's subscription.",
        examples=[_AKS_EXAMPLE],
        json_schema_extra={"pattern": _AKS_ID_PATTERN},
    )


class NetworkSpec(_Strict):
    """Virtual network of a created cluster: all four fields or none (rule AKS015)."""

    subnetId: str | None = Field(
        None,
        description="ARM id of the subnet the cluster's nodes join.",
        examples=[
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net-rg/providers/"
            "Microsoft.Network/virtualNetworks/ml-vnet/subnets/aks"
        ],
    )
    serviceCidr: str | None = Field(
        None, description="CIDR of Kubernetes service addresses; must not overlap the subnet.", examples=["10.0.0.0/16"]
    )
    dnsServiceIP: str | None = Field(
        None, description="Address of the cluster DNS service, inside serviceCidr.", examples=["10.0.0.10"]
    )
    dockerBridgeCidr: str | None = Field(
        None, description="CIDR of the Docker bridge on each node.", examples=["172.17.0.1/16"]
    )


class CreateSpec(_Strict):
    location: str = Field(
        ..., min_length=1, description="Azure region of the new AKS cluster.", examples=["westeurope"]
    )
    vmSize: str = Field(
        "Standard_D3_v2",
        min_length=1,
        description="VM size of the nodes; changing it needs --replace.",
        examples=["Standard_D3_v2", "Standard_D4s_v5"],
    )
    agentCount: StrictInt = Field(
        3,  # strict: true, '1' and 1.0 are not counts
        description="Number of nodes: at least 1, and enough for 12 vCPUs (2 for DevTest).",
        examples=[3],
        json_schema_extra={"minimum": 1},
    )
    network: NetworkSpec | None = Field(
        None,
        description="Virtual network of the cluster: all four fields or none.",
        examples=[
            {
                "subnetId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                "net-rg/providers/Microsoft.Network/virtualNetworks/ml-vnet/subnets/aks",
                "serviceCidr": "10.0.0.0/16",
                "dnsServiceIP": "10.0.0.10",
                "dockerBridgeCidr": "172.17.0.1/16",
            }
        ],
    )


class LoadBalancerSpec(_Strict):
    type: LoadBalancerType = Field(
        LoadBalancerType.PUBLIC_IP,
        description="PublicIp, or InternalLoadBalancer (a private scoring endpoint; TLS must then be off).",
        examples=["InternalLoadBalancer"],
    )
    subnet: str | None = Field(
        None,
        description="Subnet name of the internal load balancer (InternalLoadBalancer only).",
        examples=["aks-subnet"],
    )


class TlsSpec(_Strict):
    enabled: StrictBool = Field(False, description="Serve the scoring endpoint over HTTPS.", examples=[True])
    leafDomainLabel: str | None = Field(
        None,
        description="Microsoft-issued certificate: the label of LABEL.REGION.cloudapp.azure.com.",
        examples=["fraud-scoring"],
    )
    overwriteExistingDomain: StrictBool = Field(
        False, description="Take over a leafDomainLabel another cluster used.", examples=[False]
    )
    cname: str | None = Field(
        None, description="Your own domain name, with certificate and key.", examples=["scoring.example.com"]
    )
    certificate: SecretRef | None = Field(
        None,
        description="Your certificate (PEM): a file or environment variable, never "
        "the value; a change re-attaches the compute.",
        examples=[{"env": "SCORING_TLS_CERT"}],
    )
    key: SecretRef | None = Field(
        None,
        description="The certificate's private key (PEM): a file or environment variable.",
        examples=[{"file": "secrets/scoring.key"}],
    )


class InferenceClusterSpec(_Strict):
    model_config = ConfigDict(json_schema_extra=lambda schema: _cluster_spec_schema(schema))

    workspace: str = Field(..., min_length=1, description="metadata.name of a Workspace document.", examples=["prod"])
    description: str | None = Field(
        None, description="Description of the compute in Azure ML.", examples=["Fraud scoring, production"]
    )
    clusterPurpose: ClusterPurpose = Field(
        ClusterPurpose.FAST_PROD,
        description="FastProd or DenseProd (production: at least 12 vCPUs) or DevTest (at least 2).",
        examples=["FastProd"],
    )
    attach: AttachSpec | None = Field(
        None,
        description="Attach an existing AKS cluster (exactly one of attach and create).",
        examples=[{"clusterId": _AKS_EXAMPLE}],
    )
    create: CreateSpec | None = Field(
        None,
        description="Create a new AKS cluster with the compute (exactly one of attach and create).",
        examples=[{"location": "westeurope", "vmSize": "Standard_D3_v2", "agentCount": 3}],
    )
    loadBalancer: LoadBalancerSpec = Field(
        LoadBalancerSpec(),
        description="How the scoring endpoint is exposed.",
        examples=[{"type": "InternalLoadBalancer", "subnet": "aks-subnet"}],
    )
    tls: TlsSpec = Field(
        TlsSpec(),
        description="HTTPS of the scoring endpoint.",
        examples=[{"enabled": True, "leafDomainLabel": "fraud-scoring"}],
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Extra ARM tags on the compute.", examples=[{"team": "fraud"}]
    )


class ComputeMetadata(Metadata):
    """An InferenceCluster's name is its Azure ML compute name: the schema carries the name pattern (rule AKS001)."""

    model_config = ConfigDict(
        json_schema_extra=lambda schema: schema["properties"]["name"].update(pattern=COMPUTE_NAME_PATTERN)
    )


class InferenceCluster(_Strict):
    """An AKS inference compute of a workspace: an attached existing cluster or a created one."""

    apiVersion: Literal["reconciler.aml/v1"] = Field(description="Manifest format version.", examples=[API_VERSION])
    kind: Literal["InferenceCluster"] = Field(
        description="InferenceCluster: one AKS compute of a workspace.", examples=["InferenceCluster"]
    )
    metadata: ComputeMetadata = Field(description="The compute name in Azure ML.", examples=[{"name": "scoring-prod"}])
    spec: InferenceClusterSpec = Field(
        description="Which workspace, which cluster, and how it serves.",
        examples=[{"workspace": "prod", "attach": {"clusterId": _AKS_EXAMPLE}}],
    )


# -- Azure ML Kubernetes compute (v2) and its cluster extension --------------------------
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


Manifest = Annotated[Workspace | InferenceCluster | ClusterExtension | KubernetesCompute, Field(discriminator="kind")]
Model = Workspace | InferenceCluster | ClusterExtension | KubernetesCompute
KINDS: dict[str, type[Model]] = {
    "Workspace": Workspace,
    "InferenceCluster": InferenceCluster,
    "ClusterExtension": ClusterExtension,
    "KubernetesCompute": KubernetesCompute,
}


def json_schema() -> dict:
    """The manifest JSON Schema, as committed in schemas/manifest.schema.json.

    Kinds are chosen by `kind` with if/then, so a validator blames the kind the document says it is
    (a oneOf would report every kind's mismatches).
    """
    from pydantic import TypeAdapter

    schema = TypeAdapter(Manifest).json_schema()
    schema.pop("oneOf", None)
    schema.pop("discriminator", None)
    kinds = list(KINDS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://reconciler.aml/schemas/manifest.schema.json",
        "title": "reconciler manifest (reconciler.aml/v1)",
        "description": "One YAML document: a Workspace or an InferenceCluster.",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": API_VERSION, "description": "Manifest format version.", "examples": [API_VERSION]},
            "kind": {"enum": kinds, "description": "What the document declares.", "examples": kinds},
        },
        "allOf": [
            {"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]}, "then": {"$ref": f"#/$defs/{kind}"}}
            for kind in kinds
        ],
        **schema,
    }

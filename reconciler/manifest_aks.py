"""The legacy AKS inference compute (kind InferenceCluster): an attached or created AKS cluster.

Apart from the Kubernetes compute models because the two kinds share nothing but the common base.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt

from reconciler.manifest_common import API_VERSION, Metadata, SecretRef, _case_insensitive, _Strict

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


class ClusterPurpose(str, Enum):
    FAST_PROD = "FastProd"
    DENSE_PROD = "DenseProd"
    DEV_TEST = "DevTest"


class LoadBalancerType(str, Enum):
    PUBLIC_IP = "PublicIp"
    INTERNAL = "InternalLoadBalancer"


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

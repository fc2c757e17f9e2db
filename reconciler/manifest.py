"""Pydantic models of the YAML manifests: the desired state.

The models check shape and types only. Cross-field and cross-document rules
live in `rules.py` so that each has a stable id, a hint and a position.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

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
    prune: StrictBool = Field(False, description="Detach managed computes that are no longer declared.")
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
    agentCount: StrictInt = 3  # strict: true, '1' and 1.0 are not counts
    network: NetworkSpec | None = None


class LoadBalancerSpec(_Strict):
    type: LoadBalancerType = LoadBalancerType.PUBLIC_IP
    subnet: str | None = None


class TlsSpec(_Strict):
    enabled: StrictBool = False
    leafDomainLabel: str | None = None
    overwriteExistingDomain: StrictBool = False
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


Manifest = Annotated[Union[Workspace, InferenceCluster], Field(discriminator="kind")]
KINDS: dict[str, type[Workspace] | type[InferenceCluster]] = {
    "Workspace": Workspace,
    "InferenceCluster": InferenceCluster,
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

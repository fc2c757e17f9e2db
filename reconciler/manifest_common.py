"""What every manifest kind shares: the strict base model, metadata, secret references and the Workspace.

The compute kinds (legacy AKS in `manifest_aks`, Kubernetes in `manifest_kubernetes`) build on these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

API_VERSION = "reconciler.aml/v1"
SUBSCRIPTION_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _case_insensitive(text: str) -> str:
    """A JSON Schema pattern has no flags: `ab` → `[aA][bB]` (Azure compares ids case-insensitively)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else ("\\." if c == "." else c) for c in text)


class _Strict(BaseModel):
    """Unknown fields are errors: a typo must never be silently ignored.

    `defer_build`: a model's validator is built when a document of its kind is first
    validated, not on import, so `validate` of one Workspace builds no Kubernetes models."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


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

"""Pydantic models of the YAML manifests: the desired state, and the JSON Schema made from them.

The models check shape and types only. Cross-field and cross-document rules
live in `rules.py` so that each has a stable id, a hint and a position. The kinds are defined in
`manifest_common` (base, Workspace), `manifest_aks` (InferenceCluster) and `manifest_kubernetes`
(ClusterExtension, KubernetesCompute); this module joins them and re-exports every name.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from reconciler.manifest_aks import (
    COMPUTE_NAME_PATTERN,
    AttachSpec,
    ClusterPurpose,
    ComputeMetadata,
    CreateSpec,
    InferenceCluster,
    InferenceClusterSpec,
    LoadBalancerSpec,
    LoadBalancerType,
    NetworkSpec,
    TlsSpec,
)
from reconciler.manifest_common import (
    API_VERSION,
    SUBSCRIPTION_PATTERN,
    LockSpec,
    Metadata,
    SecretRef,
    Workspace,
    WorkspaceSpec,
)
from reconciler.manifest_kubernetes import (
    ClusterExtension,
    ClusterExtensionSpec,
    ExtensionTlsSpec,
    ExtensionVersionSpec,
    IdentitySpec,
    InferenceSpec,
    InstanceTypeSpec,
    KubernetesCompute,
    KubernetesComputeSpec,
    ResourcesSpec,
    RouterServiceType,
)

__all__ = [
    "API_VERSION",
    "COMPUTE_NAME_PATTERN",
    "KINDS",
    "SUBSCRIPTION_PATTERN",
    "AttachSpec",
    "ClusterExtension",
    "ClusterExtensionSpec",
    "ClusterPurpose",
    "ComputeMetadata",
    "CreateSpec",
    "ExtensionTlsSpec",
    "ExtensionVersionSpec",
    "IdentitySpec",
    "InferenceCluster",
    "InferenceClusterSpec",
    "InferenceSpec",
    "InstanceTypeSpec",
    "KubernetesCompute",
    "KubernetesComputeSpec",
    "LoadBalancerSpec",
    "LoadBalancerType",
    "LockSpec",
    "Manifest",
    "Metadata",
    "Model",
    "NetworkSpec",
    "ResourcesSpec",
    "RouterServiceType",
    "SecretRef",
    "TlsSpec",
    "Workspace",
    "WorkspaceSpec",
    "json_schema",
]


Manifest = Annotated[Workspace | InferenceCluster | ClusterExtension | KubernetesCompute, Field(discriminator="kind")]
Model = Workspace | InferenceCluster | ClusterExtension | KubernetesCompute
KINDS: dict[str, type[Model]] = {
    "Workspace": Workspace,
    "InferenceCluster": InferenceCluster,
    "ClusterExtension": ClusterExtension,
    "KubernetesCompute": KubernetesCompute,
}


def json_schema() -> dict[str, Any]:
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

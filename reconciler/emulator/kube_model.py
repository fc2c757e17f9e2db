"""State records of a cluster's inside and of the newer providers (plain dataclasses, JSON-serialisable).

Kept apart from :mod:`.model` so the Kubernetes-side state (namespaces, objects, secrets, the
cluster extension) and storage accounts grow without touching the ARM records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

AZUREML_EXTENSION_TYPE = "Microsoft.AzureML.Kubernetes"
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# What a legacy AKS attach installs in ``default`` (a detach leaves it behind).
FE_LABELS = {"app": "azureml-fe"}
FE_OBJECTS = (
    ("Deployment", "azureml-fe"),
    ("Service", "azureml-fe"),
    ("ConfigMap", "azureml-fe-config"),
    ("ServiceAccount", "azureml-fe"),
    ("Role", "azureml-fe-role"),
    ("RoleBinding", "azureml-fe-rolebinding"),
)
TLS_SECRET = "azuremlfessl"


@dataclass
class KubeObject:
    kind: str  # Deployment, Service, ConfigMap, Secret, ServiceAccount, ...
    namespace: str
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)  # Secret only: key → base64 value

    def key(self) -> tuple[str, str, str]:
        return (self.kind.lower(), self.namespace.lower(), self.name.lower())


@dataclass
class Extension:
    """A Microsoft.KubernetesConfiguration extension; protected settings are kept only as key names."""

    cluster_id: str
    name: str
    extension_type: str
    properties: dict[str, Any]  # REST properties as written, configurationProtectedSettings removed
    protected_keys: list[str] = field(default_factory=list)
    provisioning_state: str = "Succeeded"
    error: dict[str, Any] | None = None
    identity_principal: str = ""
    created_at: float = 0.0
    modified_at: float = 0.0
    installed: bool = False  # an install once succeeded (a failed one is retried as an install)

    @property
    def id(self) -> str:
        return f"{self.cluster_id}/providers/Microsoft.KubernetesConfiguration/extensions/{self.name}"


@dataclass
class ClusterInside:
    """What kubectl would see in one cluster."""

    namespaces: list[str] = field(default_factory=lambda: list(DEFAULT_NAMESPACES))
    objects: list[KubeObject] = field(default_factory=list)
    extensions: dict[str, Extension] = field(default_factory=dict)  # lower name → extension

    def has_namespace(self, name: str) -> bool:
        return name.lower() in (n.lower() for n in self.namespaces)

    def find(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        key = (kind.lower(), namespace.lower(), name.lower())
        return next((o for o in self.objects if o.key() == key), None)

    def put(self, obj: KubeObject) -> None:
        self.objects = [o for o in self.objects if o.key() != obj.key()]
        self.objects.append(obj)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClusterInside:
        exts = {k: Extension(**e) for k, e in (d.get("extensions") or {}).items()}
        return cls(
            namespaces=list(d.get("namespaces") or []),
            objects=[KubeObject(**o) for o in d.get("objects") or []],
            extensions=exts,
        )


@dataclass
class StorageAccount:
    subscription: str
    resource_group: str
    name: str
    location: str
    blob_endpoint: str
    key: str

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
            f"Microsoft.Storage/storageAccounts/{self.name}"
        )

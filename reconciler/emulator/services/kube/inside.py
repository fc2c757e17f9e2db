"""The inside of each AKS cluster: namespaces, objects and secrets, as ``kubectl`` would see them.

A legacy ``AKS`` attach (create or attach) installs the ``azureml-fe`` objects in ``default``
(and, with TLS, the ``azuremlfessl`` secret); a detach leaves them behind, as Azure does.
"""

from __future__ import annotations

from typing import Any

from ... import domain
from ...kube_model import FE_LABELS, FE_OBJECTS, TLS_SECRET, ClusterInside, KubeObject
from ...model import Cluster
from ...store import Store
from .certs import b64, leaf_fqdn, self_signed


def legacy_fe_objects(inside: ClusterInside) -> list[KubeObject]:
    """The legacy inference front end's leftovers in ``default``."""
    return [
        o
        for o in inside.objects
        if o.namespace.lower() == "default"
        and (
            o.name.lower().startswith("azureml-fe")
            or o.name.lower() == TLS_SECRET
            or o.labels.get("app") == "azureml-fe"
        )
    ]


def tls_secret_data(compute_id: str, settings: dict[str, Any], region: str) -> dict[str, str] | None:
    """``cert.pem``/``key.pem`` (base64) a legacy attach with TLS writes, or None without TLS.

    ``settings`` is the compute's properties.properties as sent (with the PEM pair of a custom
    certificate); a leaf-label certificate is generated for ``<label>######.<region>.cloudapp.azure.net``.
    """
    ssl: Any = settings.get("sslConfiguration") or {}
    if not isinstance(ssl, dict) or str(ssl.get("status") or "").lower() not in ("enabled", "auto"):
        return None
    if ssl.get("cert") and ssl.get("key"):
        return {"cert.pem": b64(str(ssl["cert"])), "key.pem": b64(str(ssl["key"]))}
    label = ssl.get("leafDomainLabel")
    name = compute_id.rpartition("/")[2]
    cn = leaf_fqdn(str(label), compute_id, region) if label else str(ssl.get("cname") or f"{name}.local")
    cert, key = self_signed(cn)
    return {"cert.pem": b64(cert), "key.pem": b64(key)}


class InsideBackend:
    def __init__(self, store: Store) -> None:
        self.store = store

    def of(self, cl: Cluster) -> ClusterInside:
        insides = self.store.world.insides
        inside = insides.get(cl.id.lower())
        if inside is None:
            inside = insides[cl.id.lower()] = ClusterInside()
            self.store.dirty = True
        return inside

    def cluster_deleted(self, cl: Cluster, compute_id: str, workspace_id: str) -> None:
        """A compute Delete took its cluster (and everything inside): the audit lists it."""
        self.store.world.insides.pop(cl.id.lower(), None)
        self.store.world.cluster_deletions.append(
            {
                "clusterId": cl.id,
                "compute": compute_id,
                "workspace": workspace_id,
                "createdByCompute": cl.created_by == compute_id,
                "at": domain.iso(self.store.clock()),
            }
        )
        self.store.dirty = True

    def legacy_attached(self, cl: Cluster, tls: dict[str, str] | None) -> None:
        """What a legacy attach leaves in the cluster (``tls``: the secret data, None without TLS)."""
        inside = self.of(cl)
        for kind, name in FE_OBJECTS:
            inside.put(KubeObject(kind, "default", name, dict(FE_LABELS)))
        if tls is not None:
            inside.put(KubeObject("Secret", "default", TLS_SECRET, dict(FE_LABELS), dict(tls)))
        self.store.dirty = True

    def create_namespace(self, cl: Cluster, name: str) -> bool:
        inside = self.of(cl)
        if inside.has_namespace(name):
            return False
        inside.namespaces.append(name)
        self.store.dirty = True
        return True

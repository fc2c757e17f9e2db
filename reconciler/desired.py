"""The desired state: loaded manifests resolved into workspaces and clusters to plan."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from reconciler import secrets
from reconciler.findings import Position
from reconciler.ids import cluster_key
from reconciler.loader import LoadResult
from reconciler.manifest import ClusterExtension, InferenceCluster, KubernetesCompute, LockSpec
from reconciler.state import WorkspaceRef


@dataclass(frozen=True)
class DesiredWorkspace:
    alias: str
    ref: WorkspaceRef
    position: Position
    prune: bool = False
    lock: LockSpec | None = None
    owner: str = "default"


@dataclass(frozen=True)
class DesiredCluster:
    spec: InferenceCluster
    alias: str
    workspace: WorkspaceRef
    position: Position
    base_dir: Path
    fingerprints: Mapping[str, str | None] = field(default_factory=dict)  # "certificate"/"key"
    owner: str = "default"

    @property
    def name(self) -> str:
        return self.spec.metadata.name

    @property
    def address(self) -> str:
        return f"{self.alias}/{self.name}"

    @property
    def cluster_id(self) -> str | None:
        return self.spec.spec.attach.clusterId if self.spec.spec.attach else None

    @cached_property  # asked for every declared compute by every check and comparison
    def cluster_key(self) -> str | None:
        return cluster_key(self.cluster_id) if self.cluster_id else None

    @property
    def custom_tls(self) -> bool:
        tls = self.spec.spec.tls
        return tls.enabled and (tls.certificate is not None or tls.key is not None)

    @property
    def secrets_known(self) -> bool:
        return not self.custom_tls or all(self.fingerprints.get(k) for k in ("certificate", "key"))

    def digest(self) -> str:
        """Digest of the attach-time settings: how a changed certificate is seen."""
        return self._digest

    @cached_property  # observing and planning both compare it, for every declared compute
    def _digest(self) -> str:
        s = self.spec.spec
        settings = {
            "mode": "attach" if s.attach else "create",
            "clusterId": self.cluster_key,
            # agentCount is not attach-time: it changes by scaling, in place.
            "create": s.create.model_dump(mode="json", exclude={"agentCount"}) if s.create else None,
            "clusterPurpose": s.clusterPurpose.value,
            "tls": {
                "enabled": s.tls.enabled,
                "leafDomainLabel": s.tls.leafDomainLabel,
                "overwriteExistingDomain": s.tls.overwriteExistingDomain,
                "cname": s.tls.cname,
                "certificate": self.fingerprints.get("certificate") if s.tls.certificate else None,
                "key": self.fingerprints.get("key") if s.tls.key else None,
            },
        }
        blob = json.dumps(settings, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class DesiredExtension:
    """A ClusterExtension: the Azure ML extension wanted on one cluster."""

    spec: ClusterExtension
    position: Position
    base_dir: Path
    fingerprints: Mapping[str, str | None] = field(default_factory=dict)  # "certificate"/"key"

    @property
    def alias(self) -> str:
        return self.spec.metadata.name

    @property
    def name(self) -> str:
        return self.spec.spec.extensionName

    @property
    def address(self) -> str:
        return f"extension/{self.alias}"

    @property
    def cluster_id(self) -> str:
        return self.spec.spec.clusterId

    @property
    def cluster_key(self) -> str:
        return cluster_key(self.cluster_id)

    @property
    def present(self) -> bool:
        return self.spec.spec.ensure == "present"

    @property
    def pem_tls(self) -> bool:
        inf = self.spec.spec.inference
        return inf.enabled and inf.tls is not None and inf.tls.certificate is not None and inf.tls.key is not None

    @property
    def secrets_known(self) -> bool:
        return not self.pem_tls or all(self.fingerprints.get(k) for k in ("certificate", "key"))

    def protected_digest(self) -> str | None:
        """Digest of the protected settings (the PEM pair), kept where Azure returns it; None without them."""
        if not self.pem_tls:
            return None
        blob = json.dumps({k: self.fingerprints.get(k) for k in ("certificate", "key")}, sort_keys=True)
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class DesiredKubernetes:
    """A KubernetesCompute: one namespace of a cluster attached to a workspace."""

    spec: KubernetesCompute
    alias: str
    workspace: WorkspaceRef
    position: Position
    owner: str = "default"  # the workspace's owner: tagged on every write, foreign computes are never touched

    @property
    def name(self) -> str:
        return self.spec.metadata.name

    @property
    def address(self) -> str:
        return f"{self.alias}/{self.name}"

    @property
    def cluster_id(self) -> str:
        return self.spec.spec.clusterId

    @property
    def cluster_key(self) -> str:
        return cluster_key(self.cluster_id)

    @property
    def namespace(self) -> str:
        return self.spec.spec.namespace


@dataclass
class Desired:
    workspaces: dict[str, DesiredWorkspace]
    clusters: list[DesiredCluster]
    digest: str = ""
    extensions: list[DesiredExtension] = field(default_factory=list)
    kubernetes: list[DesiredKubernetes] = field(default_factory=list)

    @property
    def kubernetes_cluster_ids(self) -> list[str]:
        """Every cluster the Kubernetes side needs to see (extensions and computes)."""
        ids = {e.cluster_key: e.cluster_id for e in self.extensions}
        ids.update({k.cluster_key: k.cluster_id for k in self.kubernetes if k.cluster_key not in ids})
        return list(ids.values())

    def by_workspace(self) -> dict[str, list[DesiredCluster]]:
        """The declared computes of each workspace alias, in declaration order: one pass over them all, where
        a scan per workspace cost 100 × 1,000 comparisons in a 1,000-compute plan."""
        grouped: dict[str, list[DesiredCluster]] = {alias: [] for alias in self.workspaces}
        for cluster in self.clusters:
            grouped.setdefault(cluster.alias, []).append(cluster)
        return grouped


def desired_from(result: LoadResult, *, read_secrets: bool = True) -> Desired:
    """Resolve valid loaded manifests; secrets are only fingerprinted, never kept."""
    workspaces = {
        ws.metadata.name: DesiredWorkspace(
            ws.metadata.name,
            WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName),
            doc.at(),
            ws.spec.prune,
            ws.spec.lock,
            ws.spec.owner,
        )
        for doc, ws in result.workspaces
    }
    clusters = []
    for doc, ic in result.clusters:
        ws = workspaces[ic.spec.workspace]
        fps: dict[str, str | None] = {}
        if read_secrets:
            for key in ("certificate", "key"):
                ref = getattr(ic.spec.tls, key)
                if ref is not None:
                    fps[key] = secrets.fingerprint(ref, doc.path.parent)
        clusters.append(DesiredCluster(ic, ws.alias, ws.ref, doc.at(), doc.path.parent, fps, ws.owner))
    extensions = []
    for doc, ext in result.extensions:
        tls = ext.spec.inference.tls
        fps = {}
        if read_secrets and tls is not None:
            for key in ("certificate", "key"):
                ref = getattr(tls, key)
                if ref is not None:
                    fps[key] = secrets.fingerprint(ref, doc.path.parent)
        extensions.append(DesiredExtension(ext, doc.at(), doc.path.parent, fps))
    kubernetes = [
        DesiredKubernetes(
            kc, kc.spec.workspace, workspaces[kc.spec.workspace].ref, doc.at(), workspaces[kc.spec.workspace].owner
        )
        for doc, kc in result.kubernetes_computes
    ]
    return Desired(workspaces, clusters, manifests_digest(result), extensions, kubernetes)


def manifests_digest(result: LoadResult) -> str:
    """Digest of the manifests' content, so a saved plan knows what it was made from."""
    h = hashlib.sha256()
    for doc in sorted(result.documents, key=lambda d: (str(d.path), d.index)):
        h.update(json.dumps(doc.data, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return "sha256:" + h.hexdigest()

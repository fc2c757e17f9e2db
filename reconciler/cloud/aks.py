"""AKS through azure-mgmt-containerservice: clusters, Kubernetes versions, scaling.

The SDK models never leave this module: clusters become `state.AksCluster`,
versions `state.KubernetesVersion`. Errors become `CloudError`.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable, Iterable

from reconciler.cloud.arm import CloudError, error_mapping_polling
from reconciler.cloud.auth import Connection
from reconciler.ids import parse_cluster_id
from reconciler.state import AgentPool, AksCluster, KubernetesVersion


def version_key(version: str) -> tuple[int, ...]:
    """1.30.10 > 1.30.9: numeric comparison of the dotted parts (junk parts count as 0)."""
    return tuple(int(m.group()) if (m := re.match(r"\d+", part)) else 0 for part in version.split("."))


def _text(value: Any, default: str) -> str:
    """SDK enums are str subclasses whose str() is 'Enum.MEMBER': take the wire value."""
    if value is None:
        return default
    return str(getattr(value, "value", value))


def cluster_from_sdk(model: Any) -> AksCluster:
    """Normalise an SDK `ManagedCluster` (its flattened properties) into `state.AksCluster`.

    The running patch (`currentKubernetesVersion`) wins over `kubernetesVersion`, which
    Azure may report as a bare minor ("1.30") when the cluster was created that way.
    """
    pools = tuple(
        AgentPool(name=p.name or "", vm_size=p.vm_size or "", count=int(p.count or 0), mode=_text(p.mode, "System"))
        for p in (model.agent_pool_profiles or [])
    )
    network = model.network_profile
    access = model.api_server_access_profile
    return AksCluster(
        id=model.id or "",
        location=(model.location or "").lower(),
        kubernetes_version=model.current_kubernetes_version or model.kubernetes_version or "",
        agent_pools=pools,
        load_balancer_sku=_text(network.load_balancer_sku if network else None, "standard").lower(),
        private=bool(access.enable_private_cluster) if access else False,
        authorized_ip_ranges=tuple(access.authorized_ip_ranges or ()) if access else (),
        provisioning_state=_text(model.provisioning_state, "Succeeded"),
    )


def versions_from_sdk(result: Any) -> tuple[KubernetesVersion, ...]:
    """Expand minors into their patches, sorted ascending.

    isDefault/isPreview belong to a minor and apply to its patches, except that only
    the highest patch of the default minor is marked default: create uses one version.
    """
    out: list[KubernetesVersion] = []
    for minor in result.values_property or []:
        patches = sorted(minor.patch_versions or {}, key=version_key) or ([minor.version] if minor.version else [])
        for patch in patches:
            out.append(KubernetesVersion(
                version=patch,
                default=bool(minor.is_default) and patch == patches[-1],
                preview=bool(minor.is_preview),
            ))
    return tuple(sorted(out, key=lambda v: version_key(v.version)))


class AksClient:
    """One `ContainerServiceClient` per subscription, created on first use (thread-safe)."""

    def __init__(self, conn: Connection, *, on_request: Callable[[Any], None] | None = None) -> None:
        """`on_request` sees every request sent (pages and retries included): for counting calls."""
        self.conn = conn
        self.on_request = on_request
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, subscription_id: str) -> Any:
        key = subscription_id.lower()
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                from azure.mgmt.containerservice import ContainerServiceClient

                kwargs: dict[str, Any] = dict(self.conn.retry_kwargs())
                if self.on_request is not None:
                    kwargs["raw_request_hook"] = self.on_request
                if self.conn.auth_policy is not None:
                    kwargs["authentication_policy"] = self.conn.auth_policy
                client = ContainerServiceClient(
                    self.conn.credential, subscription_id, base_url=self.conn.endpoint,
                    credential_scopes=[self.conn.scope], polling_interval=self.conn.polling_interval,
                    transport=self.conn.transport(), **kwargs,
                )
                self._clients[key] = client
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def list_clusters(self, subscription_id: str) -> list[AksCluster]:
        """Every managed cluster of the subscription (all pages); [] when it is not found."""
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        try:
            return [cluster_from_sdk(m) for m in self._client(subscription_id).managed_clusters.list()]
        except ResourceNotFoundError:
            return []
        except AzureError as exc:
            raise CloudError.from_azure(exc, f"list AKS clusters of subscription {subscription_id}") from None

    def get_cluster(self, cluster_id: str) -> AksCluster | None:
        """The cluster, or None when it (or its resource group) does not exist or the id is not an AKS id."""
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        cid = parse_cluster_id(cluster_id)
        if cid is None:
            return None
        try:
            model = self._client(cid.subscription).managed_clusters.get(cid.resource_group, cid.name)
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise CloudError.from_azure(exc, f"get AKS cluster {cid.name}") from None
        return cluster_from_sdk(model)

    def kubernetes_versions(self, subscription_id: str, region: str) -> tuple[KubernetesVersion, ...]:
        from azure.core.exceptions import AzureError

        try:
            result = self._client(subscription_id).managed_clusters.list_kubernetes_versions(region)
        except AzureError as exc:
            raise CloudError.from_azure(exc, f"list Kubernetes versions of {region}") from None
        return versions_from_sdk(result)

    def begin_scale(self, cluster_id: str, pool_name: str, count: int) -> Any:
        """GET the agent pool, change only its node count, PUT it back; returns the SDK's LROPoller."""
        from azure.core.exceptions import AzureError

        cid = parse_cluster_id(cluster_id)
        if cid is None:
            raise CloudError(f"not an AKS cluster id: {cluster_id}", what="scale")
        what = f"scale pool {pool_name} of AKS cluster {cid.name} to {count}"
        pools = self._client(cid.subscription).agent_pools
        try:
            pool = pools.get(cid.resource_group, cid.name, pool_name)
            pool.count = count
            return pools.begin_create_or_update(
                cid.resource_group, cid.name, pool_name, pool,
                polling=error_mapping_polling(self.conn.polling_interval, what),
            )
        except AzureError as exc:
            raise CloudError.from_azure(exc, what) from None


def subscriptions_of(cluster_ids: Iterable[str]) -> dict[str, list[str]]:
    """Cluster ids grouped by subscription (lower case); unparsable ids are dropped."""
    out: dict[str, list[str]] = {}
    for cluster_id in cluster_ids:
        cid = parse_cluster_id(cluster_id)
        if cid is not None:
            out.setdefault(cid.subscription.lower(), []).append(cluster_id)
    return out

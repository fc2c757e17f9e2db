"""AKS: clusters and Kubernetes versions read as REST, scaling through azure-mgmt-containerservice.

Reads go through an azure-mgmt-core ARM pipeline (azure-core's retries, the
connection's auth) and are read as JSON: `plan` never imports the SDK (~80 ms) nor
builds its models (~1 ms of CPU per cluster). The SDK does the one write, scaling.

The SDK models never leave this module: clusters become `state.AksCluster`,
versions `state.KubernetesVersion`. Errors become `CloudError`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reconciler.clients import Poller
from reconciler.cloud.arm import CloudError, build_pipeline_client
from reconciler.cloud.auth import Connection
from reconciler.ids import parse_cluster_id
from reconciler.state import AgentPool, AksCluster, KubernetesVersion

if TYPE_CHECKING:
    from azure.mgmt.containerservice import ContainerServiceClient

AKS_API_VERSION = "2026-08-01"  # what azure-mgmt-containerservice 41.x speaks


def version_key(version: str) -> tuple[int, ...]:
    """1.30.10 > 1.30.9: numeric comparison of the dotted parts (junk parts count as 0)."""
    return tuple(int(m.group()) if (m := re.match(r"\d+", part)) else 0 for part in version.split("."))


def cluster_from_rest(body: Mapping[str, Any]) -> AksCluster:
    """Normalise a `Microsoft.ContainerService/managedClusters` REST body into `state.AksCluster`.

    The running patch (`currentKubernetesVersion`) wins over `kubernetesVersion`, which
    Azure may report as a bare minor ("1.30") when the cluster was created that way.
    """
    props = body.get("properties") or {}
    network = props.get("networkProfile") or {}
    access = props.get("apiServerAccessProfile") or {}
    pools = tuple(
        AgentPool(
            name=p.get("name") or "",
            vm_size=p.get("vmSize") or "",
            count=int(p.get("count") or 0),
            mode=p.get("mode") or "System",
        )
        for p in (props.get("agentPoolProfiles") or [])
    )
    return AksCluster(
        id=body.get("id") or "",
        location=(body.get("location") or "").lower(),
        kubernetes_version=props.get("currentKubernetesVersion") or props.get("kubernetesVersion") or "",
        agent_pools=pools,
        load_balancer_sku=str(network.get("loadBalancerSku") or "standard").lower(),
        private=bool(access.get("enablePrivateCluster")),
        authorized_ip_ranges=tuple(access.get("authorizedIPRanges") or ()),
        provisioning_state=props.get("provisioningState") or "Succeeded",
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
            out.append(
                KubernetesVersion(
                    version=patch,
                    default=bool(minor.is_default) and patch == patches[-1],
                    preview=bool(minor.is_preview),
                )
            )
    return tuple(sorted(out, key=lambda v: version_key(v.version)))


def versions_from_rest(body: Mapping[str, Any]) -> tuple[KubernetesVersion, ...]:
    """`versions_from_sdk` over the REST body (KubernetesVersions_List) instead of the SDK's models."""
    out: list[KubernetesVersion] = []
    for minor in body.get("values") or []:
        patches = sorted(minor.get("patchVersions") or {}, key=version_key) or (
            [minor["version"]] if minor.get("version") else []
        )
        for patch in patches:
            out.append(
                KubernetesVersion(
                    version=patch,
                    default=bool(minor.get("isDefault")) and patch == patches[-1],
                    preview=bool(minor.get("isPreview")),
                )
            )
    return tuple(sorted(out, key=lambda v: version_key(v.version)))


class AksClient:
    """One `ContainerServiceClient` per subscription, created on first use (thread-safe)."""

    def __init__(self, conn: Connection, *, on_request: Callable[[Any], None] | None = None) -> None:
        """`on_request` sees every request sent (pages and retries included): for counting calls."""
        self.conn = conn
        self.on_request = on_request
        self._clients: dict[str, ContainerServiceClient] = {}
        self._lock = threading.Lock()
        self._pipeline: Any = None

    def _client(self, subscription_id: str) -> ContainerServiceClient:
        key = subscription_id.lower()
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                from azure.mgmt.containerservice import ContainerServiceClient

                client = self.conn.mgmt_client(ContainerServiceClient, subscription_id, self.on_request)
                self._clients[key] = client
            return client

    def _raw(self) -> Any:
        """An ARM pipeline client for the reads done as plain REST: ready without importing
        the SDK (~80 ms), so the first page of a cluster list goes out at once."""
        with self._lock:
            if self._pipeline is None:
                self._pipeline = build_pipeline_client(self.conn, self.on_request)
            return self._pipeline

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
            pipeline, self._pipeline = self._pipeline, None
        for client in clients + ([pipeline] if pipeline is not None else []):
            client.close()

    def list_clusters(self, subscription_id: str) -> list[AksCluster]:
        """Every managed cluster of the subscription (all pages); [] when it is not found.

        Sent through an ARM pipeline (`send_request`: azure-core's retry, the connection's
        auth) and read as JSON: building the SDK's ManagedCluster models costs about 1 ms of
        CPU per cluster, which dominated observing a 1,000-cluster fleet.
        """
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        what = f"list AKS clusters of subscription {subscription_id}"
        client = self._raw()
        url: str | None = (
            f"{self.conn.endpoint}/subscriptions/{quote(subscription_id, safe='')}"
            f"/providers/Microsoft.ContainerService/managedClusters"
        )
        params: dict[str, str] | None = {"api-version": AKS_API_VERSION}
        out: list[AksCluster] = []
        try:
            while url:  # pagination only: retries live in the pipeline
                response = client.send_request(
                    HttpRequest("GET", url, params=params, headers={"Accept": "application/json"})
                )
                if response.status_code == 404 and not out:
                    return []
                if response.status_code != 200:
                    raise CloudError.from_response(response, what)
                page = response.json() or {}
                out.extend(cluster_from_rest(item) for item in page.get("value") or [])
                url, params = page.get("nextLink"), None
        except AzureError as exc:
            raise CloudError.from_azure(exc, what) from None
        return out

    def _get_json(self, url: str, what: str) -> Any:
        """GET through the raw ARM pipeline; None on 404. Reads skip the SDK and its models (see list_clusters)."""
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        try:
            response = self._raw().send_request(
                HttpRequest("GET", url, params={"api-version": AKS_API_VERSION}, headers={"Accept": "application/json"})
            )
        except AzureError as exc:
            raise CloudError.from_azure(exc, what) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise CloudError.from_response(response, what)
        return response.json() or {}

    def get_cluster(self, cluster_id: str) -> AksCluster | None:
        """The cluster, or None when it (or its resource group) does not exist or the id is not an AKS id."""
        cid = parse_cluster_id(cluster_id)
        if cid is None:
            return None
        url = (
            f"{self.conn.endpoint}/subscriptions/{quote(cid.subscription, safe='')}"
            f"/resourceGroups/{quote(cid.resource_group, safe='')}"
            f"/providers/Microsoft.ContainerService/managedClusters/{quote(cid.name, safe='')}"
        )
        body = self._get_json(url, f"get AKS cluster {cid.name}")
        return None if body is None else cluster_from_rest(body)

    def kubernetes_versions(self, subscription_id: str, region: str) -> tuple[KubernetesVersion, ...]:
        url = (
            f"{self.conn.endpoint}/subscriptions/{quote(subscription_id, safe='')}"
            f"/providers/Microsoft.ContainerService/locations/{quote(region, safe='')}/kubernetesVersions"
        )
        what = f"list Kubernetes versions of {region}"
        body = self._get_json(url, what)
        if body is None:
            raise CloudError("not found", status=404, what=what)
        return versions_from_rest(body)

    def begin_scale(self, cluster_id: str, pool_name: str, count: int) -> Poller:
        """GET the agent pool, change only its node count, PUT it back; returns the SDK's LROPoller."""
        from azure.core.exceptions import AzureError

        from reconciler.cloud.polling import error_mapping_polling

        cid = parse_cluster_id(cluster_id)
        if cid is None:
            raise CloudError(f"not an AKS cluster id: {cluster_id}", what="scale")
        what = f"scale pool {pool_name} of AKS cluster {cid.name} to {count}"
        pools = self._client(cid.subscription).agent_pools
        try:
            pool = pools.get(cid.resource_group, cid.name, pool_name)
            pool.count = count
            return pools.begin_create_or_update(
                cid.resource_group,
                cid.name,
                pool_name,
                pool,
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

"""The Kubernetes side of Azure: cluster extensions, extension type versions and AKS Run Command.

Extensions through Microsoft's `azure-mgmt-kubernetesconfiguration-extensions` (api-version 2025-03-01),
type versions through `azure-mgmt-kubernetesconfiguration-extensiontypes` (the cluster-scoped versions
list), Run Command through `azure-mgmt-containerservice` (`begin_run_command`): retries and polling are
azure-core's. Results are read as REST-shaped JSON (these SDKs' models are mappings) into `state`.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.clients import Poller
from reconciler.cloud.aks import AksClient
from reconciler.cloud.arm import CloudError
from reconciler.cloud.auth import Connection
from reconciler.ids import cluster_key, parse_cluster_id
from reconciler.state import AZUREML_EXTENSION_TYPE, ClusterInside, Extension, ExtensionVersion, ObservedState

CLUSTER_RP, CLUSTER_TYPE = "Microsoft.ContainerService", "managedClusters"
LEGACY_OBJECTS_COMMAND = "kubectl get deployments,services,configmaps,secrets -n default -o name"


def extension_from_rest(body: Mapping[str, Any], cluster_id: str) -> Extension:
    props = body.get("properties") or {}
    status = props.get("errorInfo") or {}
    return Extension(
        id=str(body.get("id") or ""),
        name=str(body.get("name") or ""),
        extension_type=str(props.get("extensionType") or ""),
        cluster_id=cluster_id,
        settings={str(k): str(v) for k, v in (props.get("configurationSettings") or {}).items() if v is not None},
        protected_keys=tuple((props.get("configurationProtectedSettings") or {}).keys()),
        auto_upgrade=bool(props.get("autoUpgradeMinorVersion", True)),
        release_train=props.get("releaseTrain"),
        version=props.get("version") or props.get("currentVersion"),
        provisioning_state=str(props.get("provisioningState") or "Succeeded"),
        error=(status.get("message") if isinstance(status, Mapping) else None) or None,
        modified_on=((body.get("systemData") or {}).get("lastModifiedAt")),
    )


def legacy_objects(logs: str) -> tuple[str, ...]:
    """The azureml-fe objects (and the azuremlfessl secret) in `kubectl get ... -o name` output."""
    names = [line.strip() for line in logs.splitlines() if line.strip()]
    return tuple(
        sorted(n for n in names if "azureml-fe" in n.rsplit("/", 1)[-1] or n.rsplit("/", 1)[-1] == "azuremlfessl")
    )


class KubernetesClient:
    """Per-subscription SDK clients, created on first use (thread-safe)."""

    def __init__(
        self, conn: Connection, aks: AksClient | None = None, *, on_request: Callable[[Any], None] | None = None
    ) -> None:
        self.conn, self.on_request = conn, on_request
        self.aks = aks or AksClient(conn, on_request=on_request)
        self._owns_aks = aks is None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _client(self, kind: str, subscription_id: str) -> Any:
        key = (kind, subscription_id.lower())
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient
                from azure.mgmt.kubernetesconfiguration.extensiontypes import (
                    KubernetesConfigurationExtensionTypesMgmtClient,
                )

                Client: Any = (
                    KubernetesConfigurationExtensionsMgmtClient
                    if kind == "extensions"
                    else KubernetesConfigurationExtensionTypesMgmtClient
                )
                client = self.conn.mgmt_client(Client, subscription_id, self.on_request)
                self._clients[key] = client
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        if self._owns_aks:
            self.aks.close()

    @staticmethod
    def _parts(cluster_id: str) -> tuple[str, str, str]:
        cid = parse_cluster_id(cluster_id)
        if cid is None:
            raise CloudError(f"not an AKS cluster id: {cluster_id}", what="extension")
        return cid.subscription, cid.resource_group, cid.name

    # -- extensions ---------------------------------------------------------------------------------
    def list_extensions(self, cluster_id: str) -> tuple[Extension, ...]:
        """Every extension of the cluster (one LIST, all pages); () when the cluster is not found."""
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        sub, rg, name = self._parts(cluster_id)
        try:
            items = list(self._client("extensions", sub).extensions.list(rg, CLUSTER_RP, CLUSTER_TYPE, name))
        except ResourceNotFoundError:
            return ()
        except AzureError as exc:
            raise CloudError.from_azure(exc, f"list extensions of cluster {name}") from None
        return tuple(extension_from_rest(dict(item), cluster_id) for item in items)

    def get_extension(self, cluster_id: str, name: str) -> Extension | None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        sub, rg, cluster = self._parts(cluster_id)
        try:
            item = self._client("extensions", sub).extensions.get(rg, CLUSTER_RP, CLUSTER_TYPE, cluster, name)
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise CloudError.from_azure(exc, f"get extension {name} of cluster {cluster}") from None
        return extension_from_rest(dict(item), cluster_id)

    def begin_install(self, cluster_id: str, name: str, body: Mapping[str, Any]) -> Poller:
        """PUT the extension; the body holds protected settings, so errors never echo it."""
        return self._begin("begin_create", "install", cluster_id, name, dict(body))

    def begin_upgrade(self, cluster_id: str, name: str, patch: Mapping[str, Any]) -> Poller:
        """PATCH: version policy and settings in place (never uninstall + install)."""
        return self._begin("begin_update", "upgrade", cluster_id, name, dict(patch))

    def begin_uninstall(self, cluster_id: str, name: str) -> Poller:
        return self._begin("begin_delete", "uninstall", cluster_id, name, None)

    def _begin(self, method: str, verb: str, cluster_id: str, name: str, body: dict[str, Any] | None) -> Poller:
        from azure.core.exceptions import AzureError

        from reconciler.cloud.polling import error_mapping_polling

        sub, rg, cluster = self._parts(cluster_id)
        what = f"{verb} extension {name} on cluster {cluster}"
        ops = self._client("extensions", sub).extensions
        args: list[Any] = [rg, CLUSTER_RP, CLUSTER_TYPE, cluster, name] + ([body] if body is not None else [])
        try:
            poller: Poller = getattr(ops, method)(
                *args, polling=error_mapping_polling(self.conn.polling_interval, what)
            )
            return poller
        except AzureError as exc:
            raise CloudError.from_azure(exc, what) from None

    # -- extension type versions --------------------------------------------------------------------
    def extension_versions(self, cluster_id: str) -> tuple[ExtensionVersion, ...]:
        """The Azure ML extension type's versions offered for this cluster (one LIST)."""
        from azure.core.exceptions import AzureError

        sub, rg, cluster = self._parts(cluster_id)
        try:
            items = list(
                self._client("types", sub).extension_types.cluster_list_versions(
                    rg, CLUSTER_RP, CLUSTER_TYPE, cluster, AZUREML_EXTENSION_TYPE
                )
            )
        except AzureError as exc:
            raise CloudError.from_azure(
                exc, f"list versions of {AZUREML_EXTENSION_TYPE} for cluster {cluster}"
            ) from None
        out = []
        for item in items:
            data = dict(item)
            props = data.get("properties") or data
            unsupported = props.get("unsupportedKubernetesVersions") or []
            if isinstance(unsupported, Mapping):  # the spec nests them by cluster type
                unsupported = [v for vs in unsupported.values() for v in (vs or [])]
            out.append(
                ExtensionVersion(
                    str(props.get("version") or ""),
                    str(props.get("releaseTrain") or "stable"),
                    tuple(str(v) for v in unsupported),
                )
            )
        return tuple(out)

    # -- AKS Run Command ----------------------------------------------------------------------------
    def run_command(self, cluster_id: str, command: str, *, timeout: float) -> tuple[int, str]:
        """(exit code, logs) of a command line run in the cluster by AKS Run Command; never a kubeconfig."""
        from azure.core.exceptions import AzureError

        from reconciler.cloud.polling import error_mapping_polling

        sub, rg, cluster = self._parts(cluster_id)
        what = f"run command on cluster {cluster}"
        client = self.aks._client(sub)
        try:
            poller = client.managed_clusters.begin_run_command(
                rg, cluster, {"command": command}, polling=error_mapping_polling(self.conn.polling_interval, what)
            )
            result = poller.result(timeout=timeout)
        except AzureError as exc:
            raise CloudError.from_azure(exc, what) from None
        if not poller.done() or result is None:
            raise CloudError(f"{what}: no result within {timeout:.0f} s", what=what)
        data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
        props = data.get("properties") or data
        return int(props.get("exit_code", props.get("exitCode", 1)) or 0), str(props.get("logs") or "")


def observe_kubernetes(
    client: KubernetesClient,
    observed: ObservedState,
    cluster_ids: list[str],
    pinned: list[str],
    wanted: list[str],
    *,
    workers: int = 8,
    run_timeout: float = 300.0,
) -> None:
    """Add the Kubernetes side to `observed`: a fixed number of calls per cluster, never per compute.

    One extensions LIST per cluster of interest; one versions LIST per cluster whose manifest pins a
    version; one Run Command (a read-only `kubectl get`) per cluster that wants the extension and lacks
    it, to find the legacy azureml-fe objects that would make the install fail.
    """
    known = [i for i in cluster_ids if observed.cluster(i) is not None]
    with cf.ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="observe-k8s") as pool:
        lists = {cluster_key(i): pool.submit(client.list_extensions, i) for i in known}
        versions = {cluster_key(i): pool.submit(client.extension_versions, i) for i in pinned if observed.cluster(i)}
        for key, listed in lists.items():
            observed.extensions[key] = listed.result()
        for key, offered in versions.items():
            observed.extension_versions[key] = offered.result()
        legacy_attached = {c.cluster_key for ows in observed.workspaces.values() for c in ows.computes.values()}
        inspect = {
            cluster_key(i): i
            for i in wanted
            if observed.cluster(i) is not None
            and cluster_key(i) not in legacy_attached
            and not any(e.is_azureml and not e.failed for e in observed.extensions.get(cluster_key(i), ()))
        }
        runs = {
            key: pool.submit(client.run_command, i, LEGACY_OBJECTS_COMMAND, timeout=run_timeout)
            for key, i in inspect.items()
        }
        for key, ran in runs.items():
            code, logs = ran.result()
            if code != 0:
                raise CloudError(
                    f"listing objects in namespace default of cluster {key.rsplit('/', 1)[-1]} failed "
                    f"(exit code {code}): {logs.strip()[:300]}",
                    what="run command",
                )
            observed.insides[key] = ClusterInside(legacy_objects(logs))

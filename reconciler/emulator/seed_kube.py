"""Seed additions for the cluster's inside, cluster extensions and workspace storage accounts.

Per cluster: ``extensions: {name: {...REST properties...}}``, ``namespaces: [...]``,
``objects: [{kind, namespace, name}]``; per workspace: ``storageAccount: {name, blobEndpoint, key}``;
top level: ``extensionTypeVersions: {type: [{version, releaseTrain, unsupportedKubernetesVersions}]}``.
A seeded legacy AKS attachment implies the objects a real one leaves (``azureml-fe`` in ``default``,
and ``azuremlfessl`` with a generated certificate when its TLS is enabled). The state dump never
carries secret values: each is replaced by :data:`REDACTED`.
"""

from __future__ import annotations

import copy
from typing import Any

from .kube_model import FE_LABELS, FE_OBJECTS, TLS_SECRET, ClusterInside, Extension, KubeObject, StorageAccount
from .model import World

REDACTED = "(redacted)"


def load_extras(w: World, raw: dict[str, Any], now: float) -> None:
    for typ, versions in (raw.get("extensionTypeVersions") or {}).items():
        w.extension_types[str(typ).lower()] = [
            {
                "version": str(v["version"]),
                "releaseTrain": str(v.get("releaseTrain", "stable")),
                "unsupportedKubernetesVersions": [str(x) for x in v.get("unsupportedKubernetesVersions") or []],
            }
            for v in versions or []
        ]
    for sub, sub_body in (raw.get("subscriptions") or {}).items():
        for rg, rg_body in ((sub_body or {}).get("resourceGroups") or {}).items():
            rg_body = rg_body or {}
            for name, c in (rg_body.get("managedClusters") or {}).items():
                _load_cluster(w, str(sub), str(rg), str(name), c or {}, now)
            for name, ws_body in (rg_body.get("workspaces") or {}).items():
                _load_workspace(w, str(sub), str(rg), str(name), ws_body or {}, raw)


def _cluster_key(sub: str, rg: str, name: str) -> str:
    return (
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}".lower()
    )


def _load_cluster(w: World, sub: str, rg: str, name: str, c: dict[str, Any], now: float) -> None:
    key = _cluster_key(sub, rg, name)
    cl = w.clusters.get(key)
    if cl is None:
        return
    inside = ClusterInside()
    for ns in c.get("namespaces") or []:
        if not inside.has_namespace(str(ns)):
            inside.namespaces.append(str(ns))
    for o in c.get("objects") or []:
        data = {k: v for k, v in (o.get("data") or {}).items() if v != REDACTED}
        inside.put(
            KubeObject(
                str(o["kind"]),
                str(o.get("namespace", "default")),
                str(o["name"]),
                {str(k): str(v) for k, v in (o.get("labels") or {}).items()},
                data,
            )
        )
    for ename, body in (c.get("extensions") or {}).items():
        props = copy.deepcopy((body or {}).get("properties", body) or {})
        protected = sorted((props.pop("configurationProtectedSettings", None) or {}).keys())
        state = str(props.pop("provisioningState", "Succeeded"))
        ext = Extension(
            cluster_id=cl.id,
            name=str(ename),
            extension_type=str(props.pop("extensionType", "")),
            properties=props,
            protected_keys=protected,
            provisioning_state=state,
            identity_principal="00000000-0000-0000-0000-0000000000e1",
            created_at=now,
            modified_at=now,
            installed=state != "Failed",
        )
        inside.extensions[ext.name.lower()] = ext
        if state == "Succeeded" and ext.extension_type.lower() == "microsoft.azureml.kubernetes":
            if not inside.has_namespace("azureml"):
                inside.namespaces.append("azureml")
            inside.put(KubeObject("Deployment", "azureml", "azureml-fe-v2"))
    w.insides[key] = inside


def _load_workspace(w: World, sub: str, rg: str, name: str, body: dict[str, Any], raw: dict[str, Any]) -> None:
    ws = w.workspaces.get(
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{name}".lower()
    )
    if ws is None:
        return
    sa = body.get("storageAccount")
    if isinstance(sa, dict) and sa.get("name"):
        acct = StorageAccount(
            subscription=ws.subscription,
            resource_group=str(sa.get("resourceGroup") or rg),
            name=str(sa["name"]),
            location=ws.location,
            blob_endpoint=str(sa.get("blobEndpoint") or f"https://{sa['name']}.blob.core.windows.net/"),
            key="" if sa.get("key") in (None, REDACTED) else str(sa["key"]),
        )
        w.storage_accounts[acct.id.lower()] = acct
        ws.storage_account = acct.id
    for cname, cbody in (body.get("computes") or {}).items():
        props = (cbody or {}).get("properties") or {}
        kind = str(props.get("computeType") or "AKS")
        comp = ws.computes.get(str(cname).lower())
        if comp is not None and kind.lower() == "kubernetes":
            comp.compute_type = "Kubernetes"
            comp.identity = copy.deepcopy((cbody or {}).get("identity"))
        elif comp is not None and comp.resource_id:
            _legacy_objects(w, comp.resource_id, comp.id, props.get("properties") or {}, comp.location)


def _legacy_objects(w: World, cluster_id: str, compute_id: str, settings: dict[str, Any], region: str) -> None:
    from .services.kube.inside import tls_secret_data

    inside = w.insides.setdefault(cluster_id.lower(), ClusterInside())
    for kind, name in FE_OBJECTS:
        if inside.find(kind, "default", name) is None:
            inside.put(KubeObject(kind, "default", name, dict(FE_LABELS)))
    existing = inside.find("Secret", "default", TLS_SECRET)
    if existing is None or not existing.data:
        data = tls_secret_data(compute_id, settings, region)
        if data is not None:
            inside.put(KubeObject("Secret", "default", TLS_SECRET, dict(FE_LABELS), data))


def dump_extras(out: dict[str, Any], w: World) -> None:
    """Add the inside, extensions and storage accounts to a state dump (secret values redacted)."""
    subs = out.get("subscriptions", {})

    def rg_body(sub: str, rg: str) -> dict[str, Any]:
        s: dict[str, Any] = next((v for k, v in subs.items() if k.lower() == sub.lower()), {"resourceGroups": {}})
        return next((v for k, v in s["resourceGroups"].items() if k.lower() == rg.lower()), {})

    for cl in w.clusters.values():
        inside = w.insides.get(cl.id.lower())
        body = rg_body(cl.subscription, cl.resource_group).get("managedClusters", {}).get(cl.name)
        if inside is None or body is None:
            continue
        body["namespaces"] = [n for n in inside.namespaces]
        body["objects"] = [_dump_object(o) for o in inside.objects]
        body["extensions"] = {e.name: _dump_extension(e) for e in inside.extensions.values()}
    for ws in w.workspaces.values():
        body = rg_body(ws.subscription, ws.resource_group).get("workspaces", {}).get(ws.name)
        acct = w.storage_accounts.get((ws.storage_account or "").lower())
        if body is not None and acct is not None:
            body["storageAccount"] = {
                "name": acct.name,
                "resourceGroup": acct.resource_group,
                "blobEndpoint": acct.blob_endpoint,
                "key": REDACTED,
            }
        for c in ws.computes.values():
            if body is not None and c.compute_type != "AKS" and c.name in body.get("computes", {}):
                cb = body["computes"][c.name]
                cb["properties"]["computeType"] = c.compute_type
                if c.identity:
                    cb["identity"] = copy.deepcopy(c.identity)


def _dump_object(o: KubeObject) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": o.kind, "namespace": o.namespace, "name": o.name}
    if o.labels:
        d["labels"] = dict(o.labels)
    if o.data:
        d["data"] = {k: REDACTED for k in o.data}
    return d


def _dump_extension(e: Extension) -> dict[str, Any]:
    props = copy.deepcopy(e.properties)
    props["extensionType"] = e.extension_type
    props["provisioningState"] = e.provisioning_state
    if e.protected_keys:
        props["configurationProtectedSettings"] = {k: REDACTED for k in e.protected_keys}
    return {"properties": props}

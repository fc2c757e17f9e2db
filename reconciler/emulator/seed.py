"""Seed files (docs/seed.md): YAML/dict → World, and World → the same format."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from . import regions
from .domain import normalize_region
from .model import AgentPool, Cluster, Compute, Workspace, World

SECRET_SSL_KEYS = ("cert", "key")


def load_seed(seed: dict[str, Any] | str | Path | None) -> dict[str, Any]:
    """Read a seed: a mapping, or a path to a YAML (or JSON) file. None → empty cloud."""
    if seed is None:
        return {}
    if isinstance(seed, dict):
        return copy.deepcopy(seed)
    text = Path(seed).read_text(encoding="utf-8")
    data = YAML(typ="safe").load(io.StringIO(text))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"seed {seed}: expected a mapping at the top level")
    return data


def strip_secrets(settings: dict[str, Any] | None) -> dict[str, Any]:
    """Copy of properties.properties without TLS certificate/key (never stored or returned)."""
    out = copy.deepcopy(settings or {})
    ssl = out.get("sslConfiguration")
    if isinstance(ssl, dict):
        for k in list(ssl):
            if k.lower() in SECRET_SSL_KEYS:
                del ssl[k]
    return out


def _parse_time_us(value: Any, default: int) -> int:
    if not value:
        return default
    from datetime import datetime

    try:
        text = str(value).replace("Z", "+00:00")
        # Azure prints 7 fractional digits; Python parses at most 6.
        if "." in text:
            head, rest = text.split(".", 1)
            frac = "".join(ch for ch in rest if ch.isdigit())
            tz = rest[len(frac) :]
            text = f"{head}.{frac[:6].ljust(6, '0')}{tz}"
        dt = datetime.fromisoformat(text)
        return round(dt.timestamp() * 1_000_000)
    except ValueError:
        return default


def _region(raw: Any, w: World) -> str:
    """A seeded location: a real Azure region, or a placeholder the seed lists under extraRegions."""
    name = normalize_region(str(raw))
    if not regions.known(name, w.extra_regions):
        raise ValueError(f"seed: '{raw}' is not an Azure region (list placeholder regions under extraRegions)")
    return name


def build_world(raw: dict[str, Any], now_us: int) -> World:
    """Turn a seed mapping into the emulator's state."""
    w = World(extra_regions=[normalize_region(str(r)) for r in (raw.get("extraRegions") or [])])
    for region, entries in (raw.get("kubernetesVersions") or {}).items():
        w.kubernetes_versions[_region(region, w)] = [
            {
                "version": str(e["version"]),
                "default": bool(e.get("default", False)),
                "preview": bool(e.get("preview", False)),
            }
            for e in (entries or [])
        ]
    for sub, sub_body in (raw.get("subscriptions") or {}).items():
        sub = str(sub)
        w.subscriptions[sub.lower()] = sub
        for rg, rg_body in ((sub_body or {}).get("resourceGroups") or {}).items():
            rg = str(rg)
            w.resource_groups[f"{sub}/{rg}".lower()] = rg
            rg_body = rg_body or {}
            for name, c in (rg_body.get("managedClusters") or {}).items():
                c = c or {}
                cl = Cluster(
                    subscription=sub,
                    resource_group=rg,
                    name=str(name),
                    location=_region(c.get("location", "westeurope"), w),
                    kubernetes_version=str(c.get("kubernetesVersion", "")),
                    agent_pools=[
                        AgentPool(
                            name=str(p.get("name", "nodepool1")),
                            vm_size=str(p.get("vmSize", "Standard_D3_v2")),
                            count=int(p.get("count", 3)),
                            mode=str(p.get("mode", "System")),
                            provisioning_state=str(p.get("provisioningState", "Succeeded")),
                        )
                        for p in (c.get("agentPools") or [])
                    ],
                    load_balancer_sku=str(c.get("loadBalancerSku", "standard")),
                    private_cluster=bool(c.get("privateCluster", False)),
                    authorized_ip_ranges=[str(x) for x in (c.get("authorizedIPRanges") or [])],
                    tags={str(k): str(v) for k, v in (c.get("tags") or {}).items()},
                    provisioning_state=str(c.get("provisioningState", "Succeeded")),
                    network=c.get("network"),
                    created_by=c.get("createdBy"),
                )
                w.clusters[cl.id.lower()] = cl
            for name, ws_body in (rg_body.get("workspaces") or {}).items():
                ws_body = ws_body or {}
                ws = Workspace(
                    subscription=sub,
                    resource_group=rg,
                    name=str(name),
                    location=_region(ws_body.get("location", "westeurope"), w),
                    tags={str(k): str(v) for k, v in (ws_body.get("tags") or {}).items()},
                )
                for cname, cbody in (ws_body.get("computes") or {}).items():
                    cbody = cbody or {}
                    props = cbody.get("properties") or {}
                    rid = props.get("resourceId")
                    attached = props.get("isAttachedCompute")
                    attached = bool(rid) if attached is None else bool(attached)
                    created = _parse_time_us(props.get("createdOn"), now_us)
                    comp = Compute(
                        workspace_id=ws.id,
                        name=str(cname),
                        location=_region(cbody.get("location") or ws.location, w),
                        attached=attached,
                        resource_id=str(rid) if rid else None,
                        settings=strip_secrets(props.get("properties")),
                        provisioning_state=str(props.get("provisioningState", "Succeeded")),
                        created_on_us=created,
                        modified_on_us=_parse_time_us(props.get("modifiedOn"), created),
                        description=props.get("description"),
                        tags={str(k): str(v) for k, v in (cbody.get("tags") or {}).items()},
                        provisioning_errors=list(props.get("provisioningErrors") or []),
                    )
                    if rid and not attached:
                        owned = w.clusters.get(str(rid).lower())
                        if owned is not None and owned.created_by is None:
                            owned.created_by = comp.id
                    ws.computes[comp.name.lower()] = comp
                w.workspaces[ws.id.lower()] = ws
    from .seed_kube import load_extras

    load_extras(w, raw, now_us / 1_000_000)
    return w


def dump_world(w: World) -> dict[str, Any]:
    """The state in the seed format (loadable again as a seed)."""
    out: dict[str, Any] = {"kubernetesVersions": {}, "subscriptions": {}}
    if w.extra_regions:
        out["extraRegions"] = list(w.extra_regions)
    for region, entries in w.kubernetes_versions.items():
        out["kubernetesVersions"][region] = [
            {
                "version": e["version"],
                **({"default": True} if e.get("default") else {}),
                **({"preview": True} if e.get("preview") else {}),
            }
            for e in entries
        ]
    for sub in w.subscriptions.values():
        out["subscriptions"][sub] = {"resourceGroups": {}}
    for key, rg in w.resource_groups.items():
        sub = w.subscriptions[key.split("/", 1)[0]]
        out["subscriptions"][sub]["resourceGroups"][rg] = {}

    def rg_body(sub: str, rg: str) -> dict[str, Any]:
        s = out["subscriptions"].setdefault(w.subscriptions.get(sub.lower(), sub), {"resourceGroups": {}})
        canon = w.resource_groups.get(f"{sub}/{rg}".lower(), rg)
        group: dict[str, Any] = s["resourceGroups"].setdefault(canon, {})
        return group

    for cl in w.clusters.values():
        rg_body(cl.subscription, cl.resource_group).setdefault("managedClusters", {})[cl.name] = _dump_cluster(cl)
    for ws in w.workspaces.values():
        body: dict[str, Any] = {
            "location": ws.location,
            "computes": {c.name: _dump_compute(c) for c in ws.computes.values()},
        }
        if ws.tags:
            body["tags"] = dict(ws.tags)
        rg_body(ws.subscription, ws.resource_group).setdefault("workspaces", {})[ws.name] = body
    from .seed_kube import dump_extras

    dump_extras(out, w)
    return out


def _dump_cluster(cl: Cluster) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": cl.location,
        "kubernetesVersion": cl.kubernetes_version,
        "agentPools": [
            {
                "name": p.name,
                "vmSize": p.vm_size,
                "count": p.count,
                "mode": p.mode,
                **({"provisioningState": p.provisioning_state} if p.provisioning_state != "Succeeded" else {}),
            }
            for p in cl.agent_pools
        ],
        "loadBalancerSku": cl.load_balancer_sku,
        "privateCluster": cl.private_cluster,
        "authorizedIPRanges": list(cl.authorized_ip_ranges),
    }
    if cl.tags:
        body["tags"] = dict(cl.tags)
    if cl.provisioning_state != "Succeeded":
        body["provisioningState"] = cl.provisioning_state
    if cl.created_by:
        body["createdBy"] = cl.created_by
    if cl.network:
        body["network"] = copy.deepcopy(cl.network)
    return body


def _dump_compute(c: Compute) -> dict[str, Any]:
    from .domain import iso_us

    props: dict[str, Any] = {"computeType": "AKS"}
    if c.resource_id:
        props["resourceId"] = c.resource_id
    if c.description is not None:
        props["description"] = c.description
    props["isAttachedCompute"] = c.attached
    props["provisioningState"] = c.provisioning_state
    if c.provisioning_errors:
        props["provisioningErrors"] = copy.deepcopy(c.provisioning_errors)
    props["createdOn"] = iso_us(c.created_on_us)
    props["modifiedOn"] = iso_us(c.modified_on_us)
    props["properties"] = strip_secrets(c.settings)
    return {"location": c.location, "tags": dict(c.tags), "properties": props}

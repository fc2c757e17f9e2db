"""Microsoft.MachineLearningServices behaviour: workspaces and their AKS computes.

A compute PUT is one of three things: create (Azure builds a new AKS cluster),
attach (bind an existing cluster) or update (re-write an existing compute). Each is
its own small method; the checks that need no state live in :mod:`.rules`.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from ... import domain, regions
from ...domain import normalize_region
from ...errors import ArmError, BadRequest, Conflict, LocationNotAvailableForResourceType, ResourceNotFound, detail
from ...lro import OperationEngine
from ...model import AgentPool, Cluster, Compute, Operation, Workspace, cluster_id, workspace_id
from ...seed import strip_secrets
from ...store import Store
from ..aks.backend import AksBackend
from ..kube.inside import InsideBackend, tls_secret_data
from . import kubernetes, rules

PROVIDER = "ml"
BROKEN_CODE = "InternalServerError"


class MlBackend:
    def __init__(self, store: Store, lro: OperationEngine, aks: AksBackend) -> None:
        self.store = store
        self.lro = lro
        self.aks = aks
        self.inside = InsideBackend(store)
        self.k8s = kubernetes.KubernetesComputes(store, lro, aks)
        lro.on_finish(PROVIDER, self._finish)

    # ----------------------------------------------------------------- lookup
    def workspace(self, sub: str, rg: str, name: str) -> Workspace:
        s = self.store
        sub_c = s.subscription(sub)
        rg_c = s.resource_group(sub, rg)
        ws = s.world.workspaces.get(workspace_id(sub_c, rg_c, name).lower())
        if ws is None:
            raise ResourceNotFound(
                f"The Resource 'Microsoft.MachineLearningServices/workspaces/{name}' under "
                f"resource group '{rg}' was not found."
            )
        return ws

    def location_of(self, params: dict[str, str]) -> str | None:
        """The region of the workspace a request names, for ARM's error messages."""
        try:
            return self.workspace(params["sub"], params["rg"], params["ws"]).location
        except (KeyError, ArmError):
            return None

    def compute(self, ws: Workspace, name: str) -> Compute:
        comp = ws.computes.get(name.lower())
        if comp is None:
            raise ResourceNotFound(
                f"The Resource 'Microsoft.MachineLearningServices/workspaces/{ws.name}/computes/"
                f"{name}' under resource group '{ws.resource_group}' was not found."
            )
        self._check_cluster_alive(comp)
        return comp

    def computes(self, ws: Workspace) -> list[Compute]:
        out = list(ws.computes.values())
        for c in out:
            self._check_cluster_alive(c)
        return out

    def compute_by_id(self, compute_id: str) -> tuple[Workspace, Compute] | tuple[None, None]:
        ws_id, _, name = compute_id.rpartition("/computes/")
        ws = self.store.world.workspaces.get(ws_id.lower())
        comp = ws.computes.get(name.lower()) if ws else None
        return (ws, comp) if ws and comp else (None, None)

    def _check_cluster_alive(self, comp: Compute) -> None:
        """A compute whose AKS cluster is gone reads as Failed (Azure notices on the next read)."""
        if comp.provisioning_state == "Failed" or self.lro.inflight_op(comp.id) is not None:
            return
        if self.aks.by_id(comp.resource_id) is not None:
            return
        self._fail(
            comp,
            detail(
                "ResourceNotFound",
                f"The AKS cluster '{comp.resource_id or '(none)'}' of compute '{comp.name}' no longer exists; "
                "the compute is unusable. Detach it and create or attach a cluster again.",
            ),
        )

    def _fail(self, comp: Compute, err: dict[str, Any]) -> None:
        comp.provisioning_state = "Failed"
        comp.provisioning_errors = [{"error": copy.deepcopy(err)}]
        comp.modified_on_us = self.store.stamp_us()

    # ------------------------------------------------------------------- PUT
    def put_compute(self, ws: Workspace, name: str, body: Any) -> tuple[Compute, Operation, bool]:
        """Create, attach or update a compute; returns (compute, operation, is_new)."""
        if kubernetes.is_kubernetes(body):
            old = ws.computes.get(name.lower())
            where = body.get("location") or (old.location if old else ws.location)
            return self.k8s.put(ws, name, body, _location(where, self.store.world.extra_regions))
        rules.check_name(name)
        props, settings_in, tags = rules.check_body(body)
        existing = ws.computes.get(name.lower())
        if existing is not None:
            self._refuse_if_busy(existing)
        location = _location(
            body.get("location") or (existing.location if existing else ws.location), self.store.world.extra_regions
        )
        settings = strip_secrets(settings_in)
        purpose = domain.purpose_of(settings)
        rid = props.get("resourceId")
        if existing is not None:
            kind, fail_with = "update", self._update(ws, existing, rid, settings, purpose)
            comp = existing
            self._rewrite(comp, location, settings, props, tags)
            cl = self.aks.by_id(comp.resource_id)
            if cl is not None:  # re-writing an attachment re-attaches: it breaks any other one
                others = [c for c in ws.computes.values() if c is not comp and _bound_to(c, cl)]
                if others:
                    self._break_attachments(ws, cl, others, comp)
        elif rid:
            kind = "attach"
            comp, fail_with = self._attach(ws, name, str(rid), location, settings, props, tags, purpose)
        else:
            kind = "create"
            comp, fail_with = self._create(ws, name, location, settings, props, tags, purpose)
        tls = tls_secret_data(comp.id, settings_in, location) if fail_with is None else None
        payload = {"tls": tls} if tls else None
        op = self.lro.start(kind, PROVIDER, comp.id, ws.subscription, location, fail_with=fail_with, payload=payload)
        return comp, op, existing is None

    def _refuse_if_busy(self, comp: Compute) -> None:
        running = self.lro.inflight_op(comp.id)
        if running is not None:
            raise Conflict(
                f"Compute '{comp.name}' has an operation in progress ({running.kind}, {running.id}); "
                "retry after it completes."
            )

    def _update(
        self, ws: Workspace, existing: Compute, rid: Any, settings: dict[str, Any], purpose: str
    ) -> dict[str, Any] | None:
        """Check a re-write of ``existing``; fill in what a create fixed. Returns the failure to come."""
        if rid and existing.resource_id and str(rid).lower() != existing.resource_id.lower():
            raise BadRequest(
                f"Compute '{existing.name}' is bound to '{existing.resource_id}'; resourceId cannot "
                "change. Detach the compute first, then attach the other cluster."
            )
        if not existing.attached:
            old_size = existing.settings.get("agentVmSize")
            new_size = settings.get("agentVmSize")
            if new_size and old_size and str(new_size).lower() != str(old_size).lower():
                raise BadRequest("agentVmSize cannot be changed after the cluster is created.")
            for k in ("agentCount", "agentVmSize", "aksNetworkingConfiguration"):
                if k in existing.settings and k not in settings:
                    settings[k] = copy.deepcopy(existing.settings[k])
        cl = self.aks.by_id(existing.resource_id)
        if cl is None:
            return detail(
                "ResourceNotFound",
                f"The AKS cluster '{existing.resource_id}' of compute '{existing.name}' no longer exists.",
            )
        return rules.attach_error(cl, purpose, None)

    def _rewrite(
        self, comp: Compute, location: str, settings: dict[str, Any], props: dict[str, Any], tags: dict[str, Any] | None
    ) -> None:
        comp.settings = settings
        comp.location = location
        comp.description = props.get("description")
        if tags is not None:
            comp.tags = _tags(tags)
        comp.provisioning_state = "Updating"
        comp.provisioning_errors = []
        comp.modified_on_us = self.store.stamp_us()

    def _new_compute(
        self,
        ws: Workspace,
        name: str,
        location: str,
        settings: dict[str, Any],
        props: dict[str, Any],
        tags: dict[str, Any] | None,
        resource_id: str | None,
    ) -> Compute:
        now_us = self.store.stamp_us()
        return Compute(
            workspace_id=ws.id,
            name=name,
            location=location,
            attached=resource_id is not None,
            resource_id=resource_id,
            settings=settings,
            provisioning_state="Creating",
            created_on_us=now_us,
            modified_on_us=now_us,
            description=props.get("description"),
            tags=_tags(tags or {}),
        )

    def _attach(
        self,
        ws: Workspace,
        name: str,
        rid: str,
        location: str,
        settings: dict[str, Any],
        props: dict[str, Any],
        tags: dict[str, Any] | None,
        purpose: str,
    ) -> tuple[Compute, dict[str, Any] | None]:
        parsed = rules.parse_cluster_id(rid)
        if parsed is None:
            raise BadRequest(f"resourceId '{rid}' is not an AKS managed cluster id.")
        if parsed[0].lower() != ws.subscription.lower():
            raise BadRequest(
                f"The AKS cluster must be in the same subscription as the workspace "
                f"({ws.subscription}); '{rid}' is in subscription {parsed[0]}."
            )
        cl = self.aks.by_id(rid)
        if cl is None:
            raise BadRequest(f"The AKS cluster '{rid}' was not found.")
        fail_with = rules.attach_error(cl, purpose, self.aks.versions(cl.location))
        comp = self._new_compute(ws, name, location, settings, props, tags, rid)  # the id as sent, casing kept
        earlier = [c for c in ws.computes.values() if _bound_to(c, cl)]
        ws.computes[name.lower()] = comp
        if earlier:
            self._break_attachments(ws, cl, earlier, comp)
        return comp, fail_with

    def _create(
        self,
        ws: Workspace,
        name: str,
        location: str,
        settings: dict[str, Any],
        props: dict[str, Any],
        tags: dict[str, Any] | None,
        purpose: str,
    ) -> tuple[Compute, dict[str, Any] | None]:
        count, size, cores = rules.new_cluster_size(settings)
        settings["agentCount"] = count
        settings["agentVmSize"] = size
        default = next((e["version"] for e in self.aks.versions(location) if e.get("default")), None)
        fail_with: dict[str, Any] | None
        if default is None:
            fail_with = detail("BadRequest", f"AKS has no default Kubernetes version in region {location}.")
        else:
            fail_with = rules.capacity_error(purpose, count * cores, f"A cluster of {count} x {size}")
        comp = self._new_compute(ws, name, location, settings, props, tags, None)
        if fail_with is None:
            comp.resource_id = self._build_cluster(ws, comp, str(default), size, count).id
        ws.computes[name.lower()] = comp
        return comp, fail_with

    def _build_cluster(self, ws: Workspace, comp: Compute, version: str, size: str, count: int) -> Cluster:
        """The AKS cluster a compute create makes, named after the compute."""
        clusters = self.store.world.clusters
        base = f"{comp.name.lower()}{hashlib.sha1(comp.id.lower().encode()).hexdigest()[:5]}"
        cname, n = base, 1
        while cluster_id(ws.subscription, ws.resource_group, cname).lower() in clusters:
            n += 1
            cname = f"{base}{n}"
        network = comp.settings.get("aksNetworkingConfiguration")
        cl = Cluster(
            subscription=ws.subscription,
            resource_group=ws.resource_group,
            name=cname,
            location=comp.location,
            kubernetes_version=version,
            agent_pools=[
                AgentPool(name="agentpool", vm_size=size, count=count, mode="System", provisioning_state="Creating")
            ],
            load_balancer_sku="standard",
            provisioning_state="Creating",
            network=copy.deepcopy(network) if isinstance(network, dict) else None,
            created_by=comp.id,
        )
        clusters[cl.id.lower()] = cl
        return cl

    def _break_attachments(self, ws: Workspace, cl: Cluster, earlier: list[Compute], new: Compute) -> None:
        """A second attachment of a cluster silently breaks the earlier ones (Azure's behaviour)."""
        err = detail(
            BROKEN_CODE,
            f"The AKS cluster '{cl.id}' was attached again to this workspace as compute "
            f"'{new.name}'; this attachment is broken.",
        )
        now = self.store.clock()
        for c in earlier:
            running = self.lro.inflight_op(c.id)
            if running is not None and running.kind in ("create", "attach", "update"):
                self.lro.finish(running, error=err, ended_at=now)
            elif running is None or running.kind not in ("detach", "delete"):
                self._fail(c, err)
        self.store.violations.append(
            {
                "workspace": ws.id,
                "clusterId": cl.id,
                "computes": [c.name for c in earlier] + [new.name],
                "at": domain.iso(now),
            }
        )
        self.store.dirty = True

    # ---------------------------------------------------------------- DELETE
    def delete_compute(self, ws: Workspace, name: str, action: str | None) -> Operation | None:
        if not action:
            raise BadRequest("The query parameter 'underlyingResourceAction' is required: Detach or Delete.")
        if action.lower() not in ("detach", "delete"):
            raise BadRequest(f"Invalid underlyingResourceAction '{action}': expected Detach or Delete.")
        comp = ws.computes.get(name.lower())
        if comp is None:
            return None
        self._refuse_if_busy(comp)
        kind = action.lower()
        if kind == "delete" and comp.attached:
            raise BadRequest(
                f"Compute '{comp.name}' is an attached compute; its underlying resource cannot be "
                "deleted through the workspace. Use underlyingResourceAction=Detach."
            )
        comp.provisioning_state = "Deleting"
        comp.modified_on_us = self.store.stamp_us()
        cl = self.aks.by_id(comp.resource_id) if kind == "delete" else None
        if cl is not None:
            cl.provisioning_state = "Deleting"
        return self.lro.start(kind, PROVIDER, comp.id, ws.subscription, comp.location)

    # ------------------------------------------------------------- completion
    def _finish(self, op: Operation, err: dict[str, Any] | None) -> None:
        ws, comp = self.compute_by_id(op.target)
        if comp is None or ws is None:
            return
        cluster = self.aks.by_id(comp.resource_id)
        if err:
            self._finish_failed(op, comp, cluster, err)
        elif op.kind in ("create", "attach", "update"):
            comp.provisioning_state = "Succeeded"
            comp.provisioning_errors = []
            comp.modified_on_us = self.store.stamp_us()
            if op.kind == "create" and cluster is not None:
                cluster.provisioning_state = "Succeeded"
                for p in cluster.agent_pools:
                    p.provisioning_state = "Succeeded"
            if comp.compute_type == "AKS" and cluster is not None:
                self.inside.legacy_attached(cluster, op.payload.get("tls"))
        elif op.kind == "detach":
            del ws.computes[comp.name.lower()]
            if cluster is not None and cluster.created_by == comp.id:
                cluster.created_by = None
        elif op.kind == "delete":
            del ws.computes[comp.name.lower()]
            if cluster is not None:
                self.store.world.clusters.pop(cluster.id.lower(), None)
                self.inside.cluster_deleted(cluster, comp.id, ws.id)

    def _finish_failed(self, op: Operation, comp: Compute, cluster: Cluster | None, err: dict[str, Any]) -> None:
        self._fail(comp, err)
        if op.kind == "create" and cluster is not None and cluster.created_by == comp.id:
            del self.store.world.clusters[cluster.id.lower()]
        elif op.kind == "delete" and cluster is not None:
            cluster.provisioning_state = "Failed"


def _location(raw: Any, extra_regions: list[str]) -> str:
    """A compute's region, normalised; an unknown one is refused at once, as ARM does."""
    location = normalize_region(str(raw))
    if not regions.known(location, extra_regions):
        raise LocationNotAvailableForResourceType(
            f"The provided location '{raw}' is not available for resource type "
            f"'Microsoft.MachineLearningServices/workspaces/computes'. List of available regions for the resource "
            f"type is '{regions.listing()}'."
        )
    return location


def _bound_to(comp: Compute, cl: Cluster) -> bool:
    """A legacy AKS attachment of ``cl`` (Kubernetes computes may share a cluster)."""
    return comp.compute_type == "AKS" and bool(comp.resource_id) and str(comp.resource_id).lower() == cl.id.lower()


def _tags(tags: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in tags.items()}

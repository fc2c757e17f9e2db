"""The emulated cloud's behaviour, independent of HTTP (moto-style backend).

All mutating and reading methods must be called with ``backend.lock`` held; the HTTP
layer does that per request. Long-running operations complete lazily: every request
first calls :meth:`Backend.advance`, which finishes the operations whose absolute end
time has passed, so no timer threads exist and a restarted emulator (loaded from its
state file) completes in-flight operations at the right moment.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from . import domain
from .domain import COMPUTE_NAME_RE, DURATIONS, normalize_region, vm_cores
from .faults import Faults
from .model import AgentPool, ArmError, Cluster, Compute, Operation, Workspace, World, cluster_id
from .seed import build_world, dump_world, load_seed, strip_secrets

FORMAT_VERSION = 1
BROKEN_CODE = "InternalServerError"


def _err(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def parse_cluster_id(rid: str) -> tuple[str, str, str] | None:
    """(subscription, resourceGroup, name) of a managed cluster id, case-insensitively."""
    parts = [p for p in rid.strip().split("/") if p]
    if (len(parts) == 8 and parts[0].lower() == "subscriptions" and parts[2].lower() == "resourcegroups"
            and parts[4].lower() == "providers" and parts[5].lower() == "microsoft.containerservice"
            and parts[6].lower() == "managedclusters"):
        return parts[1], parts[3], parts[7]
    return None


class Backend:
    """State + rules of the emulated ARM endpoints."""

    def __init__(self, seed: dict | str | Path | None = None, *, state_file: str | Path | None = None,
                 time_scale: float = 1.0, faults: Faults | None = None,
                 clock: Callable[[], float] = time.time, page_size: int = 50) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.lock = threading.RLock()
        self.clock = clock
        self.time_scale = float(time_scale)
        self.faults = faults or Faults()
        self.page_size = page_size
        self.state_file = Path(state_file) if state_file else None
        self.dirty = False
        given_seed = load_seed(seed) if seed is not None else None
        if self.state_file is not None and self.state_file.exists():
            self._load(given_seed)
        else:
            self.seed_raw = given_seed or {}
            self._reset_state()
            self.save()

    # ----------------------------------------------------------------- basics
    def _reset_state(self) -> None:
        self.last_stamp_us = 0
        self.world: World = build_world(self.seed_raw, self._now_us())
        self.operations: dict[str, Operation] = {}
        self.inflight: dict[str, str] = {}  # lower target id → operation id
        self.requests: dict[str, int] = {}
        self.violations: list[dict] = []
        self.dirty = True

    def reset(self) -> None:
        """Back to the seed; audit and operations cleared."""
        self._reset_state()

    def _now_us(self) -> int:
        return int(self.clock() * 1_000_000)

    def stamp_us(self) -> int:
        """A strictly increasing write timestamp (µs) for modifiedOn."""
        us = max(self._now_us(), self.last_stamp_us + 1)
        self.last_stamp_us = us
        self.dirty = True
        return us

    def record_request(self, operation_id: str) -> None:
        self.requests[operation_id] = self.requests.get(operation_id, 0) + 1

    def retry_after(self, op: Operation) -> float:
        """Seconds until the operation ends, clamped to [0.01, 10].

        Never 0: azure-core treats a zero Retry-After as absent and falls back to its
        30 s default polling interval.
        """
        remaining = op.ends_at - self.clock()
        return min(10.0, max(0.01, remaining))

    # ------------------------------------------------------------ persistence
    def _persisted(self) -> dict:
        return {
            "formatVersion": FORMAT_VERSION,
            "seed": self.seed_raw,
            "world": self.world.to_dict(),
            "operations": [asdict(op) for op in self.operations.values()],
            "inflight": self.inflight,
            "requests": self.requests,
            "violations": self.violations,
            "lastStampUs": self.last_stamp_us,
        }

    def _load(self, given_seed: dict | None) -> None:
        assert self.state_file is not None
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        if data.get("formatVersion") != FORMAT_VERSION:
            raise ValueError(f"{self.state_file}: unsupported state format {data.get('formatVersion')!r}")
        self.seed_raw = given_seed if given_seed is not None else data.get("seed") or {}
        self.world = World.from_dict(data["world"])
        self.operations = {d["id"]: Operation(**d) for d in data.get("operations", [])}
        self.inflight = dict(data.get("inflight", {}))
        self.requests = dict(data.get("requests", {}))
        self.violations = list(data.get("violations", []))
        self.last_stamp_us = int(data.get("lastStampUs", 0))

    def save(self) -> None:
        """Write the state file atomically (temp file in the same folder + os.replace)."""
        self.dirty = False
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.state_file.name + ".", suffix=".tmp", dir=self.state_file.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self._persisted(), f, separators=(",", ":"))
            os.replace(tmp, self.state_file)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def flush(self) -> None:
        if self.dirty:
            self.save()

    # ----------------------------------------------------------------- lookup
    def subscription(self, sub: str) -> str:
        canon = self.world.subscriptions.get(sub.lower())
        if canon is None:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        return canon

    def resource_group(self, sub: str, rg: str) -> str:
        sub = self.subscription(sub)
        canon = self.world.resource_groups.get(f"{sub}/{rg}".lower())
        if canon is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        return canon

    def workspace(self, sub: str, rg: str, name: str) -> Workspace:
        sub_c = self.subscription(sub)
        rg_c = self.resource_group(sub, rg)
        ws = self.world.workspaces.get(domain_ws_key(sub_c, rg_c, name))
        if ws is None:
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource 'Microsoft.MachineLearningServices/workspaces/{name}' under "
                           f"resource group '{rg}' was not found.")
        return ws

    def compute(self, ws: Workspace, name: str) -> Compute:
        comp = ws.computes.get(name.lower())
        if comp is None:
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource 'Microsoft.MachineLearningServices/workspaces/{ws.name}/computes/{name}' "
                           f"under resource group '{ws.resource_group}' was not found.")
        self._check_compute(comp)
        return comp

    def computes(self, ws: Workspace) -> list[Compute]:
        out = list(ws.computes.values())
        for c in out:
            self._check_compute(c)
        return out

    def cluster(self, sub: str, rg: str, name: str) -> Cluster:
        sub_c = self.subscription(sub)
        rg_c = self.resource_group(sub, rg)
        cl = self.world.clusters.get(cluster_id(sub_c, rg_c, name).lower())
        if cl is None:
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource 'Microsoft.ContainerService/managedClusters/{name}' under "
                           f"resource group '{rg}' was not found.")
        return cl

    def clusters(self, sub: str, rg: str | None = None) -> list[Cluster]:
        sub_c = self.subscription(sub)
        rg_c = self.resource_group(sub, rg) if rg is not None else None
        return [c for c in self.world.clusters.values()
                if c.subscription.lower() == sub_c.lower()
                and (rg_c is None or c.resource_group.lower() == rg_c.lower())]

    def operation(self, op_id: str) -> Operation:
        op = self.operations.get(op_id) or next(
            (o for k, o in self.operations.items() if k.lower() == op_id.lower()), None)
        if op is None:
            raise ArmError(404, "ResourceNotFound", f"Operation '{op_id}' was not found.")
        return op

    def inflight_op(self, target: str) -> Operation | None:
        op_id = self.inflight.get(target.lower())
        return self.operations.get(op_id) if op_id else None

    def versions(self, region: str) -> list[dict]:
        return self.world.kubernetes_versions.get(normalize_region(region), [])

    # ------------------------------------------------------------- operations
    def _start(self, kind: str, provider: str, target: str, subscription: str, location: str,
               fail_with: dict | None = None, payload: dict | None = None) -> Operation:
        if fail_with is None and self.faults.roll("lro-fail"):
            fail_with = _err("InternalServerError", "Injected fault (lro-fail): the operation failed.")
        now = self.clock()
        op = Operation(id=str(uuid.uuid4()), kind=kind, provider=provider, target=target,
                       subscription=subscription, location=location, started_at=now,
                       ends_at=now + DURATIONS[kind] * self.time_scale, fail_with=fail_with,
                       payload=payload or {})
        self.operations[op.id] = op
        self.inflight[target.lower()] = op.id
        self.dirty = True
        return op

    def advance(self) -> None:
        """Finish every operation whose end time has passed."""
        if not self.inflight:
            return
        now = self.clock()
        for op_id in list(self.inflight.values()):
            op = self.operations[op_id]
            if op.ends_at <= now:
                self._finish(op)

    def _finish(self, op: Operation, error: dict | None = None, ended_at: float | None = None) -> None:
        if self.inflight.get(op.target.lower()) == op.id:
            del self.inflight[op.target.lower()]
        err = error or op.fail_with
        op.status = "Failed" if err else "Succeeded"
        op.error = err
        op.ended_at = op.ends_at if ended_at is None else ended_at
        self.dirty = True
        if op.provider == "ml":
            self._finish_compute(op, err)
        else:
            self._finish_aks(op, err)

    def _locate_compute(self, compute_id: str) -> tuple[Workspace, Compute] | tuple[None, None]:
        ws_id, _, name = compute_id.rpartition("/computes/")
        ws = self.world.workspaces.get(ws_id.lower())
        comp = ws.computes.get(name.lower()) if ws else None
        return (ws, comp) if ws and comp else (None, None)

    def _fail_compute(self, comp: Compute, err: dict) -> None:
        comp.provisioning_state = "Failed"
        comp.provisioning_errors = [{"error": copy.deepcopy(err)}]
        comp.modified_on_us = self.stamp_us()

    def _finish_compute(self, op: Operation, err: dict | None) -> None:
        ws, comp = self._locate_compute(op.target)
        if comp is None or ws is None:
            return
        cluster = self.world.clusters.get(comp.resource_id.lower()) if comp.resource_id else None
        if err:
            self._fail_compute(comp, err)
            if op.kind == "create" and cluster is not None and cluster.created_by == comp.id:
                del self.world.clusters[cluster.id.lower()]
            elif op.kind == "delete" and cluster is not None:
                cluster.provisioning_state = "Failed"
            return
        if op.kind in ("create", "attach", "update"):
            comp.provisioning_state = "Succeeded"
            comp.provisioning_errors = []
            comp.modified_on_us = self.stamp_us()
            if op.kind == "create" and cluster is not None:
                cluster.provisioning_state = "Succeeded"
                for p in cluster.agent_pools:
                    p.provisioning_state = "Succeeded"
        elif op.kind == "detach":
            del ws.computes[comp.name.lower()]
            if cluster is not None and cluster.created_by == comp.id:
                cluster.created_by = None
        elif op.kind == "delete":
            del ws.computes[comp.name.lower()]
            if cluster is not None:
                self.world.clusters.pop(cluster.id.lower(), None)

    def _finish_aks(self, op: Operation, err: dict | None) -> None:
        if op.kind == "delete":
            cl = self.world.clusters.get(op.target.lower())
            if cl is None:
                return
            if err:
                cl.provisioning_state = "Failed"
            else:
                del self.world.clusters[cl.id.lower()]
            return
        cl_id, _, pool_name = op.target.rpartition("/agentPools/")
        cl = self.world.clusters.get(cl_id.lower())
        pool = cl.pool(pool_name) if cl else None
        if pool is None:
            return
        if err:
            pool.provisioning_state = "Failed"
        else:
            if op.kind == "scale":
                pool.count = int(op.payload["count"])
            pool.provisioning_state = "Succeeded"

    def _check_compute(self, comp: Compute) -> None:
        """A compute whose AKS cluster is gone reads as Failed (Azure notices on the next read)."""
        if comp.provisioning_state == "Failed" or self.inflight_op(comp.id) is not None:
            return
        if comp.resource_id and comp.resource_id.lower() in self.world.clusters:
            return
        self._fail_compute(comp, _err(
            "ResourceNotFound",
            f"The AKS cluster '{comp.resource_id or '(none)'}' of compute '{comp.name}' no longer exists; "
            "the compute is unusable. Detach it and create or attach a cluster again."))

    # ---------------------------------------------------------------- computes
    def _validate_settings(self, settings: dict) -> None:
        if not isinstance(settings, dict):
            raise ArmError(400, "BadRequest", "properties.properties must be an object.")
        purpose = settings.get("clusterPurpose")
        if purpose is not None and str(purpose).lower() not in domain.PURPOSES:
            raise ArmError(400, "BadRequest",
                           f"Invalid clusterPurpose '{purpose}'. Allowed values: FastProd, DenseProd, DevTest.")
        lb = settings.get("loadBalancerType")
        if lb is not None and str(lb).lower() not in ("publicip", "internalloadbalancer"):
            raise ArmError(400, "BadRequest",
                           f"Invalid loadBalancerType '{lb}'. Allowed values: PublicIp, InternalLoadBalancer.")
        ssl = settings.get("sslConfiguration") or {}
        if not isinstance(ssl, dict):
            raise ArmError(400, "BadRequest", "sslConfiguration must be an object.")
        status = str(ssl.get("status") or "Disabled").lower()
        if status not in ("enabled", "disabled", "auto"):
            raise ArmError(400, "BadRequest", f"Invalid sslConfiguration.status '{ssl.get('status')}'.")
        if status != "disabled" and str(lb or "").lower() == "internalloadbalancer":
            raise ArmError(400, "BadRequest",
                           "TLS termination (sslConfiguration.status Enabled) is not supported with "
                           "loadBalancerType InternalLoadBalancer.")
        if status == "enabled" and not ssl.get("leafDomainLabel"):
            if not (ssl.get("cname") and ssl.get("cert") and ssl.get("key")):
                raise ArmError(400, "BadRequest",
                               "sslConfiguration with status Enabled needs either leafDomainLabel or "
                               "cname, cert and key.")

    def _capacity_error(self, purpose: str, vcpus: int, what: str) -> dict | None:
        need = domain.min_vcpus(purpose)
        if vcpus >= need:
            return None
        return _err("BadRequest",
                    f"{what} has {vcpus} vCPUs; cluster purpose {purpose} needs at least {need} vCPUs "
                    "(node count x cores of the VM size).")

    def _cluster_vcpus(self, cl: Cluster) -> int:
        return sum(p.count * (vm_cores(p.vm_size) or 0) for p in cl.agent_pools)

    def _attach_error(self, cl: Cluster, purpose: str, check_version: bool = True) -> dict | None:
        if check_version:
            entries = self.versions(cl.location)
            if cl.kubernetes_version not in {e["version"] for e in entries}:
                return _err("BadRequest",
                            f"Kubernetes version {cl.kubernetes_version} of AKS cluster '{cl.name}' is not "
                            f"supported in region {cl.location}. Supported versions: "
                            f"{domain.describe_versions(entries)}.")
        return self._capacity_error(purpose, self._cluster_vcpus(cl), f"AKS cluster '{cl.name}'")

    def put_compute(self, ws: Workspace, name: str, body: Any) -> tuple[Compute, Operation, bool]:
        """Create, attach or update a compute; returns (compute, operation, is_new)."""
        if not COMPUTE_NAME_RE.match(name):
            raise ArmError(400, "BadRequest",
                           f"Compute name '{name}' is invalid. It must be 3 to 24 characters of letters, digits "
                           "and '-', start with a letter, and not end with '-' followed by digits.")
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise ArmError(400, "BadRequest", "The request body must be a compute resource with 'properties'.")
        props = body["properties"]
        if str(props.get("computeType", "")).lower() != "aks":
            raise ArmError(400, "BadRequest",
                           f"computeType '{props.get('computeType')}' is not supported; this endpoint models AKS.")
        settings_in = props.get("properties") or {}
        self._validate_settings(settings_in)
        tags = body.get("tags")
        if tags is not None and not isinstance(tags, dict):
            raise ArmError(400, "BadRequest", "tags must be an object.")
        rid = props.get("resourceId")
        existing = ws.computes.get(name.lower())
        if existing is not None:
            running = self.inflight_op(existing.id)
            if running is not None:
                raise ArmError(409, "Conflict",
                               f"Compute '{existing.name}' has an operation in progress ({running.kind}, "
                               f"{running.id}); retry after it completes.")
        location = normalize_region(str(body.get("location") or (existing.location if existing else ws.location)))
        settings = strip_secrets(settings_in)
        purpose = domain.purpose_of(settings)
        fail_with: dict | None = None
        if existing is not None:
            kind = "update"
            if rid and existing.resource_id and str(rid).lower() != existing.resource_id.lower():
                raise ArmError(400, "BadRequest",
                               f"Compute '{existing.name}' is bound to '{existing.resource_id}'; resourceId cannot "
                               "change. Detach the compute first, then attach the other cluster.")
            cl = self.world.clusters.get(existing.resource_id.lower()) if existing.resource_id else None
            if not existing.attached:
                old_size = existing.settings.get("agentVmSize")
                new_size = settings.get("agentVmSize")
                if new_size and old_size and str(new_size).lower() != str(old_size).lower():
                    raise ArmError(400, "BadRequest", "agentVmSize cannot be changed after the cluster is created.")
                for k in ("agentCount", "agentVmSize", "aksNetworkingConfiguration"):
                    if k in existing.settings and k not in settings:
                        settings[k] = copy.deepcopy(existing.settings[k])
            if cl is None:
                fail_with = _err("ResourceNotFound",
                                 f"The AKS cluster '{existing.resource_id}' of compute '{existing.name}' no longer "
                                 "exists.")
            else:
                fail_with = self._attach_error(cl, purpose, check_version=False)
            comp = existing
            comp.settings = settings
            comp.location = location
            comp.description = props.get("description")
            if tags is not None:
                comp.tags = {str(k): str(v) for k, v in tags.items()}
            comp.provisioning_state = "Updating"
            comp.provisioning_errors = []
            comp.modified_on_us = self.stamp_us()
            if cl is not None:  # re-writing an attachment re-attaches: it breaks any other one
                others = [c for c in ws.computes.values() if c is not comp and c.resource_id
                          and c.resource_id.lower() == cl.id.lower()]
                if others:
                    self._break_attachments(ws, cl, others, comp)
        elif rid:
            kind = "attach"
            parsed = parse_cluster_id(str(rid))
            if parsed is None:
                raise ArmError(400, "BadRequest", f"resourceId '{rid}' is not an AKS managed cluster id.")
            if parsed[0].lower() != ws.subscription.lower():
                raise ArmError(400, "BadRequest",
                               f"The AKS cluster must be in the same subscription as the workspace "
                               f"({ws.subscription}); '{rid}' is in subscription {parsed[0]}.")
            cl = self.world.clusters.get(str(rid).lower())
            if cl is None:
                raise ArmError(400, "BadRequest", f"The AKS cluster '{rid}' was not found.")
            fail_with = self._attach_error(cl, purpose)
            now_us = self.stamp_us()
            comp = Compute(workspace_id=ws.id, name=name, location=location, attached=True, resource_id=cl.id,
                           settings=settings, provisioning_state="Creating", created_on_us=now_us,
                           modified_on_us=now_us, description=props.get("description"),
                           tags={str(k): str(v) for k, v in (tags or {}).items()})
            earlier = [c for c in ws.computes.values()
                       if c.resource_id and c.resource_id.lower() == cl.id.lower()]
            ws.computes[name.lower()] = comp
            if earlier:
                self._break_attachments(ws, cl, earlier, comp)
        else:
            kind = "create"
            comp, fail_with = self._create_compute(ws, name, location, settings, props, tags, purpose)
        op = self._start(kind, "ml", comp.id, ws.subscription, location, fail_with=fail_with)
        return comp, op, existing is None

    def _create_compute(self, ws: Workspace, name: str, location: str, settings: dict, props: dict,
                        tags: dict | None, purpose: str) -> tuple[Compute, dict | None]:
        try:
            count = int(settings.get("agentCount", domain.DEFAULT_AGENT_COUNT))
        except (TypeError, ValueError):
            raise ArmError(400, "BadRequest", f"agentCount '{settings.get('agentCount')}' is not a number.") from None
        if count < 1:
            raise ArmError(400, "BadRequest", "agentCount must be at least 1.")
        size = str(settings.get("agentVmSize") or domain.DEFAULT_AGENT_VM_SIZE)
        cores = vm_cores(size)
        if cores is None:
            raise ArmError(400, "BadRequest", f"Unknown agentVmSize '{size}'.")
        settings["agentCount"] = count
        settings["agentVmSize"] = size
        entries = self.versions(location)
        default = next((e["version"] for e in entries if e.get("default")), None)
        fail_with: dict | None = None
        if default is None:
            fail_with = _err("BadRequest", f"AKS has no default Kubernetes version in region {location}.")
        else:
            fail_with = self._capacity_error(purpose, count * cores, f"A cluster of {count} x {size}")
        now_us = self.stamp_us()
        comp = Compute(workspace_id=ws.id, name=name, location=location, attached=False, resource_id=None,
                       settings=settings, provisioning_state="Creating", created_on_us=now_us,
                       modified_on_us=now_us, description=props.get("description"),
                       tags={str(k): str(v) for k, v in (tags or {}).items()})
        if fail_with is None:
            digest = hashlib.sha1(comp.id.lower().encode()).hexdigest()
            base = f"{name.lower()}{digest[:5]}"
            cname, n = base, 1
            while cluster_id(ws.subscription, ws.resource_group, cname).lower() in self.world.clusters:
                n += 1
                cname = f"{base}{n}"
            network = settings.get("aksNetworkingConfiguration")
            cl = Cluster(subscription=ws.subscription, resource_group=ws.resource_group, name=cname,
                         location=location, kubernetes_version=str(default),
                         agent_pools=[AgentPool(name="agentpool", vm_size=size, count=count, mode="System",
                                                provisioning_state="Creating")],
                         load_balancer_sku="standard", provisioning_state="Creating",
                         network=copy.deepcopy(network) if isinstance(network, dict) else None,
                         created_by=comp.id)
            self.world.clusters[cl.id.lower()] = cl
            comp.resource_id = cl.id
        ws.computes[name.lower()] = comp
        return comp, fail_with

    def _break_attachments(self, ws: Workspace, cl: Cluster, earlier: list[Compute], new: Compute) -> None:
        """A second attachment of a cluster silently breaks the earlier ones (Azure's behaviour)."""
        err = _err(BROKEN_CODE,
                   f"The AKS cluster '{cl.id}' was attached again to this workspace as compute '{new.name}'; "
                   "this attachment is broken.")
        now = self.clock()
        for c in earlier:
            running = self.inflight_op(c.id)
            if running is not None and running.kind in ("create", "attach", "update"):
                self._finish(running, error=err, ended_at=now)
            elif running is None or running.kind not in ("detach", "delete"):
                self._fail_compute(c, err)
        self.violations.append({
            "workspace": ws.id, "clusterId": cl.id,
            "computes": [c.name for c in earlier] + [new.name],
            "at": domain.iso(now),
        })
        self.dirty = True

    def delete_compute(self, ws: Workspace, name: str, action: str | None) -> Operation | None:
        if not action:
            raise ArmError(400, "BadRequest",
                           "The query parameter 'underlyingResourceAction' is required: Detach or Delete.")
        if action.lower() not in ("detach", "delete"):
            raise ArmError(400, "BadRequest",
                           f"Invalid underlyingResourceAction '{action}': expected Detach or Delete.")
        comp = ws.computes.get(name.lower())
        if comp is None:
            return None
        running = self.inflight_op(comp.id)
        if running is not None:
            raise ArmError(409, "Conflict",
                           f"Compute '{comp.name}' has an operation in progress ({running.kind}, {running.id}); "
                           "retry after it completes.")
        kind = action.lower()
        if kind == "delete" and comp.attached:
            raise ArmError(400, "BadRequest",
                           f"Compute '{comp.name}' is an attached compute; its underlying resource cannot be "
                           "deleted through the workspace. Use underlyingResourceAction=Detach.")
        comp.provisioning_state = "Deleting"
        comp.modified_on_us = self.stamp_us()
        if kind == "delete" and comp.resource_id:
            cl = self.world.clusters.get(comp.resource_id.lower())
            if cl is not None:
                cl.provisioning_state = "Deleting"
        return self._start(kind, "ml", comp.id, ws.subscription, comp.location)

    # --------------------------------------------------------------------- AKS
    def _cluster_busy(self, cl: Cluster) -> Operation | None:
        op = self.inflight_op(cl.id)
        if op is not None:
            return op
        for p in cl.agent_pools:
            op = self.inflight_op(f"{cl.id}/agentPools/{p.name}")
            if op is not None:
                return op
        return None

    def delete_cluster(self, sub: str, rg: str, name: str) -> Operation | None:
        try:
            cl = self.cluster(sub, rg, name)
        except ArmError as e:
            if e.code == "ResourceNotFound":
                return None
            raise
        running = self._cluster_busy(cl)
        if running is not None:
            raise ArmError(409, "OperationNotAllowed",
                           f"Operation is not allowed because there's an in progress {running.kind} operation "
                           f"({running.id}) on the managed cluster.")
        cl.provisioning_state = "Deleting"
        self.dirty = True
        return self._start("delete", "aks", cl.id, cl.subscription, cl.location)

    def put_agent_pool(self, sub: str, rg: str, cname: str, pname: str, body: Any) -> tuple[AgentPool, Cluster, Operation, bool]:
        cl = self.cluster(sub, rg, cname)
        if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
            raise ArmError(400, "BadRequest", "The request body must be an agent pool with 'properties'.")
        props = body.get("properties") or {}
        running = self._cluster_busy(cl)
        if running is not None or cl.provisioning_state in ("Deleting", "Creating"):
            raise ArmError(409, "OperationNotAllowed",
                           "Operation is not allowed because there's an in progress "
                           f"{running.kind if running else cl.provisioning_state.lower()} operation on the "
                           "managed cluster.")
        pool = cl.pool(pname)
        size = props.get("vmSize")
        try:
            count = int(props["count"]) if props.get("count") is not None else None
        except (TypeError, ValueError):
            raise ArmError(400, "BadRequest", f"count '{props.get('count')}' is not a number.") from None
        if count is not None and not 0 <= count <= 1000:
            raise ArmError(400, "BadRequest", f"count {count} is outside [0, 1000].")
        target = f"{cl.id}/agentPools/{pool.name if pool else pname}"
        if pool is not None:
            if size and str(size).lower() != pool.vm_size.lower():
                raise ArmError(400, "PropertyChangeNotAllowed",
                               f"Changing property 'vmSize' is not allowed (agent pool '{pool.name}' is "
                               f"{pool.vm_size}). Only the node count can change.")
            new_count = pool.count if count is None else count
            if pool.mode.lower() == "system" and new_count < 1:
                raise ArmError(400, "BadRequest", "A System agent pool needs at least 1 node.")
            pool.provisioning_state = "Scaling"
            self.dirty = True
            op = self._start("scale", "aks", target, cl.subscription, cl.location, payload={"count": new_count})
            return pool, cl, op, False
        if not size or vm_cores(str(size)) is None:
            raise ArmError(400, "BadRequest", "A new agent pool needs a known vmSize.")
        pool = AgentPool(name=pname, vm_size=str(size), count=3 if count is None else count,
                         mode=str(props.get("mode") or "User"), provisioning_state="Creating")
        cl.agent_pools.append(pool)
        self.dirty = True
        op = self._start("create", "aks", target, cl.subscription, cl.location)
        return pool, cl, op, True

    # ------------------------------------------------------------------- admin
    def audit(self) -> dict:
        return {
            "requests": dict(self.requests),
            "violations": copy.deepcopy(self.violations),
            "operations": [
                {"operationId": op.id, "compute": op.target, "kind": op.kind,
                 "startedAt": domain.iso(op.started_at),
                 "endedAt": domain.iso(op.ended_at) if op.ended_at is not None else None,
                 "status": op.status}
                for op in self.operations.values()
            ],
        }

    def state(self) -> dict:
        return dump_world(self.world)


def domain_ws_key(sub: str, rg: str, name: str) -> str:
    from .model import workspace_id

    return workspace_id(sub, rg, name).lower()

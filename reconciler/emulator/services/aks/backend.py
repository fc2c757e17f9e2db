"""Microsoft.ContainerService behaviour: managed clusters, agent pools, Kubernetes versions."""

from __future__ import annotations

from typing import Any

from ...domain import normalize_region, vm_cores
from ...errors import ArmError, BadRequest, OperationNotAllowed, PropertyChangeNotAllowed, ResourceNotFound
from ...lro import OperationEngine
from ...model import AgentPool, Cluster, Operation, cluster_id
from ...store import Store

PROVIDER = "aks"


class AksBackend:
    def __init__(self, store: Store, lro: OperationEngine) -> None:
        self.store = store
        self.lro = lro
        lro.on_finish(PROVIDER, self._finish)

    # ----------------------------------------------------------------- lookup
    def cluster(self, sub: str, rg: str, name: str) -> Cluster:
        s = self.store
        sub_c = s.subscription(sub)
        rg_c = s.resource_group(sub, rg)
        cl = s.world.clusters.get(cluster_id(sub_c, rg_c, name).lower())
        if cl is None:
            raise ResourceNotFound(
                f"The Resource 'Microsoft.ContainerService/managedClusters/{name}' under "
                f"resource group '{rg}' was not found."
            )
        return cl

    def clusters(self, sub: str, rg: str | None = None) -> list[Cluster]:
        s = self.store
        sub_c = s.subscription(sub)
        rg_c = s.resource_group(sub, rg) if rg is not None else None
        return [
            c
            for c in s.world.clusters.values()
            if c.subscription.lower() == sub_c.lower() and (rg_c is None or c.resource_group.lower() == rg_c.lower())
        ]

    def by_id(self, rid: str | None) -> Cluster | None:
        return self.store.world.clusters.get(rid.lower()) if rid else None

    def pool(self, cl: Cluster, name: str, rg: str) -> AgentPool:
        pool = cl.pool(name)
        if pool is None:
            raise ResourceNotFound(
                f"The Resource 'Microsoft.ContainerService/managedClusters/{cl.name}/agentPools/"
                f"{name}' under resource group '{rg}' was not found."
            )
        return pool

    def location_of(self, params: dict[str, str]) -> str | None:
        """The region of the cluster a request names, for ARM's error messages."""
        try:
            return self.cluster(params["sub"], params["rg"], params["name"]).location
        except (KeyError, ArmError):
            return None

    def versions(self, region: str) -> list[dict[str, Any]]:
        return self.store.world.kubernetes_versions.get(normalize_region(region), [])

    def busy(self, cl: Cluster) -> Operation | None:
        """The operation running on the cluster or any of its pools, if any."""
        op = self.lro.inflight_op(cl.id)
        if op is not None:
            return op
        for p in cl.agent_pools:
            op = self.lro.inflight_op(f"{cl.id}/agentPools/{p.name}")
            if op is not None:
                return op
        return None

    # ---------------------------------------------------------------- changes
    def delete_cluster(self, sub: str, rg: str, name: str) -> Operation | None:
        try:
            cl = self.cluster(sub, rg, name)
        except ArmError as e:
            if e.code == "ResourceNotFound":
                return None
            raise
        running = self.busy(cl)
        if running is not None:
            raise OperationNotAllowed(
                f"Operation is not allowed because there's an in progress {running.kind} "
                f"operation ({running.id}) on the managed cluster."
            )
        cl.provisioning_state = "Deleting"
        self.store.dirty = True
        return self.lro.start("delete", PROVIDER, cl.id, cl.subscription, cl.location)

    def put_agent_pool(
        self, sub: str, rg: str, cname: str, pname: str, body: Any
    ) -> tuple[AgentPool, Cluster, Operation, bool]:
        """Scale an existing pool or add a new one; returns (pool, cluster, operation, is_new)."""
        cl = self.cluster(sub, rg, cname)
        if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
            raise BadRequest("The request body must be an agent pool with 'properties'.")
        props = body.get("properties") or {}
        running = self.busy(cl)
        if running is not None or cl.provisioning_state in ("Deleting", "Creating"):
            raise OperationNotAllowed(
                "Operation is not allowed because there's an in progress "
                f"{running.kind if running else cl.provisioning_state.lower()} operation on the managed cluster."
            )
        count = _count(props)
        pool = cl.pool(pname)
        if pool is not None:
            return pool, cl, self._scale(cl, pool, props.get("vmSize"), count), False
        return self._add_pool(cl, pname, props, count)

    def _scale(self, cl: Cluster, pool: AgentPool, size: Any, count: int | None) -> Operation:
        if size and str(size).lower() != pool.vm_size.lower():
            raise PropertyChangeNotAllowed(
                f"Changing property 'vmSize' is not allowed (agent pool '{pool.name}' is "
                f"{pool.vm_size}). Only the node count can change."
            )
        new_count = pool.count if count is None else count
        if pool.mode.lower() == "system" and new_count < 1:
            raise BadRequest("A System agent pool needs at least 1 node.")
        pool.provisioning_state = "Scaling"
        self.store.dirty = True
        return self.lro.start(
            "scale",
            PROVIDER,
            f"{cl.id}/agentPools/{pool.name}",
            cl.subscription,
            cl.location,
            payload={"count": new_count},
        )

    def _add_pool(
        self, cl: Cluster, pname: str, props: dict[str, Any], count: int | None
    ) -> tuple[AgentPool, Cluster, Operation, bool]:
        size = props.get("vmSize")
        if not size or vm_cores(str(size)) is None:
            raise BadRequest("A new agent pool needs a known vmSize.")
        pool = AgentPool(
            name=pname,
            vm_size=str(size),
            count=3 if count is None else count,
            mode=str(props.get("mode") or "User"),
            provisioning_state="Creating",
        )
        cl.agent_pools.append(pool)
        self.store.dirty = True
        op = self.lro.start("create", PROVIDER, f"{cl.id}/agentPools/{pname}", cl.subscription, cl.location)
        return pool, cl, op, True

    # ------------------------------------------------------------- completion
    def _finish(self, op: Operation, err: dict[str, Any] | None) -> None:
        world = self.store.world
        if op.kind == "delete":
            cl = world.clusters.get(op.target.lower())
            if cl is None:
                return
            if err:
                cl.provisioning_state = "Failed"
            else:
                del world.clusters[cl.id.lower()]
            return
        cl_id, _, pool_name = op.target.rpartition("/agentPools/")
        cl = world.clusters.get(cl_id.lower())
        pool = cl.pool(pool_name) if cl else None
        if pool is None:
            return
        if err:
            pool.provisioning_state = "Failed"
        else:
            if op.kind == "scale":
                pool.count = int(op.payload["count"])
            pool.provisioning_state = "Succeeded"


def _count(props: dict[str, Any]) -> int | None:
    try:
        count = int(props["count"]) if props.get("count") is not None else None
    except (TypeError, ValueError):
        raise BadRequest(f"count '{props.get('count')}' is not a number.") from None
    if count is not None and not 0 <= count <= 1000:
        raise BadRequest(f"count {count} is outside [0, 1000].")
    return count

"""Microsoft.Resources and the cloud metadata: what ``az cloud register`` and ``az login`` read
(subscriptions, tenants, resource groups, the endpoints of this emulated cloud)."""

from __future__ import annotations

from ...store import Store

TENANT_ID = "00000000-0000-0000-0000-00000000e7a1"  # the one tenant of the emulated cloud


class ResourcesBackend:
    def __init__(self, store: Store) -> None:
        self.store = store

    def subscriptions(self) -> list[str]:
        return list(self.store.world.subscriptions.values())

    def resource_groups(self, sub: str) -> list[str]:
        sub_c = self.store.subscription(sub)
        return [rg for key, rg in self.store.world.resource_groups.items() if key.split("/", 1)[0] == sub_c.lower()]

    def resource_group(self, sub: str, rg: str) -> tuple[str, str]:
        """(canonical name, location) of a resource group; its location is that of its first resource."""
        canon = self.store.resource_group(sub, rg)
        w = self.store.world
        located = [
            c.location
            for c in w.clusters.values()
            if c.subscription.lower() == sub.lower() and c.resource_group.lower() == rg.lower()
        ]
        located += [
            ws.location
            for ws in w.workspaces.values()
            if ws.subscription.lower() == sub.lower() and ws.resource_group.lower() == rg.lower()
        ]
        return canon, (located[0] if located else "westeurope")

"""Microsoft.Storage behaviour: the storage accounts a workspace points at (GET and listKeys only).

The seed gives each account's blob endpoint (e.g. an Azurite on loopback) and key, so a
client that discovers the account through ARM reaches a real blob service.
"""

from __future__ import annotations

from ...errors import ResourceNotFound
from ...kube_model import StorageAccount
from ...store import Store


class StorageBackend:
    def __init__(self, store: Store) -> None:
        self.store = store

    def account(self, sub: str, rg: str, name: str) -> StorageAccount:
        sub_c = self.store.subscription(sub)
        rg_c = self.store.resource_group(sub, rg)
        rid = f"/subscriptions/{sub_c}/resourceGroups/{rg_c}/providers/Microsoft.Storage/storageAccounts/{name}"
        acct = self.store.world.storage_accounts.get(rid.lower())
        if acct is None:
            raise ResourceNotFound(
                f"The Resource 'Microsoft.Storage/storageAccounts/{name}' under resource group '{rg}' was not found."
            )
        return acct

"""The default shared lock on Azure: a Blob lease in the workspace's own storage account.

Two machines applying to one workspace must exclude each other, and the one place both
surely reach is the workspace's storage account. Discovered through ARM: workspace GET →
`properties.storageAccount` → storage account GET → `primaryEndpoints.blob`. The data
plane is tried with an Entra token first (needs the role Storage Blob Data Contributor),
then with the account key from ARM `listKeys`; if neither works, the run stops and says
which role to grant, or to opt out with `--lock file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from reconciler.cloud.arm import CloudError, ComputesClient
from reconciler.cloud.auth import Connection, is_loopback_host
from reconciler.lock.base import Held, LockError
from reconciler.logs import get as get_logger

if TYPE_CHECKING:
    from reconciler.state import WorkspaceRef

LOCK_CONTAINER = "reconciler-locks"
STORAGE_API_VERSION = "2026-09-01"  # what azure-mgmt-storage 25.x speaks
ROLE = "Storage Blob Data Contributor"


def role_message(ref: WorkspaceRef, where: str, why: str) -> str:
    return (
        f"workspace lock: cannot use the storage account of workspace {ref.workspace_name!r} ({where}) for the "
        f"shared lock: {why}. Grant this identity the role '{ROLE}' on that storage account (or the right to list "
        "its keys), or opt out with `--lock file` if only this machine ever applies to the workspace"
    )


@dataclass(frozen=True)
class LockAccount:
    """Where the default lock lives: the workspace's storage account."""

    account_id: str
    name: str
    blob_endpoint: str


@dataclass(frozen=True)
class _AccountId:
    subscription: str
    resource_group: str
    name: str

    @property
    def path(self) -> str:
        return (
            f"/subscriptions/{quote(self.subscription, safe='')}/resourceGroups/{quote(self.resource_group, safe='')}"
            f"/providers/Microsoft.Storage/storageAccounts/{quote(self.name, safe='')}"
        )


def parse_resource_id(value: str) -> _AccountId:
    """/subscriptions/S/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/NAME."""
    parts = value.strip("/").split("/")
    low = [p.lower() for p in parts]
    try:
        sub = parts[low.index("subscriptions") + 1]
        rg = parts[low.index("resourcegroups") + 1]
        name = parts[low.index("storageaccounts") + 1]
    except (ValueError, IndexError):
        raise LockError(
            f"workspace lock: the workspace's storage account id {value!r} is not a storage account id"
        ) from None
    return _AccountId(sub, rg, name)


class WorkspaceStorage:
    """ARM look-ups for the default lock, and the lock backend built from them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def account(self, ref: WorkspaceRef) -> LockAccount | None:
        """The workspace's storage account, or None when the workspace has none.

        Read as REST through the ARM pipeline: importing azure-mgmt-storage costs ~80 ms
        before the first operation of every apply, and only `listKeys` needs it."""
        arm = ComputesClient(self.conn)  # one client (one pipeline) for both reads
        try:
            account_id = arm.workspace_storage_account(ref)
        except CloudError as exc:
            raise LockError(f"workspace lock: {exc}") from None
        if not account_id:
            return None
        parts = parse_resource_id(account_id)
        try:
            props = arm.get_resource(parts.path, STORAGE_API_VERSION, "read storage account")
        except CloudError as exc:
            if exc.status == 404:  # an emulator seeded without a storage account
                return None
            raise LockError(role_message(ref, account_id, f"reading the account failed ({exc})")) from None
        endpoint = ((props.get("properties") or {}).get("primaryEndpoints") or {}).get("blob")
        if not endpoint:
            raise LockError(role_message(ref, account_id, "the account has no blob endpoint"))
        return LockAccount(account_id, parts.name, endpoint)

    def key(self, account: LockAccount) -> str:
        from azure.core.exceptions import HttpResponseError

        parts = parse_resource_id(account.account_id)
        try:
            result = self._mgmt(parts.subscription).storage_accounts.list_keys(parts.resource_group, parts.name)
        except HttpResponseError as exc:
            raise PermissionError(f"listKeys refused (HTTP {exc.status_code})") from None
        keys = getattr(result, "keys_property", None)  # azure-mgmt-storage 25: `.keys` is the mapping method
        if keys is None and hasattr(result, "__getitem__"):
            keys = result["keys"]
        first = keys[0] if isinstance(keys, list) and keys else None
        value = first.get("value") if isinstance(first, dict) else getattr(first, "value", None)
        if not value:
            raise PermissionError("listKeys returned no key")
        return str(value)

    def _mgmt(self, subscription: str) -> Any:
        from azure.mgmt.storage import StorageManagementClient

        return self.conn.mgmt_client(StorageManagementClient, subscription)

    def backend(self, ref: WorkspaceRef) -> DefaultBlobBackend | None:
        """The default lock backend for a workspace, or None when it has no storage account."""
        account = self.account(ref)
        return DefaultBlobBackend(ref, account, self) if account is not None else None


class DefaultBlobBackend:
    """A Blob lease in the workspace's storage account: Entra token first, account key second."""

    kind = "blob"

    def __init__(self, ref: WorkspaceRef, account: LockAccount, storage: WorkspaceStorage) -> None:
        self.ref, self.account, self.storage = ref, account, storage
        self.path = "token"

    def _lease(self, credential: Any, secret: str | None = None) -> Any:
        from reconciler.cloud.blob_lease import BlobLeaseBackend

        return BlobLeaseBackend(
            self.ref, self.account.blob_endpoint, LOCK_CONTAINER, None, credential=credential, secret=secret
        )

    def _usable(self, backend: Any) -> bool:
        """Whether this credential may write the lock blob (401/403 → no)."""
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        try:
            backend._ensure_blob()
            return True
        except ClientAuthenticationError:
            return False
        except HttpResponseError as exc:
            if exc.status_code in (401, 403):
                return False
            raise LockError(f"workspace lock: storage account {self.account.name!r}: HTTP {exc.status_code}") from None
        except LockError:
            raise
        except Exception as exc:
            raise LockError(f"workspace lock: storage account {self.account.name!r}: {type(exc).__name__}") from None

    def _pick(self) -> Any:
        https = urlsplit(self.account.blob_endpoint).scheme == "https"
        if https:  # a bearer token never travels over plain http
            token = self._lease(self.storage.conn.credential)
            if self._usable(token):
                self.path = "token"
                return token
            get_logger("reconciler.lock").info(
                "Entra token refused by the lock's storage account; trying the account key", account=self.account.name
            )
        elif not is_loopback_host(urlsplit(self.account.blob_endpoint).hostname):
            raise LockError(role_message(self.ref, self.account.blob_endpoint, "its blob endpoint is not https"))
        try:
            key = self.storage.key(self.account)
        except PermissionError as exc:
            raise LockError(
                role_message(self.ref, self.account.account_id, f"the Entra token was refused and {exc}")
            ) from None
        from azure.core.credentials import AzureNamedKeyCredential

        keyed = self._lease(AzureNamedKeyCredential(self.account.name, key), secret=key)
        if not self._usable(keyed):
            raise LockError(
                role_message(self.ref, self.account.account_id, "both the Entra token and the account key were refused")
            )
        self.path = "key"
        return keyed

    def acquire(self, command: str, timeout: float) -> Held:
        backend = self._pick()
        get_logger("reconciler.lock").debug(
            "workspace lock in the workspace's storage account", account=self.account.name, auth=self.path
        )
        return backend.acquire(command, timeout)  # type: ignore[no-any-return]

    def force_unlock(self) -> str:
        return self._pick().force_unlock()  # type: ignore[no-any-return]

"""The default lock's storage account, found through ARM as REST (no azure-mgmt-storage import)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cloud import storage
from reconciler.cloud.arm import CloudError, ComputesClient
from reconciler.cloud.auth import Connection
from reconciler.lock.base import LockError

from .conftest import PROD

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/mlstore"


def test_a_refused_storage_account_read_names_the_role_and_the_opt_out(
    conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: ComputesClient, path: str, api_version: str, what: str) -> dict:
        assert path == ACCOUNT and api_version == storage.STORAGE_API_VERSION
        raise CloudError("AuthorizationFailed", status=403, what=what)

    monkeypatch.setattr(ComputesClient, "workspace_storage_account", lambda self, ws: ACCOUNT)
    monkeypatch.setattr(ComputesClient, "get_resource", refused)
    with pytest.raises(LockError) as err:
        storage.WorkspaceStorage(conn).account(PROD)
    assert storage.ROLE in str(err.value) and "--lock file" in str(err.value) and "HTTP 403" in str(err.value)


def test_an_account_the_emulator_does_not_hold_means_no_shared_lock(
    conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ComputesClient, "workspace_storage_account", lambda self, ws: ACCOUNT)
    assert storage.WorkspaceStorage(conn).account(PROD) is None  # the emulator answers 404


def test_finding_the_account_does_not_import_the_storage_sdk() -> None:
    """azure-mgmt-storage costs ~80 ms to import; only listKeys needs it."""
    code = f"""
import sys
from reconciler.cloud import storage
from reconciler.cloud.arm import ComputesClient
from reconciler.cloud.auth import connect
from reconciler.emulator import Emulator
from tests.builders import WS
ComputesClient.workspace_storage_account = lambda self, ws: {ACCOUNT!r}
with Emulator() as emu:
    conn = connect(emu.url)
    assert storage.WorkspaceStorage(conn).account(WS) is None
    conn.close()
print('azure.mgmt.storage' in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1:] == ["False"], out.stdout + out.stderr

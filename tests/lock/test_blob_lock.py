"""The pipeline lock: an Azure Blob lease, against a real Azurite blob service."""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import pytest

from reconciler import lock
from reconciler.cloud import blob_lease
from reconciler.manifest import LockSpec

from .conftest import DEV_KEY, dev_connection_string, new_ref


def props(blob_service, container: str, ref):
    return blob_service.get_blob_client(container, lock.lock_name(ref)).get_blob_properties()


def test_acquire_writes_holder_metadata_and_release_clears_it(blob_env: str, blob_service, tmp_path: Path) -> None:
    ref = new_ref("ml-prod")
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path) as info:
        assert info.backend == "blob"
        p = props(blob_service, blob_env, ref)  # container and blob were created
        assert p.lease.state == "leased" and p.lease.status == "locked"
        assert p.metadata["command"] == "apply"
        assert p.metadata["pid"] == str(info.pid)
        assert p.metadata["host"] == info.host and p.metadata["user"] == info.user
        assert p.metadata["startedat"] == info.started_at
        assert p.metadata["workspace"] == ref.arm_id
        assert not (tmp_path / "locks").exists()  # no local lock file with the blob backend
    p = props(blob_service, blob_env, ref)
    assert p.lease.state == "available" and not p.metadata


def test_manifest_spec_selects_blob(azurite, blob_service, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    container = f"spec-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv(lock.ENV_CONNECTION_STRING, azurite.connection_string)
    spec = LockSpec(backend="blob", container=container)
    ref = new_ref()
    with lock.workspace_lock(ref, spec, command="apply", root=tmp_path):
        assert props(blob_service, container, ref).lease.state == "leased"


def test_conflict_names_holder_and_never_the_connection_string(blob_env: str, azurite, tmp_path: Path) -> None:
    ref = new_ref("ml-prod")
    with (
        lock.workspace_lock(ref, None, command="apply", root=tmp_path) as first,
        pytest.raises(lock.LockError) as err,
        lock.workspace_lock(ref, None, command="apply", root=tmp_path),
    ):
        pytest.fail("took a leased lock")
    msg = str(err.value)
    assert msg.startswith(
        f"workspace ml-prod is locked by apply (host {first.host}, pid {first.pid}, user {first.user}, since "
    )
    assert "force-unlock ml-prod" in msg
    assert azurite.connection_string not in msg and DEV_KEY not in msg and "AccountKey" not in msg
    # Released: a new acquire succeeds at once.
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        pass


def test_timeout_wait_succeeds_after_release(blob_env: str, tmp_path: Path, elapsed) -> None:
    import threading

    ref = new_ref()
    held = threading.Event()
    done = threading.Event()

    def first() -> None:
        with lock.workspace_lock(ref, None, command="apply", root=tmp_path):
            held.set()
            time.sleep(1.0)
        done.set()

    t = threading.Thread(target=first)
    t.start()
    assert held.wait(10)
    with elapsed() as timer, lock.workspace_lock(ref, None, command="apply", root=tmp_path, timeout=15):
        assert done.is_set()
    t.join(10)
    assert 0.3 < timer.seconds < 10


def test_timeout_expires_with_waited_time(blob_env: str, tmp_path: Path, elapsed) -> None:
    ref = new_ref("ml-prod")
    with (
        lock.workspace_lock(ref, None, command="apply", root=tmp_path),
        elapsed() as timer,
        pytest.raises(lock.LockError, match=r"waited 1 s"),
        lock.workspace_lock(ref, None, command="apply", root=tmp_path, timeout=1.0),
    ):
        pass
    assert 0.9 < timer.seconds < 5


def test_release_on_exception(blob_env: str, blob_service, tmp_path: Path) -> None:
    ref = new_ref()
    with pytest.raises(RuntimeError), lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        raise RuntimeError("boom")
    assert props(blob_service, blob_env, ref).lease.state == "available"


def test_heartbeat_keeps_the_lease_past_its_duration(
    blob_env: str, blob_service, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(blob_lease, "BLOB_LEASE_SECONDS", 15)  # Azure's minimum
    monkeypatch.setattr(blob_lease, "HEARTBEAT_SECONDS", 2.0)
    renewals: list[float] = []

    from azure.storage.blob import BlobLeaseClient

    real_renew = BlobLeaseClient.renew

    def counting_renew(self, **kw):
        renewals.append(time.monotonic())
        return real_renew(self, **kw)

    monkeypatch.setattr(BlobLeaseClient, "renew", counting_renew)
    ref = new_ref()
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        time.sleep(16.5)  # longer than the 15 s lease
        assert props(blob_service, blob_env, ref).lease.state == "leased"
        with (
            pytest.raises(lock.LockError, match="is locked by apply"),
            lock.workspace_lock(ref, None, command="apply", root=tmp_path),
        ):
            pass
        assert len(renewals) >= 6
    n = len(renewals)
    time.sleep(2.5)
    assert len(renewals) == n  # the heartbeat stopped with the release
    assert props(blob_service, blob_env, ref).lease.state == "available"


def test_force_unlock_breaks_the_lease(blob_env: str, blob_service, tmp_path: Path) -> None:
    ref = new_ref("ml-prod")
    assert "not locked" in lock.force_unlock(ref, None, root=tmp_path)
    cm = lock.workspace_lock(ref, None, command="apply", root=tmp_path)  # a "dead" pipeline that never releases
    info = cm.__enter__()
    msg = lock.force_unlock(ref, None, root=tmp_path)
    assert msg.startswith("broke the lock of workspace ml-prod, held by apply (") and f"pid {info.pid}" in msg
    p = props(blob_service, blob_env, ref)
    assert p.lease.state in ("broken", "available") and not p.metadata  # Azurite reports "available"
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path) as again:
        assert props(blob_service, blob_env, ref).metadata["startedat"] == again.started_at
    # The forced-out holder notices on exit and does not disturb anyone.
    cm.__exit__(None, None, None)
    assert "not locked" in lock.force_unlock(ref, None, root=tmp_path)


def test_lost_lease_is_detected_by_the_heartbeat(
    blob_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(blob_lease, "HEARTBEAT_SECONDS", 0.2)
    ref = new_ref()
    beats: list[blob_lease._Heartbeat] = []
    real_init = blob_lease._Heartbeat.__init__

    def spy(self, *a, **kw):
        real_init(self, *a, **kw)
        beats.append(self)

    monkeypatch.setattr(blob_lease._Heartbeat, "__init__", spy)
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        lock.force_unlock(ref, None, root=tmp_path)
        deadline = time.monotonic() + 5
        while not beats[0].lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert beats[0].lost
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        pass


def test_unreachable_storage_is_a_lock_error_without_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = dev_connection_string(port)
    monkeypatch.setattr(blob_lease, "BLOB_RETRY", {"retry_total": 0})
    monkeypatch.setenv(lock.ENV_CONNECTION_STRING, conn)
    monkeypatch.setenv(lock.ENV_CONTAINER, "locks")
    with pytest.raises(lock.LockError) as err, lock.workspace_lock(new_ref(), None, command="apply", root=tmp_path):
        pass
    msg = str(err.value)
    assert f"127.0.0.1:{port}/devstoreaccount1/locks/" in msg
    assert conn not in msg and DEV_KEY not in msg
    with pytest.raises(lock.LockError) as err:
        lock.force_unlock(new_ref(), None, root=tmp_path)
    assert DEV_KEY not in str(err.value)


def test_malformed_connection_string_is_a_lock_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(lock.ENV_CONNECTION_STRING, "AccountKey=c2VjcmV0LXZhbHVl;nonsense")
    monkeypatch.setenv(lock.ENV_CONTAINER, "locks")
    with pytest.raises(lock.LockError) as err, lock.workspace_lock(new_ref(), None, command="apply", root=tmp_path):
        pass
    assert "c2VjcmV0LXZhbHVl" not in str(err.value)

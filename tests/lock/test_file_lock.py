"""The default local lock: fcntl.flock on .reconciler/locks/<hash>.lock, across processes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from reconciler import lock
from reconciler.cloud.blob_lease import BlobLeaseBackend
from reconciler.lock.file import FileBackend
from reconciler.manifest import LockSpec

from .conftest import new_ref


def lock_file(root: Path, ref) -> Path:
    return root / "locks" / lock.lock_name(ref)


def test_lock_file_name_is_a_hash_of_the_workspace_key(tmp_path: Path) -> None:
    ref = new_ref("ml-prod")
    upper = type(ref)(ref.subscription_id, ref.resource_group.upper(), "ML-PROD")
    assert lock.lock_name(ref) == lock.lock_name(upper)  # the key is the lower-case ARM id
    assert len(lock.lock_name(ref)) == len("0123456789abcdef.lock")
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path) as info:
        path = lock_file(tmp_path, ref)
        assert path.exists()
        held = json.loads(path.read_text())
        assert held["pid"] == info.pid and held["command"] == "apply" and held["workspace"] == ref.arm_id
        assert set(held) == {"host", "pid", "user", "startedAt", "command", "workspace"}
        assert info.backend == "file" and info.started_at.endswith("Z")
    assert not path.exists()  # released


def test_second_process_fails_naming_the_holder(tmp_path: Path, holder) -> None:
    ref = new_ref("ml-prod")
    h = holder(ref)
    with pytest.raises(lock.LockError) as err, lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        pytest.fail("took a lock held by another process")
    msg = str(err.value)
    assert msg.startswith("workspace ml-prod is locked by apply-test (host ")
    assert f"pid {h.pid}," in msg and "since " in msg and "--lock-timeout" in msg
    # Another workspace is not affected.
    with lock.workspace_lock(new_ref("ml-dev"), LockSpec(), command="apply", root=tmp_path):
        pass
    h.release()
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        pass


def test_wait_with_timeout_succeeds_once_the_holder_releases(tmp_path: Path, holder, elapsed) -> None:
    ref = new_ref()
    holder(ref, hold=1.0)
    with elapsed() as t, lock.workspace_lock(ref, None, command="apply", root=tmp_path, timeout=15) as info:
        assert json.loads(lock_file(tmp_path, ref).read_text())["pid"] == info.pid
    assert 0.3 < t.seconds < 10


def test_wait_times_out_with_the_waited_time(tmp_path: Path, holder, elapsed) -> None:
    ref = new_ref("ml-prod")
    h = holder(ref)
    with (
        elapsed() as t,
        pytest.raises(lock.LockError) as err,
        lock.workspace_lock(ref, None, command="apply", root=tmp_path, timeout=0.8),
    ):
        pass
    assert 0.7 < t.seconds < 5
    assert f"pid {h.pid}" in str(err.value) and "waited 1 s" in str(err.value)


def test_sigkilled_holder_frees_the_lock(tmp_path: Path, holder) -> None:
    ref = new_ref()
    h = holder(ref)
    h.kill()
    stale = json.loads(lock_file(tmp_path, ref).read_text())
    assert stale["pid"] == h.pid  # the holder record stays behind ...
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path) as info:  # ... and is taken over
        assert json.loads(lock_file(tmp_path, ref).read_text())["pid"] == info.pid != h.pid


def test_lock_is_released_when_the_body_raises(tmp_path: Path) -> None:
    ref = new_ref()
    with pytest.raises(RuntimeError), lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        raise RuntimeError("boom")
    with lock.workspace_lock(ref, None, command="apply", root=tmp_path):
        pass


def test_same_process_second_lock_conflicts(tmp_path: Path) -> None:
    ref = new_ref()
    with (
        lock.workspace_lock(ref, None, command="apply", root=tmp_path),
        pytest.raises(lock.LockError),
        lock.workspace_lock(ref, None, command="apply", root=tmp_path),
    ):
        pass


def test_many_threads_only_one_holds_at_a_time(tmp_path: Path) -> None:
    ref = new_ref()
    inside: list[int] = []
    overlaps: list[int] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                with lock.workspace_lock(ref, None, command=f"t{i}", root=tmp_path, timeout=30):
                    inside.append(i)
                    if len(inside) > 1:
                        overlaps.append(i)
                    inside.remove(i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not overlaps


def test_force_unlock_refuses_a_live_holder(tmp_path: Path, holder) -> None:
    ref = new_ref("ml-prod")
    h = holder(ref)
    with pytest.raises(lock.LockError) as err:
        lock.force_unlock(ref, None, root=tmp_path)
    msg = str(err.value)
    assert f"pid {h.pid}" in msg and "still running" in msg and "stop that process" in msg
    assert lock_file(tmp_path, ref).exists()
    h.release()


def test_force_unlock_removes_a_stale_holder_file(tmp_path: Path, holder) -> None:
    ref = new_ref("ml-prod")
    assert "not locked" in lock.force_unlock(ref, None, root=tmp_path)
    h = holder(ref)
    h.kill()
    msg = lock.force_unlock(ref, None, root=tmp_path)
    assert "stale lock of workspace ml-prod" in msg and f"pid {h.pid}" in msg
    assert not lock_file(tmp_path, ref).exists()
    assert "not locked" in lock.force_unlock(ref, None, root=tmp_path)


def test_unwritable_root_is_a_lock_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with (
        pytest.raises(lock.LockError, match="cannot create the lock file"),
        lock.workspace_lock(new_ref(), None, command="apply", root=blocker),
    ):
        pass


# -- backend selection ---------------------------------------------------------------


def test_backend_selection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ref = new_ref()
    assert isinstance(lock._backend(ref, None, tmp_path), FileBackend)
    assert isinstance(lock._backend(ref, LockSpec(), tmp_path), FileBackend)

    spec = LockSpec(backend="blob", accountUrl="https://acct.blob.core.windows.net", container="locks")
    b = lock._backend(ref, spec, tmp_path)
    assert isinstance(b, BlobLeaseBackend)
    assert (b.cfg.account_url, b.cfg.container, b.cfg.connection_string) == (
        "https://acct.blob.core.windows.net",
        "locks",
        None,
    )

    with pytest.raises(lock.LockError, match="needs a container"):
        lock._backend(ref, LockSpec(backend="blob", accountUrl="https://a.blob.core.windows.net"), tmp_path)
    with pytest.raises(lock.LockError, match="needs a storage account"):
        lock._backend(ref, LockSpec(backend="blob", container="locks"), tmp_path)

    # A generic connection string alone does not switch backends: the container must be set too.
    monkeypatch.setenv(lock.ENV_AZURE_CONNECTION_STRING, "AccountName=x;AccountKey=eA==")
    assert isinstance(lock._backend(ref, None, tmp_path), FileBackend)
    monkeypatch.setenv(lock.ENV_CONTAINER, "env-locks")
    b = lock._backend(ref, None, tmp_path)
    assert isinstance(b, BlobLeaseBackend) and b.cfg.container == "env-locks" and b.cfg.connection_string
    # An account URL (from env or manifest) means azure-identity, not the generic connection string.
    monkeypatch.setenv(lock.ENV_ACCOUNT_URL, "https://env.blob.core.windows.net")
    b = lock._backend(ref, None, tmp_path)
    assert (b.cfg.account_url, b.cfg.connection_string) == ("https://env.blob.core.windows.net", None)
    # ... unless the reconciler's own connection string is set, which always wins.
    monkeypatch.setenv(lock.ENV_CONNECTION_STRING, "AccountName=y;AccountKey=eQ==")
    assert lock._backend(ref, None, tmp_path).cfg.connection_string == "AccountName=y;AccountKey=eQ=="
    # The manifest's settings win over the environment's.
    b = lock._backend(ref, spec, tmp_path)
    assert (b.cfg.account_url, b.cfg.container) == ("https://acct.blob.core.windows.net", "locks")

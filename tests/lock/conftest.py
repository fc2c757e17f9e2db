"""Fixtures for the workspace lock tests: a real Azurite blob service, lock-holder subprocesses."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler import lock
from reconciler.cloud import blob_lease
from reconciler.state import WorkspaceRef
from tests import npm
from tests.builders import RESOURCE_GROUP, SUB

REPO = Path(__file__).resolve().parents[2]
AZURITE_VERSION = "3.35.0"
AZURITE_BIN = npm.bin_path("azurite-blob")

# Azurite's well-known development account (public, documented by Microsoft).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

LOCK_ENV = (
    lock.ENV_ACCOUNT_URL,
    lock.ENV_CONTAINER,
    lock.ENV_CONNECTION_STRING,
    lock.ENV_AZURE_CONNECTION_STRING,
)


def dev_connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
    )


def new_ref(name: str | None = None) -> WorkspaceRef:
    return WorkspaceRef(SUB, RESOURCE_GROUP, name or f"ws-{uuid.uuid4().hex[:8]}")


@pytest.fixture(autouse=True)
def _clean_lock_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No lock settings leak in from the machine running the tests."""
    for name in LOCK_ENV:
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------------------
# Azurite
# --------------------------------------------------------------------------------------


def _install_azurite() -> None:
    npm.install("azurite", AZURITE_VERSION, "azurite-blob", "the blob lock tests")


@dataclass
class Azurite:
    port: int
    connection_string: str
    process: subprocess.Popen


@contextlib.contextmanager
def running_azurite(location: Path, *extra: str) -> Iterator[tuple[int, subprocess.Popen]]:
    """Azurite's blob service on a free loopback port, storing under `location` (`extra`: e.g. a
    certificate and OAuth); yields the port it listens on and the process, stops it after."""
    _install_azurite()
    proc = subprocess.Popen(
        [
            str(AZURITE_BIN),
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            "0",
            "--location",
            str(location),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    found = threading.Event()
    port_box: list[int] = []

    def drain() -> None:  # keeps reading so the pipe never fills up
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            m = re.search(r"listens on https?://[^:\s]+:(\d+)", line)
            if m and not port_box:
                port_box.append(int(m.group(1)))
                found.set()
        found.set()

    threading.Thread(target=drain, name="azurite-output", daemon=True).start()
    try:
        found.wait(60)
        if not port_box:
            proc.kill()
            pytest.fail(f"azurite-blob did not start (exit {proc.poll()}):\n{''.join(output)}", pytrace=False)
        yield port_box[0], proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """A real Azurite blob service on a free loopback port, for the whole session."""
    location = Path(tempfile.mkdtemp(prefix="azurite-"))
    try:
        with running_azurite(location) as (port, proc):
            yield Azurite(port, dev_connection_string(port), proc)
    finally:
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture
def blob_env(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> str:
    """Selects the blob backend through the environment; returns the (fresh) container name."""
    container = f"locks-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv(lock.ENV_CONNECTION_STRING, azurite.connection_string)
    monkeypatch.setenv(lock.ENV_CONTAINER, container)
    monkeypatch.setattr(blob_lease, "BLOB_POLL_SECONDS", 0.2)
    return container


@pytest.fixture
def blob_service(azurite: Azurite):
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(azurite.connection_string)


# --------------------------------------------------------------------------------------
# Lock holders in other processes
# --------------------------------------------------------------------------------------

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from reconciler import lock
    from reconciler.state import WorkspaceRef

    root, sub, rg, ws, hold = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    with lock.workspace_lock(WorkspaceRef(sub, rg, ws), None, command="apply-test", root=Path(root)):
        print("LOCKED", flush=True)
        if hold < 0:
            sys.stdin.readline()  # hold until told (or killed)
        else:
            time.sleep(hold)
    print("RELEASED", flush=True)
    """
)


class Holder:
    def __init__(self, root: Path, ref: WorkspaceRef, hold: float) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _HOLDER,
                str(root),
                ref.subscription_id,
                ref.resource_group,
                ref.workspace_name,
                str(hold),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "LOCKED":
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"lock holder did not take the lock: {line!r}\n{err}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        out, err = self.proc.communicate("go\n", timeout=20)
        assert self.proc.returncode == 0, err
        assert "RELEASED" in out

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=10)

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator:
    """holder(ref, hold=-1) starts a process that takes the file lock under tmp_path."""
    started: list[Holder] = []

    def start(ref: WorkspaceRef, hold: float = -1) -> Holder:
        h = Holder(tmp_path, ref, hold)
        started.append(h)
        return h

    yield start
    for h in started:
        h.cleanup()


@pytest.fixture
def elapsed():
    class Timer:
        def __enter__(self):
            self.start = time.monotonic()
            return self

        def __exit__(self, *exc: object) -> None:
            self.seconds = time.monotonic() - self.start

    return Timer

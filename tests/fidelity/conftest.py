"""An emulator process over HTTPS for Microsoft's clients, and a token they accept.

The clients are used unmodified: they are pointed at the emulator the way each one is
configured for a custom or sovereign cloud, and trust its local CA through
``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .venvs import ROOT, VenvUnavailable, venv

SEED = Path(__file__).resolve().parent / "seed.yaml"
SUB = "00000000-0000-0000-0000-000000000001"
WS_RG, WS = "ml-prod-rg", "ml-prod"
AKS_RG = "aks-rg"
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def cluster_id(name: str, rg_segment: str = "resourceGroups") -> str:
    return f"/subscriptions/{SUB}/{rg_segment}/{AKS_RG}/providers/Microsoft.ContainerService/managedClusters/{name}"


def fake_jwt(hours: int = 1) -> str:
    """An unsigned JWT: some clients read its expiry (azureml-core does); the emulator accepts any token."""

    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "aud": "https://management.azure.com/",
        "iss": "https://sts.windows.net/emulator/",
        "iat": now,
        "nbf": now,
        "exp": now + hours * 3600,
        "oid": "00000000-0000-0000-0000-0000000000aa",
        "tid": "00000000-0000-0000-0000-0000000000bb",
        "upn": "fidelity@emulator.localhost",
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


class FakeCredential:
    """An azure-core TokenCredential handing out :func:`fake_jwt` tokens."""

    def get_token(self, *scopes: str, **kw: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(fake_jwt(), int(time.time()) + 3600)


@dataclass
class Running:
    url: str  # https://127.0.0.1:PORT
    ca_bundle: str
    proc: subprocess.Popen

    def env(self, **extra: str) -> dict[str, str]:
        """The environment a client process needs to trust the emulator (and nothing else)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZUREML_", "ARM_"))}
        env.update(
            REQUESTS_CA_BUNDLE=self.ca_bundle,
            SSL_CERT_FILE=self.ca_bundle,
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            **extra,
        )
        return env


def start_emulator(*extra: str) -> Running:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler.emulator", "--port", "0", "--seed", str(SEED), "--tls", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    second = proc.stdout.readline().strip()
    assert first.startswith("listening on https://127.0.0.1:"), (first, proc.stderr.read() if proc.poll() else "")
    assert second.startswith("CA bundle: "), second
    return Running(first.removeprefix("listening on "), second.removeprefix("CA bundle: "), proc)


def stop_emulator(run: Running) -> None:
    run.proc.send_signal(signal.SIGTERM)
    _, err = run.proc.communicate(timeout=15)
    assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def emulator() -> Iterator[Running]:
    run = start_emulator("--time-scale", "0.002")
    try:
        yield run
    finally:
        stop_emulator(run)


@pytest.fixture
def trust(emulator: Running, monkeypatch: pytest.MonkeyPatch) -> Running:
    """In-process clients trust the emulator's CA."""
    for k in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(k, emulator.ca_bundle)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("AZUREML_CURRENT_CLOUD", raising=False)  # azure-ai-ml sets it process-wide
    return emulator


def cached_venv(name: str) -> Path:
    """The cached venv ``name``; the test is skipped, saying why, when its packages cannot be installed."""
    try:
        return venv(name)
    except VenvUnavailable as e:
        pytest.skip(f"{name} cannot be installed here: {e}")


def run_script(
    python: Path | str, script: str, run: Running, *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run ``scripts/SCRIPT`` with ``python`` against the emulator; its stdout's last line is JSON."""
    r = subprocess.run(
        [str(python), str(SCRIPTS / script), run.url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or run.env(),
        cwd=ROOT,
    )
    return r


def last_json(r: subprocess.CompletedProcess) -> Any:
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    assert r.returncode == 0 and lines, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return json.loads(lines[-1])

"""Fixtures for the emulator's tests: a seeded emulator, a raw ARM client, SDK clients."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from reconciler.emulator import Emulator
from reconciler.emulator import server as emulator_server
from tests.builders import OTHER_SUB, SUB, workspace_path
from tests.builders import agent_pools as _pool
from tests.builders import aks_id as cluster_id

__all__ = ["OTHER_SUB", "SUB", "WS_PATH", "Arm", "cluster_id", "make_seed", "non_loopback_urls"]
WS_PATH = workspace_path()


def make_seed() -> dict:
    return {
        "kubernetesVersions": {
            "westeurope": [
                {"version": "1.30.5", "default": True},
                {"version": "1.31.2"},
                {"version": "1.32.0", "preview": True},
            ],
            "eastus": [{"version": "1.30.4", "default": True}, {"version": "1.31.1"}],
        },
        "subscriptions": {
            SUB: {
                "resourceGroups": {
                    "aks-rg": {
                        "managedClusters": {
                            "scoring-aks": {
                                "location": "westeurope",
                                "kubernetesVersion": "1.30.5",
                                "agentPools": _pool(),
                                "loadBalancerSku": "standard",
                                "privateCluster": False,
                                "authorizedIPRanges": [],
                            },
                            "second-aks": {
                                "location": "westeurope",
                                "kubernetesVersion": "1.31.2",
                                "agentPools": _pool(),
                            },
                            "preview-aks": {
                                "location": "westeurope",
                                "kubernetesVersion": "1.32.0",
                                "agentPools": _pool(),
                            },
                            "old-aks": {"location": "westeurope", "kubernetesVersion": "1.27.3", "agentPools": _pool()},
                            "small-aks": {
                                "location": "westeurope",
                                "kubernetesVersion": "1.30.5",
                                "agentPools": _pool(count=2),
                            },
                            "tiny-aks": {
                                "location": "westeurope",
                                "kubernetesVersion": "1.30.5",
                                "agentPools": _pool(count=1, vm="Standard_D1_v2"),
                            },
                            "legacy-aks": {
                                "location": "westeurope",
                                "kubernetesVersion": "1.30.5",
                                "agentPools": _pool(),
                            },
                        }
                    },
                    "ml-prod-rg": {
                        "workspaces": {
                            "ml-prod": {
                                "location": "westeurope",
                                "computes": {
                                    "legacy-scoring": {
                                        "tags": {"team": "fraud"},
                                        "properties": {
                                            "computeType": "AKS",
                                            "resourceId": cluster_id("legacy-aks"),
                                            "properties": {
                                                "clusterPurpose": "DevTest",
                                                "sslConfiguration": {"status": "Disabled"},
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                }
            },
            OTHER_SUB: {
                "resourceGroups": {
                    "other-rg": {
                        "managedClusters": {
                            "foreign-aks": {
                                "location": "westeurope",
                                "kubernetesVersion": "1.30.5",
                                "agentPools": _pool(),
                            },
                        }
                    }
                }
            },
        },
    }


class Arm:
    """A tiny raw ARM client (keep-alive session, bearer header, api-version)."""

    def __init__(self, base: str, api_version: str = "2026-07-01") -> None:
        self.base = base
        self.api_version = api_version
        self.s = requests.Session()
        self.s.headers["Authorization"] = "Bearer test-token"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict | None = None,
        api_version: str | None = None,
        **kw: Any,
    ) -> requests.Response:
        p = {"api-version": api_version or self.api_version}
        if path.startswith("http"):
            p = {}
        p.update(params or {})
        return self.s.request(method, self.url(path), json=body, params=p, timeout=10, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("DELETE", path, **kw)

    def compute(self, name: str) -> str:
        return f"{WS_PATH}/computes/{name}"

    def attach(self, name: str, cluster: str, settings: dict | None = None, **extra: Any) -> requests.Response:
        body = {
            "location": "westeurope",
            "properties": {"computeType": "AKS", "resourceId": cluster, "properties": settings or {}},
        }
        body.update(extra)
        return self.put(self.compute(name), body)

    def create(self, name: str, settings: dict | None = None, **extra: Any) -> requests.Response:
        body = {"location": "westeurope", "properties": {"computeType": "AKS", "properties": settings or {}}}
        body.update(extra)
        return self.put(self.compute(name), body)

    def wait(self, resp: requests.Response, timeout: float = 10) -> dict:
        """Poll Azure-AsyncOperation until terminal; returns the operation status body."""
        import time

        url = resp.headers["Azure-AsyncOperation"]
        deadline = time.time() + timeout
        while True:
            st = self.s.get(url, timeout=10).json()
            if st["status"] != "InProgress":
                return st
            assert time.time() < deadline, st
            time.sleep(min(float(resp.headers.get("Retry-After", "0.01")), 0.05))

    def admin(self, what: str, method: str = "GET", body: Any = None) -> Any:
        r = self.s.request(method, f"{self.base}/_emulator/{what}", json=body, timeout=10)
        r.raise_for_status()
        return r.json()


@pytest.fixture
def seed() -> dict:
    return make_seed()


@pytest.fixture
def emu(seed: dict) -> Iterator[Emulator]:
    with Emulator(seed, time_scale=0) as e:
        yield e


@pytest.fixture
def arm(emu: Emulator) -> Arm:
    assert emu.url
    return Arm(emu.url)


URL_RE = re.compile(r"[a-z][a-z0-9+.-]*://([^/:?#\s\"']+|\[[^\]]+\])", re.IGNORECASE)
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


def non_loopback_urls(text: str) -> list[str]:
    """Every URL in ``text`` whose host is not this machine."""
    return [m.group(0) for m in URL_RE.finditer(text) if m.group(1).lower() not in LOOPBACK]


@pytest.fixture(autouse=True)
def every_response_stays_on_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Scan every response body and header the in-process emulators send during a test: a URL to any
    host but this machine would send a client (and its token) off the machine."""
    seen: list[str] = []
    original = emulator_server._Handler._send

    def scanning_send(self: Any, resp: Any) -> None:
        text = json.dumps(resp.body) + "\n" + "\n".join(f"{k}: {v}" for k, v in resp.headers.items())
        seen.extend(f"{self.command} {self.path}: {u}" for u in non_loopback_urls(text))
        original(self, resp)

    monkeypatch.setattr(emulator_server._Handler, "_send", scanning_send)
    yield seen
    assert not seen, f"non-loopback URLs in emulator responses: {seen}"

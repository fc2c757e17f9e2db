"""Fixtures for the cloud clients: a seeded in-process emulator and a fast-retry connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from reconciler.cloud.auth import Connection, connect
from reconciler.emulator import Emulator
from reconciler.state import WorkspaceRef
from tests.builders import BIG_SUB, OTHER_SUB, SUB
from tests.builders import WS as PROD
from tests.builders import aks_id as cluster_id
from tests.builders import seed_cluster as _cluster

__all__ = [
    "BIG",
    "BIG_COUNT",
    "BIG_SUB",
    "DEV",
    "MISSING",
    "OTHER_SUB",
    "PROD",
    "SUB",
    "Admin",
    "cluster_id",
    "make_seed",
]
# BIG_SUB holds many clusters: its lists are paged.
DEV = WorkspaceRef(SUB, "ml-prod-rg", "ml-dev")
BIG = WorkspaceRef(BIG_SUB, "big-rg", "ml-big")
MISSING = WorkspaceRef(SUB, "ml-prod-rg", "no-such-ws")
BIG_COUNT = 55  # more than one page (the emulator pages by 50)


def make_seed() -> dict:
    big = {
        f"big-{i:03d}": {
            "properties": {
                "computeType": "AKS",
                "resourceId": cluster_id(f"big-aks-{i:03d}", BIG_SUB, "big-rg"),
                "properties": {"clusterPurpose": "DevTest"},
            }
        }
        for i in range(BIG_COUNT)
    }
    clusters = {
        "scoring-aks": _cluster(
            "westeurope", "1.30.5", loadBalancerSku="standard", privateCluster=False, authorizedIPRanges=["20.0.0.0/16"]
        ),
        "second-aks": _cluster("westeurope", "1.31.2"),
        "east-aks": {
            "location": "eastus",
            "kubernetesVersion": "1.31.1",
            "loadBalancerSku": "basic",
            "privateCluster": True,
            "agentPools": [
                {"name": "sys", "vmSize": "Standard_D3_v2", "count": 3, "mode": "System"},
                {"name": "user", "vmSize": "Standard_D4_v2", "count": 2, "mode": "User"},
            ],
        },
        "legacy-aks": _cluster("westeurope", "1.30.5"),
        "unrelated-aks": _cluster("northeurope", "1.30.5"),
    }
    return {
        "kubernetesVersions": {
            "westeurope": [
                {"version": "1.30.4"},
                {"version": "1.30.5", "default": True},
                {"version": "1.31.2"},
                {"version": "1.32.0", "preview": True},
            ],
            "eastus": [{"version": "1.30.4", "default": True}, {"version": "1.31.1"}],
            "northeurope": [{"version": "1.30.5", "default": True}],
        },
        "subscriptions": {
            SUB: {
                "resourceGroups": {
                    "aks-rg": {"managedClusters": clusters},
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
                                            "description": "old one",
                                            "properties": {
                                                "clusterPurpose": "DevTest",
                                                "sslConfiguration": {"status": "Disabled"},
                                            },
                                        },
                                    },
                                },
                            },
                            "ml-dev": {"location": "westeurope", "computes": {}},
                        }
                    },
                }
            },
            BIG_SUB: {
                "resourceGroups": {
                    "big-rg": {
                        "managedClusters": {
                            f"big-aks-{i:03d}": _cluster("westeurope", "1.30.5") for i in range(BIG_COUNT)
                        },
                        "workspaces": {"ml-big": {"location": "westeurope", "computes": big}},
                    }
                }
            },
            OTHER_SUB: {
                "resourceGroups": {
                    "other-rg": {
                        "managedClusters": {
                            "foreign-aks": _cluster("westeurope", "1.30.5"),
                        }
                    }
                }
            },
        },
    }


class Admin:
    """The emulator's admin API (audit, faults, reset)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def audit(self) -> dict:
        return requests.get(f"{self.url}/_emulator/audit", timeout=10).json()

    def requests(self) -> dict[str, int]:
        return self.audit()["requests"]

    def faults(self, rates: dict[str, Any]) -> None:
        """E.g. {"500": 1.0, "limit": 2}: exactly two injected 500s, then none."""
        requests.post(f"{self.url}/_emulator/faults", json=rates, timeout=10).raise_for_status()

    def reset(self) -> None:
        requests.post(f"{self.url}/_emulator/reset", timeout=10).raise_for_status()


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """One emulator per module (reset between tests): operations take a few ms."""
    with Emulator(make_seed(), time_scale=0.0005) as e:
        yield e


@pytest.fixture
def admin(emu: Emulator) -> Iterator[Admin]:
    assert emu.url
    a = Admin(emu.url)
    a.reset()
    yield a


@pytest.fixture
def conn(emu: Emulator, admin: Admin) -> Connection:
    assert emu.url
    return connect(emu.url, retry_backoff=0.01)

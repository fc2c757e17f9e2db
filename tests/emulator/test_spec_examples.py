"""Fidelity: every request in Microsoft's REST examples (vendored in tests/data/spec-examples) is
accepted and answered with a body of the same shape (same keys at every level)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator

from .conftest import Arm

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "spec-examples"
ML_SUB = "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345"
CS_SUB = "00000000-0000-0000-0000-000000000000"

WS = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.MachineLearningServices/workspaces/{workspaceName}"
)
MC = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService"
TEMPLATES = {
    "Compute_List": ("GET", WS + "/computes"),
    "Compute_Get": ("GET", WS + "/computes/{computeName}"),
    "Compute_CreateOrUpdate": ("PUT", WS + "/computes/{computeName}"),
    "Compute_Delete": ("DELETE", WS + "/computes/{computeName}"),
    "Compute_ListKeys": ("POST", WS + "/computes/{computeName}/listKeys"),
    "ManagedClusters_Get": ("GET", MC + "/managedClusters/{resourceName}"),
    "ManagedClusters_ListKubernetesVersions": (
        "GET",
        "/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}/kubernetesVersions",
    ),
}
# Older example files carry no operationId; their folder/file names say which one they are.
BY_NAME = {"get": "Compute_Get", "listKeys": "Compute_ListKeys", "delete": "Compute_Delete"}

# Fields of Microsoft's examples that describe customer configuration the seed format does
# not model (disk encryption sets, customer-owned outbound IPs, upgrade overrides, zones).
UNMODELLED = {
    "properties.diskEncryptionSetID",
    "properties.networkProfile.loadBalancerProfile.outboundIPs",
    "properties.upgradeSettings",
    "properties.agentPoolProfiles[].availabilityZones",
}


def fidelity_seed() -> dict:
    cluster = {
        "location": "eastus",
        "kubernetesVersion": "1.24.6",
        "agentPools": [{"name": "nodepool1", "vmSize": "Standard_D3_v2", "count": 3}],
    }
    rid = (
        f"/subscriptions/{ML_SUB}/resourcegroups/testrg123/providers/Microsoft.ContainerService/"
        "managedClusters/{}-56826-c9b00420020b2"
    )
    return {
        "extraRegions": ["location1"],  # the examples' placeholder region
        "kubernetesVersions": {
            "eastus": [{"version": "1.24.6", "default": True}],
            "location1": [
                {"version": "1.23.12"},
                {"version": "1.23.15"},
                {"version": "1.24.6", "default": True},
                {"version": "1.24.9"},
                {"version": "1.25.4"},
                {"version": "1.25.5"},
                {"version": "1.26.0", "preview": True},
            ],
        },
        "subscriptions": {
            ML_SUB: {
                "resourceGroups": {
                    "testrg123": {
                        "managedClusters": {
                            "compute123-56826-c9b00420020b2": cluster,
                            "compute1234-56826-c9b00420020b2": cluster,
                            "compute12345-56826-c9b00420020b2": cluster,
                        },
                        "workspaces": {
                            "workspaces123": {
                                "location": "eastus",
                                "computes": {
                                    "compute123": {
                                        "properties": {
                                            "computeType": "AKS",
                                            "description": "some compute",
                                            "resourceId": rid.format("compute123"),
                                            "isAttachedCompute": False,
                                        }
                                    },
                                    "compute1234": {
                                        "properties": {
                                            "computeType": "AKS",
                                            "description": "some compute",
                                            "resourceId": rid.format("compute1234"),
                                        }
                                    },
                                    # a third compute so that the first page of a 2-item page has a nextLink, as in list.json
                                    "compute12345": {
                                        "properties": {
                                            "computeType": "AKS",
                                            "description": "some compute",
                                            "resourceId": rid.format("compute12345"),
                                        }
                                    },
                                },
                            }
                        },
                    }
                }
            },
            CS_SUB: {
                "resourceGroups": {
                    "rg1": {
                        "managedClusters": {
                            "clustername1": {
                                "location": "location1",
                                "kubernetesVersion": "1.24.6",
                                "loadBalancerSku": "standard",
                                "tags": {"archv2": "", "tier": "production"},
                                "agentPools": [{"name": "nodepool1", "vmSize": "Standard_DS1_v2", "count": 3}],
                            }
                        }
                    }
                }
            },
        },
    }


def example_files() -> list[Path]:
    return sorted(EXAMPLES.rglob("*.json"))


# Objects whose keys are data (patch version → upgrades), compared by their values' shape.
MAPS = {"values[].patchVersions"}


def shape_problems(expected: Any, actual: Any, path: str = "") -> Iterator[str]:
    """Keys (and container types) of ``expected`` missing from ``actual``, recursively."""
    if path in UNMODELLED:
        return
    if path in MAPS:
        if not isinstance(actual, dict) or not actual:
            yield f"{path}: expected a non-empty map"
            return
        proto = next(iter(expected.values()))
        for k, v in actual.items():
            yield from shape_problems(proto, v, f"{path}.<{k}>")
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            yield f"{path or '<root>'}: expected an object, got {type(actual).__name__}"
            return
        for k, v in expected.items():
            sub = f"{path}.{k}" if path else k
            if sub in UNMODELLED:
                continue
            if k not in actual:
                yield f"{sub}: missing"
            else:
                yield from shape_problems(v, actual[k], sub)
    elif isinstance(expected, list):
        if not isinstance(actual, list):
            yield f"{path}: expected a list, got {type(actual).__name__}"
            return
        if expected and expected[0] is not None and isinstance(expected[0], (dict, list)):
            if not actual:
                yield f"{path}: empty list, expected items"
                return
            pairs = (
                zip(expected, actual, strict=False)
                if len(expected) == len(actual)
                else ((expected[0], a) for a in actual)
            )
            for want, item in pairs:
                yield from shape_problems(want, item, path + "[]")


@pytest.fixture(scope="module")
def fidelity_emu() -> Iterator[Emulator]:
    with Emulator(fidelity_seed(), time_scale=0) as e:
        e.backend.page_size = 2  # list.json shows a 2-item page with a nextLink
        yield e


@pytest.mark.parametrize("example", example_files(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_request_is_answered_in_shape(fidelity_emu: Emulator, example: Path) -> None:
    data = json.loads(example.read_text())
    params = dict(data["parameters"])
    op_id = data.get("operationId") or BY_NAME[example.stem if example.stem != "AKSCompute" else example.parent.name]
    method, template = TEMPLATES[op_id]
    arm = Arm(fidelity_emu.url or "", api_version=params.pop("api-version"))
    arm.admin("reset", "POST")
    path = template.format(**params)
    query = {k: v for k, v in params.items() if "{" + k + "}" not in template and k != "parameters"}
    r = arm.call(method, path, params.get("parameters"), params=query)
    expected = data["responses"]
    assert str(r.status_code) in expected, (r.status_code, r.text)
    want = expected[str(r.status_code)]
    for h in want.get("headers") or {}:
        assert h in r.headers, f"header {h} missing"
    if "body" in want:
        problems = list(shape_problems(want["body"], r.json()))
        assert not problems, problems
    else:
        assert not r.content
    if op_id == "ManagedClusters_ListKubernetesVersions":
        assert r.json() == want["body"]  # the seed mirrors the example, so even the values match
    assert arm.admin("audit")["requests"] == {op_id: 1}


def test_examples_folder_is_covered() -> None:
    assert len(example_files()) >= 8

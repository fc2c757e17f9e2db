"""Fault injection, latency and the admin API (/_emulator/...)."""

from __future__ import annotations

import time

import pytest
import requests

from reconciler.emulator import Emulator
from reconciler.emulator.faults import parse_faults

from .conftest import SUB, Arm, cluster_id, make_seed


def test_fault_spec_parsing() -> None:
    assert parse_faults("429=0.1,500=0.05,reset=0.02,lro-fail=0.05") == {
        "429": 0.1,
        "500": 0.05,
        "reset": 0.02,
        "lro-fail": 0.05,
    }
    assert parse_faults("") == {"429": 0.0, "500": 0.0, "reset": 0.0, "lro-fail": 0.0}
    for bad in ("429", "418=0.1", "429=abc", "500=1.5", "reset=-0.1"):
        with pytest.raises(ValueError, match=r"fault|probability"):
            parse_faults(bad)
    with pytest.raises(ValueError):
        Emulator(make_seed(), faults="nope=1")


@pytest.mark.parametrize("kind,status,code", [("429", 429, "TooManyRequests"), ("500", 500, "InternalServerError")])
def test_http_faults(kind: str, status: int, code: str) -> None:
    with Emulator(make_seed(), time_scale=0, faults={kind: 1.0}) as e:
        arm = Arm(e.url or "")
        r = arm.get(arm.compute("legacy-scoring"))
        assert r.status_code == status and r.json()["error"]["code"] == code
        if kind == "429":
            assert float(r.headers["Retry-After"]) > 0
        # the admin API is never faulted
        assert arm.admin("audit")["requests"]["Compute_Get"] == 1


def test_reset_fault_drops_connection() -> None:
    with Emulator(make_seed(), time_scale=0, faults="reset=1.0") as e:
        arm = Arm(e.url or "")
        with pytest.raises(requests.ConnectionError):
            arm.get(arm.compute("legacy-scoring"))
        assert arm.admin("faults")["reset"] == 1.0


def test_lro_fail_fault() -> None:
    with Emulator(make_seed(), time_scale=0, faults="lro-fail=1.0") as e:
        arm = Arm(e.url or "")
        r = arm.attach("doomed", cluster_id("scoring-aks"))
        assert r.status_code == 201
        st = arm.wait(r)
        assert st["status"] == "Failed" and st["error"]["code"] == "InternalServerError"
        assert arm.get(arm.compute("doomed")).json()["properties"]["provisioningState"] == "Failed"
        assert arm.admin("audit")["operations"][0]["status"] == "Failed"


def test_faults_are_deterministic_with_a_seed() -> None:
    def run() -> list[int]:
        with Emulator(make_seed(), time_scale=0, faults="429=0.3,500=0.3", fault_seed=42) as e:
            arm = Arm(e.url or "")
            return [arm.get(arm.compute("legacy-scoring")).status_code for _ in range(30)]

    a, b = run(), run()
    assert a == b
    assert {200, 429, 500} <= set(a)


def test_faults_admin_endpoint(arm: Arm) -> None:
    assert arm.admin("faults") == {"429": 0.0, "500": 0.0, "reset": 0.0, "lro-fail": 0.0}
    assert arm.admin("faults", "POST", {"500": 1.0})["500"] == 1.0
    assert arm.get(arm.compute("legacy-scoring")).status_code == 500
    arm.admin("faults", "POST", {})
    assert arm.get(arm.compute("legacy-scoring")).status_code == 200
    r = arm.s.post(arm.base + "/_emulator/faults", json={"teapot": 1})
    assert r.status_code == 400 and "teapot" in r.json()["error"]["message"]


def test_latency() -> None:
    with Emulator(make_seed(), time_scale=0, latency_ms=150) as e:
        arm = Arm(e.url or "")
        t0 = time.perf_counter()
        assert arm.get(arm.compute("legacy-scoring")).status_code == 200
        assert time.perf_counter() - t0 >= 0.15


def test_audit_shape(arm: Arm) -> None:
    arm.get(arm.compute("legacy-scoring"))
    r = arm.attach("audited", cluster_id("scoring-aks"))
    arm.wait(r)
    arm.get(
        f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/westeurope/kubernetesVersions",
        api_version="2026-08-01",
    )
    audit = arm.admin("audit")
    assert set(audit) == {"requests", "violations", "operations", "extensionViolations", "clusterDeletions"}
    assert audit["requests"]["Compute_Get"] == 1
    assert audit["requests"]["Compute_CreateOrUpdate"] == 1
    assert audit["requests"]["OperationStatus_Get"] >= 1
    assert audit["requests"]["ManagedClusters_ListKubernetesVersions"] == 1
    (op,) = audit["operations"]
    assert set(op) == {"operationId", "compute", "kind", "startedAt", "endedAt", "status"}
    assert op["kind"] == "attach" and op["status"] == "Succeeded" and op["compute"].endswith("/computes/audited")


def test_state_is_seed_format_and_reloadable(arm: Arm) -> None:
    arm.wait(arm.create("made-here", {"agentCount": 3}))
    state = arm.admin("state")
    ws = state["subscriptions"][SUB]["resourceGroups"]["ml-prod-rg"]
    assert set(ws["workspaces"]["ml-prod"]["computes"]) == {"legacy-scoring", "made-here"}
    created = ws["managedClusters"]  # the created cluster lives in the workspace's resource group
    assert len(created) == 1
    assert state["kubernetesVersions"]["westeurope"][0] == {"version": "1.30.5", "default": True}
    with Emulator(state, time_scale=0) as again:
        arm2 = Arm(again.url or "")
        comp = arm2.get(arm2.compute("made-here")).json()["properties"]
        assert comp["isAttachedCompute"] is False and comp["provisioningState"] == "Succeeded"
        assert arm2.admin("state") == state


def test_reset_restores_seed_and_clears_audit(arm: Arm) -> None:
    arm.wait(arm.delete(arm.compute("legacy-scoring"), params={"underlyingResourceAction": "Detach"}))
    arm.admin("faults", "POST", {"500": 0.5})
    assert arm.get(arm.compute("legacy-scoring")).status_code in (404, 500)
    assert arm.admin("reset", "POST") == {"status": "reset"}
    assert arm.admin("audit") == {
        "requests": {},
        "violations": [],
        "operations": [],
        "extensionViolations": [],
        "clusterDeletions": [],
    }
    assert arm.admin("faults")["500"] == 0.0
    assert arm.get(arm.compute("legacy-scoring")).status_code == 200


def test_kubernetes_versions_grouping(arm: Arm) -> None:
    body = arm.get(
        f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/West Europe/kubernetesVersions",
        api_version="2026-08-01",
    ).json()
    by = {v["version"]: v for v in body["values"]}
    assert list(by) == ["1.30", "1.31", "1.32"]
    assert by["1.30"]["isDefault"] is True and "isPreview" not in by["1.30"]
    assert by["1.32"]["isPreview"] is True
    assert by["1.30"]["patchVersions"] == {"1.30.5": {"upgrades": ["1.31.2"]}}

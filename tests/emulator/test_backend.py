"""The backend on its own, with an injected clock: durations, time scale, Retry-After."""

from __future__ import annotations

import pytest

from reconciler.emulator.backend import Backend
from reconciler.emulator.domain import kubernetes_versions_body, vm_cores

from .conftest import SUB, cluster_id, make_seed


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def _ws(b: Backend):  # type: ignore[no-untyped-def]
    return b.ml.workspace(SUB, "ml-prod-rg", "ml-prod")


def _attach_body(cluster: str) -> dict:
    return {"properties": {"computeType": "AKS", "resourceId": cluster_id(cluster)}}


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_durations(scale: float) -> None:
    clock = Clock()
    b = Backend(make_seed(), time_scale=scale, clock=clock)
    ws = _ws(b)

    def run(start, kind: str, seconds: float) -> None:  # type: ignore[no-untyped-def]
        op = start()
        assert op.kind == kind
        assert op.ends_at - op.started_at == pytest.approx(seconds * scale)
        clock.t += seconds * scale - 0.001
        b.advance()
        assert op.status == "InProgress"
        clock.t += 0.001
        b.advance()
        assert op.status == "Succeeded"

    run(lambda: b.ml.put_compute(ws, "attach-me", _attach_body("scoring-aks"))[1], "attach", 300)
    run(lambda: b.ml.put_compute(ws, "attach-me", _attach_body("scoring-aks"))[1], "update", 120)
    run(lambda: b.ml.delete_compute(ws, "attach-me", "Detach"), "detach", 60)
    run(lambda: b.ml.put_compute(ws, "create-me", {"properties": {"computeType": "AKS"}})[1], "create", 600)
    run(
        lambda: b.aks.put_agent_pool(SUB, "aks-rg", "scoring-aks", "nodepool1", {"properties": {"count": 4}})[2],
        "scale",
        180,
    )
    assert b.aks.cluster(SUB, "aks-rg", "scoring-aks").agent_pools[0].count == 4


def test_retry_after_is_remaining_time_clamped() -> None:
    clock = Clock()
    b = Backend(make_seed(), time_scale=1.0, clock=clock)
    _, op, _ = b.ml.put_compute(_ws(b), "attach-me", _attach_body("scoring-aks"))
    assert b.lro.retry_after(op) == 10.0
    clock.t += 299.5
    assert b.lro.retry_after(op) == pytest.approx(0.5)
    clock.t += 10
    assert b.lro.retry_after(op) == 0.01  # never 0: azure-core would fall back to 30 s


def test_time_scale_zero_is_immediate() -> None:
    clock = Clock()
    b = Backend(make_seed(), time_scale=0, clock=clock)
    comp, op, _ = b.ml.put_compute(_ws(b), "attach-me", _attach_body("scoring-aks"))
    assert comp.provisioning_state == "Creating"
    b.advance()
    assert op.status == "Succeeded" and comp.provisioning_state == "Succeeded"


def test_modified_on_strictly_increases_even_with_a_frozen_clock() -> None:
    b = Backend(make_seed(), time_scale=0, clock=Clock())
    stamps = [b.store.stamp_us() for _ in range(5)]
    assert stamps == sorted(set(stamps))


def test_vm_cores_table() -> None:
    assert vm_cores("Standard_D3_v2") == 4
    assert vm_cores("standard_ds1_v2") == 1
    assert vm_cores("Standard_D8as_v5") == 8
    assert vm_cores("Basic_A0") is None


def test_versions_body_groups_by_minor() -> None:
    body = kubernetes_versions_body(
        [{"version": "1.30.5", "default": True}, {"version": "1.30.4"}, {"version": "1.31.0", "preview": True}]
    )
    assert [v["version"] for v in body["values"]] == ["1.30", "1.31"]
    assert body["values"][0]["patchVersions"]["1.30.4"]["upgrades"] == ["1.30.5", "1.31.0"]

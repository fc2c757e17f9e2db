"""ComputesClient against the emulator over HTTP: reads, LROs, errors, retries."""

from __future__ import annotations

import time

import pytest

from reconciler.cloud.arm import CloudError, ComputesClient
from reconciler.cloud.auth import Connection
from reconciler.emulator import Emulator
from reconciler.state import Compute

from .conftest import BIG, BIG_COUNT, DEV, MISSING, PROD, Admin, cluster_id

SECRET_KEY = "-----BEGIN PRIVATE KEY-----\nTOP-SECRET-KEY-MATERIAL\n-----END PRIVATE KEY-----"


def attach_body(cluster: str, **settings: object) -> dict:
    return {
        "location": "westeurope",
        "tags": {"reconciler-managed": "true"},
        "properties": {"computeType": "AKS", "resourceId": cluster, "properties": settings},
    }


@pytest.fixture
def computes(conn: Connection) -> ComputesClient:
    return ComputesClient(conn)


def test_list_follows_next_link(computes: ComputesClient, admin: Admin) -> None:
    items = computes.list(BIG)
    assert items is not None and len(items) == BIG_COUNT
    assert len({i.name for i in items}) == BIG_COUNT
    assert admin.requests()["Compute_List"] == 2  # two pages


def test_list_missing_workspace_is_none_and_empty_is_empty(computes: ComputesClient) -> None:
    assert computes.list(MISSING) is None
    assert computes.list(DEV) == []


def test_get_and_get_missing(computes: ComputesClient) -> None:
    compute = computes.get(PROD, "legacy-scoring")
    assert compute is not None
    assert compute.cluster_id == cluster_id("legacy-aks") and compute.purpose == "DevTest" and compute.attached
    assert computes.get(PROD, "nope") is None
    assert computes.get(MISSING, "nope") is None


def test_attach_then_detach_through_lro(computes: ComputesClient, admin: Admin) -> None:
    t0 = time.perf_counter()
    poller = computes.begin_create_or_update(
        PROD, "scoring", attach_body(cluster_id("scoring-aks"), clusterPurpose="FastProd")
    )
    assert poller.result(timeout=10) is None
    assert poller.done() and poller.status() == "Succeeded"
    assert time.perf_counter() - t0 < 5, "Retry-After must make ARMPolling poll promptly"
    attached = computes.get(PROD, "scoring") or Compute("")
    assert attached.provisioning_state == "Succeeded" and attached.attached and attached.purpose == "FastProd"

    poller = computes.begin_delete(PROD, "scoring", "Detach")
    assert poller.result(timeout=10) is None
    assert computes.get(PROD, "scoring") is None
    ops = admin.audit()["operations"]
    assert [o["kind"] for o in ops] == ["attach", "detach"]
    assert all(o["status"] == "Succeeded" for o in ops)
    assert admin.requests().get("OperationStatus_Get", 0) >= 2


def test_create_through_lro(computes: ComputesClient) -> None:
    body = {
        "location": "westeurope",
        "properties": {
            "computeType": "AKS",
            "properties": {"agentCount": 3, "agentVmSize": "Standard_D3_v2", "clusterPurpose": "FastProd"},
        },
    }
    computes.begin_create_or_update(PROD, "created-one", body).result(timeout=10)
    compute = computes.get(PROD, "created-one") or Compute("")
    assert not compute.attached and compute.provisioning_state == "Succeeded"
    assert compute.agent_count == 3 and compute.cluster_id  # the workspace made a cluster


def test_delete_unknown_compute_finishes_at_once(computes: ComputesClient) -> None:
    assert computes.begin_delete(PROD, "never-was", "Detach").result(timeout=5) is None


def test_delete_rejects_unknown_action(computes: ComputesClient) -> None:
    with pytest.raises(ValueError):
        computes.begin_delete(PROD, "legacy-scoring", "Remove")  # type: ignore[arg-type]


def test_list_keys(computes: ComputesClient) -> None:
    keys = computes.list_keys(PROD, "legacy-scoring")
    assert keys["computeType"] == "AKS" and "userKubeConfig" in keys


def test_azure_error_becomes_cloud_error_without_the_body(computes: ComputesClient) -> None:
    body = attach_body(cluster_id("scoring-aks"))
    body["properties"]["properties"] = {
        "sslConfiguration": {"status": "Enabled", "cname": "x.contoso.com", "cert": "CERT", "key": SECRET_KEY}
    }
    with pytest.raises(CloudError) as info:
        computes.begin_create_or_update(PROD, "1-bad-name", body)
    err = info.value
    assert err.status == 400 and err.code
    assert "1-bad-name" in str(err)
    assert "TOP-SECRET" not in str(err) and "TOP-SECRET" not in repr(err.args)


def test_conflict_while_an_operation_runs(emu: Emulator, computes: ComputesClient) -> None:
    """409 from Azure is not retried and surfaces as CloudError."""
    emu.backend.time_scale = 1.0
    try:
        computes.begin_create_or_update(PROD, "slow", attach_body(cluster_id("scoring-aks")))
        with pytest.raises(CloudError) as info:
            computes.begin_create_or_update(PROD, "slow", attach_body(cluster_id("scoring-aks")))
        assert info.value.status == 409
        assert info.value.request_id and f"(request id {info.value.request_id})" in str(info.value)
    finally:
        emu.backend.time_scale = 0.0005


def test_failed_lro_raises_cloud_error_from_result(computes: ComputesClient, admin: Admin) -> None:
    admin.faults({"lro-fail": 1.0})
    poller = computes.begin_create_or_update(PROD, "doomed", attach_body(cluster_id("scoring-aks")))
    with pytest.raises(CloudError) as info:
        poller.result(timeout=10)
    assert "doomed" in str(info.value)
    assert info.value.operation_failed and info.value.status is None and "operation failed" in str(info.value)
    assert info.value.operation_id and f"operation id {info.value.operation_id}" in str(info.value)  # for Azure support
    assert info.value.request_id and f"request id {info.value.request_id}" in str(info.value)


@pytest.mark.parametrize("fault", ["500", "reset"])
def test_transient_faults_are_retried_by_azure_core(computes: ComputesClient, admin: Admin, fault: str) -> None:
    admin.faults({fault: 1.0, "limit": 2})
    assert [c.name for c in computes.list(PROD) or []] == ["legacy-scoring"]
    assert admin.requests()["Compute_List"] == 3  # two faults, then the answer


def test_a_burst_of_server_errors_longer_than_azure_cores_default_is_retried(
    computes: ComputesClient, admin: Admin
) -> None:
    admin.faults({"500": 1.0, "limit": 5})  # azure-core alone gives up after 3 status retries
    assert computes.get(PROD, "legacy-scoring") is not None
    assert admin.requests()["Compute_Get"] == 6


def test_throttling_is_retried_honouring_retry_after(computes: ComputesClient, admin: Admin) -> None:
    admin.faults({"429": 1.0, "limit": 1})
    t0 = time.perf_counter()
    assert computes.get(PROD, "legacy-scoring") is not None
    assert time.perf_counter() - t0 >= 0.9  # the emulator says Retry-After: 1
    assert admin.requests()["Compute_Get"] == 2


def test_faults_during_an_lro_are_retried(computes: ComputesClient, admin: Admin) -> None:
    admin.faults({"500": 0.3, "reset": 0.2, "limit": 6})
    computes.begin_create_or_update(PROD, "bumpy", attach_body(cluster_id("second-aks"))).result(timeout=20)
    assert (computes.get(PROD, "bumpy") or Compute("")).provisioning_state == "Succeeded"


def test_unreachable_endpoint_is_a_cloud_error() -> None:
    from reconciler.cloud.auth import connect

    conn = connect("http://127.0.0.1:9", retry_backoff=0.0)
    conn.retry_total = 1
    with pytest.raises(CloudError) as info:
        ComputesClient(conn).get(PROD, "x")
    assert info.value.status is None


def test_the_first_poll_waits_out_the_initial_responses_retry_after(computes: ComputesClient, admin: Admin) -> None:
    """azure-core would poll at once, only to be told again to wait: one status read per short attach."""
    poller = computes.begin_create_or_update(PROD, "scoring", attach_body(cluster_id("scoring-aks")))
    poller.result(timeout=10)
    assert poller.status() == "Succeeded"
    assert admin.requests()["OperationStatus_Get"] == 1


def test_an_operation_ends_with_its_status_without_a_final_get_of_the_compute(
    computes: ComputesClient, admin: Admin
) -> None:
    """Its caller reads the workspace afterwards anyway: ARM's final GET would be a wasted read per operation."""
    before = admin.requests().get("Compute_Get", 0)
    poller = computes.begin_create_or_update(PROD, "scoring", attach_body(cluster_id("scoring-aks")))
    assert poller.result(timeout=10) is None and poller.status() == "Succeeded"
    assert admin.requests().get("Compute_Get", 0) == before
    assert (computes.get(PROD, "scoring") or Compute("")).provisioning_state == "Succeeded"


def test_the_first_wait_counts_from_when_the_initial_response_arrived() -> None:
    """A poller thread that got going late waits only what is left of Retry-After."""
    from reconciler.cloud.polling import ErrorMappingPolling

    class Slept(Exception):
        pass

    polling = ErrorMappingPolling(5.0, "attach compute", answered_at=time.monotonic() - 0.75)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise Slept

    polling.finished = lambda: False  # type: ignore[method-assign]
    polling._extract_delay = lambda: 2.0  # type: ignore[method-assign]
    polling._sleep = sleep  # type: ignore[method-assign]
    with pytest.raises(Slept):
        polling.run()
    assert len(slept) == 1 and 1.0 <= slept[0] <= 1.25

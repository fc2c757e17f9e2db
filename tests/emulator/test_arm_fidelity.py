"""The emulator answers like ARM where Microsoft's clients notice: api-versions, regions, null
properties, id casing, discovery, cloud metadata, headers, paging tokens and HTTPS."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import certifi
import pytest
import requests

from reconciler.emulator import Emulator

from .conftest import SUB, WS_PATH, Arm, cluster_id, make_seed, non_loopback_urls

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/{{}}/kubernetesVersions"


# ------------------------------------------------------------------ gap 1: api-version
@pytest.mark.parametrize("version", ["2018-11-19", "2019-06-01", "2023-04-01", "2024-10-01-preview", "2026-07-01"])
def test_ml_api_versions_that_clients_send_are_served(arm: Arm, version: str) -> None:
    assert arm.get(arm.compute("legacy-scoring"), api_version=version).status_code == 200


def test_unsupported_api_version_is_no_registered_provider_with_the_supported_list(arm: Arm) -> None:
    r = arm.get(arm.compute("legacy-scoring"), api_version="1999-01-01")
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == "NoRegisteredProviderFound"
    assert "'1999-01-01'" in err["message"] and "'workspaces/computes'" in err["message"]
    assert "2026-07-01" in err["message"] and "location 'westeurope'" in err["message"]
    r = arm.get(cluster_id("scoring-aks"), api_version="2099-01-01")
    assert r.status_code == 400 and r.json()["error"]["code"] == "NoRegisteredProviderFound"
    assert "2026-08-01" in r.json()["error"]["message"]


def test_malformed_api_version_is_invalid_api_version_parameter(arm: Arm) -> None:
    r = arm.get(arm.compute("legacy-scoring"), api_version="banana")
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert "2026-07-01" in r.json()["error"]["message"]
    r = arm.get("/subscriptions", api_version="1999-01-01")
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidApiVersionParameter"


# --------------------------------------------------------------------- gap 2: regions
def test_kubernetes_versions_of_an_unknown_region_is_refused(arm: Arm) -> None:
    r = arm.get(VERSIONS.format("atlantis"), api_version="2026-08-01")
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == "NoRegisteredProviderFound"
    assert "location 'atlantis'" in err["message"] and "westeurope" in err["message"]


def test_a_real_region_the_seed_does_not_list_offers_no_versions(arm: Arm) -> None:
    r = arm.get(VERSIONS.format("japaneast"), api_version="2026-08-01")
    assert r.status_code == 200 and r.json() == {"values": []}


def test_create_in_an_unknown_region_is_refused_at_once(arm: Arm) -> None:
    r = arm.create("far-away", location="atlantis")
    assert r.status_code == 400 and r.json()["error"]["code"] == "LocationNotAvailableForResourceType"
    assert "atlantis" in r.json()["error"]["message"]
    assert arm.get(arm.compute("far-away")).status_code == 404
    assert arm.create("display-name", location="West Europe").status_code == 201


def test_a_seed_with_an_unknown_region_is_rejected() -> None:
    seed = make_seed()
    seed["kubernetesVersions"]["atlantis"] = [{"version": "1.30.5", "default": True}]
    with pytest.raises(ValueError, match="atlantis"):
        Emulator(seed)
    seed["extraRegions"] = ["atlantis"]  # a placeholder region must be declared
    Emulator(seed)


# ------------------------------------------------------------------- gap 3: nullables
def test_nullable_properties_are_present_as_null(arm: Arm) -> None:
    arm.wait(arm.attach("nullable", cluster_id("scoring-aks")))
    for body in (arm.get(arm.compute("nullable")).json(), arm.get(WS_PATH + "/computes").json()["value"][-1]):
        props = body["properties"]
        for key in ("description", "provisioningErrors"):
            assert key in props and props[key] is None, key
        for key in ("systemServices", "loadBalancerSubnet"):
            assert key in props["properties"] and props["properties"][key] is None, key
        assert body["systemData"]["createdAt"] and body["systemData"]["lastModifiedByType"]
    ws = arm.get(WS_PATH).json()
    assert "systemData" in ws and ws["properties"]["description"] is None


# ----------------------------------------------------------------- gap 4: id casing
def test_resource_id_keeps_the_casing_that_was_sent(arm: Arm) -> None:
    sent = cluster_id("scoring-aks").replace("resourceGroups", "resourcegroups").replace("Microsoft.", "microsoft.")
    arm.wait(arm.attach("casing", sent))
    assert arm.get(arm.compute("casing")).json()["properties"]["resourceId"] == sent
    # still the same cluster: a second attachment of it breaks the first
    arm.wait(arm.attach("casing-two", cluster_id("scoring-aks")))
    assert arm.get(arm.compute("casing")).json()["properties"]["provisioningState"] == "Failed"


def test_attach_echoes_the_agent_count_it_was_sent(arm: Arm) -> None:
    arm.wait(arm.attach("counted", cluster_id("scoring-aks"), {"agentCount": 4}))
    assert arm.get(arm.compute("counted")).json()["properties"]["properties"]["agentCount"] == 4
    arm.wait(arm.attach("uncounted", cluster_id("second-aks")))
    assert arm.get(arm.compute("uncounted")).json()["properties"]["properties"]["agentCount"] == 3


# ---------------------------------------------------------------- gap 5: discovery
def test_discovery_url_is_the_emulator_and_serves_the_regional_compute_api(arm: Arm) -> None:
    discovery = arm.get(WS_PATH).json()["properties"]["discoveryUrl"]
    assert discovery.startswith(arm.base + "/")
    endpoints = requests.get(discovery, timeout=10).json()  # no token: clients fetch it anonymously
    assert endpoints["api"] == arm.base
    regional = f"{endpoints['api']}/rp/workspaces{WS_PATH}/computes"
    old = {"api-version": "2018-11-19"}  # what azureml-core sends
    assert [c["name"] for c in arm.s.get(regional, params=old, timeout=10).json()["value"]] == ["legacy-scoring"]
    assert arm.s.get(regional + "/legacy-scoring", params=old, timeout=10).json()["name"] == "legacy-scoring"


# ----------------------------------------------------------------- gap 6: protocol
def test_cloud_metadata_is_public_and_points_at_the_emulator(arm: Arm) -> None:
    legacy = requests.get(arm.base + "/metadata/endpoints", params={"api-version": "2015-01-01"}, timeout=10)
    assert legacy.status_code == 200 and legacy.json()["authentication"]["loginEndpoint"].startswith(arm.base)
    (cloud,) = requests.get(arm.base + "/metadata/endpoints", params={"api-version": "2019-05-01"}, timeout=10).json()
    assert cloud["resourceManager"] == arm.base + "/"
    # from 2022-09-01 ARM answers with the one cloud it belongs to, an object (az cloud register reads it)
    current = requests.get(arm.base + "/metadata/endpoints", params={"api-version": "2022-09-01"}, timeout=10).json()
    assert current["resourceManager"] == arm.base + "/" and current["suffixes"]["storage"] == "localhost"


def test_subscriptions_and_tenants_are_listed(arm: Arm) -> None:
    subs = arm.get("/subscriptions", api_version="2022-12-01").json()
    assert {s["subscriptionId"] for s in subs["value"]} == {SUB, "00000000-0000-0000-0000-000000000002"}
    assert subs["value"][0]["state"] == "Enabled" and subs["value"][0]["tenantId"]
    assert arm.get(f"/subscriptions/{SUB}", api_version="2022-12-01").json()["subscriptionId"] == SUB
    assert arm.get("/tenants", api_version="2022-12-01").json()["value"][0]["tenantId"]
    rg = arm.get(f"/subscriptions/{SUB}/resourcegroups/aks-rg", api_version="2021-04-01").json()
    assert rg["name"] == "aks-rg" and rg["location"] == "westeurope"


def test_401_says_how_to_authenticate(arm: Arm) -> None:
    r = requests.get(arm.base + arm.compute("legacy-scoring"), params={"api-version": "2026-07-01"}, timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")


def test_arm_response_headers(arm: Arm) -> None:
    r = arm.get(
        arm.compute("legacy-scoring"),
        headers={"x-ms-correlation-request-id": "corr-1", "x-ms-client-request-id": "client-1"},
    )
    assert r.headers["x-ms-correlation-request-id"] == "corr-1"
    assert r.headers["x-ms-client-request-id"] == "client-1"
    assert r.headers["x-ms-request-id"] and r.headers["x-ms-routing-request-id"]
    assert int(r.headers["x-ms-ratelimit-remaining-subscription-reads"]) > 0


def test_retry_after_is_whole_seconds(seed: dict) -> None:
    with Emulator(seed, time_scale=1.0) as e:
        arm = Arm(e.url or "")
        r = arm.attach("slow", cluster_id("scoring-aks"))
        assert r.headers["Retry-After"].isdigit() and 1 <= int(r.headers["Retry-After"]) <= 10
        st = arm.s.get(r.headers["Azure-AsyncOperation"], timeout=10)
        assert st.headers["Retry-After"].isdigit()


def test_urls_take_scheme_and_host_from_the_request(arm: Arm) -> None:
    port = arm.base.rsplit(":", 1)[1]
    body = {"location": "westeurope", "properties": {"computeType": "AKS", "resourceId": cluster_id("scoring-aks")}}
    r = arm.put(arm.compute("via-localhost"), body, headers={"Host": f"localhost:{port}"})
    assert r.headers["Azure-AsyncOperation"].startswith(f"http://localhost:{port}/subscriptions/")


def test_skip_token_is_opaque_and_checked(emu: Emulator, arm: Arm) -> None:
    emu.backend.page_size = 1
    arm.wait(arm.attach("paged", cluster_id("scoring-aks")))
    first = arm.get(WS_PATH + "/computes").json()
    token = first["nextLink"].split("$skip=", 1)[1]
    assert not token.isdigit() and base64.urlsafe_b64decode(token + "==")
    assert len(arm.get(first["nextLink"]).json()["value"]) == 1
    r = arm.get(WS_PATH + "/computes", params={"$skip": "not-a-token"})
    assert r.status_code == 400


def test_scanner_catches_foreign_urls() -> None:
    assert non_loopback_urls('{"a": "https://westeurope.api.azureml.ms/discovery"}')
    assert not non_loopback_urls('{"a": "http://127.0.0.1:1/x", "b": "https://localhost/y"}')


# --------------------------------------------------------------------- gap 7: HTTPS
def test_tls_emulator_is_trusted_through_its_ca_bundle() -> None:
    with Emulator(make_seed(), time_scale=0, tls=True) as e:
        assert e.url and e.url.startswith("https://127.0.0.1:") and e.ca_bundle and e.ca_bundle.is_file()
        arm = Arm(e.url)
        arm.s.trust_env = False  # this machine's REQUESTS_CA_BUNDLE would override the session's bundle
        arm.s.verify = str(e.ca_bundle)
        r = arm.attach("secure", cluster_id("scoring-aks"))
        assert r.status_code == 201 and r.headers["Azure-AsyncOperation"].startswith("https://127.0.0.1:")
        assert arm.wait(r)["status"] == "Succeeded"
        with pytest.raises(requests.exceptions.SSLError):  # not trusted without the bundle
            requests.get(e.url + "/metadata/endpoints", timeout=10, verify=certifi.where())
        bundle = e.ca_bundle
    assert not bundle.exists()


def test_tls_flag_prints_the_ca_bundle_on_the_second_line() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler.emulator", "--tls", "--time-scale", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        bundle = proc.stdout.readline().strip().removeprefix("CA bundle: ")
        assert url.startswith("https://127.0.0.1:") and Path(bundle).is_file()
        r = requests.get(url + "/metadata/endpoints", params={"api-version": "2022-09-01"}, verify=bundle, timeout=10)
        assert r.status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err


def test_null_settings_in_a_put_mean_not_set(arm: Arm) -> None:
    """azureml-core sends its payload template with nulls for everything not chosen."""
    body = {
        "location": None,
        "properties": {
            "computeType": "AKS",
            "description": None,
            "properties": {
                "agentCount": None,
                "agentVmSize": None,
                "clusterPurpose": "DevTest",
                "loadBalancerType": None,
                "loadBalancerSubnet": None,
                "sslConfiguration": None,
                "aksNetworkingConfiguration": None,
            },
        },
    }
    r = arm.put(arm.compute("from-template"), body)
    assert r.status_code == 201, r.text
    assert arm.wait(r)["status"] == "Succeeded"
    settings = arm.get(arm.compute("from-template")).json()["properties"]["properties"]
    assert settings["agentCount"] == 3 and settings["agentVmSize"] == "Standard_D3_v2"

"""ML compute endpoints and the Azure rules they model (raw HTTP)."""

from __future__ import annotations

import pytest

from reconciler.emulator import Emulator

from .conftest import OTHER_SUB, SUB, WS_PATH, Arm, cluster_id, make_seed


def test_seeded_compute_is_attached_and_succeeded(arm: Arm) -> None:
    r = arm.get(arm.compute("legacy-scoring"))
    assert r.status_code == 200
    body = r.json()
    assert body["properties"]["isAttachedCompute"] is True
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert body["tags"] == {"team": "fraud"}
    assert body["properties"]["properties"]["clusterPurpose"] == "DevTest"


def test_get_missing_compute_is_arm_404(arm: Arm) -> None:
    r = arm.get(arm.compute("nope-compute"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "ResourceNotFound"
    r = arm.get(WS_PATH.replace("ml-prod-rg", "missing-rg") + "/computes")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceGroupNotFound"


def test_case_insensitive_ids(arm: Arm) -> None:
    r = arm.get(
        arm.compute("LEGACY-SCORING")
        .replace("resourceGroups", "resourcegroups")
        .replace("Microsoft.MachineLearningServices", "microsoft.machinelearningservices")
        .replace("ml-prod", "ML-PROD")
    )
    assert r.status_code == 200 and r.json()["name"] == "legacy-scoring"
    # attach with a differently-cased cluster id targets the same cluster
    r = arm.attach("case-check", cluster_id("SCORING-AKS").replace("resourceGroups", "RESOURCEGROUPS"))
    assert r.status_code == 201
    assert arm.wait(r)["status"] == "Succeeded"


def test_attach_lro_shape(arm: Arm) -> None:
    r = arm.attach("scoring-prod", cluster_id("scoring-aks"), {"clusterPurpose": "FastProd"})
    assert r.status_code == 201
    assert r.json()["properties"]["provisioningState"] == "Creating"
    for h in ("Azure-AsyncOperation", "Location", "Retry-After"):
        assert h in r.headers
    assert r.headers["Azure-AsyncOperation"].startswith(arm.base + "/subscriptions/")
    assert r.headers["Location"].startswith(arm.base + "/subscriptions/")
    st = arm.wait(r)
    assert st["status"] == "Succeeded"
    assert set(st) >= {"id", "name", "status", "startTime", "endTime"}
    loc = arm.s.get(r.headers["Location"])
    assert loc.status_code == 200 and loc.json()["name"] == "scoring-prod"
    got = arm.get(arm.compute("scoring-prod")).json()
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert got["properties"]["isAttachedCompute"] is True


def test_list_is_paged_with_absolute_next_link(emu: Emulator, arm: Arm) -> None:
    emu.backend.page_size = 2
    for i in range(4):
        assert (
            arm.attach(
                f"extra{i}",
                cluster_id("scoring-aks") if i == 0 else cluster_id("second-aks"),
                {"clusterPurpose": "DevTest"},
            ).status_code
            == 201
        )
    names, url, pages = [], WS_PATH + "/computes", 0
    while url:
        body = arm.get(url).json()
        names += [v["name"] for v in body["value"]]
        url = body.get("nextLink")
        pages += 1
        if url:
            assert url.startswith(arm.base) and "$skip=" in url and "api-version=" in url
    assert pages == 3
    assert sorted(names) == sorted(["legacy-scoring", "extra0", "extra1", "extra2", "extra3"])


def test_create_uses_default_version_and_makes_cluster(arm: Arm) -> None:
    r = arm.create(
        "new-compute",
        {
            "agentCount": 3,
            "agentVmSize": "Standard_D3_v2",
            "clusterPurpose": "FastProd",
            "loadBalancerType": "PublicIp",
        },
        tags={"owner": "me"},
    )
    assert r.status_code == 201
    assert r.json()["properties"]["provisioningState"] == "Creating"
    assert arm.wait(r)["status"] == "Succeeded"
    comp = arm.get(arm.compute("new-compute")).json()
    assert comp["properties"]["isAttachedCompute"] is False
    assert comp["tags"] == {"owner": "me"}
    rid = comp["properties"]["resourceId"]
    cl = arm.get(rid, api_version="2026-08-01")
    assert cl.status_code == 200
    assert cl.json()["properties"]["kubernetesVersion"] == "1.30.5"  # westeurope default
    pools = cl.json()["properties"]["agentPoolProfiles"]
    assert [(p["count"], p["vmSize"]) for p in pools] == [(3, "Standard_D3_v2")]
    rg_list = arm.get(
        f"/subscriptions/{SUB}/resourceGroups/ml-prod-rg/providers/Microsoft.ContainerService/managedClusters",
        api_version="2026-08-01",
    ).json()
    assert [c["id"] for c in rg_list["value"]] == [rid]


def test_created_compute_agent_count_follows_scale(arm: Arm) -> None:
    r = arm.create("scaled-compute", {"agentCount": 3})
    arm.wait(r)
    rid = arm.get(arm.compute("scaled-compute")).json()["properties"]["resourceId"]
    pool = arm.get(rid + "/agentPools/agentpool", api_version="2026-08-01").json()
    r = arm.put(
        rid + "/agentPools/agentpool",
        {"properties": {"count": 5, "vmSize": pool["properties"]["vmSize"]}},
        api_version="2026-08-01",
    )
    assert r.status_code == 200  # an update of an existing pool, as Azure answers
    assert arm.wait(r)["status"] == "Succeeded"
    assert arm.get(arm.compute("scaled-compute")).json()["properties"]["properties"]["agentCount"] == 5


def test_conflict_while_operation_in_flight(seed: dict) -> None:
    with Emulator(seed, time_scale=1.0) as e:
        arm = Arm(e.url or "")
        r = arm.attach("slow-compute", cluster_id("scoring-aks"))
        assert r.status_code == 201
        assert 0 < float(r.headers["Retry-After"]) <= 10
        r2 = arm.attach("slow-compute", cluster_id("scoring-aks"))
        assert r2.status_code == 409 and r2.json()["error"]["code"] == "Conflict"
        r3 = arm.delete(arm.compute("slow-compute"), params={"underlyingResourceAction": "Detach"})
        assert r3.status_code == 409
        st = arm.s.get(r.headers["Azure-AsyncOperation"]).json()
        assert st["status"] == "InProgress" and "endTime" not in st
        loc = arm.s.get(r.headers["Location"])
        assert loc.status_code == 202 and "Retry-After" in loc.headers


def test_second_attachment_breaks_first_and_is_audited(arm: Arm) -> None:
    first = arm.attach("first-one", cluster_id("scoring-aks"))
    arm.wait(first)
    second = arm.attach("second-one", cluster_id("scoring-aks"))
    assert second.status_code == 201
    assert arm.wait(second)["status"] == "Succeeded"
    broken = arm.get(arm.compute("first-one")).json()["properties"]
    assert broken["provisioningState"] == "Failed"
    assert broken["provisioningErrors"][0]["error"]["code"]
    assert arm.get(arm.compute("second-one")).json()["properties"]["provisioningState"] == "Succeeded"
    v = arm.admin("audit")["violations"]
    assert len(v) == 1
    assert v[0]["clusterId"].lower() == cluster_id("scoring-aks").lower()
    assert v[0]["computes"] == ["first-one", "second-one"]
    assert v[0]["workspace"].lower() == WS_PATH.lower() and v[0]["at"]


def test_second_attachment_while_first_in_flight(seed: dict) -> None:
    with Emulator(seed, time_scale=1.0) as e:
        arm = Arm(e.url or "")
        first = arm.attach("first-one", cluster_id("scoring-aks"))
        second = arm.attach("second-one", cluster_id("scoring-aks"))
        assert second.status_code == 201
        st = arm.s.get(first.headers["Azure-AsyncOperation"]).json()
        assert st["status"] == "Failed" and st["error"]["code"]
        assert arm.get(arm.compute("first-one")).json()["properties"]["provisioningState"] == "Failed"
        assert len(arm.admin("audit")["violations"]) == 1


def test_cross_subscription_attach_is_400(arm: Arm) -> None:
    r = arm.attach("foreign", cluster_id("foreign-aks", sub=OTHER_SUB, rg="other-rg"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"
    assert "subscription" in r.json()["error"]["message"]


def test_unsupported_version_fails_listing_supported(arm: Arm) -> None:
    r = arm.attach("old-version", cluster_id("old-aks"))
    assert r.status_code == 201
    st = arm.wait(r)
    assert st["status"] == "Failed"
    msg = st["error"]["message"]
    assert "1.27.3" in msg and "1.30.5" in msg and "1.31.2" in msg and "1.32.0" in msg
    comp = arm.get(arm.compute("old-version")).json()["properties"]
    assert comp["provisioningState"] == "Failed" and comp["provisioningErrors"]
    loc = arm.s.get(r.headers["Location"])
    assert loc.status_code == 400 and loc.json()["error"]["message"] == msg


def test_preview_version_is_attachable(arm: Arm) -> None:
    assert arm.wait(arm.attach("preview-one", cluster_id("preview-aks")))["status"] == "Succeeded"


@pytest.mark.parametrize(
    "cluster,purpose,ok",
    [
        ("small-aks", None, False),  # 2 x 4 = 8 < 12, unset means production
        ("small-aks", "FastProd", False),
        ("small-aks", "DenseProd", False),
        ("small-aks", "DevTest", True),
        ("scoring-aks", "FastProd", True),  # 3 x 4 = 12
        ("tiny-aks", "DevTest", False),  # 1 x 1 = 1 < 2
    ],
)
def test_capacity_rule(arm: Arm, cluster: str, purpose: str | None, ok: bool) -> None:
    settings = {"clusterPurpose": purpose} if purpose else {}
    st = arm.wait(arm.attach("cap-check", cluster_id(cluster), settings))
    assert st["status"] == ("Succeeded" if ok else "Failed"), st
    if not ok:
        assert "vCPU" in st["error"]["message"]


def test_create_under_sized_fails(arm: Arm) -> None:
    st = arm.wait(arm.create("small-create", {"agentCount": 2, "agentVmSize": "Standard_D3_v2"}))
    assert st["status"] == "Failed"
    st = arm.wait(
        arm.create("devtest-create", {"agentCount": 1, "agentVmSize": "Standard_D2_v2", "clusterPurpose": "DevTest"})
    )
    assert st["status"] == "Succeeded"


@pytest.mark.parametrize("name", ["ab", "1abc", "abc-123", "a" * 25, "bad_name", "-abc"])
def test_bad_compute_name_is_400(arm: Arm, name: str) -> None:
    r = arm.attach(name, cluster_id("scoring-aks"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"


@pytest.mark.parametrize("name", ["abc", "abc-1x", "A" * 24, "scoring-prod"])
def test_good_compute_names(arm: Arm, name: str) -> None:
    assert arm.attach(name, cluster_id("second-aks")).status_code == 201


def test_tls_with_internal_lb_is_400(arm: Arm) -> None:
    settings = {
        "sslConfiguration": {"status": "Enabled", "leafDomainLabel": "contoso"},
        "loadBalancerType": "InternalLoadBalancer",
        "loadBalancerSubnet": "aks-subnet",
    }
    assert arm.attach("tls-ilb", cluster_id("scoring-aks"), settings).status_code == 400
    assert arm.create("tls-ilb", settings).status_code == 400


def test_secrets_never_returned(arm: Arm) -> None:
    settings = {
        "sslConfiguration": {
            "status": "Enabled",
            "cname": "scoring.contoso.com",
            "cert": "-----BEGIN CERTIFICATE-----SECRETCERT",
            "key": "-----BEGIN PRIVATE KEY-----SECRETKEY",
        }
    }
    r = arm.attach("tls-custom", cluster_id("scoring-aks"), settings)
    assert r.status_code == 201 and "SECRET" not in r.text
    arm.wait(r)
    for resp in (arm.get(arm.compute("tls-custom")), arm.get(WS_PATH + "/computes")):
        assert "SECRET" not in resp.text
    ssl = arm.get(arm.compute("tls-custom")).json()["properties"]["properties"]["sslConfiguration"]
    assert ssl == {"status": "Enabled", "cname": "scoring.contoso.com"}
    assert "SECRET" not in str(arm.admin("state"))


def test_tags_round_trip_and_modified_on_increases(arm: Arm) -> None:
    r = arm.attach(
        "tagged", cluster_id("scoring-aks"), tags={"reconciler-managed": "true", "reconciler-spec": "sha256:1"}
    )
    stamps = [r.json()["properties"]["modifiedOn"]]
    arm.wait(r)
    stamps.append(arm.get(arm.compute("tagged")).json()["properties"]["modifiedOn"])
    r = arm.attach(
        "tagged",
        cluster_id("scoring-aks"),
        {"clusterPurpose": "FastProd"},
        tags={"reconciler-managed": "true", "reconciler-spec": "sha256:2"},
    )
    assert r.status_code == 200 and r.json()["properties"]["provisioningState"] == "Updating"  # update: 200
    stamps.append(r.json()["properties"]["modifiedOn"])
    arm.wait(r)
    got = arm.get(arm.compute("tagged")).json()
    stamps.append(got["properties"]["modifiedOn"])
    assert got["tags"] == {"reconciler-managed": "true", "reconciler-spec": "sha256:2"}
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert "." in stamps[0]  # sub-second precision
    assert [o["kind"] for o in arm.admin("audit")["operations"]] == ["attach", "update"]


def test_update_cannot_change_resource_id(arm: Arm) -> None:
    arm.wait(arm.attach("bound-one", cluster_id("scoring-aks")))
    assert arm.attach("bound-one", cluster_id("second-aks")).status_code == 400


def test_delete_requires_underlying_resource_action(arm: Arm) -> None:
    assert arm.delete(arm.compute("legacy-scoring")).status_code == 400
    assert arm.delete(arm.compute("legacy-scoring"), params={"underlyingResourceAction": "Nope"}).status_code == 400


def test_detach_removes_only_the_compute(arm: Arm) -> None:
    r = arm.delete(arm.compute("legacy-scoring"), params={"underlyingResourceAction": "Detach"})
    assert r.status_code == 202
    assert "Azure-AsyncOperation" in r.headers and "Location" in r.headers and "Retry-After" in r.headers
    assert arm.wait(r)["status"] == "Succeeded"
    assert arm.s.get(r.headers["Location"]).status_code == 204
    assert arm.get(arm.compute("legacy-scoring")).status_code == 404
    assert arm.get(cluster_id("legacy-aks"), api_version="2026-08-01").status_code == 200


def test_delete_action_on_attached_is_400(arm: Arm) -> None:
    r = arm.delete(arm.compute("legacy-scoring"), params={"underlyingResourceAction": "Delete"})
    assert r.status_code == 400


def test_delete_action_on_created_deletes_cluster(arm: Arm) -> None:
    arm.wait(arm.create("doomed-compute"))
    rid = arm.get(arm.compute("doomed-compute")).json()["properties"]["resourceId"]
    r = arm.delete(arm.compute("doomed-compute"), params={"underlyingResourceAction": "Delete"})
    assert r.status_code == 202 and arm.wait(r)["status"] == "Succeeded"
    assert arm.get(arm.compute("doomed-compute")).status_code == 404
    assert arm.get(rid, api_version="2026-08-01").status_code == 404
    assert [o["kind"] for o in arm.admin("audit")["operations"]] == ["create", "delete"]


def test_detach_of_created_keeps_cluster(arm: Arm) -> None:
    arm.wait(arm.create("kept-compute"))
    rid = arm.get(arm.compute("kept-compute")).json()["properties"]["resourceId"]
    arm.wait(arm.delete(arm.compute("kept-compute"), params={"underlyingResourceAction": "Detach"}))
    assert arm.get(rid, api_version="2026-08-01").status_code == 200


def test_deleting_cluster_breaks_compute_on_next_read(arm: Arm) -> None:
    before = arm.get(arm.compute("legacy-scoring")).json()["properties"]
    r = arm.delete(cluster_id("legacy-aks"), api_version="2026-08-01")
    assert r.status_code == 202 and arm.wait(r)["status"] == "Succeeded"
    after = arm.get(arm.compute("legacy-scoring")).json()["properties"]
    assert after["provisioningState"] == "Failed" and after["provisioningErrors"]
    assert after["modifiedOn"] > before["modifiedOn"]


def test_list_keys(arm: Arm) -> None:
    r = arm.call("POST", arm.compute("legacy-scoring") + "/listKeys")
    assert r.status_code == 200
    assert set(r.json()) == {"computeType", "userKubeConfig", "adminKubeConfig", "imagePullSecretName"}


def test_workspace_get(arm: Arm) -> None:
    r = arm.get(WS_PATH)
    assert r.status_code == 200
    assert r.json()["name"] == "ml-prod" and r.json()["location"] == "westeurope"


def test_missing_bearer_is_401(arm: Arm) -> None:
    import requests

    r = requests.get(arm.base + arm.compute("legacy-scoring"), params={"api-version": "2026-07-01"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AuthenticationFailed"
    r = requests.get(
        arm.base + arm.compute("legacy-scoring"),
        params={"api-version": "2026-07-01"},
        headers={"Authorization": "Basic abc"},
    )
    assert r.status_code == 401


def test_api_version_is_required_and_must_be_one_azure_serves(arm: Arm) -> None:
    assert arm.get(arm.compute("legacy-scoring"), api_version="2019-06-01").status_code == 200
    assert arm.get(arm.compute("legacy-scoring"), api_version="2019-01-01").status_code == 400
    r = arm.s.get(arm.base + arm.compute("legacy-scoring"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"


def test_unknown_route_is_404(arm: Arm) -> None:
    r = arm.get(f"/subscriptions/{SUB}/providers/Microsoft.Nope/things")
    assert r.status_code == 404 and "error" in r.json()


def test_seed_compute_can_declare_failed_state() -> None:
    seed = make_seed()
    comp = seed["subscriptions"][SUB]["resourceGroups"]["ml-prod-rg"]["workspaces"]["ml-prod"]["computes"]
    comp["legacy-scoring"]["properties"]["provisioningState"] = "Failed"
    with Emulator(seed, time_scale=0) as e:
        arm = Arm(e.url or "")
        assert arm.get(arm.compute("legacy-scoring")).json()["properties"]["provisioningState"] == "Failed"


def test_rewriting_a_broken_compute_breaks_the_other_one(arm: Arm) -> None:
    arm.wait(arm.attach("first-one", cluster_id("scoring-aks")))
    arm.wait(arm.attach("second-one", cluster_id("scoring-aks")))
    assert arm.wait(arm.attach("first-one", cluster_id("scoring-aks")))["status"] == "Succeeded"
    assert arm.get(arm.compute("second-one")).json()["properties"]["provisioningState"] == "Failed"
    assert [v["computes"] for v in arm.admin("audit")["violations"]] == [
        ["first-one", "second-one"],
        ["second-one", "first-one"],
    ]


def test_create_settings_round_trip(arm: Arm) -> None:
    net = {
        "subnetId": f"/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/"
        "subnets/aks",
        "serviceCidr": "10.1.0.0/16",
        "dnsServiceIP": "10.1.0.10",
        "dockerBridgeCidr": "172.17.0.1/16",
    }
    settings = {
        "agentCount": 4,
        "agentVmSize": "Standard_D4_v2",
        "clusterPurpose": "DenseProd",
        "aksNetworkingConfiguration": net,
        "loadBalancerType": "InternalLoadBalancer",
        "loadBalancerSubnet": "aks",
        "sslConfiguration": {"status": "Disabled"},
    }
    r = arm.create(
        "net-compute", settings, properties={"computeType": "AKS", "description": "d", "properties": settings}
    )
    assert arm.wait(r)["status"] == "Succeeded"
    got = arm.get(arm.compute("net-compute")).json()["properties"]
    assert got["description"] == "d"
    for k, v in settings.items():
        assert got["properties"][k] == v, k
    cl = arm.get(got["resourceId"], api_version="2026-08-01").json()["properties"]
    assert cl["networkProfile"]["serviceCidr"] == "10.1.0.0/16"
    assert cl["agentPoolProfiles"][0]["vmSize"] == "Standard_D4_v2"

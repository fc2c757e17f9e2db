"""`reconciler apply` against the emulator over HTTP. Safety is proven by the emulator's
own audit (violations of the one-attachment rule), never by the product checking itself."""

from __future__ import annotations

import json
import threading

from tests.builders import tls_pair
from tests.e2e.conftest import attach_doc, attached_compute, create_doc, seed

TLS = "  tls:\n    enabled: true\n    leafDomainLabel: fraud\n"
ILB = "  loadBalancer:\n    type: InternalLoadBalancer\n    subnet: aks-subnet\n"


def converge(cloud, *extra):
    run = cloud.cli("apply", "--auto-approve", *extra)
    assert run.code == 0, run.stdout + run.stderr
    assert "Verified: the workspaces match the manifests." in run.stdout
    again = cloud.cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.stdout
    return run


def no_violations(cloud):
    assert cloud.audit()["violations"] == []


def ops(cloud, kind=None):
    return [o for o in cloud.audit()["operations"] if kind is None or o["kind"] == kind]


def test_apply_creates_attaches_and_updates_internal_load_balancer(make_cloud):
    cloud = make_cloud()
    cloud.write(
        scoring=attach_doc("scoring-prod", "scoring-aks", extra=TLS),
        dev=create_doc("dev-scoring"),
        batch=attach_doc("batch-internal", "internal-aks", extra=ILB),
    )
    converge(cloud)
    computes = cloud.computes()
    assert set(computes) == {"scoring-prod", "dev-scoring", "batch-internal"}
    assert computes["batch-internal"]["properties"]["properties"]["loadBalancerType"] == "InternalLoadBalancer"
    assert computes["scoring-prod"]["tags"]["reconciler-managed"] == "true"
    assert computes["scoring-prod"]["tags"]["reconciler-spec"].startswith("sha256:")
    kinds = [o["kind"] for o in ops(cloud) if o["compute"].endswith("batch-internal")]
    assert kinds == ["attach", "update"]
    no_violations(cloud)


def test_rename_detaches_before_attaching(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-old", "scoring-aks"))
    converge(cloud)
    cloud.write(a=attach_doc("scoring-new", "scoring-aks"))
    converge(cloud)
    assert set(cloud.computes()) == {"scoring-new"}
    detach = next(o for o in ops(cloud, "detach") if o["compute"].endswith("scoring-old"))
    attach = next(o for o in ops(cloud, "attach") if o["compute"].endswith("scoring-new"))
    assert detach["endedAt"] <= attach["startedAt"]
    no_violations(cloud)


def test_tls_change_reattaches(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    converge(cloud)
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks", extra=TLS))
    run = converge(cloud)
    assert "-/+ prod/scoring-prod  reattach" in run.stdout
    ssl = cloud.computes()["scoring-prod"]["properties"]["properties"]["sslConfiguration"]
    assert ssl["status"] == "Enabled" and ssl["leafDomainLabel"] == "fraud"
    no_violations(cloud)


def test_custom_certificate_from_env_never_leaks(make_cloud):
    cloud = make_cloud()
    tls = "  tls:\n    enabled: true\n    cname: api.example.com\n    certificate: {env: CERT}\n    key: {env: KEY}\n"
    cloud.write(a=attach_doc("partner-api", "other-aks", extra=tls))
    cert, key = tls_pair("api.example.com")
    env = cloud.env(CERT=cert, KEY=key)
    run = cloud.cli("--log-format", "json", "apply", "--auto-approve", env=env)
    assert run.code == 0, run.stdout + run.stderr
    key_body = key.splitlines()[2]
    assert key_body not in run.stdout + run.stderr
    # Rotating the pair is seen through the spec digest and re-attaches, shown as (sensitive, changed).
    env["CERT"], env["KEY"] = tls_pair("api.example.com")
    plan = cloud.cli("plan", "--format", "json", env=env)
    change = json.loads(plan.stdout)["changes"][0]
    assert change["action"] == "reattach" and env["KEY"].splitlines()[2] not in plan.stdout
    assert {"path": "tls.key", "before": "(sensitive)", "after": "(sensitive, changed)"} in change["diff"]


def test_scale_changes_the_agent_pool(make_cloud):
    cloud = make_cloud()
    cloud.write(dev=create_doc("dev-scoring", count=1))
    converge(cloud)
    cloud.write(dev=create_doc("dev-scoring", count=2))
    run = converge(cloud)
    assert "~ prod/dev-scoring  scale" in run.stdout
    assert cloud.audit()["requests"].get("AgentPools_CreateOrUpdate", 0) == 1
    clusters = cloud.admin("state")["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"][
        "ml-prod-rg"
    ]["managedClusters"]
    (created,) = clusters.values()
    assert created["agentPools"][0]["count"] == 2


def test_update_description_in_place(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    converge(cloud)
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks", description="new words"))
    run = converge(cloud)
    assert "~ prod/scoring-prod  update" in run.stdout
    assert [o["kind"] for o in ops(cloud)] == ["attach", "update"]


def test_prune_detaches_only_managed_computes(make_cloud):
    cloud = make_cloud(seed({"legacy": attached_compute("old-aks")}))
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    converge(cloud)
    cloud.write(prune=True)
    run = converge(cloud)
    assert "- prod/scoring-prod  detach" in run.stdout
    assert set(cloud.computes()) == {"legacy"}
    state = cloud.admin("state")["subscriptions"]
    assert "scoring-aks" in json.dumps(state)  # detach never deletes the cluster


def test_replace_needs_the_flag_then_deletes_and_recreates(make_cloud):
    cloud = make_cloud()
    cloud.write(dev=create_doc("dev-scoring"))
    converge(cloud)
    cloud.write(dev=create_doc("dev-scoring", vm="Standard_D4_v2"))
    refused = cloud.cli("apply", "--auto-approve")
    assert refused.code == 1 and "AKS029" in refused.stdout
    converge(cloud, "--replace", "dev-scoring")
    assert [o["kind"] for o in ops(cloud)] == ["create", "delete", "create"]
    no_violations(cloud)


def test_apply_without_tty_or_auto_approve_changes_nothing(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("apply")
    assert run.code == 1 and "--auto-approve" in run.stderr
    assert cloud.computes() == {}


def test_saved_plan_applies_and_a_stale_one_is_refused(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    assert cloud.cli("plan", "--out", "plan.json").code == 0
    assert cloud.cli("apply", "--plan", "plan.json").code == 0
    stale = cloud.cli("apply", "--plan", "plan.json")
    assert stale.code == 1 and "stale" in stale.stderr
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks", description="changed"))
    changed = cloud.cli("apply", "--plan", "plan.json")
    assert changed.code == 1 and "manifests changed" in changed.stderr


def test_two_concurrent_applies_never_both_run(make_cloud):
    cloud = make_cloud(time_scale=0.01)
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"), b=attach_doc("other", "other-aks"))
    first = cloud.popen("apply", "--auto-approve")
    results = {}

    def second():
        import time

        time.sleep(0.6)
        results["second"] = cloud.cli("apply", "--auto-approve")

    t = threading.Thread(target=second)
    t.start()
    _out, err = first.communicate(timeout=120)
    t.join()
    assert first.returncode == 0, err
    assert results["second"].code == 1 and "locked" in results["second"].stderr
    no_violations(cloud)


def test_faults_converge_within_three_runs(make_cloud):
    cloud = make_cloud(faults="429=0.1,500=0.05,reset=0.02,lro-fail=0.05")
    cloud.write(
        a=attach_doc("scoring-prod", "scoring-aks", extra=TLS),
        b=attach_doc("batch-internal", "internal-aks", extra=ILB),
        c=create_doc("dev-scoring"),
        d=attach_doc("other", "other-aks"),
    )
    for _ in range(3):
        run = cloud.cli("apply", "--auto-approve")
        if run.code == 0:
            break
    assert run.code == 0, run.stdout + run.stderr
    cloud.admin("faults", {"429": 0, "500": 0, "reset": 0, "lro-fail": 0})
    assert cloud.cli("plan", "--detailed-exitcode").code == 0
    assert set(cloud.computes()) == {"scoring-prod", "batch-internal", "dev-scoring", "other"}
    no_violations(cloud)


def test_import_round_trip_shows_no_changes(make_cloud):
    cloud = make_cloud()
    cloud.write(
        a=attach_doc("scoring-prod", "scoring-aks", extra=TLS),
        b=create_doc("dev-scoring"),
        c=attach_doc("batch-internal", "internal-aks", extra=ILB),
    )
    converge(cloud)
    run = cloud.cli(
        "import", "--workspace", "00000000-0000-0000-0000-000000000001/ml-prod-rg/ml-prod", "--out", "imported"
    )
    assert run.code == 0, run.stderr
    assert cloud.cli("validate", "imported").code == 0
    plan = cloud.cli("plan", "imported", "--detailed-exitcode")
    assert plan.code == 0, plan.stdout + plan.stderr


def test_failed_attachment_is_repaired(make_cloud):
    broken = attached_compute("scoring-aks", managed=True)
    broken["properties"]["provisioningState"] = "Failed"
    cloud = make_cloud(seed({"scoring-prod": broken}))
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    run = converge(cloud)
    assert "-/+ prod/scoring-prod  reattach" in run.stdout and "Failed" in run.stdout
    assert cloud.computes()["scoring-prod"]["properties"].get("provisioningState", "Succeeded") == "Succeeded"
    no_violations(cloud)


def test_created_compute_whose_cluster_was_deleted_is_recreated(make_cloud):
    import urllib.request

    cloud = make_cloud()
    cloud.write(dev=create_doc("dev-scoring"))
    converge(cloud)
    clusters = cloud.admin("state")["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"][
        "ml-prod-rg"
    ]["managedClusters"]
    (name,) = clusters
    url = (
        f"{cloud.url}/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-prod-rg/providers/"
        f"Microsoft.ContainerService/managedClusters/{name}?api-version=2026-08-01"
    )
    req = urllib.request.Request(url, method="DELETE", headers={"Authorization": "Bearer test"})
    urllib.request.urlopen(req, timeout=10).close()
    import time

    time.sleep(0.3)  # the delete takes 60 s x 0.001
    plan = cloud.cli("plan")
    assert "-/+ prod/dev-scoring  replace" in plan.stdout, plan.stdout + plan.stderr
    converge(cloud)
    assert [o["kind"] for o in ops(cloud) if o["compute"].endswith("dev-scoring")] == ["create", "detach", "create"]


def test_a_plan_whose_attachments_all_match_reads_no_aks_cluster(make_cloud):
    """Reading only the clusters a plan needs: after converging, `plan` lists the workspace's computes
    and reads no cluster (a large fleet's cluster lists are pages long, each waiting for the one before)."""
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    converge(cloud)
    before = cloud.audit()["requests"]
    run = cloud.cli("plan", "--detailed-exitcode")
    assert run.code == 0, run.stdout + run.stderr
    after = cloud.audit()["requests"]
    read = {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}
    assert read.get("Compute_List") == 1
    assert not [k for k in read if k.startswith("ManagedClusters")], read

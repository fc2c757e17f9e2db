"""End-to-end: `migrate` → `plan` → `apply` → `plan`, both strategies, through the CLI against the emulator."""

from __future__ import annotations

import json

import pytest

from tests.builders import aks_id, seed_attached_compute, seed_cluster
from tests.e2e.conftest import attach_doc, seed
from tests.e2e.test_crash_e2e import kill_at_boundary

SERVING = {"serving-aks": seed_cluster("westeurope", "1.30.5")}


def legacy_cloud(make_cloud, *, created: bool = False):
    compute = seed_attached_compute("serving-aks", managed=True)
    if created:  # Azure ML created the cluster: a compute Delete would delete it
        compute["properties"]["isAttachedCompute"] = False
    cloud = make_cloud(seed({"scoring-prod": compute}, clusters=SERVING))
    cloud.write(scoring=attach_doc("scoring-prod", "serving-aks"))
    return cloud


def ops(cloud) -> list[dict]:
    return sorted(cloud.audit()["operations"], key=lambda o: o["startedAt"])


def test_same_cluster_migrate_plan_apply_plan_orders_detach_cleanup_install_attach(make_cloud):
    cloud = legacy_cloud(make_cloud)
    run = cloud.cli("migrate", "manifests", "--strategy", "same-cluster", "--out", "migrated")
    assert run.code == 0, run.stdout + run.stderr
    written = sorted(p.name for p in (cloud.dir / "migrated").iterdir())
    assert "MIGRATION.md" in written and "scoring-prod-k8s.yaml" in written and "serving-aks-extension.yaml" in written
    assert not any(name.startswith("legacy-") for name in written)
    compute_doc = (cloud.dir / "migrated" / "scoring-prod-k8s.yaml").read_text()
    assert 'namespace: "scoring-prod"' in compute_doc and 'replaces: "scoring-prod"' in compute_doc

    plan = cloud.cli("plan", "migrated", "--format", "json")
    assert plan.code == 0, plan.stdout + plan.stderr
    data = json.loads(plan.stdout)
    steps = [s for c in data["changes"] for s in c["steps"]]
    assert [
        s["op"]
        for s in steps
        if s["op"] in ("detach", "remove-legacy-fe", "install", "create-namespace", "attach-kubernetes")
    ]
    assert "delete" not in {s["op"] for s in steps}
    text = cloud.cli("plan", "migrated")
    assert "MIG002" in text.stdout and "downtime" in text.stdout

    applied = cloud.cli("apply", "migrated", "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert cloud.cli("plan", "migrated", "--detailed-exitcode").code == 0
    computes = cloud.computes()
    assert (
        set(computes) == {"scoring-prod-k8s"}
        and computes["scoring-prod-k8s"]["properties"]["computeType"] == "Kubernetes"
    )
    audit = cloud.audit()
    assert audit["clusterDeletions"] == [] and audit["violations"] == [] and audit["extensionViolations"] == []
    timeline = ops(cloud)
    assert not [o for o in timeline if o["kind"] == "install" and o["status"] != "Succeeded"]
    detach = next(o for o in timeline if o["kind"] == "detach")
    cleanup = next(o for o in timeline if o["kind"] == "runCommand" and o["startedAt"] >= detach["endedAt"])
    install = next(o for o in timeline if o["kind"] == "install")
    attach = next(
        o for o in timeline if o["kind"] in ("attach", "create") and o["compute"].endswith("/scoring-prod-k8s")
    )
    assert detach["endedAt"] <= cleanup["startedAt"] and cleanup["endedAt"] <= install["startedAt"]
    assert install["endedAt"] <= attach["startedAt"]
    cluster = cloud.admin("state")["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"]["aks-rg"][
        "managedClusters"
    ]["serving-aks"]
    assert [o for o in cluster.get("objects", []) if o["namespace"] == "default" and "azureml" in o["name"]] == []


def test_same_cluster_migration_of_a_created_cluster_detaches_and_keeps_the_cluster(make_cloud):
    cloud = legacy_cloud(make_cloud, created=True)
    clusters = cloud.admin("state")["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"]["aks-rg"]
    assert clusters["managedClusters"]["serving-aks"].get("createdBy", "").endswith("/scoring-prod")
    assert cloud.cli("migrate", "manifests", "--strategy", "same-cluster", "--out", "migrated").code == 0
    applied = cloud.cli("apply", "migrated", "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    audit = cloud.audit()
    assert audit["clusterDeletions"] == [] and "serving-aks" in json.dumps(cloud.admin("state"))
    assert "Created cluster" in (cloud.dir / "migrated" / "MIGRATION.md").read_text()


def test_new_cluster_keeps_the_legacy_compute_until_its_manifest_is_removed(make_cloud):
    cloud = make_cloud(seed({"scoring-prod": seed_attached_compute("scoring-aks", managed=True)}, clusters=SERVING))
    cloud.write(scoring=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli(
        "migrate",
        "manifests",
        "--strategy",
        "new-cluster",
        "--target-cluster",
        aks_id("serving-aks"),
        "--out",
        "migrated",
    )
    assert run.code == 0, run.stdout + run.stderr
    plan = cloud.cli("plan", "migrated")
    assert plan.code == 0 and "MIG001" in plan.stdout and "still serves traffic" in plan.stdout, plan.stdout
    applied = cloud.cli("apply", "migrated", "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert set(cloud.computes()) == {"scoring-prod", "scoring-prod-k8s"}
    assert cloud.cli("plan", "migrated", "--detailed-exitcode").code == 0
    for legacy in (cloud.dir / "migrated").glob("legacy-*.yaml"):
        legacy.unlink()
    applied = cloud.cli("apply", "migrated", "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert set(cloud.computes()) == {"scoring-prod-k8s"}
    assert cloud.cli("plan", "migrated", "--detailed-exitcode").code == 0
    audit = cloud.audit()
    assert audit["clusterDeletions"] == [] and audit["violations"] == []
    assert not [o for o in audit["operations"] if o["kind"] == "install" and o["status"] != "Succeeded"]


def test_new_cluster_needs_a_target_cluster_usage_error(make_cloud):
    cloud = legacy_cloud(make_cloud)
    run = cloud.cli("migrate", "manifests", "--strategy", "new-cluster", "--out", "migrated")
    assert run.code == 64 and "--target-cluster" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("boundary", [1, 3, 5])
def test_same_cluster_migration_killed_mid_way_continues_on_the_next_apply(make_cloud, boundary):
    cloud = legacy_cloud(make_cloud)
    assert cloud.cli("migrate", "manifests", "--strategy", "same-cluster", "--out", "migrated").code == 0
    for old in cloud.manifests.glob("*.yaml"):
        old.unlink()
    for new in (cloud.dir / "migrated").glob("*.yaml"):
        (cloud.manifests / new.name).write_text(new.read_text())
    assert kill_at_boundary(cloud, boundary), "apply ended before the boundary was reached"
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    assert cloud.cli("plan", "--detailed-exitcode").code == 0
    assert set(cloud.computes()) == {"scoring-prod-k8s"}
    audit = cloud.audit()
    assert audit["clusterDeletions"] == [] and audit["violations"] == []
    assert not [o for o in audit["operations"] if o["kind"] == "install" and o["status"] != "Succeeded"]

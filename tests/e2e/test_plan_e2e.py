"""`reconciler plan` against the emulator over HTTP: outputs, exit codes, call counts."""

from __future__ import annotations

import json
import stat

from tests.e2e.conftest import attach_doc, attached_compute, create_doc, seed

TLS = "  tls:\n    enabled: true\n    leafDomainLabel: fraud\n"


def test_plan_shows_attach_and_create_and_exits_2_with_detailed_exitcode(make_cloud):
    cloud = make_cloud()
    cloud.write(scoring=attach_doc("scoring-prod", "scoring-aks", extra=TLS), dev=create_doc("dev-scoring"))
    run = cloud.cli("plan", "--detailed-exitcode")
    assert run.code == 2, run.stderr
    assert "+ prod/scoring-prod  attach" in run.stdout and "+ prod/dev-scoring  create" in run.stdout
    assert run.stdout.rstrip().endswith("Plan: 1 to create, 1 to attach, 0 to update, 0 to re-attach, 0 to detach.")
    assert cloud.cli("plan").code == 0


def test_plan_makes_the_fewest_calls(make_cloud):
    cloud = make_cloud()
    cloud.write(
        a=attach_doc("scoring-prod", "scoring-aks"), b=attach_doc("other", "other-aks"), c=create_doc("dev-scoring")
    )
    before = cloud.audit()["requests"]
    assert cloud.cli("plan").code == 0
    after = cloud.audit()["requests"]
    calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    # W = 1 workspace, S = 1 subscription, L = 2 regions (westeurope, northeurope).
    assert calls == {"Compute_List": 1, "ManagedClusters_List": 1, "ManagedClusters_ListKubernetesVersions": 2}, calls


def test_plan_out_writes_private_json_plan(make_cloud):
    cloud = make_cloud()
    cloud.write(scoring=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("plan", "--out", "plan.json", "--format", "json")
    assert run.code == 0, run.stderr
    path = cloud.dir / "plan.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved == json.loads(run.stdout) | {"createdAt": saved["createdAt"]}
    assert saved["summary"]["attach"] == 1 and saved["changes"][0]["steps"][0]["op"] == "attach"


def test_plan_markdown_for_pull_requests(make_cloud):
    cloud = make_cloud()
    cloud.write(scoring=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("plan", "--format", "markdown")
    assert run.code == 0 and run.stdout.startswith("<!-- reconciler-plan -->") and "<details>" in run.stdout


def test_unmanaged_attachment_of_the_same_cluster_is_a_plan_error(make_cloud):
    cloud = make_cloud(seed({"legacy-scoring": attached_compute("scoring-aks")}))
    cloud.write(scoring=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("plan")
    assert run.code == 1
    assert "error AKS028" in run.stdout and "legacy-scoring" in run.stdout


def test_unsupported_version_and_small_cluster_are_plan_errors(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("old-one", "old-aks"), b=attach_doc("tiny-one", "tiny-aks"))
    run = cloud.cli("plan")
    assert run.code == 1
    assert "AKS021" in run.stdout and "1.30.5" in run.stdout and "AKS023" in run.stdout


def test_invalid_manifests_fail_before_any_call(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("1bad", "scoring-aks"))
    before = sum(cloud.audit()["requests"].values())
    run = cloud.cli("plan")
    assert run.code == 1 and "AKS001" in run.stderr and "Traceback" not in run.stderr
    assert sum(cloud.audit()["requests"].values()) == before


def test_plain_http_to_a_non_loopback_endpoint_is_refused(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("--endpoint", "http://example.com", "plan")
    assert run.code == 64 and "Traceback" not in run.stderr and "http" in run.stderr

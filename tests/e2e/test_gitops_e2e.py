"""What a team's pipeline and its people see: show, pending computes while an apply runs, downtime marks,
the pull-request comment made in CI, one status line while settling."""

from __future__ import annotations

import json
import time

from tests.e2e.conftest import attach_doc, attached_compute, seed

CUSTOM_TLS = "  tls:\n    enabled: true\n    leafDomainLabel: fraud\n"


def _wait_until_in_flight(cloud, name: str) -> None:
    for _ in range(600):
        if cloud.computes().get(name, {}).get("properties", {}).get("provisioningState") == "Creating":
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never went in flight")


def test_show_lists_computes_clusters_owners_and_states(make_cloud):
    cloud = make_cloud(seed({"legacy": attached_compute("old-aks", managed=False)}))
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    assert cloud.cli("apply", "--auto-approve").code == 0
    table = cloud.cli("show")
    assert table.code == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:5] == ["WORKSPACE", "COMPUTE", "KIND", "STATE", "OWNER"]
    assert any(r.split()[:6] == ["prod", "scoring-prod", "attached", "Succeeded", "default", "yes"] for r in rows), rows
    assert any(r.split()[:6] == ["prod", "legacy", "attached", "Succeeded", "-", "no"] for r in rows), rows
    doc = json.loads(cloud.cli("show", "--format", "json").stdout)
    by_name = {c["compute"]: c for c in doc["computes"]}
    assert by_name["scoring-prod"]["cluster"] == "scoring-aks" and by_name["scoring-prod"]["kubernetesVersion"] == "1.30.5"
    assert doc["missingWorkspaces"] == []


def test_plan_while_an_apply_runs_reports_pending_not_errors(make_cloud):
    cloud = make_cloud(seed(), time_scale=0.03)
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    applying = cloud.popen("apply", "--auto-approve")
    try:
        _wait_until_in_flight(cloud, "scoring-prod")
        run = cloud.cli("--log-format", "json", "plan", "--detailed-exitcode")
        assert run.code == 0, run.stdout + run.stderr  # pending is not a change to make, and not an error
        assert "… prod/scoring-prod  pending: scoring-prod: Creating (operation in flight)" in run.stdout
        warnings = [json.loads(line) for line in run.stderr.splitlines()]
        assert run.stderr == "" or all("event" in w for w in warnings)
        doc = json.loads(cloud.cli("plan", "--format", "json").stdout)
        assert doc["summary"]["pending"] == 1 and [w["rule"] for w in doc["warnings"]] == ["AKS034"] and not doc["errors"]
        second = cloud.cli("apply", "--auto-approve")
        assert second.code == 1 and "locked" in second.stderr  # apply still refuses while the other one runs
    finally:
        applying.wait(120)
    assert applying.returncode == 0


def test_rename_and_tls_change_are_marked_with_downtime_in_every_format(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-old", "scoring-aks"), b=attach_doc("batch", "internal-aks"))
    assert cloud.cli("apply", "--auto-approve").code == 0
    cloud.write(a=attach_doc("scoring-new", "scoring-aks"), b=attach_doc("batch", "internal-aks", extra=CUSTOM_TLS))
    text = cloud.cli("plan")
    assert text.code == 0 and text.stdout.count("! endpoint unavailable for ~6 min") == 2, text.stdout
    assert "prune is off" not in text.stdout + text.stderr
    doc = json.loads(cloud.cli("plan", "--format", "json").stdout)
    assert {c["address"]: c["endpointDowntimeSeconds"] for c in doc["changes"] if c["endpointDowntimeSeconds"]} == {
        "prod/scoring-new": 360, "prod/batch": 360}
    md = cloud.cli("plan", "--format", "markdown")
    assert md.stdout.count("! endpoint unavailable for ~6 min") == 4


def test_pull_request_comment_names_the_commit_and_the_run(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    ci = {"GITHUB_SHA": "c0ffee0123456789", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "team/ml",
          "GITHUB_RUN_ID": "99"}
    md = cloud.cli("plan", "--format", "markdown", env=cloud.env(**ci))
    assert "Planned at commit `c0ffee012345` in [this run](https://github.com/team/ml/actions/runs/99)." in md.stdout
    assert md.stdout.count("<details>") == 1


def test_settling_logs_a_line_when_the_operations_change_not_every_poll(make_cloud):
    cloud = make_cloud(seed(), time_scale=0.03)
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    crashed = cloud.popen("apply", "--auto-approve")
    _wait_until_in_flight(cloud, "scoring-prod")
    crashed.kill()  # the operation goes on in Azure
    crashed.wait(30)
    second = cloud.cli("--log-format", "json", "apply", "--auto-approve")
    assert second.code == 0, second.stderr
    waits = [r for r in map(json.loads, second.stderr.splitlines()) if r["event"] == "waiting for operations in flight"]
    assert len(waits) == 1 and waits[0]["computes"] == "scoring-prod (Creating)"


def test_a_failed_step_is_printed_once_with_azure_operation_and_request_ids(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    cloud.admin("faults", {"lro-fail": 1.0})
    run = cloud.cli("--log-format", "json", "apply", "--auto-approve")
    assert run.code == 1, run.stdout + run.stderr
    records = [json.loads(line) for line in run.stderr.splitlines()]
    queued = [r for r in records if r["event"] == "steps queued"]
    assert queued and queued[0]["steps"] == ["prod/scoring-prod#1"]
    failures = [r for r in records if "Injected fault" in json.dumps(r)]
    assert len(failures) == 1, failures
    assert failures[0]["event"] == "step failed"
    assert "operation id " in failures[0]["message"] and "request id " in failures[0]["message"]


def _plan_on_a_terminal(cloud, *flags: str, **env: str) -> str:
    """`reconciler plan` with its stdout on a pseudo-terminal, where colour is on by default."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "plan", *flags], stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=cloud.dir, env=cloud.env(**env))
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(60) == 0
    return b"".join(chunks).decode()


def test_no_color_and_NO_COLOR_turn_colour_off_on_a_terminal(make_cloud):
    cloud = make_cloud()
    cloud.write(a=attach_doc("scoring-prod", "scoring-aks"))
    assert "\x1b[" in _plan_on_a_terminal(cloud)
    plain = _plan_on_a_terminal(cloud, "--no-color")
    assert "\x1b[" not in plain and "+ prod/scoring-prod" in plain
    assert "\x1b[" not in _plan_on_a_terminal(cloud, NO_COLOR="1")

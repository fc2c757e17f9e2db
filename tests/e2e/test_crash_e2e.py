"""Crash safety: SIGKILL the apply at every step boundary of a rename and of a TLS
re-attach, run it again, and check convergence and zero violations in the audit."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import attach_doc

TLS = "  tls:\n    enabled: true\n    leafDomainLabel: fraud\n"

SCENARIOS = {
    "rename": (
        dict(a=attach_doc("scoring-old", "scoring-aks")),
        dict(a=attach_doc("scoring-new", "scoring-aks")),
        {"scoring-new"},
    ),
    "tls": (
        dict(a=attach_doc("scoring-prod", "scoring-aks")),
        dict(a=attach_doc("scoring-prod", "scoring-aks", extra=TLS)),
        {"scoring-prod"},
    ),
}
# Two steps each (detach, attach): started/finished of each is a boundary.
BOUNDARIES = range(4)


def kill_at_boundary(cloud, boundary: int) -> bool:
    """Run apply and SIGKILL it right after its `boundary`-th step event. True if killed."""
    proc = cloud.popen("--log-format", "json", "apply", "--auto-approve")
    seen = 0
    killed = False
    for line in proc.stderr:
        try:
            event = json.loads(line).get("event", "")
        except ValueError:
            continue
        if event.startswith("step "):
            if seen == boundary:
                proc.kill()
                killed = True
                break
            seen += 1
    proc.communicate(timeout=60)
    return killed


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_killed_apply_converges_on_rerun(make_cloud, scenario, boundary):
    before, after, names = SCENARIOS[scenario]
    cloud = make_cloud(time_scale=0.002)
    cloud.write(**before)
    assert cloud.cli("apply", "--auto-approve").code == 0
    cloud.write(**after)
    assert kill_at_boundary(cloud, boundary), "apply ended before the boundary was reached"
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    assert cloud.cli("plan", "--detailed-exitcode").code == 0
    assert set(cloud.computes()) == names
    assert cloud.audit()["violations"] == []

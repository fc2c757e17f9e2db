"""Ownership on the Kubernetes side: every Kubernetes compute write carries the owner tag, and another
owner's Kubernetes computes are never updated, re-attached, detached or pruned (no server)."""

from __future__ import annotations

import dataclasses

from reconciler.executor import Executor
from reconciler.plan import Action
from reconciler.planner import plan
from reconciler.state import OWNER_TAG, Compute
from tests.builders import desired, extension, kubernetes, workspace
from tests.test_executor import FakeComputes, RecordedProgress
from tests.test_executor_kubernetes import FakeKube, installed
from tests.test_planner_kubernetes import azureml, k8s_compute, world


def owned(owner: str, prune: bool = True) -> str:
    return workspace(prune=prune) + f"  owner: {owner}\n"


def of_owner(compute: Compute, owner: str) -> Compute:
    return dataclasses.replace(compute, tags={**compute.tags, OWNER_TAG: owner})


class RecordingComputes(FakeComputes):
    def __init__(self) -> None:
        super().__init__()
        self.bodies: dict[str, dict] = {}

    def begin_create_or_update(self, ws, name, body):
        self.bodies[name] = body
        return super().begin_create_or_update(ws, name, body)


def test_a_kubernetes_compute_attach_carries_the_workspace_owner_tag(tmp_path):
    kube = FakeKube(installed(tmp_path))
    obs = world(ext=kube.ext)
    p = plan(desired(tmp_path, owned("team-b"), extension(), kubernetes("k8s-team-a")), obs)
    assert not p.errors, [e.format() for e in p.errors]
    computes = RecordingComputes()
    result = Executor(computes, None, obs, RecordedProgress(), kube=kube).run(p)  # type: ignore[arg-type]
    assert result.ok, result.failed
    tags = computes.bodies["k8s-team-a"]["tags"]
    assert tags[OWNER_TAG] == "team-b" and tags["reconciler-managed"] == "true"


def test_a_foreign_kubernetes_compute_of_the_declared_name_is_never_reattached_or_updated(tmp_path):
    docs = (extension(), kubernetes("k8s-team-a", namespace="team-a"))
    theirs = of_owner(k8s_compute("k8s-team-a", "elsewhere"), "team-a")  # a namespace change would re-attach
    p = plan(desired(tmp_path, owned("team-b"), *docs), world(theirs, ext=azureml(tmp_path, *docs)))
    [error] = p.errors
    assert error.rule == "AKS036" and "'team-a'" in error.message and "'k8s-team-a'" in error.message
    assert not p.actionable


def test_a_foreign_kubernetes_compute_is_never_pruned_not_even_warned_about(tmp_path):
    docs = (extension(),)
    theirs = of_owner(k8s_compute("k8s-theirs", "theirs"), "team-a")
    p = plan(desired(tmp_path, owned("team-b"), *docs), world(theirs, ext=azureml(tmp_path, *docs)))
    assert not p.actionable and not p.errors and not p.warnings


def test_an_untagged_managed_kubernetes_compute_belongs_to_owner_default(tmp_path):
    docs = (extension(),)
    legacy = k8s_compute("k8s-old", "old")  # managed, written before owner tags
    others = plan(desired(tmp_path, owned("team-b"), *docs), world(legacy, ext=azureml(tmp_path, *docs)))
    assert not others.actionable
    mine = plan(desired(tmp_path, owned("default"), *docs), world(legacy, ext=azureml(tmp_path, *docs)))
    assert [(c.action, c.compute_name) for c in mine.actionable] == [(Action.DETACH, "k8s-old")]

"""Builders for planner tests: desired state from manifest text, observed state by hand."""

from __future__ import annotations

from pathlib import Path

from reconciler import loader, rules
from reconciler.desired import Desired, desired_from
from reconciler.planner import Plan, PlanOptions, plan
from reconciler.state import (
    MANAGED_TAG, SPEC_TAG, AgentPool, AksCluster, Compute, KubernetesVersion, ObservedState, ObservedWorkspace, Tls, WorkspaceRef,
)
from tests.manifests import SUB, aks_id

WS = WorkspaceRef(SUB, "ml-prod-rg", "ml-prod")
VERSIONS = (KubernetesVersion("1.30.5", default=True), KubernetesVersion("1.31.2"), KubernetesVersion("1.32.0", preview=True))


def desired(tmp_path: Path, *docs: str) -> Desired:
    (tmp_path / "m.yaml").write_text("---\n".join(docs))
    result = loader.load([tmp_path / "m.yaml"])
    errors = [f for f in result.findings + rules.check(result) if f.is_error]
    assert not errors, [f.format() for f in errors]
    return desired_from(result)


def cluster(name: str, *, location: str = "westeurope", version: str = "1.30.5", vm: str = "Standard_D3_v2", count: int = 3, **kw) -> AksCluster:
    return AksCluster(aks_id(name), location, version, (AgentPool("nodepool1", vm, count),), **kw)


def attached(name: str, cluster_name: str, *, managed: bool = True, digest: str | None = None, purpose: str = "FastProd",
             tls: Tls = Tls(), state: str = "Succeeded", description: str | None = "test", **kw) -> Compute:
    tags = {MANAGED_TAG: "true"} if managed else {}
    if digest:
        tags[SPEC_TAG] = digest
    return Compute(name, cluster_id=aks_id(cluster_name), purpose=purpose, tls=tls, provisioning_state=state,
                   description=description, tags=tags, modified_on="2026-11-01T00:00:00.000001+00:00", **kw)


def observed(computes=(), clusters=(), versions=VERSIONS, exists: bool = True) -> ObservedState:
    ows = ObservedWorkspace(WS, exists=exists, computes={c.name: c for c in computes})
    return ObservedState({WS.key: ows}, {c.key: c for c in clusters}, {"westeurope": versions})


def planned(tmp_path: Path, docs: tuple[str, ...], obs: ObservedState, **options) -> Plan:
    opts = PlanOptions(**{k: frozenset(v) for k, v in options.items()})
    return plan(desired(tmp_path, *docs), obs, opts)


def digest_of(tmp_path: Path, *docs: str, name: str) -> str:
    return next(c for c in desired(tmp_path, *docs).clusters if c.name == name).digest()

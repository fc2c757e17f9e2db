"""Test data, one home: subscription and cluster ids, emulator seeds, manifest text, desired and observed state.

Manifest builders return YAML text from one valid baseline that each test edits; seed builders return the
emulator's seed format (docs/seed.md); state builders return the product's own values for planner tests.
Benchmarks use the id and seed builders too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler import loader, rules
from reconciler.desired import Desired, desired_from
from reconciler.planner import Plan, PlanOptions, plan
from reconciler.state import (
    MANAGED_TAG,
    SPEC_TAG,
    AgentPool,
    AksCluster,
    Compute,
    KubernetesVersion,
    ObservedState,
    ObservedWorkspace,
    Tls,
    WorkspaceRef,
)

# -- ids ---------------------------------------------------------------------------------------------------------

SUB = "00000000-0000-0000-0000-000000000001"
OTHER_SUB = "00000000-0000-0000-0000-000000000002"
BIG_SUB = "00000000-0000-0000-0000-000000000003"
RESOURCE_GROUP, WORKSPACE = "ml-prod-rg", "ml-prod"


def sub_id(i: int) -> str:
    """The i-th test subscription (0 → SUB)."""
    return f"00000000-0000-0000-0000-{i + 1:012d}"


def aks_id(name: str, sub: str = SUB, rg: str = "aks-rg") -> str:
    """ARM id of an AKS managed cluster."""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"


def workspace_path(sub: str = SUB, rg: str = RESOURCE_GROUP, ws: str = WORKSPACE) -> str:
    """ARM path of an Azure ML workspace."""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"


# -- emulator seeds ------------------------------------------------------------------------------------------------


def agent_pools(count: int = 3, vm: str = "Standard_D3_v2") -> list[dict[str, Any]]:
    """One system pool, as a seed's `agentPools`."""
    return [{"name": "nodepool1", "vmSize": vm, "count": count, "mode": "System"}]


def seed_cluster(location: str = "westeurope", version: str = "1.30.5", *, count: int = 3, vm: str = "Standard_D3_v2",
                 **extra: Any) -> dict[str, Any]:
    """A seed's managed cluster; `extra` adds fields such as loadBalancerSku or privateCluster."""
    return {"location": location, "kubernetesVersion": version, "agentPools": agent_pools(count, vm), **extra}


def seed_attached_compute(cluster: str, *, managed: bool = False, purpose: str = "FastProd", sub: str = SUB,
                          **tags: str) -> dict[str, Any]:
    """A seed's AKS compute attached to `cluster` (in aks-rg), without TLS; `managed` adds the reconciler's tag."""
    all_tags = {"reconciler-managed": "true", **tags} if managed else dict(tags)
    return {"tags": all_tags,
            "properties": {"computeType": "AKS", "resourceId": aks_id(cluster, sub),
                           "properties": {"clusterPurpose": purpose, "sslConfiguration": {"status": "Disabled"}}}}


def seed_world(clusters: dict[str, dict[str, Any]], computes: dict[str, dict[str, Any]] | None = None, *,
               versions: dict[str, list[dict[str, Any]]] | None = None, sub: str = SUB, workspace: str = WORKSPACE,
               resource_group: str = RESOURCE_GROUP) -> dict[str, Any]:
    """A seed with one subscription: `clusters` in aks-rg, one workspace holding `computes`."""
    return {
        "kubernetesVersions": versions or {"westeurope": [{"version": "1.30.5", "default": True}]},
        "subscriptions": {sub: {"resourceGroups": {
            "aks-rg": {"managedClusters": clusters},
            resource_group: {"workspaces": {workspace: {"location": "westeurope", "computes": computes or {}}}},
        }}},
    }


# -- manifest text -------------------------------------------------------------------------------------------------


def workspace(alias: str = "prod", ws: str = WORKSPACE, sub: str = SUB, prune: bool = False) -> str:
    return f"""apiVersion: reconciler.aml/v1
kind: Workspace
metadata:
  name: {alias}
spec:
  subscriptionId: {sub}
  resourceGroup: {RESOURCE_GROUP}
  workspaceName: {ws}
  prune: {str(prune).lower()}
"""


def attach(name: str = "scoring-prod", cluster: str = "scoring-aks", ws: str = "prod", extra: str = "",
           cluster_id: str | None = None, purpose: str = "FastProd", description: str = "test") -> str:
    """Line 1 apiVersion ... line 10 clusterId; `extra` lines follow at spec level."""
    return f"""apiVersion: reconciler.aml/v1
kind: InferenceCluster
metadata:
  name: {name}
spec:
  workspace: {ws}
  description: {description}
  clusterPurpose: {purpose}
  attach:
    clusterId: {cluster_id or aks_id(cluster)}
{extra}"""


def create(name: str = "dev-scoring", purpose: str = "DevTest", vm: str = "Standard_D3_v2", count: int = 1,
           ws: str = "prod", extra: str = "") -> str:
    """Line 10 location, 11 vmSize, 12 agentCount; `extra` continues under create."""
    return f"""apiVersion: reconciler.aml/v1
kind: InferenceCluster
metadata:
  name: {name}
spec:
  workspace: {ws}
  description: test
  clusterPurpose: {purpose}
  create:
    location: westeurope
    vmSize: {vm}
    agentCount: {count}
{extra}"""


def write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


# -- desired and observed state (planner, executor and render tests) ------------------------------------------------

WS = WorkspaceRef(SUB, RESOURCE_GROUP, WORKSPACE)
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


def tls_pair(cname: str = "api.example.com", *, days: int = 365) -> tuple[str, str]:
    """A real PEM certificate for `cname` (from a throw-away trustme CA) and its private key."""
    import datetime as _dt

    import trustme

    now = _dt.datetime.now(_dt.timezone.utc)
    leaf = trustme.CA().issue_cert(cname, not_before=now - _dt.timedelta(days=1), not_after=now + _dt.timedelta(days=days))
    return leaf.cert_chain_pems[0].bytes().decode(), leaf.private_key_pem.bytes().decode()


def extension(name: str = "serving-aks", cluster: str = "serving-aks", *, inference: str = "allowInsecureConnections: true",
              extra: str = "", sub: str = SUB) -> str:
    """A ClusterExtension document; `inference` is the body of spec.inference (YAML flow items, one per line)."""
    body = "".join(f"    {line}\n" for line in inference.splitlines())
    return (f"apiVersion: reconciler.aml/v1\nkind: ClusterExtension\nmetadata:\n  name: {name}\nspec:\n"
            f"  clusterId: {aks_id(cluster, sub)}\n  inference:\n{body}{extra}")


def kubernetes(name: str = "k8s-team-a", cluster: str = "serving-aks", namespace: str = "team-a", *, ws: str = "prod",
               extra: str = "", sub: str = SUB) -> str:
    """A KubernetesCompute document."""
    return (f"apiVersion: reconciler.aml/v1\nkind: KubernetesCompute\nmetadata:\n  name: {name}\nspec:\n"
            f"  workspace: {ws}\n  clusterId: {aks_id(cluster, sub)}\n  namespace: {namespace}\n{extra}")

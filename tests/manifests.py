"""Builders of manifest text for tests: one valid baseline, edited per case."""

from __future__ import annotations

from pathlib import Path

SUB = "00000000-0000-0000-0000-000000000001"
OTHER_SUB = "00000000-0000-0000-0000-000000000002"


def aks_id(name: str, sub: str = SUB, rg: str = "aks-rg") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"


def workspace(alias: str = "prod", ws: str = "ml-prod", sub: str = SUB, prune: bool = False) -> str:
    return f"""apiVersion: reconciler.aml/v1
kind: Workspace
metadata:
  name: {alias}
spec:
  subscriptionId: {sub}
  resourceGroup: ml-prod-rg
  workspaceName: {ws}
  prune: {str(prune).lower()}
"""


def attach(name: str = "scoring-prod", cluster: str = "scoring-aks", ws: str = "prod", extra: str = "", cluster_id: str | None = None,
           purpose: str = "FastProd", description: str = "test") -> str:
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


def create(name: str = "dev-scoring", purpose: str = "DevTest", vm: str = "Standard_D3_v2", count: int = 1, ws: str = "prod", extra: str = "") -> str:
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

"""End-to-end: the real `reconciler` CLI (a subprocess) against an emulator process over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.builders import SUB, attach, create, seed_cluster, seed_world, workspace
from tests.builders import aks_id as aks
from tests.builders import seed_attached_compute as attached_compute
from tests.emulator_process import start_emulator, stop_emulator

__all__ = ["aks", "attach_doc", "attached_compute", "create_doc", "seed"]
ROOT = Path(__file__).resolve().parents[2]


def seed(computes: dict | None = None, clusters: dict | None = None) -> dict:
    """The end-to-end world: five clusters in two regions, one workspace holding `computes`."""
    base_clusters = {
        "scoring-aks": seed_cluster("westeurope", "1.30.5"),
        "internal-aks": seed_cluster("westeurope", "1.31.2"),
        "other-aks": seed_cluster("northeurope", "1.30.5", vm="Standard_D4_v2", count=2),
        "old-aks": seed_cluster("westeurope", "1.27.1"),
        "tiny-aks": seed_cluster("westeurope", "1.30.5", vm="Standard_D2_v2", count=1),
        **(clusters or {}),
    }
    versions = {
        "westeurope": [
            {"version": "1.30.5", "default": True},
            {"version": "1.31.2"},
            {"version": "1.32.0", "preview": True},
        ],
        "northeurope": [{"version": "1.30.5", "default": True}],
    }
    return seed_world(base_clusters, computes, versions=versions)


# One set of manifest builders for every test.
attach_doc, create_doc = attach, create


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


class Cloud:
    """An emulator process plus a manifests folder, driven through the CLI."""

    def __init__(self, tmp: Path, seed_data: dict, time_scale: float = 0.001, faults: str | None = None) -> None:
        self.dir = tmp
        self.manifests = tmp / "manifests"
        self.manifests.mkdir()
        seed_file = tmp / "seed.yaml"
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False  # the pure dumper's flow style breaks URLs with a port
        yaml.dump(seed_data, seed_file)
        options = ["--time-scale", str(time_scale)] + (["--faults", faults, "--fault-seed", "7"] if faults else [])
        self.proc, self.url = start_emulator(seed_file, *options, stderr=subprocess.PIPE)

    def write(self, prune: bool = False, **docs: str) -> None:
        for f in self.manifests.glob("*.yaml"):
            f.unlink()
        (self.manifests / "workspace.yaml").write_text(workspace(prune=prune))
        for name, text in docs.items():
            (self.manifests / f"{name}.yaml").write_text(text)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "AZURE_"))}
        env.update(RECONCILER_ARM_ENDPOINT=self.url, PYTHONPATH=str(ROOT), **extra)
        return env

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            capture_output=True,
            text=True,
            cwd=self.dir,
            env=env or self.env(),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str, **extra_env: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.dir,
            env=self.env(**extra_env),
            stdin=subprocess.DEVNULL,
        )

    def admin(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + "/_emulator/" + path,
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def audit(self) -> dict:
        return self.admin("audit")

    def computes(self) -> dict:
        ws = self.admin("state")["subscriptions"][SUB]["resourceGroups"]["ml-prod-rg"]["workspaces"]["ml-prod"]
        return ws.get("computes", {})

    def close(self) -> None:
        stop_emulator(self.proc)


@pytest.fixture
def make_cloud(tmp_path):
    clouds: list[Cloud] = []

    def make(seed_data: dict | None = None, **kw) -> Cloud:
        folder = tmp_path / f"cloud{len(clouds)}"
        folder.mkdir()
        cloud = Cloud(folder, seed_data or seed(), **kw)
        clouds.append(cloud)
        return cloud

    yield make
    for cloud in clouds:
        cloud.close()

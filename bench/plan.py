"""Benchmark of observing a fleet (every compute and cluster: what a first `plan` reads) against the emulator with latency.

Fleets of 10 / 100 / 1,000 attached AKS computes over 1 / 10 / 100 workspaces, one
cluster per compute, clusters spread over three regions and one to three
subscriptions (each workspace's clusters in its own subscription, as Azure requires).
Every response is delayed by --latency-ms (default 50).

For each fleet it prints:
- `observe`: HTTP calls made (pages and retries included, checked against the
  emulator's audit) vs the lower bound W + S + L (workspaces + subscriptions +
  regions), the emulator's 50-item paging adding pages on top; wall time (first run,
  then best of --repeat); the target is 3 × latency + 1 s.
- the whole `reconciler plan` command (process start to exit, manifests for the same
  fleet, every attachment already matching: it reads the computes lists alone):
  what a user waits for; "ok" needs the fewest calls AND the command within
  the target (observe alone once passed for a command twice as slow);
- a per-resource refresh baseline, as Terraform does it: one GET per compute and per
  cluster, --parallelism 10: its calls and wall time.

Prints figures; no assertions. Run: `.venv/bin/python bench/plan.py [--sizes 10,100,1000]`.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from reconciler import workflow
from reconciler.cloud.aks import AksClient
from reconciler.cloud.arm import ComputesClient
from reconciler.cloud.auth import connect
from reconciler.cloud.observe import ObserveStats
from reconciler.emulator import Emulator
from reconciler.state import WorkspaceRef

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import emulator_process
from tests.builders import aks_id, sub_id

REGIONS = ("westeurope", "eastus", "southeastasia")
PAGE = 50  # the emulator's page size
FLEETS = {10: (1, 1), 100: (10, 2), 1000: (100, 3)}  # computes -> (workspaces, subscriptions)


def cluster_id(sub: str, name: str) -> str:
    return aks_id(name, sub)


@dataclass
class Fleet:
    seed: dict
    workspaces: list[WorkspaceRef]
    computes: list[tuple[WorkspaceRef, str]]
    clusters: list[str]
    per_sub_clusters: dict[str, int]


def make_fleet(n_computes: int, n_workspaces: int, n_subs: int) -> Fleet:
    versions = [{"version": "1.30.5", "default": True}, {"version": "1.31.2"}, {"version": "1.32.0", "preview": True}]
    subs: dict[str, dict] = {
        sub_id(i): {"resourceGroups": {"aks-rg": {"managedClusters": {}}, "ml-rg": {"workspaces": {}}}}
        for i in range(n_subs)
    }
    workspaces, computes, clusters = [], [], []
    per_sub: dict[str, int] = {}
    per_ws = n_computes // n_workspaces
    for w in range(n_workspaces):
        sub = sub_id(w % n_subs)
        ref = WorkspaceRef(sub, "ml-rg", f"ws-{w:03d}")
        workspaces.append(ref)
        ws_computes = {}
        for c in range(per_ws):
            k = w * per_ws + c
            name = f"aks-{k:04d}"
            subs[sub]["resourceGroups"]["aks-rg"]["managedClusters"][name] = {
                "location": REGIONS[k % len(REGIONS)],
                "kubernetesVersion": "1.30.5",
                "agentPools": [{"name": "nodepool1", "vmSize": "Standard_D3_v2", "count": 3, "mode": "System"}],
            }
            cid = cluster_id(sub, name)
            ws_computes[f"score{k:04d}"] = {
                "tags": {"reconciler-managed": "true"},
                "properties": {"computeType": "AKS", "resourceId": cid, "properties": {"clusterPurpose": "FastProd"}},
            }
            computes.append((ref, f"score{k:04d}"))
            clusters.append(cid)
            per_sub[sub] = per_sub.get(sub, 0) + 1
        subs[sub]["resourceGroups"]["ml-rg"]["workspaces"][ref.workspace_name] = {
            "location": "westeurope",
            "computes": ws_computes,
        }
    seed = {"kubernetesVersions": {r: versions for r in REGIONS}, "subscriptions": subs}
    return Fleet(seed, workspaces, computes, clusters, per_sub)


@contextlib.contextmanager
def emulator(seed: dict, latency_ms: int, in_process: bool) -> Iterator[str]:
    """The emulator in its own process by default: Azure does not share our interpreter's GIL."""
    if in_process:
        with Emulator(seed, time_scale=0, latency_ms=latency_ms) as emu:
            yield emu.url or ""
        return
    with emulator_process.emulator(seed, latency_ms=latency_ms) as url:
        yield url


def audit_total(url: str) -> int:
    return sum(requests.get(f"{url}/_emulator/audit", timeout=30).json()["requests"].values())


def refresh_per_resource(url: str, fleet: Fleet, parallelism: int) -> tuple[int, float]:
    """Terraform-style refresh: one GET per compute and per cluster, `parallelism` at a time."""
    conn = connect(url)
    conn.max_workers = parallelism
    computes, aks = ComputesClient(conn), AksClient(conn)
    before = audit_total(url)
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=parallelism) as pool:
        jobs = [pool.submit(computes.get, ws, name) for ws, name in fleet.computes]
        jobs += [pool.submit(aks.get_cluster, cid) for cid in fleet.clusters]
        for job in jobs:
            job.result()
    wall = time.perf_counter() - t0
    computes.close()
    aks.close()
    return audit_total(url) - before, wall


def write_manifests(fleet: Fleet, folder: Path) -> None:
    """One file per workspace: its Workspace manifest and an attach manifest per compute."""
    by_ws: dict[str, list[str]] = {}
    for (ref, name), cid in zip(fleet.computes, fleet.clusters, strict=True):
        by_ws.setdefault(ref.workspace_name, []).append(
            f"apiVersion: reconciler.aml/v1\nkind: InferenceCluster\nmetadata: {{name: {name}}}\n"
            f"spec: {{workspace: {ref.workspace_name}, attach: {{clusterId: {cid}}}}}\n"
        )
    for ref in fleet.workspaces:
        head = (
            f"apiVersion: reconciler.aml/v1\nkind: Workspace\nmetadata: {{name: {ref.workspace_name}}}\n"
            f"spec: {{subscriptionId: {ref.subscription_id}, resourceGroup: {ref.resource_group}, "
            f"workspaceName: {ref.workspace_name}}}\n"
        )
        (folder / f"{ref.workspace_name}.yaml").write_text("---\n".join([head, *by_ws.get(ref.workspace_name, [])]))


def plan_command(url: str, fleet: Fleet, repeat: int) -> float:
    """Median wall time of the whole `reconciler plan` command over the fleet's manifests."""
    exe = Path(sys.executable).parent / "reconciler"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "reconciler"]
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        write_manifests(fleet, Path(tmp))
        for _ in range(max(1, repeat)):
            start = time.perf_counter()
            proc = subprocess.run([*cmd, "--endpoint", url, "plan", tmp], capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            assert proc.returncode == 0, proc.stdout[-1000:] + proc.stderr[-1000:]
    return sorted(walls)[len(walls) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,100,1000", help="fleet sizes (computes) among 10,100,1000")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parallelism", type=int, default=10, help="of the per-resource baseline")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--in-process", action="store_true", help="run the emulator in this process (shares the GIL)")
    args = ap.parse_args()
    latency = args.latency_ms / 1000
    target = 3 * latency + 1.0
    where = "in-process" if args.in_process else "separate process"
    print(f"emulator in a {where}, {os.cpu_count()} CPUs")
    print(f"latency {args.latency_ms} ms per response; observe target: calls = W + S + L, wall <= {target:.2f} s")
    header = (
        f"{'computes':>8} {'W':>4} {'S':>2} {'L':>2} {'W+S+L':>6} {'+pages':>6} {'calls':>6} {'first s':>8} "
        f"{'best s':>7} {'command s':>9} {'ok':>3} | {'refresh calls':>13} {'refresh s':>9}"
    )
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        n_ws, n_subs = FLEETS[size]
        fleet = make_fleet(size, n_ws, n_subs)
        with emulator(fleet.seed, args.latency_ms, args.in_process) as url:
            walls, calls, stats = [], 0, ObserveStats()
            for _ in range(max(1, args.repeat)):
                stats = ObserveStats()
                before = audit_total(url)
                # Every compute and every cluster: what a plan reads when no attachment matches its
                # manifest yet (a plan of attachments that all match reads the computes lists alone).
                with workflow.connect(url, stats=stats) as cloud:
                    state = cloud.read(fleet.workspaces, fleet.clusters, [])
                calls = audit_total(url) - before
                walls.append(stats.seconds)
                assert calls == stats.calls, (calls, stats.calls)
                assert sum(len(w.computes) for w in state.workspaces.values()) == size
                assert len(state.clusters) == size and len(state.versions) == len(REGIONS)
            # paging: the least any client can do with 50-item pages (computes lists and cluster lists)
            paged = (
                sum(math.ceil(max(1, size // n_ws) / PAGE) for _ in fleet.workspaces)
                + sum(math.ceil(n / PAGE) for n in fleet.per_sub_clusters.values())
                + stats.regions
            )
            command = plan_command(url, fleet, args.repeat)
            ok = "yes" if calls == paged and command <= target else "NO"
            refresh = ("-", "-") if args.no_baseline else refresh_per_resource(url, fleet, args.parallelism)
        r_calls, r_wall = refresh
        print(
            f"{size:>8} {stats.workspaces:>4} {stats.cluster_fetches:>2} {stats.regions:>2} {stats.lower_bound:>6} "
            f"{paged:>6} {calls:>6} {walls[0]:>8.3f} {min(walls):>7.3f} {command:>9.3f} {ok:>3} | {r_calls:>13} "
            f"{r_wall if isinstance(r_wall, str) else f'{r_wall:.2f}':>9}"
        )
    print(
        "W+S+L: one call per workspace, per cluster fetch (list per subscription), per region; "
        "+pages: the same with the emulator's 50-item pages (the true minimum)."
    )


if __name__ == "__main__":
    main()

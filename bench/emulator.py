"""Benchmark of the local ARM emulator: GET compute and full attach LROs per second.

Starts an in-process emulator at time_scale 0 and drives it with several client threads,
each over its own keep-alive HTTP/1.1 connection (http.client). Prints figures; no
assertions. Run: ``.venv/bin/python bench/emulator.py [--seconds 3] [--threads 4]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.emulator import Emulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.builders import SUB, aks_id

WS = f"/subscriptions/{SUB}/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
HEADERS = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
N_CLUSTERS = 20_000


def seed() -> dict:
    clusters = {
        f"aks{i}": {
            "location": "westeurope",
            "kubernetesVersion": "1.30.5",
            "agentPools": [{"name": "nodepool1", "vmSize": "Standard_D3_v2", "count": 3}],
        }
        for i in range(N_CLUSTERS)
    }
    return {
        "kubernetesVersions": {"westeurope": [{"version": "1.30.5", "default": True}]},
        "subscriptions": {
            SUB: {
                "resourceGroups": {
                    "aks-rg": {"managedClusters": clusters},
                    "ml-rg": {
                        "workspaces": {
                            "ws": {
                                "location": "westeurope",
                                "computes": {
                                    "bench-get": {"properties": {"computeType": "AKS", "resourceId": aks_id("aks0")}}
                                },
                            }
                        }
                    },
                }
            }
        },
    }


def run_threads(n: int, seconds: float, work) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    counts = [0] * n
    stop = time.perf_counter() + seconds

    def loop(i: int) -> None:
        counts[i] = work(i, stop)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    with Emulator(seed(), time_scale=0) as emu:
        host, port = urlsplit(emu.url).hostname, urlsplit(emu.url).port

        def get_work(i: int, stop: float) -> int:
            conn = http.client.HTTPConnection(host, port)
            n = 0
            path = f"{WS}/computes/bench-get?api-version=2026-07-01"
            while time.perf_counter() < stop:
                conn.request("GET", path, headers=HEADERS)
                r = conn.getresponse()
                r.read()
                assert r.status == 200, r.status
                n += 1
            conn.close()
            return n

        next_cluster = iter(range(1, N_CLUSTERS))
        lock = threading.Lock()
        polls = [0]

        def attach_work(i: int, stop: float) -> int:
            conn = http.client.HTTPConnection(host, port)
            n = 0
            while time.perf_counter() < stop:
                with lock:
                    k = next(next_cluster)
                body = json.dumps(
                    {
                        "location": "westeurope",
                        "properties": {
                            "computeType": "AKS",
                            "resourceId": f"/subscriptions/{SUB}/resourceGroups/aks-rg/providers/"
                            f"Microsoft.ContainerService/managedClusters/aks{k}",
                        },
                    }
                )
                path = f"{WS}/computes/c{k}x?api-version=2026-07-01"
                conn.request("PUT", path, body=body, headers=HEADERS)
                r = conn.getresponse()
                r.read()
                assert r.status == 201, r.status
                status_url = urlsplit(r.getheader("Azure-AsyncOperation"))
                while True:
                    conn.request("GET", f"{status_url.path}?{status_url.query}", headers=HEADERS)
                    s = conn.getresponse()
                    st = json.loads(s.read())["status"]
                    with lock:
                        polls[0] += 1
                    if st != "InProgress":
                        break
                assert st == "Succeeded", st
                conn.request("GET", path, headers=HEADERS)
                g = conn.getresponse()
                g.read()
                assert g.status == 200
                n += 1
            conn.close()
            return n

        gets, t = run_threads(args.threads, args.seconds, get_work)
        print(
            f"GET compute:      {gets / t:8.0f} requests/s  ({gets} requests, {args.threads} keep-alive "
            f"threads, {t:.1f} s)"
        )
        lros, t = run_threads(args.threads, args.seconds, attach_work)
        reqs = lros * 2 + polls[0]
        print(
            f"attach LRO:       {lros / t:8.0f} operations/s  ({lros} PUT+poll+GET cycles, {reqs} requests, "
            f"{reqs / t:.0f} requests/s)"
        )


if __name__ == "__main__":
    main()

"""Validate 1,000 manifests across 20 workspaces; print wall time and peak memory.

Target (issue 2): <= 1 s on a 2-core machine. Run: python bench/validate.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.builders import SUB, aks_id

WORKSPACES, CLUSTERS = 20, 1000


def generate(root: Path) -> None:
    for w in range(WORKSPACES):
        (root / f"ws{w:02d}").mkdir()
        (root / f"ws{w:02d}" / "workspace.yaml").write_text(
            f"apiVersion: reconciler.aml/v1\nkind: Workspace\nmetadata:\n  name: ws{w:02d}\n"
            f"spec:\n  subscriptionId: {SUB}\n  resourceGroup: rg-{w}\n  workspaceName: ml-{w}\n"
        )
    for i in range(CLUSTERS):
        w = i % WORKSPACES
        if i % 2:
            body = (
                f"  attach:\n    clusterId: {aks_id(f'aks-{i}')}\n"
                f"  tls:\n    enabled: true\n    leafDomainLabel: label{i}\n"
            )
        else:
            body = "  create:\n    location: westeurope\n    vmSize: Standard_D3_v2\n    agentCount: 3\n"
        (root / f"ws{w:02d}" / f"cluster-{i}.yaml").write_text(
            "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
            f"apiVersion: reconciler.aml/v1\nkind: InferenceCluster\nmetadata:\n  name: scoring{i}\n"
            f"spec:\n  workspace: ws{w:02d}\n  description: Benchmark cluster {i}\n  clusterPurpose: FastProd\n{body}"
        )


def main() -> None:
    from reconciler import loader, rules

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root)
        start = time.perf_counter()
        result = loader.load([root])
        findings = result.findings + rules.check(result)
        in_process = time.perf_counter() - start
        assert not [f for f in findings if f.is_error], findings[:3]
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "reconciler", "validate", str(root)], capture_output=True, text=True
        )
        cli = time.perf_counter() - start
        child_peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    print(f"manifests: {CLUSTERS} clusters + {WORKSPACES} workspaces in {len(result.files)} files")
    print(f"validate in-process: {in_process:.3f} s  (target <= 1 s)  peak RSS {peak_mib:.0f} MiB")
    print(
        f"validate CLI (incl. interpreter start): {cli:.3f} s  exit {proc.returncode}  peak RSS {child_peak_mib:.0f} MiB"
    )
    print(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()

"""MIGRATION.md for the demo workspace (the repository's manifests on the local cloud) lists every change a user must make."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.e2e.conftest import ROOT


def migrate_demo(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "AZURE_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        RECONCILER_LOCAL_SEED=str(ROOT / "manifests" / "local-cloud.yaml"),
        RECONCILER_LOCAL_STATE=str(tmp_path / "local-cloud.json"),
        RECONCILER_LOCAL_TIME_SCALE="0.001",
    )
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "--cloud", "local", "migrate", str(ROOT / "manifests"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_migration_md_for_the_demo_workspace_lists_url_keys_tls_and_cluster_wide_settings(tmp_path):
    run = migrate_demo(tmp_path, "--strategy", "same-cluster", "--out", "migrated")
    assert run.returncode == 0, run.stdout + run.stderr
    md = (tmp_path / "migrated" / "MIGRATION.md").read_text()
    for compute in ("scoring-prod", "partner-api", "batch-internal"):
        section = md.split(f"### prod/{compute} → prod/{compute}-k8s")[1].split("### ")[0]
        assert (
            "**Scoring URL**" in section
            and "/api/v1/service/<service>/score" in section
            and "/api/v1/endpoint/" in section
        )
        assert "**Keys**" in section and "get-credentials" in section
        assert "**TLS**" in section and "**Cluster-wide settings**" in section
    assert "leaf-label certificate (`fraud`) has no v2 equivalent" in md and "backup-tls scoring-prod" in md
    assert "custom certificate for `scoring.partner.example.com`: carried" in md
    assert "internal LB true" in md
    assert "## Expected downtime" in md and "## Phases, in order" in md and "## Commands" in md
    # the leaf-label certificate cannot be carried without a backup: a TODO that validate refuses
    ext = (tmp_path / "migrated" / "scoring-aks-extension.yaml").read_text()
    assert "TODO(migrate)" in ext
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "AZURE_"))}
    check = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "migrated"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert check.returncode == 1 and "MIG010" in check.stdout + check.stderr


def test_migrate_never_overwrites(tmp_path):
    assert migrate_demo(tmp_path, "--strategy", "same-cluster", "--out", "migrated").returncode == 0
    again = migrate_demo(tmp_path, "--strategy", "same-cluster", "--out", "migrated")
    assert again.returncode == 1 and "already exist" in again.stderr and "Traceback" not in again.stderr

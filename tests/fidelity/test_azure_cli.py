"""The Azure CLI, unmodified, against `python -m reconciler.emulator --tls`, set up the way
the CLI documents for a custom cloud (as for Azure Stack): `az cloud register`, then
`az login --service-principal` with MSAL instance discovery off."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import AKS_RG, SUB, Running, cached_venv, cluster_id

pytestmark = pytest.mark.fidelity

TENANT = "00000000-0000-0000-0000-00000000e7a1"


def _az(bin_dir: Path, run: Running, config: Path, *args: str) -> subprocess.CompletedProcess:
    env = run.env(
        AZURE_CONFIG_DIR=str(config),
        AZURE_CORE_COLLECT_TELEMETRY="false",
        AZURE_CORE_NO_COLOR="true",
        AZURE_CORE_ONLY_SHOW_ERRORS="true",
    )
    r = subprocess.run([str(bin_dir / "az"), *args], capture_output=True, text=True, env=env, timeout=180)
    assert r.returncode == 0, f"az {' '.join(args)} -> {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "Traceback" not in r.stderr
    return r


def test_az_cloud_register_login_and_aks_commands(emulator: Running, tmp_path: Path) -> None:
    az = cached_venv("azure-cli")
    cfg = tmp_path / "azure-config"
    _az(az, emulator, cfg, "config", "set", "core.instance_discovery=false")
    _az(
        az,
        emulator,
        cfg,
        "cloud",
        "register",
        "-n",
        "ReconcilerLocal",
        "--endpoint-resource-manager",
        emulator.url + "/",
    )
    _az(az, emulator, cfg, "cloud", "set", "-n", "ReconcilerLocal")
    cloud = json.loads(_az(az, emulator, cfg, "cloud", "show", "-o", "json").stdout)
    assert cloud["endpoints"]["resourceManager"] == emulator.url + "/"
    assert cloud["endpoints"]["activeDirectory"] == emulator.url + "/"
    elsewhere = {k: v for k, v in cloud["endpoints"].items() if v and not v.startswith(emulator.url)}
    assert elsewhere == {}, "the CLI filled endpoints from a public cloud's table"
    _az(
        az,
        emulator,
        cfg,
        "login",
        "--service-principal",
        "-u",
        "11111111-1111-1111-1111-111111111111",
        "-p",
        "any-secret",
        "--tenant",
        TENANT,
        "-o",
        "none",
    )
    _az(az, emulator, cfg, "account", "set", "-s", SUB)

    table = _az(az, emulator, cfg, "aks", "get-versions", "-l", "westeurope", "-o", "table").stdout
    rows = [line.split() for line in table.splitlines()[2:] if line.strip()]
    assert [r[0] for r in rows] == ["1.32.0", "1.31.2", "1.30.5"]
    assert rows[0][1] == "True"  # 1.32 is a preview in the seed

    shown = _az(az, emulator, cfg, "aks", "show", "-n", "scoring-aks", "-g", AKS_RG, "--query", "id").stdout
    assert json.loads(shown) == cluster_id("scoring-aks")

    pools = json.loads(
        _az(
            az, emulator, cfg, "aks", "nodepool", "list", "--cluster-name", "scoring-aks", "-g", AKS_RG, "-o", "json"
        ).stdout
    )
    assert [(p["name"], p["count"], p["vmSize"], p["mode"]) for p in pools] == [
        ("nodepool1", 3, "Standard_D3_v2", "System")
    ]

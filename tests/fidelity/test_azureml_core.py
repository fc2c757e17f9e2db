"""azureml-core, the SDK of the how-to this project comes from, running the how-to's own code
(in a cached venv: it pins dependencies the project's own tools cannot share)."""

from __future__ import annotations

import pytest
import requests

from .conftest import AKS_RG, SUB, WS, WS_RG, Running, cached_venv, cluster_id, fake_jwt, last_json, run_script

pytestmark = pytest.mark.fidelity


def test_howto_attach_wait_detach_and_create_devtest(emulator: Running, tmp_path) -> None:
    python = cached_venv("azureml-core") / "python"
    metadata = f"{emulator.url}/metadata/endpoints?api-version=2019-05-01"
    (cloud,) = requests.get(metadata, verify=emulator.ca_bundle, timeout=10).json()
    env = emulator.env(
        ARM_CLOUD_METADATA_URL=metadata,
        AZUREML_CURRENT_CLOUD=cloud["name"],
        AZURE_CONFIG_DIR=str(tmp_path / "azure-config"),
    )
    r = run_script(
        python, "azureml_core_howto.py", emulator, SUB, WS_RG, WS, AKS_RG, "scoring-aks", fake_jwt(), env=env
    )
    seen = last_json(r)
    assert seen["arm"].rstrip("/") == emulator.url
    assert seen["workspace"] == WS and seen["location"] == "westeurope"
    assert seen["attached_state"] == "Succeeded"
    assert seen["attached_resource_id"].lower() == cluster_id("scoring-aks").lower()
    assert seen["targets"] == ["howto-attached", "legacy-scoring"]
    assert seen["get_type"] == "AksCompute" and seen["get_agent_count"] == 3
    # detach() does not wait: like Azure, the compute is Deleting until the detach completes
    assert seen["after_detach"] in (
        {"legacy-scoring": "Succeeded"},
        {"legacy-scoring": "Succeeded", "howto-attached": "Deleting"},
    )
    assert seen["created_state"] == "Succeeded" and seen["created_purpose"] == "DevTest"
    assert seen["at_end"] == ["howto-devtest", "legacy-scoring"]
    assert "Succeeded" in r.stdout  # wait_for_completion(show_output=True) printed progress
    assert "unable to load cloud metadata" not in r.stderr  # it never reached for Azure's own metadata

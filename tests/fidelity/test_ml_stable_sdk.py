"""The newest stable azure-mgmt-machinelearningservices (it cannot share a venv with the
2.0.0b2 preview the project tests with), in a cached venv of its own."""

from __future__ import annotations

import pytest

from .conftest import SUB, WS, WS_RG, Running, cached_venv, cluster_id, fake_jwt, last_json, run_script

pytestmark = pytest.mark.fidelity


def test_stable_ml_sdk_list_get_attach_create_detach_delete(emulator: Running) -> None:
    python = cached_venv("ml-stable") / "python"
    seen = last_json(
        run_script(python, "ml_stable_sdk.py", emulator, SUB, WS_RG, WS, cluster_id("second-aks"), fake_jwt())
    )
    assert not seen["sdk"].startswith(("0.", "2.0.0b")), seen["sdk"]
    assert seen["list"] == ["legacy-scoring"]
    assert seen["get_type"] == "AKS" and seen["get_resource_id"].endswith("/managedClusters/legacy-aks")
    assert seen["attached"] == ["Succeeded", True, cluster_id("second-aks")]
    assert seen["created"] == ["Succeeded", False, 3]
    assert seen["list_after"] == ["legacy-scoring", "stable-attached", "stable-created"]
    assert seen["list_end"] == ["legacy-scoring"]

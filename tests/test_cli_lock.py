"""`reconciler force-unlock` through the CLI, on the file lock (`--lock file`; on Azure the default is the Blob lease)."""

from __future__ import annotations

from reconciler import lock
from tests.builders import WS, workspace


def test_force_unlock_refuses_a_live_holder_and_clears_a_stale_one(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "ws.yaml").write_text(workspace())
    with lock.workspace_lock(WS, None, command="apply"):
        held = run_cli("force-unlock", "prod", "--lock", "file")
        assert held.exit_code == 1 and "apply" in held.stderr
    free = run_cli("force-unlock", "prod", "--lock", "file")
    assert free.exit_code == 0, free.stderr
    by_id = run_cli("force-unlock", "00000000-0000-0000-0000-000000000001/ml-prod-rg/ml-prod", "--lock", "file")
    assert by_id.exit_code == 0


def test_force_unlock_of_an_unknown_alias_is_a_usage_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "ws.yaml").write_text(workspace())
    assert run_cli("force-unlock", "nope").exit_code == 64

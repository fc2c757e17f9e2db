"""`python -m reconciler.emulator` as a process, and state-file persistence/resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from reconciler.emulator import Emulator

from .conftest import Arm, cluster_id, make_seed

ROOT = Path(__file__).resolve().parents[2]


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler.emulator", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
    return proc, line.removeprefix("listening on ")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_module_serves_and_resumes_from_state(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    with seed.open("w") as f:
        YAML(typ="safe").dump(make_seed(), f)
    state = tmp_path / "state.json"
    proc, url = _start("--port", "0", "--seed", str(seed), "--state", str(state), "--time-scale", "0")
    try:
        arm = Arm(url)
        assert arm.get(arm.compute("legacy-scoring")).status_code == 200
        assert arm.wait(arm.attach("from-proc", cluster_id("scoring-aks")))["status"] == "Succeeded"
    finally:
        _stop(proc)
    assert json.loads(state.read_text())["formatVersion"] == 1
    proc, url = _start("--state", str(state), "--time-scale", "0")
    try:
        arm = Arm(url)
        assert arm.get(arm.compute("from-proc")).json()["properties"]["provisioningState"] == "Succeeded"
    finally:
        _stop(proc)


def test_sigint_also_exits_cleanly(tmp_path: Path) -> None:
    proc, _ = _start()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err


def test_bad_faults_flag_is_a_usage_error() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "reconciler.emulator", "--faults", "429=7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert r.returncode == 2 and "429" in r.stderr


@pytest.mark.slow  # waits for a real (scaled) attach across a restart
def test_in_flight_operation_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "cloud.json"
    scale = 0.005  # attach = 1.5 s
    with Emulator(make_seed(), state_file=state, time_scale=scale) as e:
        arm = Arm(e.url or "")
        r = arm.attach("resumed", cluster_id("scoring-aks"))
        started = time.time()
        assert r.status_code == 201
    saved = json.loads(state.read_text())
    (op,) = saved["operations"]
    assert op["status"] == "InProgress" and op["ends_at"] > started
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    with Emulator(None, state_file=state, time_scale=scale) as e:
        arm = Arm(e.url or "")
        assert arm.get(arm.compute("resumed")).json()["properties"]["provisioningState"] == "Creating"
        assert (
            arm.s.get(r.headers["Azure-AsyncOperation"].replace(r.url.split("/subscriptions")[0], e.url or "")).json()[
                "status"
            ]
            == "InProgress"
        )
        time.sleep(max(0.0, op["ends_at"] - time.time()) + 0.05)
        assert arm.get(arm.compute("resumed")).json()["properties"]["provisioningState"] == "Succeeded"
    final = json.loads(state.read_text())
    assert final["operations"][0]["status"] == "Succeeded"


def test_state_file_written_atomically(tmp_path: Path, monkeypatch) -> None:
    calls: list[tuple[str, str]] = []
    real = os.replace

    def spy(src, dst):  # type: ignore[no-untyped-def]
        calls.append((str(src), str(dst)))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    state = tmp_path / "s.json"
    with Emulator(make_seed(), state_file=state, time_scale=0) as e:
        arm = Arm(e.url or "")
        n = len(calls)
        arm.wait(arm.attach("atomic-one", cluster_id("scoring-aks")))
        assert len(calls) > n
        assert all(dst == str(state) and src != dst and Path(src).parent == tmp_path for src, dst in calls)
        json.loads(state.read_text())


def test_both_command_lines_share_one_option_definition() -> None:
    def options(*cmd: str) -> list[str]:
        r = subprocess.run([sys.executable, "-m", *cmd, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return sorted({w.strip("[],") for w in r.stdout.split() if w.startswith(("--", "[--"))})

    module, cli = options("reconciler.emulator"), options("reconciler", "emulator")
    assert module == cli and "--tls" in module and "--time-scale" in module


def test_cli_usage_errors_exit_64_and_the_module_2() -> None:
    for cmd, code in ((["reconciler.emulator"], 2), (["reconciler", "emulator"], 64)):
        r = subprocess.run(
            [sys.executable, "-m", *cmd, "--no-such-option"], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        assert r.returncode == code and "--no-such-option" in r.stderr and "Traceback" not in r.stderr

"""`reconciler emulator`: first line tells where it listens; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_emulator_command_serves_the_seed_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "emulator",
            "--port",
            "0",
            "--seed",
            "manifests/local-cloud.yaml",
            "--time-scale",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        with urllib.request.urlopen(line.split()[-1] + "/_emulator/state", timeout=10) as resp:
            state = json.load(resp)
        assert "westeurope" in state["kubernetesVersions"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err


def test_bad_fault_spec_is_a_usage_error_exit_64():
    run = subprocess.run(
        [sys.executable, "-m", "reconciler", "emulator", "--faults", "429=lots"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 64 and "Traceback" not in run.stderr and "429" in run.stderr

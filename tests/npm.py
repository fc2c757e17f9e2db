"""Test tools from the npm registry, installed once into the git-ignored `.reconciler/node`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NODE_DIR = REPO / ".reconciler" / "node"  # git-ignored (.reconciler/)
NPM_TIMEOUT = 900


def bin_path(name: str) -> Path:
    return NODE_DIR / "node_modules" / ".bin" / name


def install(package: str, version: str, bin_name: str, needed_for: str) -> Path:
    """`npm install PACKAGE@VERSION` unless its BIN_NAME is there already; fails the test with npm's output."""
    binary = bin_path(bin_name)
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"npm is not on PATH: it is needed to install {package} for {needed_for}", pytrace=False)
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(NODE_DIR), f"{package}@{version}", "--no-audit", "--no-fund"]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        streams = (exc.stdout, exc.stderr)
        out = "".join(x.decode(errors="replace") if isinstance(x, bytes) else (x or "") for x in streams)
        pytest.fail(f"`{' '.join(cmd)}` timed out after {NPM_TIMEOUT} s\n{out}", pytrace=False)
    if proc.returncode != 0 or not binary.exists():
        pytest.fail(
            f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}",
            pytrace=False,
        )
    return binary

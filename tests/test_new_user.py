"""As a new user would: clone the repository, run the README's main command verbatim, install the test
extra as the README's test command does, and run a smoke subset of the tests from the clone.

The whole suite is not run inside this test: `.ci/run` runs it once, from the README."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Quick files that still cross every layer: loader and rules, the CLI, the planner.
SMOKE = ["tests/test_cli_validate.py", "tests/test_planner.py"]
PYTEST = ".venv/bin/python -m pytest"

pytestmark = pytest.mark.slow


def readme_command(readme: str, marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.*?)\n```", readme, re.S)
    assert match, f"README has no {marker} block"
    return match.group(1)


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout to clone")
def test_readme_commands_work_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "reconciler"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    readme = (clone / "README.md").read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "VIRTUAL_ENV", "PYTHON"))}

    main = subprocess.run(
        ["bash", "-c", readme_command(readme, "main-command")],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert main.returncode == 0, main.stdout[-3000:] + main.stderr[-3000:]
    assert "to create" in main.stdout and "Verified: the workspaces match the manifests." in main.stdout
    assert main.stdout.rstrip().endswith("No changes. The workspaces match the manifests.")
    assert "Traceback" not in main.stderr
    assert "demo key" not in main.stdout + main.stderr

    # The README's test command up to pytest (venv + test extra), verbatim; then a smoke subset instead of the suite.
    test_command = readme_command(readme, "test-command")
    assert PYTEST in test_command, test_command
    install = test_command[: test_command.index(PYTEST)].rstrip().removesuffix("&&").rstrip()
    smoke = f"{install} && {PYTEST} -q -p no:cacheprovider {' '.join(SMOKE)}"
    tests = subprocess.run(["bash", "-c", smoke], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-3000:]
    assert re.search(r"\d+ passed", tests.stdout) and "failed" not in tests.stdout

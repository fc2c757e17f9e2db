from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler import cli


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli():
    """Run `reconciler ARGS` in-process through main(), with its exit-code mapping."""

    def invoke(*args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return Result(code, out.getvalue(), err.getvalue())

    return invoke


TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers by place and need, so that `-m "not e2e and not azurite and not slow and not fidelity"` is the fast loop.

    e2e: everything under tests/e2e/ (the real CLI as a subprocess against an emulator process).
    azurite: every test that uses the `azurite` fixture, directly or through another fixture.
    slow: marked in the test modules themselves (`pytestmark = pytest.mark.slow` or per test).
    """
    for item in items:
        if (TESTS / "e2e") in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
        if "azurite" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.azurite)

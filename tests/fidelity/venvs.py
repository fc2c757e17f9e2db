"""Cached virtual environments for clients that cannot share the project's venv.

Each environment is built from a requirements file in ``requirements/`` into
``.reconciler/fidelity-venvs/NAME-HASH`` (the hash covers the file and the Python version),
so a second run reuses it and an edited file builds a fresh one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).resolve().parent / "requirements"
CACHE = ROOT / ".reconciler" / "fidelity-venvs"
INSTALL_TIMEOUT_S = 900


class VenvUnavailable(Exception):
    """The environment could not be built (for example its packages do not install here)."""


def venv(name: str) -> Path:
    """The ``bin`` directory of the cached environment ``name``, built on first use."""
    req = REQUIREMENTS / f"{name}.txt"
    digest = hashlib.sha256(req.read_bytes() + sys.version.encode()).hexdigest()[:12]
    home = CACHE / f"{name}-{digest}"
    done = home / ".complete"
    if done.exists():
        return home / "bin"
    for stale in CACHE.glob(f"{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    home.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(home)], check=True, capture_output=True, text=True, timeout=120
        )
        subprocess.run(
            [str(home / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(req)],
            check=True,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
    except subprocess.CalledProcessError as e:
        shutil.rmtree(home, ignore_errors=True)
        tail = "\n".join((e.stderr or "").splitlines()[-5:])
        raise VenvUnavailable(f"pip could not install {req.name}: {tail}") from e
    except subprocess.TimeoutExpired as e:
        shutil.rmtree(home, ignore_errors=True)
        raise VenvUnavailable(f"installing {req.name} took longer than {e.timeout}s") from e
    done.write_text(req.read_text())
    return home / "bin"

"""Reading a saved plan file (`plan --out`) defensively: bounded, and checked for shape.

A plan file comes back from a pipeline artifact or a colleague's disk: it may be
truncated, hand-edited or not a plan at all. Everything `apply --plan` later reads
from it is checked here, so a bad file is one clear error and never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.safeio import UnsafeFileError, read_bounded

MAX_PLAN_BYTES = 16 * 1024 * 1024


class SavedPlanError(ValueError):
    """The file is not a usable saved plan; the message says why."""


def read(path: Path) -> dict[str, Any]:
    """The saved plan at `path`, or SavedPlanError."""
    try:
        raw = read_bounded(path, MAX_PLAN_BYTES)
    except UnsafeFileError as exc:
        raise SavedPlanError(f"cannot read plan file {path}: {exc}") from None
    try:
        saved = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SavedPlanError(f"cannot read plan file {path}: not JSON ({_first_line(exc)})") from None
    problem = shape_problem(saved)
    if problem:
        raise SavedPlanError(f"{path} is not a reconciler plan (formatVersion 1): {problem}")
    plan: dict[str, Any] = saved
    return plan


def shape_problem(saved: Any) -> str | None:
    """What is wrong with the parts of a saved plan that apply reads, or None."""
    if not isinstance(saved, dict):
        return "the file must hold a JSON object"
    if saved.get("formatVersion") != 1:
        return "formatVersion must be 1"
    if not isinstance(saved.get("manifestsDigest"), str):
        return "manifestsDigest must be a string"
    if not isinstance(saved.get("errors", []), list):
        return "errors must be a list"
    changes = saved.get("changes")
    if not isinstance(changes, list):
        return "changes must be a list"
    for i, change in enumerate(changes):
        where = f"changes[{i}]"
        if not isinstance(change, dict):
            return f"{where} must be an object"
        for key in ("address", "action"):
            if not isinstance(change.get(key), str):
                return f"{where}.{key} must be a string"
        steps = change.get("steps")
        if not isinstance(steps, list) or not all(isinstance(s, dict) and isinstance(s.get("op"), str) for s in steps):
            return f"{where}.steps must be a list of objects with an op"
    options = saved.get("options", {})
    if not isinstance(options, dict):
        return "options must be an object"
    for key in ("targets", "replace"):
        value = options.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"options.{key} must be a list of strings"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__

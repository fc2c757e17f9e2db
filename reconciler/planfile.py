"""Saved plans (`plan --out`, `apply --plan`): format version, private atomic write, read, stale check.

A saved plan applies only to the manifests and the Azure state it was made from: `read`
refuses other manifests, `refuse_stale` a world that changed since. Plan files hold no
secrets (diffs carry fingerprints only), but they describe your infrastructure, so they
are written 0600.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import render
from reconciler.plan import Plan, PlanOptions

FORMAT_VERSION = render.FORMAT_VERSION


class PlanFileError(Exception):
    """A saved plan that cannot be applied; the message says why and what to run."""


@dataclass(frozen=True)
class SavedPlan:
    """A plan file as read back: its JSON document, already checked against the manifests."""

    path: Path
    data: dict[str, Any]

    @property
    def options(self) -> PlanOptions:
        """A saved plan carries its own targets and replacements."""
        options = self.data.get("options", {})
        return PlanOptions(frozenset(options.get("targets", [])), frozenset(options.get("replace", [])))


def write(path: Path, plan: Plan) -> None:
    write_private(path, render.to_json(plan))


def write_private(path: Path, text: str) -> None:
    """Written 0600 and atomically (a reader never sees half a plan); the temp file is created
    O_EXCL|O_NOFOLLOW, so a symlink planted at its name is never written through."""
    from reconciler.safeio import UnsafeFileError
    from reconciler.safeio import write_private as write_safely

    try:
        write_safely(path, text)
    except UnsafeFileError as exc:
        raise PlanFileError(f"cannot write {path}: {exc}") from None


def read(path: Path, manifests_digest: str) -> SavedPlan:
    """Read a saved plan made from the manifests whose digest is given; PlanFileError otherwise.

    This is where a binding check (say, a digest over the plan and its inputs) belongs.
    """
    from reconciler import savedplan

    try:
        data = savedplan.read(path)  # bounded, no FIFO or device, shape checked
    except savedplan.SavedPlanError as exc:
        raise PlanFileError(str(exc)) from None
    if data.get("manifestsDigest") != manifests_digest:
        raise PlanFileError(f"the manifests changed since {path} was made; run `reconciler plan --out {path}` again")
    if data.get("errors"):
        raise PlanFileError(f"{path} has planning errors; it cannot be applied")
    return SavedPlan(path, data)


def fingerprint(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What must not have moved: each change's address, action, observed version and steps."""
    return sorted(
        (c["address"], c["action"], json.dumps(c.get("observed"), sort_keys=True), tuple(s["op"] for s in c["steps"]))
        for c in changes if c["action"] != "noop"
    )


def refuse_stale(saved: SavedPlan, current: Plan) -> None:
    """A saved plan applies only to the world it was made from."""
    now = render.to_dict(current)["changes"]
    if fingerprint(saved.data.get("changes", [])) != fingerprint(now):
        raise PlanFileError(
            "the saved plan is stale: the workspaces changed since it was made (or it was already applied); "
            "run `reconciler plan` again"
        )

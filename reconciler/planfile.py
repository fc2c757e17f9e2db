"""Saved plans (`plan --out`, `apply --plan`): format version, private atomic write, read, stale check.

A saved plan applies only to the manifests and the Azure state it was made from: `read`
refuses other manifests, `refuse_stale` a world that changed since. Plan files hold no
secrets (diffs carry fingerprints only), but they describe your infrastructure, so they
are written 0600.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import render
from reconciler.plan import Plan, PlanOptions

if TYPE_CHECKING:
    from reconciler.desired import Desired

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


def write(path: Path, plan: Plan, desired: "Desired | None" = None) -> None:
    write_private(path, to_json(plan, desired))


def to_json(plan: Plan, desired: "Desired | None" = None) -> str:
    """The plan file: the plan, plus (with the desired state) the binding that `apply --plan` checks."""
    doc = render.to_dict(plan)
    if desired is not None:
        doc["binding"] = binding(plan, desired)
    return json.dumps(doc, indent=2) + "\n"


# -- binding: what the plan was made from ------------------------------------------------------
BINDING_PARTS = {
    "manifests": "the manifests",
    "options": "the options (--target / --replace)",
    "secrets": "the TLS secrets (a certificate or key was changed)",
    "observed": "the observed Azure state (etags)",
    "changes": "the planned changes",
}


def _digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def _options_of(options: Any) -> dict[str, list[str]]:
    if isinstance(options, PlanOptions):
        return {"targets": sorted(options.targets), "replace": sorted(options.replace)}
    if not isinstance(options, dict) or not all(isinstance(options.get(k) or [], list) for k in ("targets", "replace")):
        raise TypeError("options")
    return {"targets": sorted(map(str, options.get("targets") or [])), "replace": sorted(map(str, options.get("replace") or []))}


def _secrets_digest(desired: "Desired", salt: bytes) -> str:
    """Salted and slow (scrypt): it binds the plan to the secrets without making a guessable hash of any of them."""
    material = sorted((c.address, k, fp or "") for c in desired.clusters for k, fp in c.fingerprints.items())
    blob = json.dumps(material, separators=(",", ":")).encode()
    return "scrypt:" + hashlib.scrypt(blob, salt=salt, n=2**14, r=8, p=1, dklen=32).hex()


def _observed_of(changes: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return sorted((str(c.get("address")), (c.get("observed") or {}).get("etag")) for c in changes)


def _parts(plan_doc: dict[str, Any], desired: "Desired", salt: bytes) -> dict[str, str]:
    return {
        "manifests": desired.digest,
        "options": _digest(_options_of(plan_doc.get("options"))),
        "secrets": _secrets_digest(desired, salt),
        "observed": _digest(_observed_of(plan_doc.get("changes") or [])),
        "changes": _digest(plan_doc.get("changes") or []),
    }


def _seal(parts: dict[str, str], salt: bytes) -> str:
    return _digest({"salt": salt.hex(), **parts})


def binding(plan: Plan, desired: "Desired", *, salt: bytes | None = None) -> dict[str, str]:
    doc = render.to_dict(plan)
    # Unique per plan (its time and content), so no precomputed table fits two plans; the
    # same plan printed and written gets the same binding.
    salt = salt if salt is not None else hashlib.sha256(_digest(doc).encode()).digest()[:16]
    parts = _parts(doc, desired, salt)
    return {"salt": salt.hex(), **parts, "digest": _seal(parts, salt)}


def check_binding(saved: SavedPlan, desired: "Desired", current: Plan | None = None) -> None:
    """Refuse a saved plan whose inputs differ from now, naming each difference.

    Without `current` (before connecting): the file's own integrity, the manifests, the
    options and the secrets. With `current` (the plan made again under the lock): the
    observed state and the changes.
    """
    bound = saved.data.get("binding")
    if not isinstance(bound, dict) or not all(isinstance(bound.get(k), str) for k in (*BINDING_PARTS, "salt", "digest")):
        raise PlanFileError(f"{saved.path} has no binding (made by an older version, or edited); run `reconciler plan --out` again")
    try:
        salt = bytes.fromhex(bound["salt"])
    except ValueError:
        raise PlanFileError(f"{saved.path}: the binding is malformed; run `reconciler plan --out` again") from None
    differs: list[str] = []
    if _seal({k: bound[k] for k in BINDING_PARTS}, salt) != bound["digest"]:
        differs.append("the binding itself (the plan file was edited)")
    if current is None:
        try:
            now = _parts(saved.data, desired, salt)
        except (TypeError, AttributeError, ValueError):
            raise PlanFileError(f"{saved.path} is malformed (options or changes of an unexpected shape); "
                                "run `reconciler plan --out` again") from None
        if now["options"] != bound["options"]:
            differs.append(BINDING_PARTS["options"] + " in the file were edited")
        if now["changes"] != bound["changes"]:
            differs.append(BINDING_PARTS["changes"] + " in the file were edited")
        for key in ("manifests", "secrets"):
            if now[key] != bound[key]:
                differs.append(BINDING_PARTS[key])
    else:
        doc = render.to_dict(current)
        if _digest(_observed_of(doc["changes"])) != bound["observed"]:
            differs.append(BINDING_PARTS["observed"])
        if _digest(doc["changes"]) != bound["changes"]:
            differs.append(BINDING_PARTS["changes"])
    if differs:
        stale = " (the saved plan is stale: the workspaces changed since it was made, or it was already applied)" if current is not None else ""
        raise PlanFileError(
            f"refusing {saved.path}{stale}: it differs from what it was made from: " + "; ".join(differs)
            + ". Nothing was changed; run `reconciler plan --out` again and review the new plan"
        )


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

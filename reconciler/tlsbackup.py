"""Backups of legacy TLS certificates (`azuremlfessl`) and the plan's check that none is lost unsaved.

A legacy AKS compute with a Microsoft leaf-label certificate serves on `<label>XXXXXX.<region>.cloudapp.azure.net`;
a new attach gets another name, and the certificate only lives in the cluster's `azuremlfessl` secret
(which the migration clean-up deletes). `backup-tls` saves it as PEM files; a re-attach can then use
them as a custom certificate with the same cname, keeping the endpoint's name.

Layout: FOLDER/WORKSPACE/COMPUTE/{cert.pem,key.pem}, files 0600, folders 0700, never overwritten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import safeio
from reconciler.catalogue import MIG003
from reconciler.desired import Desired
from reconciler.findings import Finding, Position
from reconciler.plan import Change, Op, Plan, Step
from reconciler.state import WorkspaceRef

DEFAULT_FOLDER = Path("tls-backups")
CERT, KEY = "cert.pem", "key.pem"


class BackupExistsError(Exception):
    """A backup file is already there: backups are never overwritten."""


def backup_dir(folder: Path, ws: WorkspaceRef, compute: str) -> Path:
    return folder / ws.workspace_name / compute


def has_backup(folder: Path, ws: WorkspaceRef, compute: str) -> bool:
    where = backup_dir(folder, ws, compute)
    return (where / CERT).is_file() and (where / KEY).is_file()


def write_backup(folder: Path, ws: WorkspaceRef, compute: str, certificate: str, key: str) -> Path:
    """Both PEM files, created exclusively (O_EXCL, no symlink followed) with mode 0600."""
    where = backup_dir(folder, ws, compute)
    for name in (CERT, KEY):
        if (where / name).exists() or (where / name).is_symlink():
            raise BackupExistsError(
                f"{where / name} already exists; backups are never overwritten (choose another --out)"
            )
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, text in ((CERT, certificate), (KEY, key)):
        try:
            fd = safeio.create_exclusive(where / name, 0o600)
        except FileExistsError:
            raise BackupExistsError(f"{where / name} already exists; backups are never overwritten") from None
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
    return where


@dataclass(frozen=True)
class AtRisk:
    """A legacy compute whose leaf-label certificate a step of the plan would lose."""

    change: Change
    workspace: WorkspaceRef
    compute: str
    label: str


def at_risk(plan: Plan) -> list[AtRisk]:
    """Detaches, deletes and re-attaches of a leaf-label TLS compute whose manifest brings no certificate of its own."""
    out = []
    for change in plan.actionable:
        observed = change.observed
        if change.workspace is None or observed is None or observed.is_kubernetes:
            continue
        tls = observed.tls
        if not (tls.enabled and tls.leaf_domain_label):
            continue
        if not any(s.op in (Op.DETACH, Op.DELETE) for s in change.steps):
            continue
        desired = change.desired
        if desired is not None and desired.custom_tls:
            continue  # the manifest holds the certificate the re-attach sends
        out.append(AtRisk(change, change.workspace, observed.name, tls.leaf_domain_label))
    return out


def add_save_steps(plan: Plan, folder: Path) -> int:
    """`--backup-tls`: a save-tls step (AKS Run Command) heads each at-risk change that has no backup yet.

    The certificate lives in its cluster (the `azuremlfessl` secret), so the save runs before the
    first step on that cluster the change waits for, not only before the change's own detach: in a
    chain that detaches another compute of the same cluster first, that detach could lose it.
    """
    added = 0
    by_id = {s.id: s for s in plan.steps()}  # built once, kept current as saves are added
    for risk in at_risk(plan):
        change = risk.change
        if has_backup(folder, risk.workspace, risk.compute) or any(s.op is Op.SAVE_TLS for s in change.steps):
            continue
        first = change.steps[0]
        head = _cluster_chain_head(by_id, first)
        save = Step(
            f"{change.address}#0", Op.SAVE_TLS, first.compute, first.workspace, first.cluster, list(head.depends_on)
        )
        head.depends_on.append(save.id)
        if head is not first:
            first.depends_on.append(save.id)
        change.steps.insert(0, save)
        by_id[save.id] = save
        change.reasons.append("its leaf-label TLS certificate is saved first (--backup-tls)")
        added += 1
    return added


def _cluster_chain_head(by_id: dict[str, Step], step: Step) -> Step:
    """The earliest step on `step`'s cluster that `step` waits for, following the chain back (itself if none).

    `by_id`: every step of the plan by id (one index for all at-risk changes, not one per change)."""
    head, seen = step, {step.id}
    while True:
        earlier = [
            by_id[d] for d in head.depends_on if d in by_id and d not in seen and by_id[d].cluster == step.cluster
        ]
        if step.cluster is None or not earlier:
            return head
        head = earlier[0]
        seen.add(head.id)


def saves_tls(plan_data: dict[str, Any]) -> bool:
    """A saved plan (JSON) made with --backup-tls: applying it plans the same save-tls steps."""
    return any(step.get("op") == Op.SAVE_TLS.value for c in plan_data.get("changes", []) for step in c.get("steps", []))


def _saving(risk: AtRisk) -> bool:
    return any(s.op is Op.SAVE_TLS for s in risk.change.steps)


def findings(plan: Plan, desired: Desired, folder: Path) -> list[Finding]:
    """MIG003 for every at-risk certificate without a backup in `folder`."""
    out = []
    for risk in at_risk(plan):
        if has_backup(folder, risk.workspace, risk.compute) or _saving(risk):
            continue
        out.append(
            MIG003.finding(
                f"{risk.change.action.value} of {risk.compute!r} loses its leaf-label TLS certificate ({risk.label}…cloudapp.azure.net) "
                f"and no backup is in {backup_dir(folder, risk.workspace, risk.compute)}",
                _position(risk, desired),
                risk.change.address,
            )
        )
    return out


def refusal(plan: Plan, folder: Path) -> str | None:
    """Why apply must not run (None when every at-risk certificate has a backup)."""
    missing = [r for r in at_risk(plan) if not has_backup(folder, r.workspace, r.compute) and not _saving(r)]
    if not missing:
        return None
    names = ", ".join(r.change.address for r in missing)
    first = missing[0]
    return (
        f"refusing to apply: {names} would lose a leaf-label TLS certificate (its FQDN cannot be kept by a new attach) "
        f"and no backup is in {folder}. Save it first: `reconciler backup-tls {first.compute} --workspace "
        f"{first.change.address.split('/')[0]} --out {folder}` (or apply with --backup-tls to save it "
        "as a first step), or pass --accept-new-domain to accept a new scoring domain"
    )


def _position(risk: AtRisk, desired: Desired) -> Position:
    if risk.change.desired is not None:
        return risk.change.desired.position
    alias = risk.change.address.split("/")[0]
    dws = desired.workspaces.get(alias)
    return dws.position if dws is not None else Position(Path("<azure>"))

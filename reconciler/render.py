"""A plan as text (terminal), JSON (the plan file, docs/plan-file.md) and Markdown (pull-request comments).

Pure functions of a Plan. Secret values never reach here: diffs carry only
`(sensitive)` and fingerprints.
"""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape

from reconciler.findings import Finding
from reconciler.planner import Action, Change, Plan

FORMAT_VERSION = 1
HIDDEN_FIELDS = ("specDigest", "mode")  # internal: shown through reasons instead
MARKDOWN_LIMIT = 65_536

SYMBOLS = {
    Action.CREATE: ("+", "green"), Action.ATTACH: ("+", "green"),
    Action.UPDATE: ("~", "yellow"), Action.SCALE: ("~", "yellow"),
    Action.DETACH: ("-", "red"), Action.REATTACH: ("-/+", "magenta"), Action.REPLACE: ("-/+", "magenta"),
    Action.INSTALL: ("+", "green"), Action.UPGRADE: ("~", "yellow"), Action.UNINSTALL: ("-", "red"),
    Action.NOOP: (" ", "dim"),
}


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    line = (
        f"Plan: {s['create']} to create, {s['attach']} to attach, {s['update']} to update, "
        f"{s['reattach']} to re-attach, {s['detach']} to detach"
    )
    extra = [f"{s[k]} to {k}" for k in ("scale", "replace", "install", "upgrade", "uninstall") if s[k]]
    return line + (", " + ", ".join(extra) if extra else "") + "."


def _value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


def to_text(plan: Plan, *, color: bool = False) -> str:
    """Terraform-like text; with color=True it is rich markup (for a TTY)."""
    def paint(text: str, style: str) -> str:
        return f"[{style}]{escape(text)}[/{style}]" if color else text

    def plain(text: str) -> str:
        return escape(text) if color else text

    lines: list[str] = []
    for finding in plan.errors + plan.warnings:
        style = "red" if finding.is_error else "yellow"
        lines.append(paint(finding.format().splitlines()[0], style))
        if finding.hint:
            lines.append(plain(f"  hint: {finding.hint}"))
    if plan.errors:
        lines.append(plain(f"Planning failed: {len(plan.errors)} error{'s' if len(plan.errors) != 1 else ''}."))
        return "\n".join(lines) + "\n"
    if lines:
        lines.append("")
    if not plan.has_changes:
        lines.append(plain("No changes. The workspaces match the manifests."))
        return "\n".join(lines) + "\n"
    lines.append(plain("The reconciler will perform these actions:"))
    for change in plan.actionable:
        symbol, style = SYMBOLS[change.action]
        lines.append("")
        lines.append(paint(f"  {symbol} {change.address}", style) + plain(f"  {change.action.value}"))
        if change.cluster_id:
            lines.append(plain(f"      cluster: {change.cluster_id}"))
        if change.disruptive:
            lines.append(paint(f"      ! disruptive: {', '.join(change.disruptive)} (running endpoints are interrupted)", "red"))
        for reason in change.reasons:
            lines.append(plain(f"      # {reason}"))
        for d in change.diff:
            if d.path in HIDDEN_FIELDS:
                continue
            if change.action in (Action.CREATE, Action.ATTACH, Action.INSTALL) and d.before is None:
                lines.append(plain(f"      + {d.path} = {_value(d.after)}"))
            else:
                lines.append(plain(f"      ~ {d.path}: {_value(d.before)} -> {_value(d.after)}"))
        if len(change.steps) > 1:
            lines.append(plain("      steps: " + " -> ".join(s.op for s in change.steps)))
    lines.append("")
    lines.append(paint(summary_line(plan), "bold"))
    return "\n".join(lines) + "\n"


def _finding_json(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "address": f.address, "message": f.message, "severity": f.severity.value,
            "position": str(f.position), "hint": f.hint}


def _change_json(change: Change) -> dict[str, Any]:
    observed = None
    if change.observed is not None:
        observed = {"etag": change.observed.version, "modifiedOn": change.observed.modified_on,
                    "provisioningState": change.observed.provisioning_state}
    elif change.observed_extension is not None:
        ext = change.observed_extension
        observed = {"etag": ext.version, "modifiedOn": ext.modified_on, "provisioningState": ext.provisioning_state}
    return {
        "address": change.address,
        "action": change.action.value,
        "workspace": change.workspace.as_json() if change.workspace is not None else None,
        "computeName": change.compute_name,
        "clusterId": change.cluster_id,
        "reasons": change.reasons,
        "diff": [{"path": d.path, "before": d.before, "after": d.after} for d in change.diff],
        "disruptive": list(change.disruptive),
        "observed": observed,
        "steps": [{"id": s.id, "op": s.op, "dependsOn": list(s.depends_on)} for s in change.steps],
    }


def to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "formatVersion": FORMAT_VERSION,
        "createdAt": plan.created_at,
        "manifestsDigest": plan.manifests_digest,
        "options": {"targets": sorted(plan.options.targets), "replace": sorted(plan.options.replace)},
        "summary": plan.summary(),
        "changes": [_change_json(c) for c in plan.changes],
        "warnings": [_finding_json(f) for f in plan.warnings],
        "errors": [_finding_json(f) for f in plan.errors],
    }


def to_json(plan: Plan) -> str:
    return json.dumps(to_dict(plan), indent=2) + "\n"


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def to_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment: summary, a table of changes, collapsible details per change."""
    head = ["<!-- reconciler-plan -->", "### reconciler plan", ""]
    for f in plan.errors + plan.warnings:
        icon = "❌" if f.is_error else "⚠️"
        head.append(f"- {icon} `{f.rule}` {_md(f.address or '')}: {_md(f.message)}")
    if plan.errors:
        head += ["", f"**Planning failed: {len(plan.errors)} error(s).**"]
        return "\n".join(head) + "\n"
    if not plan.has_changes:
        return "\n".join(head + ["", "**No changes.** The workspaces match the manifests."]) + "\n"
    head += ["", f"**{summary_line(plan)}**", "", "| | address | action | reasons |", "|---|---|---|---|"]
    for c in plan.actionable:
        disruptive = f" **disruptive: {_md(', '.join(c.disruptive))}**" if c.disruptive else ""
        head.append(f"| `{SYMBOLS[c.action][0]}` | `{_md(c.address)}` | {c.action.value}{disruptive} | {_md('; '.join(c.reasons))} |")
    details: list[str] = []
    for c in plan.actionable:
        block = [f"<details><summary><code>{_md(c.address)}</code>: {c.action.value}</summary>", ""]
        if c.cluster_id:
            block.append(f"Cluster: `{c.cluster_id}`")
            block.append("")
        if c.diff:
            block += ["| field | before | after |", "|---|---|---|"]
            block += [f"| `{_md(d.path)}` | `{_md(_value(d.before))}` | `{_md(_value(d.after))}` |" for d in c.diff if d.path not in HIDDEN_FIELDS]
            block.append("")
        block.append("Steps: " + " → ".join(f"`{s.op}`" for s in c.steps))
        block += ["", "</details>"]
        details.append("\n".join(block))
    text = "\n".join(head) + "\n\n"
    note = "\n_… {n} more change(s) cut to fit the comment limit; run `reconciler plan` for the full plan._\n"
    for i, block in enumerate(details):
        if len(text) + len(block) + len(note) + 16 > limit:
            return text + note.format(n=len(details) - i)
        text += block + "\n"
    return text

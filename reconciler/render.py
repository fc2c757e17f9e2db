"""A plan as text (terminal), JSON (the plan file, docs/plan-file.md) and Markdown (pull-request comments).

Pure functions of a Plan. Secret values never reach here: diffs carry only
`(sensitive)` and fingerprints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reconciler.findings import Finding, printable
from reconciler.planner import Action, Change, Plan


def _escape(text: str) -> str:
    """rich's markup escaping, imported only for colour output (rich costs ~20 ms to import)."""
    from rich.markup import escape

    return escape(text)


FORMAT_VERSION = 1
HIDDEN_FIELDS = ("specDigest", "mode")  # internal: shown through reasons instead
MARKDOWN_LIMIT = 65_536

SYMBOLS = {
    Action.CREATE: ("+", "green"),
    Action.ATTACH: ("+", "green"),
    Action.UPDATE: ("~", "yellow"),
    Action.SCALE: ("~", "yellow"),
    Action.DETACH: ("-", "red"),
    Action.REATTACH: ("-/+", "magenta"),
    Action.REPLACE: ("-/+", "magenta"),
    Action.INSTALL: ("+", "green"),
    Action.UPGRADE: ("~", "yellow"),
    Action.UNINSTALL: ("-", "red"),
    Action.PENDING: ("…", "cyan"),
    Action.NOOP: (" ", "dim"),
}


def downtime_mark(change: Change) -> str:
    """`! endpoint unavailable for ~N min`, from the typical durations of the detach → attach window."""
    return f"! endpoint unavailable for ~{change.downtime_minutes} min" if change.downtime_seconds else ""


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class CiRun:
    """Where a plan was made in CI: shown at the top of a pull-request comment."""

    commit: str
    run_url: str | None = None


def ci_run(env: Mapping[str, str]) -> CiRun | None:
    """From GitHub Actions' or Azure Pipelines' environment variables; None outside CI."""
    if env.get("GITHUB_SHA"):
        url = None
        if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
            url = (
                f"{env['GITHUB_SERVER_URL'].rstrip('/')}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
            )
        return CiRun(env["GITHUB_SHA"], url)
    commit = env.get("SYSTEM_PULLREQUEST_SOURCECOMMITID") or env.get("BUILD_SOURCEVERSION")
    if commit:
        url = None
        if env.get("SYSTEM_COLLECTIONURI") and env.get("SYSTEM_TEAMPROJECT") and env.get("BUILD_BUILDID"):
            url = (
                f"{env['SYSTEM_COLLECTIONURI'].rstrip('/')}/{quote(env['SYSTEM_TEAMPROJECT'])}"
                f"/_build/results?buildId={quote(env['BUILD_BUILDID'])}"
            )
        return CiRun(commit, url)
    return None


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    line = (
        f"Plan: {s['create']} to create, {s['attach']} to attach, {s['update']} to update, "
        f"{s['reattach']} to re-attach, {s['detach']} to detach"
    )
    extra = [f"{s[k]} to {k}" for k in ("scale", "replace", "install", "upgrade", "uninstall") if s[k]]
    return line + (", " + ", ".join(extra) if extra else "") + "."


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # strings quoted, newlines and controls escaped


def to_text(plan: Plan, *, color: bool = False) -> str:
    """Terraform-like text; with color=True it is rich markup (for a TTY). Control
    characters from a manifest or from Azure are shown escaped, never sent raw."""
    return printable(_to_text(plan, color=color))


class _Painter:
    """Rich markup for a TTY, plain text otherwise: the one place `color` is decided for a text plan."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def paint(self, text: str, style: str) -> str:
        return f"[{style}]{_escape(text)}[/{style}]" if self.color else text

    def plain(self, text: str) -> str:
        return _escape(text) if self.color else text


def _to_text(plan: Plan, *, color: bool) -> str:
    out = _Painter(color)
    lines: list[str] = []
    for finding in plan.errors + plan.warnings:
        style = "red" if finding.is_error else "yellow"
        lines.append(out.paint(finding.format().splitlines()[0], style))
        if finding.hint:
            lines.append(out.plain(f"  hint: {finding.hint}"))
    if plan.errors:
        lines.append(out.plain(f"Planning failed: {plural(len(plan.errors), 'error')}."))
        return "\n".join(lines) + "\n"
    if lines:
        lines.append("")
    for change in plan.pending:
        lines.append(
            out.paint(f"  {SYMBOLS[Action.PENDING][0]} {change.address}", "cyan")
            + out.plain(f"  pending: {'; '.join(change.reasons)}")
        )
    if plan.pending:
        lines.append("")
    if not plan.has_changes:
        if plan.pending:
            lines.append(out.plain("No other changes. Plan again when the operations in flight end."))
            return "\n".join(lines) + "\n"
        lines.append(out.plain("No changes. The workspaces match the manifests."))
        return "\n".join(lines) + "\n"
    lines.append(out.plain("The reconciler will perform these actions:"))
    for change in plan.actionable:
        lines.append("")
        lines.extend(_change_text(change, out))
    lines.append("")
    lines.append(out.paint(summary_line(plan), "bold"))
    return "\n".join(lines) + "\n"


def _change_text(change: Change, out: _Painter) -> list[str]:
    """The block of one actionable change: header, downtime, cluster, reasons, diff and steps."""
    symbol, style = SYMBOLS[change.action]
    lines = [out.paint(f"  {symbol} {change.address}", style) + out.plain(f"  {change.action.value}")]
    if change.downtime_seconds:
        lines.append(out.paint(f"      {downtime_mark(change)}", "bold red"))
    if change.cluster_id:
        lines.append(out.plain(f"      cluster: {change.cluster_id}"))
    if change.disruptive:
        lines.append(
            out.paint(f"      ! disruptive: {', '.join(change.disruptive)} (running endpoints are interrupted)", "red")
        )
    for reason in change.reasons:
        lines.append(out.plain(f"      # {reason}"))
    for d in change.diff:
        if d.path in HIDDEN_FIELDS:
            continue
        if change.action in (Action.CREATE, Action.ATTACH, Action.INSTALL) and d.before is None:
            lines.append(out.plain(f"      + {d.path} = {_value(d.after)}"))
        else:
            lines.append(out.plain(f"      ~ {d.path}: {_value(d.before)} -> {_value(d.after)}"))
    if len(change.steps) > 1:
        lines.append(out.plain("      steps: " + " -> ".join(s.op for s in change.steps)))
    return lines


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "address": f.address,
        "message": f.message,
        "severity": f.severity.value,
        "position": str(f.position),
        "hint": f.hint,
    }


def _change_json(change: Change) -> dict[str, Any]:
    observed = None
    if change.observed is not None:
        observed = {
            "etag": change.observed.version,
            "modifiedOn": change.observed.modified_on,
            "provisioningState": change.observed.provisioning_state,
        }
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
        "endpointDowntimeSeconds": change.downtime_seconds,
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
    """Text for a Markdown table cell or list item: no raw newline, pipe, backtick or HTML."""
    cell = printable(str(text)).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n").replace("\t", " ")
    return (
        cell.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("`", "&#96;")
    )


def _code(text: Any) -> str:
    """A code span in a table cell; HTML <code> when the text holds a backtick (a span cannot)."""
    cell = _md(text)
    if "`" in str(text) or "&" in str(text):
        return f"<code>{cell.replace(chr(92) + '|', '&#124;')}</code>"
    return f"`{cell}`"


def to_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT, ci: CiRun | None = None) -> str:
    """A pull-request comment: where it was made, summary, a table of changes, collapsible details per change.

    At most `limit` characters (GitHub refuses longer comments): details that do not fit are cut with a note.
    """
    head = ["<!-- reconciler-plan -->", "### reconciler plan", ""]
    if ci is not None:
        run = f" in [this run]({ci.run_url})" if ci.run_url else ""
        head += [f"Planned at commit `{_md(ci.commit[:12])}`{run}.", ""]
    for f in plan.errors + plan.warnings:
        icon = "❌" if f.is_error else "⚠️"
        head.append(f"- {icon} `{f.rule}` {_md(f.address or '')}: {_md(f.message)}")
    if plan.errors:
        head += ["", f"**Planning failed: {plural(len(plan.errors), 'error')}.**"]
        return "\n".join(head) + "\n"
    for c in plan.pending:
        head.append(f"- ⏳ `{_md(c.address)}` pending: {_md('; '.join(c.reasons))}")
    if not plan.has_changes:
        return "\n".join([*head, "", "**No changes.** The workspaces match the manifests."]) + "\n"
    head += ["", f"**{summary_line(plan)}**", "", "| | address | action | reasons |", "|---|---|---|---|"]
    for c in plan.actionable:
        mark = f"**{downtime_mark(c)}**; " if c.downtime_seconds else ""
        disruptive = f" **disruptive: {_md(', '.join(c.disruptive))}**" if c.disruptive else ""
        head.append(
            f"| `{SYMBOLS[c.action][0]}` | {_code(c.address)} | {c.action.value}{disruptive} | {mark}{_md('; '.join(c.reasons))} |"
        )
    details: list[str] = []
    for c in plan.actionable:
        mark = f" ({downtime_mark(c)})" if c.downtime_seconds else ""
        block = [f"<details><summary><code>{_md(c.address)}</code>: {c.action.value}{mark}</summary>", ""]
        if c.cluster_id:
            block.append(f"Cluster: {_code(c.cluster_id)}")
            block.append("")
        if c.diff:
            block += ["| field | before | after |", "|---|---|---|"]
            block += [
                f"| {_code(d.path)} | {_code(_value(d.before))} | {_code(_value(d.after))} |"
                for d in c.diff
                if d.path not in HIDDEN_FIELDS
            ]
            block.append("")
        block.append("Steps: " + " → ".join(_code(s.op) for s in c.steps))
        block += ["", "</details>"]
        details.append("\n".join(block))
    text = "\n".join(head) + "\n\n"
    for i, detail in enumerate(details):
        left = len(details) - i
        note = f"\n_… details of {plural(left, 'more change')} cut to fit the comment limit; run `reconciler plan` for the full plan._\n"
        if len(text) + len(detail) + len(note) + 16 > limit:
            return _cut(text, limit - len(note)) + note
        text += detail + "\n"
    return text


def _cut(text: str, room: int) -> str:
    """Cut at a line end: a table longer than the limit loses its last rows, never half a row."""
    if len(text) <= room:
        return text
    return text[: max(0, text.rfind("\n", 0, room)) + 1]

"""The GitHub Actions example and the pre-commit hook: valid YAML calling real commands and flags."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ruamel.yaml import YAML
from typer.main import get_command

from reconciler.cli import app

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path):
    return YAML(typ="safe", pure=True).load(path.read_text())


def cli_invocations(script: str) -> list[list[str]]:
    joined = script.replace("\\\n", " ")
    calls = []
    for line in joined.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("reconciler "):
            continue
        for part in re.split(r"&&|;", line):
            words = shlex.split(part.replace(">", " > "))
            if words and words[0] == "reconciler":
                calls.append(words[1 : words.index(">")] if ">" in words else words[1:])
    return calls


def check_invocation(args: list[str]) -> None:
    group = get_command(app)
    global_opts = {o for p in group.params for o in p.opts}
    i = 0
    while args[i].startswith("--"):
        assert args[i] in global_opts, args[i]
        i += 2 if args[i] in ("--log-format", "--cloud", "--endpoint") else 1
    command = group.commands[args[i]]
    opts = {o for p in command.params for o in p.opts}
    for word in args[i + 1 :]:
        if word.startswith("--"):
            assert word in opts, f"{word} is not an option of `reconciler {args[i]}`"


def test_workflow_is_valid_yaml_with_plan_on_prs_and_apply_on_main():
    wf = load(ROOT / "examples" / "github-actions" / "reconciler.yml")
    assert set(wf["on"]) == {"pull_request", "push"}
    assert wf["permissions"]["id-token"] == "write"
    assert wf["jobs"]["plan"]["if"] == "github.event_name == 'pull_request'"
    assert wf["jobs"]["apply"]["if"] == "github.event_name == 'push'"
    env = wf["env"]
    assert "AZURE_CLIENT_ID" in env and "AZURE_TENANT_ID" in env


def test_workflow_steps_call_real_commands_and_flags():
    wf = load(ROOT / "examples" / "github-actions" / "reconciler.yml")
    calls = [c for job in wf["jobs"].values() for step in job["steps"] if "run" in step for c in cli_invocations(step["run"])]
    commands = {next(w for w in c if not w.startswith("-") and w not in ("json",)) for c in calls}
    assert {"validate", "plan", "apply"} <= commands
    for call in calls:
        check_invocation(call)
    text = (ROOT / "examples" / "github-actions" / "reconciler.yml").read_text()
    assert "--format markdown" in text and "--plan plan.json" in text and "<!-- reconciler-plan -->" in text


def test_plan_comment_marker_matches_the_markdown_renderer():
    from reconciler import render
    from reconciler.planner import Plan

    assert render.to_markdown(Plan([], [], [])).startswith("<!-- reconciler-plan -->")


def test_pre_commit_hook_runs_validate():
    (hook,) = load(ROOT / ".pre-commit-hooks.yaml")
    assert hook["id"] == "reconciler-validate" and hook["language"] == "python"
    check_invocation(shlex.split(hook["entry"])[1:])

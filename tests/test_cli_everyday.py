"""Everyday command-line comforts: version, completion, help that reads well, "did you mean", options anywhere."""

from __future__ import annotations

import json
import re

from reconciler import __version__, cli
from tests.builders import attach, create, workspace

COMMANDS = ["validate", "plan", "apply", "force-unlock", "import", "show", "version", "schema", "emulator"]


def test_version_command_and_flag_agree(run_cli):
    assert run_cli("version").stdout == run_cli("--version").stdout == f"reconciler {__version__}\n"


def test_shell_completion_is_offered(run_cli):
    result = run_cli("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_every_command_help_has_examples_and_no_python_types(run_cli):
    for command in COMMANDS:
        result = run_cli(command, "--help")
        assert result.exit_code == 0, command
        assert "Examples:" in result.stdout and f"reconciler {command}" in result.stdout.split("Examples:")[1], command
        assert not re.search(r"<(?:list\[|bool>|str>|int>|float>|Path>)", result.stdout), (command, result.stdout)


def test_misspelt_field_suggests_the_right_one(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace() + "---\n" + attach(extra="  clusterPurpse: FastProd\n"))
    result = run_cli("validate", "m.yaml", "--format", "json")
    messages = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert result.exit_code == 1 and any("did you mean 'clusterPurpose'?" in m for m in messages), messages


def test_misspelt_vm_size_suggests_the_known_size(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace() + "---\n" + create().replace("Standard_D3_v2", "Standard_D3v2"))
    result = run_cli("validate", "m.yaml", "--format", "json")
    messages = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert any("did you mean 'Standard_D3_v2'?" in m for m in messages), messages


def test_log_format_and_no_color_are_accepted_after_the_command(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace() + "---\n" + attach(name="'1-bad'"))
    after = run_cli("validate", "m.yaml", "--log-format", "json", "--no-color")
    before = run_cli("--log-format", "json", "--no-color", "validate", "m.yaml")
    assert after.exit_code == before.exit_code == 1
    assert [json.loads(line)["rule"] for line in after.stderr.splitlines()] == ["AKS001"]
    assert [json.loads(line)["rule"] for line in before.stderr.splitlines()] == ["AKS001"]


def test_a_usage_error_is_one_json_object_with_json_logs(run_cli):
    result = run_cli("plan", "--no-such-flag", "--log-format=json")
    assert result.exit_code == 64
    (record,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert record["level"] == "error" and "--no-such-flag" in record["event"]


def test_hoisting_keeps_arguments_after_a_double_dash():
    assert cli._hoist_global_options(["plan", "--log-format", "json", "--", "--no-color"]) == [
        "--log-format",
        "json",
        "plan",
        "--",
        "--no-color",
    ]

"""`reconciler validate` and `reconciler schema` as a user runs them."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.manifest import json_schema
from tests.builders import attach, workspace

ROOT = Path(__file__).resolve().parents[1]


def test_example_manifests_are_valid(run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run_cli("validate")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().endswith("documents)")
    assert "0 errors" in result.stdout


def test_invalid_manifest_exits_1_with_file_line_col_and_hint(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(workspace() + "---\n" + attach(name="'1-bad'"))
    result = run_cli("validate", "bad.yaml", "--log-format", "console")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()  # findings on stderr, the count on stdout
    assert lines[0].startswith("bad.yaml:14:9: error AKS001: ")
    assert lines[1].startswith("  hint: ")
    assert result.stdout.startswith("1 error, 0 warnings in 1 file")


def test_with_json_logs_every_stderr_line_is_one_json_object(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(workspace() + "---\n" + attach(name="'1-bad'"))
    for args in (
        ("validate", "bad.yaml", "--log-format", "json"),
        ("--log-format", "json", "plan", "bad.yaml"),
        ("--log-format", "json", "validate", "--no-such-flag"),
    ):
        result = run_cli(*args)
        records = [json.loads(line) for line in result.stderr.splitlines()]
        assert records, args
        assert all(r["level"] in ("error", "warning", "info") and r["event"] for r in records)
    finding = next(
        json.loads(line) for line in run_cli("validate", "bad.yaml", "--log-format=json").stderr.splitlines()
    )
    assert (finding["kind"], finding["rule"], finding["file"], finding["line"], finding["col"]) == (
        "finding",
        "AKS001",
        "bad.yaml",
        14,
        9,
    )


def test_validate_json_format_is_one_document_on_stdout(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(workspace() + "---\n" + attach(name="'1-bad'"))
    result = run_cli("validate", "bad.yaml", "--format", "json")
    assert result.exit_code == 1 and result.stderr == ""
    doc = json.loads(result.stdout)
    assert (doc["errors"], doc["warnings"], doc["files"], doc["documents"]) == (1, 0, 1, 2)
    assert doc["findings"][0]["rule"] == "AKS001" and doc["findings"][0]["line"] == 14


def test_validate_github_format_annotates_the_line(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(workspace() + "---\n" + attach(name="'1-bad'"))
    result = run_cli("validate", "bad.yaml", "--format", "github")
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("::error file=bad.yaml,line=14,col=9,title=AKS001::") and "%0Ahint: " in first
    assert result.stdout.splitlines()[-1].startswith("1 error, 0 warnings")


def test_warnings_do_not_fail_validate(run_cli, tmp_path):
    (tmp_path / "m.yaml").write_text(
        workspace() + "---\n" + attach(extra="  tls:\n    enabled: false\n    leafDomainLabel: x\n")
    )
    result = run_cli("validate", tmp_path, "--log-format", "console")
    assert result.exit_code == 0 and "warning AKS017" in result.stderr


def test_usage_error_exits_64_not_2(run_cli):
    assert run_cli("validate", "--no-such-flag").exit_code == 64
    assert run_cli("no-such-command").exit_code == 64
    assert run_cli("--cloud", "mars", "validate").exit_code == 64


def test_help_exits_0_and_explains(run_cli):
    result = run_cli("validate", "--help")
    assert result.exit_code == 0 and "No network" in result.stdout


def test_schema_command_prints_the_committed_schema(run_cli):
    result = run_cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()


def test_committed_schema_is_up_to_date():
    committed = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text())
    assert committed == json_schema(), "run: reconciler schema > schemas/manifest.schema.json"


def test_example_manifests_carry_the_schema_modeline():
    for path in sorted((ROOT / "manifests").glob("*.yaml")):
        if path.name == "local-cloud.yaml":
            continue
        assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/manifest.schema.json"), path


def test_console_script_runs_as_module_without_azure_imports():
    # The process leaves as soon as the command is done, so what it imported is read from -X importtime.
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "validate", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    imported = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")]
    assert "reconciler.cli" in imported and "Usage:" in out.stdout
    assert [m for m in imported if m.startswith("azure")] == []


HEAVY = ("azure", "deepdiff", "structlog", "markdown_it")


def _imports_of(args: list[str], watched: tuple[str, ...]) -> str:
    """`reconciler ARGS` in a fresh interpreter: 'LOADED [the watched top-level packages it imported] EXIT code'."""
    code = (
        f"import sys\nfrom reconciler.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as exc:\n    code = exc.code\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({watched!r}))\n"
        "print('LOADED', loaded, 'EXIT', code, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "Traceback" not in out.stderr, out.stderr
    return out.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("args", [["--help"], ["validate", "manifests"], ["validate", "--help"]])
def test_help_and_validate_import_neither_azure_deepdiff_nor_structlog(args: list[str]) -> None:
    """Start-up cost is what gets imported: these commands need none of the cloud, diff or log libraries."""
    assert _imports_of(args, HEAVY) == "LOADED [] EXIT 0"


def test_the_plan_and_apply_modules_import_no_structlog() -> None:
    """structlog (~35 ms: it imports asyncio) loads on the first line logged, never on import:
    a module-level logger would put it before the first request of every plan and apply."""
    modules = "reconciler.workflow, reconciler.connection, reconciler.cloud.storage, reconciler.executor"
    code = f"import sys, {modules}\nprint('structlog' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_validate_without_certificates_does_not_load_cryptography(tmp_path: Path) -> None:
    """PEM checks (cryptography, ~30 ms) run only when a manifest names a certificate or key file."""
    (tmp_path / "ws.yaml").write_text(
        "apiVersion: reconciler.aml/v1\nkind: Workspace\nmetadata: {name: ws}\n"
        "spec: {subscriptionId: 00000000-0000-0000-0000-000000000000, resourceGroup: rg, workspaceName: ml}\n"
    )
    assert _imports_of(["validate", str(tmp_path)], ("cryptography",)) == "LOADED [] EXIT 0"


RULE_ID = re.compile(r"\b(?:YAML|SCHEMA|IO|WS|AKS|KUBE|MIG)\d{3}\b")


def _readme_rule_ids() -> set[str]:
    """Ids in the first cell of the README's rule tables; `YAML001–YAML005` is a range."""
    ids: set[str] = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        first = line.split("|")[1].strip() if line.startswith("| ") else ""
        if m := re.fullmatch(r"([A-Z]+)(\d{3})–\1(\d{3})", first):
            ids |= {f"{m[1]}{n:03d}" for n in range(int(m[2]), int(m[3]) + 1)}
        elif RULE_ID.fullmatch(first):
            ids.add(first)
    return ids


def _registered_rule_ids() -> set[str]:
    """Every rule the product defines, whatever module defines it: all modules are imported first."""
    import reconciler

    for mod in pkgutil.walk_packages(reconciler.__path__, "reconciler."):
        if not mod.name.endswith("__main__") and ".emulator" not in mod.name:
            importlib.import_module(mod.name)
    from reconciler.rules import RULES

    return set(RULES)


def _rule_ids_in_product_source() -> set[str]:
    return {
        m
        for f in (ROOT / "reconciler").rglob("*.py")
        if "emulator" not in f.parts
        for m in RULE_ID.findall(f.read_text())
    }


def test_readme_rule_tables_match_the_rules_the_product_defines():
    registered = _registered_rule_ids()
    assert registered == _readme_rule_ids()
    assert _rule_ids_in_product_source() <= registered  # no id is emitted without being defined


def test_validate_azure_pipelines_format_logs_issues_with_file_and_line(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(workspace() + "---\n" + attach(name="'1-bad'"))
    result = run_cli("validate", "bad.yaml", "--format", "azure-pipelines")
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(
        "##vso[task.logissue type=error;sourcepath=bad.yaml;linenumber=14;columnnumber=9;code=AKS001]"
    )


def test_main_called_in_process_freezes_no_garbage_and_keeps_every_core(tmp_path: Path) -> None:
    """The CLI freezes and slows the garbage collector, and keeps to one core, only as its own process:
    a caller running many commands in one process (tests, the fuzz harness) must not keep every
    command's garbage, nor lose its other cores."""
    import gc

    from reconciler import cli

    (tmp_path / "ws.yaml").write_text("kind: [unclosed\n")
    before, thresholds = gc.get_freeze_count(), gc.get_threshold()
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    with pytest.raises(SystemExit):
        cli.main(["validate", str(tmp_path / "ws.yaml")])
    assert gc.get_freeze_count() == before and gc.get_threshold() == thresholds
    assert cores is None or os.sched_getaffinity(0) == cores


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs Linux and two cores"
)
def test_as_its_own_process_the_cli_keeps_itself_and_the_threads_it_starts_to_one_core() -> None:
    """Python runs one thread at a time: the fan-out's threads hand that lock between cores for nothing."""
    code = (
        "import json, os, sys, threading\n"
        "from reconciler import cli\n"
        "seen = {}\n"
        "def leave(code):\n"
        "    worker = threading.Thread(target=lambda: seen.update(cores=os.sched_getaffinity(0)))\n"
        "    worker.start(); worker.join()\n"
        "    print(json.dumps([sorted(os.sched_getaffinity(0)), sorted(seen['cores']), sorted(allowed)]), flush=True)\n"
        "    os._exit(code)\n"
        "allowed = os.sched_getaffinity(0)\n"
        "cli.own_process.leave = leave\n"
        "sys.argv = ['reconciler', 'version']\n"
        "cli.main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
    main_cores, thread_cores, allowed = json.loads(out.stdout.splitlines()[-1])
    assert len(main_cores) == 1 and set(main_cores) <= set(allowed)
    assert thread_cores == main_cores


def test_as_its_own_process_the_cli_leaves_with_all_its_output_written_and_its_exit_code(tmp_path: Path) -> None:
    """The process ends without tearing the interpreter down: what the command wrote to a pipe
    (block-buffered, far beyond one buffer here) must all arrive, and the exit code be the command's."""
    for i in range(400):
        (tmp_path / f"bad{i:03d}.yaml").write_text("kind: [unclosed\n")
    out = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert len(out.stdout) > 64 * 1024
    assert len(json.loads(out.stdout)["findings"]) == 400

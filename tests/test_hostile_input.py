"""Hostile input and operator mistakes: one clear error (exit 1, or 64 for usage), never a
traceback, a hang, a crash or an unbounded read. One test per case found by fuzzing."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reconciler import render, safeio, savedplan, secrets
from reconciler.manifest import SecretRef
from tests.builders import attach, create, workspace

ROOT = Path(__file__).resolve().parents[1]
NOT_ROOT = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")


@pytest.fixture(autouse=True)
def _console_logs(monkeypatch):
    """Findings as text lines on stderr (the JSON default applies when stderr is not a terminal)."""
    monkeypatch.setenv("RECONCILER_LOG_FORMAT", "console")


def _clean(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def _validate(run_cli, tmp_path, monkeypatch, text: str | bytes, name: str = "m.yaml"):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = run_cli("validate", name)
    _clean(result)
    return result


def _first(result) -> str:
    return result.stderr.splitlines()[0]


def _subprocess_validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    (tmp_path / "deep.yaml").write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "deep.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- nesting bombs: measured on the event stream, in every style ------------------------


def test_block_sequence_nesting_bomb_is_a_finding_not_a_segfault(tmp_path):
    run = _subprocess_validate(tmp_path, "- " * 30000 + "x\n")
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines()[0] == "deep.yaml:1:65: error YAML005: nesting deeper than 32 levels"


def test_complex_key_nesting_bomb_is_a_finding_not_a_segfault(tmp_path):
    run = _subprocess_validate(tmp_path, "? " * 60000 + "\n")
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines()[0] == "deep.yaml:1:65: error YAML005: nesting deeper than 32 levels"


def test_flow_nesting_bomb_is_a_finding(run_cli, tmp_path, monkeypatch):
    result = _validate(run_cli, tmp_path, monkeypatch, "a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert result.exit_code == 1
    assert _first(result) == "m.yaml:1:35: error YAML005: nesting deeper than 32 levels"


def test_block_mapping_nesting_bomb_is_a_finding(run_cli, tmp_path, monkeypatch):
    text = "".join(" " * i + f"k{i}:\n" for i in range(200))
    result = _validate(run_cli, tmp_path, monkeypatch, text)
    assert result.exit_code == 1
    assert _first(result) == "m.yaml:33:33: error YAML005: nesting deeper than 32 levels"


def test_brackets_inside_a_quoted_string_or_a_comment_do_not_count_as_nesting(run_cli, tmp_path, monkeypatch):
    text = workspace() + "---\n" + attach(description='"' + "[{" * 40 + '"') + "# " + "[" * 40 + "\n"
    result = _validate(run_cli, tmp_path, monkeypatch, text)
    assert result.exit_code == 0, result.stdout


# -- special files as manifest paths ----------------------------------------------------


def test_fifo_given_as_manifest_path_says_it_is_a_fifo(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo("pipe.yaml")
    result = run_cli("validate", "pipe.yaml")
    _clean(result)
    assert result.exit_code == 1
    assert (
        _first(result)
        == "pipe.yaml: error IO001: cannot read pipe.yaml: a FIFO (named pipe), not a manifest file or folder"
    )


def test_dev_zero_given_as_manifest_path_says_it_is_a_device(run_cli):
    result = run_cli("validate", "/dev/zero")
    _clean(result)
    assert result.exit_code == 1
    assert (
        _first(result)
        == "/dev/zero: error IO001: cannot read /dev/zero: a character device, not a manifest file or folder"
    )


def test_dev_stdin_given_as_manifest_path_says_what_it_is(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "/dev/stdin"],
        cwd=tmp_path,
        input="a: 1\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.splitlines()[0] == (
        "/dev/stdin: error IO001: cannot read /dev/stdin: a FIFO (named pipe), not a manifest file or folder"
    )


def test_symlink_loop_given_as_manifest_path_says_it_is_a_loop(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.symlink("loop.yaml", "loop.yaml")
    result = run_cli("validate", "loop.yaml")
    _clean(result)
    assert result.exit_code == 1
    assert _first(result) == "loop.yaml: error IO001: cannot read loop.yaml: a symbolic link loop"


def test_fifo_inside_a_manifest_folder_is_reported_not_opened(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("m")
    Path("m/ws.yaml").write_text(workspace())
    os.mkfifo("m/pipe.yaml")
    result = run_cli("validate", "m")
    _clean(result)
    assert result.exit_code == 1
    assert (
        _first(result) == "m/pipe.yaml: error IO002: cannot read m/pipe.yaml: a FIFO (named pipe), not a manifest file"
    )


def test_folder_that_cannot_be_listed_is_reported(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("m/secret")
    Path("m/ws.yaml").write_text(workspace())
    real_scandir = os.scandir

    def scandir(path="."):
        if str(path).endswith("secret"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run_cli("validate", "m")
    _clean(result)
    assert result.exit_code == 1
    assert _first(result) == "m/secret: error IO002: cannot read m/secret: cannot list this folder: permission denied"


def test_folder_readable_but_not_searchable_is_reported(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("m/locked")
    Path("m/ws.yaml").write_text(workspace())
    Path("m/locked/c.yaml").write_text(attach())
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if "locked" in str(path) and str(path).endswith(".yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    result = run_cli("validate", "m")
    _clean(result)
    assert result.exit_code == 1
    assert _first(result) == "m/locked/c.yaml: error IO002: cannot read m/locked/c.yaml: permission denied"


@NOT_ROOT
def test_real_unsearchable_folder_is_reported(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("m/locked")
    Path("m/locked/c.yaml").write_text(attach())
    os.chmod("m/locked", 0o644)
    try:
        result = run_cli("validate", "m")
    finally:
        os.chmod("m/locked", 0o755)
    _clean(result)
    assert result.exit_code == 1 and "permission denied" in _first(result)


# -- file contents: encoding, control characters, size ----------------------------------


def test_non_utf8_manifest_error_has_a_position_and_byte_offset(run_cli, tmp_path, monkeypatch):
    result = _validate(run_cli, tmp_path, monkeypatch, b"a: b\n\nc: \xff\xfe\n")
    assert result.exit_code == 1
    assert _first(result) == "m.yaml:3:4: error YAML001: not UTF-8 text at byte 9 (invalid start byte)"


def test_raw_control_character_error_has_a_position(run_cli, tmp_path, monkeypatch):
    result = _validate(run_cli, tmp_path, monkeypatch, "a: b\x1b[2Jc\n")
    assert result.exit_code == 1
    assert _first(result) == "m.yaml:1:5: error YAML001: invalid YAML: control character #x001b is not allowed"


def test_escaped_control_character_in_a_manifest_string_is_rejected(run_cli, tmp_path, monkeypatch):
    text = workspace() + "---\n" + attach(description='"hidden\\x1b[2J"')
    result = _validate(run_cli, tmp_path, monkeypatch, text)
    assert result.exit_code == 1
    assert _first(result) == "m.yaml:17:16: error YAML007: control character U+001B in a string is not allowed"


def test_oversized_manifest_error_has_a_position(run_cli, tmp_path, monkeypatch):
    result = _validate(run_cli, tmp_path, monkeypatch, "#" * (2 * 1024 * 1024))
    assert result.exit_code == 1
    assert _first(result) == (
        "m.yaml:1:1: error YAML005: cannot read m.yaml: 2097152 bytes, over the 1048576-byte limit"
    )


# -- scalars and types that used to crash or slip through -------------------------------


def test_mapping_as_kind_is_a_schema_error_not_a_crash(run_cli, tmp_path, monkeypatch):
    result = _validate(run_cli, tmp_path, monkeypatch, "apiVersion: reconciler.aml/v1\nkind: {a: 1}\n")
    assert result.exit_code == 1
    assert (
        _first(result) == "m.yaml:2:7: error SCHEMA001: kind must be one of Workspace, InferenceCluster, ClusterExtension, KubernetesCompute, not a mapping"
    )


def test_binary_integer_is_read_as_a_number(run_cli, tmp_path, monkeypatch):
    result = _validate(run_cli, tmp_path, monkeypatch, workspace() + "---\n" + create(count="0b11"))
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int abc", "'abc' is not an integer"),
        ("!!float abc", "'abc' is not a number"),
        ("!!bool maybe", "'maybe' is not a boolean"),
        ("9" * 5000, f"integer '{'9' * 40}…' is out of range (at most 63 bits)"),
        ("0x" + "f" * 4000, f"integer '0x{'f' * 38}…' is out of range (at most 63 bits)"),
    ],
)
def test_scalar_its_tag_cannot_hold_is_a_finding(run_cli, tmp_path, monkeypatch, value, message):
    result = _validate(run_cli, tmp_path, monkeypatch, workspace() + "---\n" + create(count=value))
    assert result.exit_code == 1
    assert _first(result) == f"m.yaml:22:17: error YAML006: {message}"


@pytest.mark.parametrize("value", ["true", "'1'", "1.0"])
def test_agent_count_must_be_a_real_integer(run_cli, tmp_path, monkeypatch, value):
    result = _validate(run_cli, tmp_path, monkeypatch, workspace() + "---\n" + create(count=value))
    assert result.exit_code == 1
    assert _first(result) == "m.yaml:22:17: error SCHEMA001: spec.create.agentCount: Input should be a valid integer"


def test_prune_must_be_a_real_boolean(run_cli, tmp_path, monkeypatch):
    result = _validate(run_cli, tmp_path, monkeypatch, workspace().replace("prune: false", "prune: 'yes'"))
    assert result.exit_code == 1
    assert _first(result) == "m.yaml:9:10: error SCHEMA001: spec.prune: Input should be a valid boolean"


def test_4000_digit_hex_no_longer_reaches_the_planner(run_cli, tmp_path, monkeypatch):
    """It used to validate and then kill `plan` in json.dumps."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace() + "---\n" + create(count="0x" + "f" * 4000))
    result = run_cli("--cloud", "local", "plan", "m.yaml")
    _clean(result)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "error: 1 error in the manifests; nothing was planned"


# -- secrets: bounded, never a special file ---------------------------------------------


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("/dev/zero", "file reference '/dev/zero' must be a relative path inside {d}"),
        ("a\0b", "cannot read secret file {d}/a\\x00b: the path contains a NUL character"),
        ("loop.pem", "cannot read secret file {d}/loop.pem: a symbolic link loop"),
        ("pipe.pem", "cannot read secret file {d}/pipe.pem: a FIFO (named pipe), not a regular file"),
        ("big.pem", "cannot read secret file {d}/big.pem: 262145 bytes, over the 262144-byte limit"),
    ],
)
def test_secret_file_that_cannot_be_read_safely_is_a_clear_error(tmp_path, monkeypatch, file, message):
    monkeypatch.chdir(tmp_path)  # {file:} must stay inside the tree the command runs in
    os.symlink("loop.pem", tmp_path / "loop.pem")
    os.mkfifo(tmp_path / "pipe.pem")
    (tmp_path / "big.pem").write_bytes(b"x" * (256 * 1024 + 1))
    with pytest.raises(secrets.SecretError) as err:
        secrets.resolve(SecretRef(file=file), tmp_path)
    assert str(err.value) == message.format(d=tmp_path)
    assert secrets.fingerprint(SecretRef(file=file), tmp_path) is None


def test_plan_with_a_dev_zero_certificate_finishes(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECONCILER_LOCAL_SEED", str(ROOT / "manifests" / "local-cloud.yaml"))
    tls = "  tls:\n    enabled: true\n    cname: a.example.com\n    certificate: {file: /dev/zero}\n    key: {file: loop.pem}\n"
    os.symlink("loop.pem", tmp_path / "loop.pem")
    (tmp_path / "m.yaml").write_text(workspace() + "---\n" + attach(extra=tls))
    result = run_cli("--cloud", "local", "plan", "m.yaml")
    _clean(result)
    assert result.exit_code in (0, 1)
    assert result.exit_code == 1 and "AKS037" in result.stdout + result.stderr  # the attach needs them: an error


# -- saved plan files -------------------------------------------------------------------


def _plan_file(tmp_path: Path, **fields) -> Path:
    doc = {
        "formatVersion": 1,
        "manifestsDigest": "sha256:x",
        "options": {"targets": [], "replace": []},
        "changes": [],
        "errors": [],
    }
    doc.update(fields)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"changes": None}, "changes must be a list"),
        ({"changes": ["x"]}, "changes[0] must be an object"),
        ({"changes": [{"address": "a", "action": "attach"}]}, "changes[0].steps must be a list of objects with an op"),
        ({"options": "x"}, "options must be an object"),
        ({"options": {"targets": [1]}}, "options.targets must be a list of strings"),
        ({"formatVersion": 2}, "formatVersion must be 1"),
    ],
)
def test_malformed_plan_file_is_refused_with_what_is_wrong(tmp_path, fields, problem):
    path = _plan_file(tmp_path, **fields)
    with pytest.raises(savedplan.SavedPlanError) as err:
        savedplan.read(path)
    assert str(err.value) == f"{path} is not a reconciler plan (formatVersion 1): {problem}"


def test_apply_with_a_malformed_plan_file_exits_1_before_any_call(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace())
    _plan_file(tmp_path, changes=None)
    result = run_cli("--endpoint", "http://127.0.0.1:9", "apply", "m.yaml", "--plan", "plan.json")
    _clean(result)
    assert result.exit_code == 1
    assert result.stderr == "error: plan.json is not a reconciler plan (formatVersion 1): changes must be a list\n"


def test_apply_with_dev_zero_or_a_fifo_as_plan_is_refused_at_once(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace())
    os.mkfifo("plan.fifo")
    zero = run_cli("apply", "m.yaml", "--plan", "/dev/zero")
    fifo = run_cli("apply", "m.yaml", "--plan", "plan.fifo")
    assert (zero.exit_code, fifo.exit_code) == (1, 1)
    assert zero.stderr == "error: cannot read plan file /dev/zero: a character device, not a regular file\n"
    assert fifo.stderr == "error: cannot read plan file plan.fifo: a FIFO (named pipe), not a regular file\n"


def test_plan_file_that_is_not_json_is_refused(tmp_path):
    (tmp_path / "plan.json").write_text("{")
    with pytest.raises(savedplan.SavedPlanError) as err:
        savedplan.read(tmp_path / "plan.json")
    assert str(err.value).startswith(f"cannot read plan file {tmp_path}/plan.json: not JSON (Expecting property name")


# -- files the tool writes: exclusive, never through a planted symlink ------------------


def test_plan_out_never_writes_through_a_planted_temp_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / f".plan.json.tmp{os.getpid()}")
    with pytest.raises(safeio.UnsafeFileError) as err:
        safeio.write_private(tmp_path / "plan.json", "{}")
    assert str(err.value) == (
        f"temporary file {tmp_path}/.plan.json.tmp{os.getpid()} already exists (left over, or planted); remove it"
    )
    assert victim.read_text() == "precious"


def test_plan_out_replaces_a_symlink_at_its_name_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / "plan.json")
    safeio.write_private(tmp_path / "plan.json", "{}")
    assert victim.read_text() == "precious"
    assert not (tmp_path / "plan.json").is_symlink() and (tmp_path / "plan.json").read_text() == "{}"
    assert oct((tmp_path / "plan.json").stat().st_mode & 0o777) == "0o600"


def test_plan_out_onto_a_folder_is_a_clear_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECONCILER_LOCAL_SEED", str(ROOT / "manifests" / "local-cloud.yaml"))
    (tmp_path / "m.yaml").write_text(workspace())
    os.mkdir("out")
    result = run_cli("--cloud", "local", "plan", "m.yaml", "--out", "out")
    _clean(result)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "error: cannot write out: it is a folder"


def test_lock_file_never_follows_a_planted_symlink(tmp_path):
    from reconciler import lock
    from reconciler.state import WorkspaceRef

    ref = WorkspaceRef("00000000-0000-0000-0000-000000000001", "rg", "ws")
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "locks").mkdir()
    os.symlink(victim, tmp_path / "locks" / lock.lock_name(ref))
    with (
        pytest.raises(lock.LockError) as err,
        lock.workspace_lock(ref, None, command="apply", timeout=0, root=tmp_path),
    ):
        pass
    assert str(err.value) == (
        f"cannot open lock file {tmp_path}/locks/{lock.lock_name(ref)}: it is a symbolic link; refusing to follow it"
    )
    assert victim.read_text() == "precious"


# -- import ------------------------------------------------------------------------------


def test_import_alias_must_be_a_name(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("import", "--workspace", "s/rg/ws", "--alias", "../../escaped", "--out", "m")
    _clean(result)
    assert result.exit_code == 64
    assert result.stderr == (
        "error: --alias '../../escaped' is not a name: use 1-63 letters, digits, '-' and '_', "
        "starting with a letter or digit\n"
    )
    assert not (tmp_path / "m").exists()


def test_import_out_onto_an_existing_file_is_a_usage_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("taken.yaml").write_text("x")
    result = run_cli("import", "--workspace", "s/rg/ws", "--out", "taken.yaml")
    _clean(result)
    assert result.exit_code == 64
    assert result.stderr == (
        "error: --out taken.yaml is a file, not a folder; give the folder to write the manifests into\n"
    )


# -- endpoint and timeouts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("http://127.0.0.1:99999", "endpoint http://127.0.0.1:99999 has an invalid port (use 1-65535)"),
        ("http://127.0.0.1:-1", "endpoint http://127.0.0.1:-1 has an invalid port (use 1-65535)"),
        ("  http://127.0.0.1:1  ", "endpoint must not contain spaces or control characters"),
        ("http://127.0.0.1:0", "endpoint http://127.0.0.1:0 has an invalid port (use 1-65535)"),
        (
            "http://user:hunter2@127.0.0.1:8080",
            "endpoint must not contain credentials (user:password@); sign in with `az login` or a service principal instead",
        ),
        (
            "https://user:hunter2@host:99999",
            "endpoint must not contain credentials (user:password@); sign in with `az login` or a service principal instead",
        ),
    ],
)
def test_bad_endpoint_is_a_usage_error_at_once(run_cli, tmp_path, monkeypatch, endpoint, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace())
    result = run_cli("--endpoint", endpoint, "plan", "m.yaml")
    _clean(result)
    assert result.exit_code == 64
    assert result.stderr == f"error: {message}\n"
    assert "hunter2" not in result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_closed_port_fails_fast_with_a_clear_message(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace())
    port = _free_port()
    result = run_cli("--endpoint", f"http://127.0.0.1:{port}", "plan", "m.yaml")
    _clean(result)
    assert result.exit_code == 1
    assert "Azure is not answering, retrying 1/10…" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"error: list computes of workspace ml-prod: no response: cannot connect to 127.0.0.1:{port}: "
        "Connection refused (is the endpoint right, and is it running?)"
    )


def test_endpoint_answering_500_gives_up_within_the_call_time_limit(capsys):
    from reconciler.cloud.arm import CloudError, ComputesClient
    from reconciler.cloud.auth import connect
    from reconciler.state import WorkspaceRef

    class Always500(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Always500)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = connect(f"http://127.0.0.1:{server.server_port}", retry_backoff=0.2)
        conn.retry_timeout = 1.0
        with pytest.raises(CloudError) as err:
            ComputesClient(conn).list(WorkspaceRef("00000000-0000-0000-0000-000000000001", "rg", "ws"))
    finally:
        server.shutdown()
        server.server_close()
    assert str(err.value) == (
        "list computes of workspace ws: no response: "
        "Azure gave no answer within the 60 s allowed for a call, retries included"
    )
    assert "Azure answered HTTP 500, retrying 1/10…" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("inf", "Invalid value for --operation-timeout: inf is not a number of seconds between 0 and 604800"),
        ("1e309", "Invalid value for --operation-timeout: inf is not a number of seconds between 0 and 604800"),
        ("nan", "Invalid value for '--operation-timeout': Input should be greater than or equal to 1"),
        ("-1", "Invalid value for '--operation-timeout': Input should be greater than or equal to 1"),
    ],
)
def test_non_finite_or_negative_operation_timeout_is_a_usage_error(run_cli, tmp_path, monkeypatch, value, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace())
    result = run_cli("apply", "m.yaml", "--operation-timeout", value)
    _clean(result)
    assert result.exit_code == 64
    assert result.stderr.splitlines()[-1] == f"Error: {message}"


def test_infinite_settle_timeout_is_a_usage_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(workspace())
    result = run_cli("apply", "m.yaml", "--settle-timeout", "inf")
    assert result.exit_code == 64
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for --settle-timeout: inf is not a number of seconds between 0 and 604800"
    )


# -- output: escaped for terminals and Markdown ----------------------------------------


def test_control_characters_from_azure_are_escaped_in_text_and_markdown(tmp_path, monkeypatch):
    from tests.builders import attached, cluster, observed, planned

    obs = observed(
        [attached("scoring-prod", "scoring-aks", description="evil\x1b[2J\nline|`x`")], [cluster("scoring-aks")]
    )
    plan = planned(tmp_path, (workspace(), attach()), obs)
    text = render.to_text(plan)
    assert "\x1b" not in text
    assert '~ description: "evil\\u001b[2J\\nline|`x`" -> "test"' in text
    md = render.to_markdown(plan)
    assert "\x1b" not in md
    assert "| <code>description</code> |" not in md
    assert "<code>&quot;" not in md
    line = next(x for x in md.splitlines() if x.startswith("| `description`"))
    assert line == '| `description` | <code>"evil\\u001b[2J\\nline&#124;&#96;x&#96;"</code> | `"test"` |'


def test_markdown_escapes_newlines_backticks_and_pipes_in_text():
    assert render._md("a\nb|c`d") == "a\\nb\\|c&#96;d"


def test_nul_in_a_manifest_path_argument_is_a_usage_error(run_cli):
    result = run_cli("validate", "a\0b.yaml")
    _clean(result)
    assert result.exit_code == 64
    assert result.stderr.splitlines()[-1] == "Error: Invalid value for 'PATH': Value error, embedded null byte"

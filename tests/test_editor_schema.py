"""Editors: a real yaml-language-server (from npm) over LSP stdio validates manifests against the schema that
`reconciler schema --write` puts next to them: a diagnostic for a bad manifest on the right line, none for a good one."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from reconciler.manifest import json_schema
from tests import npm
from tests.builders import attach, create, workspace

LSP_PACKAGE, LSP_VERSION = "yaml-language-server", "1.25.0"
ANSWER_S = 60  # generous: the server starts node and compiles the schema


@pytest.fixture(scope="module")
def language_server() -> Path:
    return npm.install(LSP_PACKAGE, LSP_VERSION, "yaml-language-server", "checking the schema in a real editor server")


class Lsp:
    """A minimal LSP client: JSON-RPC with Content-Length framing over the server's stdin/stdout."""

    def __init__(self, binary: Path, root: Path) -> None:
        self.proc = subprocess.Popen(
            [str(binary), "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=root
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(stream.read(length))
            if "id" in message and "method" in message:  # a request from the server: answer it
                self._answer(message)
            else:
                self.messages.put(message)

    def _answer(self, request: dict[str, Any]) -> None:
        result: Any = None
        if request["method"] == "workspace/configuration":
            result = [
                {"validate": True, "schemaStore": {"enable": False}, "format": {"enable": False}}
                if item.get("section") == "yaml"
                else None
                for item in request["params"]["items"]
            ]
        self._send({"jsonrpc": "2.0", "id": request["id"], "result": result})

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            message = self.messages.get(timeout=ANSWER_S)
            if message.get("id") == self.next_id:
                return message

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        while True:
            message = self.messages.get(timeout=ANSWER_S)
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                return message["params"]["diagnostics"]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def _diagnostics_of(binary: Path, root: Path, files: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    lsp = Lsp(binary, root)
    try:
        lsp.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {"workspace": {"configuration": True}, "textDocument": {"publishDiagnostics": {}}},
            },
        )
        lsp.notify("initialized", {})
        lsp.notify("workspace/didChangeConfiguration", {"settings": {"yaml": {"validate": True}}})
        found = {}
        for name, text in files.items():
            path = root / "manifests" / name
            path.write_text(text)
            lsp.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": path.as_uri(), "languageId": "yaml", "version": 1, "text": text}},
            )
            found[name] = lsp.diagnostics(path.as_uri())
        return found
    finally:
        lsp.close()


def test_yaml_language_server_flags_a_bad_manifest_and_accepts_a_good_one(language_server, tmp_path, run_cli):
    written = run_cli("schema", "--write", tmp_path / "schemas")
    assert (
        written.exit_code == 0
        and json.loads((tmp_path / "schemas" / "manifest.schema.json").read_text()) == json_schema()
    )
    line = "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
    assert line.strip() in written.stdout
    (tmp_path / "manifests").mkdir()
    bad_cluster = attach(name="1-bad").replace("  clusterPurpose", "  clusterPurpse")
    # yaml-language-server reads the modeline per YAML document: a multi-document file repeats it after `---`.
    found = _diagnostics_of(
        language_server,
        tmp_path,
        {
            "workspace.yaml": line + workspace(),
            "attach.yaml": line + attach(),
            "create.yaml": line + create().replace("DevTest", "FastProd").replace("agentCount: 1", "agentCount: 3"),
            "many.yaml": line + workspace() + "---\n" + line + attach(name="second", cluster="other-aks"),
            "bad.yaml": line + bad_cluster,
            "both.yaml": line + attach().rstrip("\n") + "\n  create:\n    location: westeurope\n",
            "few-nodes.yaml": line + create().replace("DevTest", "FastProd"),  # 1 x 4 vCPUs: production needs 3 nodes
            "later.yaml": line + workspace() + "---\n" + line + attach(name="1-bad"),
        },
    )
    for good in ("workspace.yaml", "attach.yaml", "create.yaml", "many.yaml"):
        assert found[good] == [], (good, found[good])
    bad = {(d["range"]["start"]["line"], d["message"]) for d in found["bad.yaml"]}
    assert bad, found
    assert not any("Workspace" in message for _, message in bad)  # the kind the document says it is, not another
    lines = (line + bad_cluster).splitlines()
    blamed = {lines[n].strip().split(":")[0] for n, _ in bad}
    assert {"name", "clusterPurpse"} <= blamed, bad
    assert found["both.yaml"], "attach and create together must be flagged"
    assert [d["message"] for d in found["few-nodes.yaml"]] == ["Value is below the minimum of 3."]
    assert [d["range"]["start"]["line"] for d in found["later.yaml"]] == [15]  # metadata.name of the second document

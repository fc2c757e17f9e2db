"""Hostile manifests from a seed: structural and text mutations, nesting bombs in every
style, special files. Shared by the fuzz test (tests/test_hostile_fuzz.py) and bench/fuzz.py.

A case is made in a fresh folder and run in-process through `reconciler validate` and
the offline half of `plan` (load, rules, desired state with secrets, planning against
an empty workspace, JSON/text/Markdown rendering). `check` lists what went wrong:
a traceback, an exit code other than 0 or 1, an error finding without a position.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from tests.builders import SUB, aks_id, attach, create, workspace

HOSTILE_SCALARS = [
    "0b11",
    "0x" + "f" * 4000,
    "9" * 5000,
    "!!int abc",
    "!!float abc",
    "!!bool maybe",
    "!!python/object:os.system x",
    "!custom x",
    "&a x",
    "*a",
    "'\\x1b[2J'",
    '"\\x1b[2J\\x07"',
    '"a\\0b"',
    '"\\u202e"',
    "~",
    "null",
    ".nan",
    "-.inf",
    "1e309",
    "true",
    "'1'",
    "1.0",
    "{a: 1}",
    "[1, 2]",
    "{}",
    "[]",
    "''",
    '"' + "[" * 40 + '"',
    "'" + "{" * 40 + "'",
    "yes",
    "No",
    "2026-01-01",
    "12:30:00",
    "0o777",
    "+12",
    "-0",
    "1_000",
    '"' + "x" * 300 + '"',
    "|\n    a\n    b",
    ">-\n    a",
    "{file: /dev/zero}",
    "{file: pipe.pem}",
    "{file: loop.pem}",
    '{file: "a\\0b"}',
    "{file: ../../../../etc/shadow}",
    "{env: NOPE}",
    "{file: big.pem}",
    "{file: x, env: y}",
]
TEXT_SNIPPETS = [
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "\x00",
    "\x1b[2J",
    "\x07",
    "\t",
    "\ufeff",
    "\u202e",
    "[" * 40,
    "{" * 40,
    "- " * 50,
    "? " * 50,
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x:\n",
    "<<: *a\n",
    "#",
    "'",
    '"',
    "|",
    ">",
    ":",
    "\n",
    "\r\n",
    " " * 40,
    "\\",
    "key: value\n",
    "!!int ",
    "!!binary ",
    "0x" + "f" * 200,
    "\udcff",
]


@dataclass
class Case:
    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    specials: dict[str, str] = field(default_factory=dict)  # name -> fifo | loop | unreadable-dir
    path: str = "m.yaml"  # what is given to validate

    def make(self, root: Path) -> Path:
        for name, kind in self.specials.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if kind == "fifo":
                os.mkfifo(target)
            elif kind == "loop":
                os.symlink(target.name, target)
            elif kind == "dir":
                target.mkdir()
        (root / "big.pem").write_bytes(b"x" * (300 * 1024))
        if "pipe.pem" not in self.specials:
            os.mkfifo(root / "pipe.pem")
        if "loop.pem" not in self.specials:
            os.symlink("loop.pem", root / "loop.pem")
        for name, content in self.files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        return root / self.path if not os.path.isabs(self.path) else Path(self.path)


def _base_docs(rng: random.Random) -> list[dict]:
    tls = {"enabled": True, "cname": "a.example.com", "certificate": {"file": "cert.pem"}, "key": {"env": "KEY"}}
    docs = [
        {
            "apiVersion": "reconciler.aml/v1",
            "kind": "Workspace",
            "metadata": {"name": "prod"},
            "spec": {"subscriptionId": SUB, "resourceGroup": "ml-prod-rg", "workspaceName": "ml-prod", "prune": False},
        },
        {
            "apiVersion": "reconciler.aml/v1",
            "kind": "InferenceCluster",
            "metadata": {"name": "scoring-prod"},
            "spec": {
                "workspace": "prod",
                "description": "d",
                "attach": {"clusterId": aks_id("scoring-aks")},
                "tls": tls,
                "tags": {"team": "ml"},
            },
        },
        {
            "apiVersion": "reconciler.aml/v1",
            "kind": "InferenceCluster",
            "metadata": {"name": "dev-scoring"},
            "spec": {
                "workspace": "prod",
                "clusterPurpose": "DevTest",
                "create": {"location": "westeurope", "vmSize": "Standard_D3_v2", "agentCount": 1},
            },
        },
    ]
    return docs[: rng.randint(1, 3)]


class _Raw(str):
    """A scalar written into YAML as is (a hostile snippet), not quoted."""


def _emit(value, indent: int, flow: bool) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, dict):
        if flow or not value:
            return "{" + ", ".join(f"{json.dumps(k)}: {_emit(v, 0, True)}" for k, v in value.items()) + "}"
        pad = " " * indent
        lines = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v and not isinstance(v, _Raw):
                lines.append(f"{pad}{k}:\n{_emit(v, indent + 2, False)}")
            else:
                lines.append(f"{pad}{k}: {_emit(v, indent + 2, True)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if flow or not value:
            return "[" + ", ".join(_emit(v, 0, True) for v in value) + "]"
        pad = " " * indent
        return "\n".join(f"{pad}- {_emit(v, indent + 2, True)}" for v in value)
    return json.dumps(value)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _mutate_structure(rng: random.Random, doc: dict) -> None:
    for _ in range(rng.randint(1, 4)):
        paths = [p for p in _paths(doc) if p]
        path = rng.choice(paths)
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        choice = rng.random()
        if choice < 0.5:
            parent[key] = _Raw(rng.choice(HOSTILE_SCALARS))
        elif choice < 0.65 and isinstance(parent, dict):
            del parent[key]
        elif choice < 0.8 and isinstance(parent, dict):
            parent[rng.choice(["extra", "kind", "spec", "file", "env", "agentCount", "x\u202e", "a b"])] = _Raw(
                rng.choice(HOSTILE_SCALARS)
            )
        else:
            parent[key] = rng.choice([None, True, 0, -1, 2**63, 1.5, "", "x" * 300, [], {}, ["x"], {"a": {"b": 1}}])


def structural(rng: random.Random, i: int) -> Case:
    docs = _base_docs(rng)
    for doc in docs:
        if rng.random() < 0.8:
            _mutate_structure(rng, doc)
    flow = rng.random() < 0.3
    text = "\n---\n".join(_emit(d, 0, flow) for d in docs) + "\n"
    return Case(f"structural-{i}", {"m.yaml": text, "cert.pem": "-----BEGIN CERTIFICATE-----\nx\n"})


def textual(rng: random.Random, i: int) -> Case:
    text = "---\n".join([workspace(), attach(), create()][: rng.randint(1, 3)])
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(text))
        op = rng.random()
        if op < 0.5:
            text = text[:at] + rng.choice(TEXT_SNIPPETS) + text[at:]
        elif op < 0.7:
            text = text[:at] + text[at + rng.randint(1, 20) :]
        elif op < 0.85:
            text = text[:at]
        else:
            text = (
                text[:at] + chr(rng.choice([0, 7, 27, 127, 0x85, 0x2028, 0xFEFF, rng.randint(1, 0x10FFFF)])) + text[at:]
            )
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:
        at = rng.randint(0, len(data))
        data = data[:at] + bytes([rng.randint(0x80, 0xFF)]) + data[at:]
    return Case(f"text-{i}", {"m.yaml": data})


NEST_STYLES = ["block-seq", "block-map", "complex-key", "flow-seq", "flow-map", "mixed", "quoted", "comment", "json"]


def nesting(rng: random.Random, i: int, style: str | None = None, depth: int | None = None) -> Case:
    style = style or rng.choice(NEST_STYLES)
    n = depth or rng.choice([31, 32, 33, 34, 100, 1000, 30000, rng.randint(1, 60000)])
    if style == "block-seq":
        text = "- " * n + "x\n"
    elif style == "block-map":
        text = "".join(" " * k + f"k{k}:\n" for k in range(min(n, 2000))) + " " * min(n, 2000) + "x\n"
    elif style == "complex-key":
        text = "? " * n + "\n"
    elif style == "flow-seq":
        text = "a: " + "[" * n + "]" * n + "\n"
    elif style == "flow-map":
        text = "a: " + "{a: " * n + "1" + "}" * n + "\n"
    elif style == "mixed":
        text = "".join(rng.choice(["[", "{a: ", "- "]) for _ in range(min(n, 20000))) + "\n"
    elif style == "quoted":
        text = workspace().replace("name: prod", "name: '" + "[" * min(n, 100000) + "'")
    elif style == "comment":
        text = workspace() + "# " + "{" * min(n, 100000) + "\n"
    else:
        text = json.dumps(0) if n == 0 else "[" * min(n, 100000) + "]" * min(n, 100000)
    return Case(f"nest-{style}-{n}-{i}", {"m.yaml": text})


def special(rng: random.Random, i: int) -> Case:
    kind = rng.choice(
        [
            "fifo-path",
            "dev-zero",
            "dev-null",
            "dev-stdin",
            "loop-path",
            "fifo-in-dir",
            "loop-in-dir",
            "secret-dev-zero",
            "secret-fifo",
            "secret-loop",
            "secret-nul",
            "secret-big",
            "missing",
            "dir-yaml",
        ]
    )
    ws = workspace()
    if kind == "fifo-path":
        return Case(f"special-{kind}-{i}", specials={"p.yaml": "fifo"}, path="p.yaml")
    if kind in ("dev-zero", "dev-null", "dev-stdin"):
        return Case(f"special-{kind}-{i}", path="/dev/" + kind[4:])
    if kind == "loop-path":
        return Case(f"special-{kind}-{i}", specials={"l.yaml": "loop"}, path="l.yaml")
    if kind in ("fifo-in-dir", "loop-in-dir"):
        return Case(f"special-{kind}-{i}", {"d/ws.yaml": ws}, {"d/x.yaml": kind.split("-")[0]}, path="d")
    if kind == "missing":
        return Case(f"special-{kind}-{i}", path="nope.yaml")
    if kind == "dir-yaml":
        return Case(f"special-{kind}-{i}", {"d.yaml/ws.yaml": ws}, path="d.yaml")
    ref = {
        "secret-dev-zero": "/dev/zero",
        "secret-fifo": "pipe.pem",
        "secret-loop": "loop.pem",
        "secret-nul": '"a\\0b"',
        "secret-big": "big.pem",
    }[kind]
    tls = f"  tls:\n    enabled: true\n    cname: a.example.com\n    certificate: {{file: {ref}}}\n    key: {{file: {ref}}}\n"
    return Case(f"special-{kind}-{i}", {"m.yaml": ws + "---\n" + attach(extra=tls)})


def generate(seed: int, index: int) -> Case:
    """Case number `index` of the stream for `seed`: the same every time."""
    rng = random.Random(seed * 1_000_003 + index)
    pick = rng.random()
    if pick < 0.4:
        return structural(rng, index)
    if pick < 0.75:
        return textual(rng, index)
    if pick < 0.9:
        return nesting(rng, index)
    return special(rng, index)


# -- running a case --------------------------------------------------------------------

_FINDING = re.compile(r"^(?P<pos>.+?): (error|warning) (?P<rule>[A-Z]+\d+): ")
_WITH_LINE = re.compile(r":\d+:\d+$")


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    problems: list[str]


def run(case: Case, root: Path) -> Outcome:
    """Run `validate` and the offline plan pipeline on the case, in-process."""
    from reconciler import cli, loader, render, rules
    from reconciler.desired import desired_from
    from reconciler.planner import PlanOptions, plan
    from reconciler.state import ObservedState, ObservedWorkspace, WorkspaceRef

    target = case.make(root)
    out, err = io.StringIO(), io.StringIO()
    code: int = 0
    problems: list[str] = []
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main(["validate", str(target)])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                problems.append("traceback in validate:\n" + traceback.format_exc())
                code = -1
            if code == 0:
                try:
                    result = loader.load([target])
                    desired = desired_from(result)
                    ref = WorkspaceRef(SUB, "ml-prod-rg", "ml-prod")
                    observed = ObservedState({ref.key: ObservedWorkspace(ref, exists=True, computes={})}, {}, {})
                    planned = plan(desired, observed, PlanOptions())
                    render.to_json(planned), render.to_text(planned), render.to_markdown(planned)
                    rules.check(result)
                except BaseException:
                    problems.append("traceback in plan:\n" + traceback.format_exc())
    finally:
        os.chdir(cwd)
    stdout, stderr = out.getvalue(), err.getvalue()
    problems += check(code, stdout, stderr, content=case.path == "m.yaml")
    return Outcome(code, stdout, stderr, problems)


def check(code: int, stdout: str, stderr: str, *, content: bool) -> list[str]:
    """What is wrong with a validate run: exit code, traceback, findings without a position."""
    problems = []
    if code not in (0, 1):
        problems.append(f"exit code {code}")
    if "Traceback" in stdout or "Traceback" in stderr:
        problems.append("traceback in output")
    for line in stdout.splitlines():
        m = _FINDING.match(line)
        if m and " error " in line and content and not _WITH_LINE.search(m.group("pos")):
            problems.append(f"error without a position: {line}")
    return problems

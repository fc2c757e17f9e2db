"""A documented subset of ``kubectl`` run against a cluster's modelled inside (for AKS Run Command).

Supported (``&&`` chains several; the first failure stops the chain):
``get namespace|ns [NAME]``, ``create namespace NAME``, ``delete namespace NAME``,
``get KIND[,KIND] [NAME] -n NS [-l k=v] [-o name|json|jsonpath=...]`` (``all`` = deployments and services),
``delete KIND[,KIND] [NAME...] -n NS [-l k=v] [--ignore-not-found]``. Anything else exits 1
with kubectl's ``unknown command`` error.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from ...kube_model import ClusterInside, KubeObject

KINDS = {
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "deployment.apps": "Deployment",
    "service": "Service",
    "services": "Service",
    "svc": "Service",
    "configmap": "ConfigMap",
    "configmaps": "ConfigMap",
    "cm": "ConfigMap",
    "secret": "Secret",
    "secrets": "Secret",
    "serviceaccount": "ServiceAccount",
    "serviceaccounts": "ServiceAccount",
    "sa": "ServiceAccount",
    "role": "Role",
    "roles": "Role",
    "rolebinding": "RoleBinding",
    "rolebindings": "RoleBinding",
}
PREFIX = {
    "Deployment": "deployment.apps",
    "Role": "role.rbac.authorization.k8s.io",
    "RoleBinding": "rolebinding.rbac.authorization.k8s.io",
}
PLURAL = {
    "Deployment": "deployments.apps",
    "Service": "services",
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "ServiceAccount": "serviceaccounts",
    "Role": "roles.rbac.authorization.k8s.io",
    "RoleBinding": "rolebindings.rbac.authorization.k8s.io",
}


class KubectlError(Exception):
    pass


@dataclass
class Args:
    verb: str
    words: list[str] = field(default_factory=list)
    namespace: str = "default"
    selector: dict[str, str] = field(default_factory=dict)
    output: str = ""
    ignore_not_found: bool = False


def run(inside: ClusterInside, command: str) -> tuple[int, str, bool]:
    """(exit code, logs, changed) of a command line against ``inside``."""
    logs: list[str] = []
    changed = False
    try:
        parts = shlex.split(command)
    except ValueError as e:
        return 1, f"error: {e}\n", False
    for chunk in _chain(parts):
        try:
            out, ch = _one(inside, chunk)
        except KubectlError as e:
            logs.append(str(e))
            return 1, "\n".join(logs) + "\n", changed
        changed = changed or ch
        if out:
            logs.append(out)
    return 0, ("\n".join(logs) + "\n") if logs else "", changed


def _chain(parts: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for p in parts:
        if p in ("&&", ";"):
            out.append([])
        else:
            out[-1].append(p)
    return [c for c in out if c]


def _parse(words: list[str]) -> Args:
    if not words or words[0] != "kubectl":
        raise KubectlError(f"/bin/sh: {words[0] if words else ''}: command not found")
    if len(words) < 2:
        raise KubectlError("error: You must specify the type of resource to get.")
    a = Args(verb=words[1])
    it = iter(words[2:])
    for w in it:
        if w in ("-n", "--namespace"):
            a.namespace = next(it, "default")
        elif w.startswith("--namespace="):
            a.namespace = w.split("=", 1)[1]
        elif w in ("-l", "--selector"):
            a.selector = _selector(next(it, ""))
        elif w.startswith("--selector=") or w.startswith("-l="):
            a.selector = _selector(w.split("=", 1)[1])
        elif w in ("-o", "--output"):
            a.output = next(it, "")
        elif w.startswith("-o=") or w.startswith("--output="):
            a.output = w.split("=", 1)[1]
        elif w.startswith("-o") and len(w) > 2:
            a.output = w[2:]
        elif w == "--ignore-not-found" or w == "--ignore-not-found=true":
            a.ignore_not_found = True
        elif w.startswith("--"):
            continue  # --wait, --timeout, ... have no effect on the model
        else:
            a.words.append(w)
    return a


def _selector(text: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in text.split(",") if "=" in p)


def _one(inside: ClusterInside, words: list[str]) -> tuple[str, bool]:
    a = _parse(words)
    if a.verb not in ("get", "create", "delete"):
        raise KubectlError(f'error: unknown command "{a.verb}" for "kubectl"')
    if not a.words:
        raise KubectlError("error: You must specify the type of resource.")
    kind_word = a.words[0].lower()
    if kind_word in ("namespace", "namespaces", "ns"):
        return _namespace(inside, a)
    kinds = _kinds(kind_word)
    if a.verb == "create":
        raise KubectlError(f"error: the emulator's kubectl cannot create {kind_word}")
    if a.namespace != "default" and not inside.has_namespace(a.namespace) and a.verb == "get" and len(a.words) > 1:
        raise KubectlError(f'Error from server (NotFound): namespaces "{a.namespace}" not found')
    names = a.words[1:]
    found = [
        o
        for o in inside.objects
        if o.kind in kinds
        and o.namespace.lower() == a.namespace.lower()
        and (not names or o.name in names)
        and all(o.labels.get(k) == v for k, v in a.selector.items())
    ]
    if names and not a.ignore_not_found:
        for n in names:
            if not any(o.name == n for o in found):
                raise KubectlError(f'Error from server (NotFound): {PLURAL[kinds[0]]} "{n}" not found')
    if a.verb == "delete":
        for o in found:
            inside.objects.remove(o)
        return "\n".join(f"{_ref(o)} deleted" for o in found), bool(found)
    return _render(found, a, bool(names)), False


def _kinds(word: str) -> list[str]:
    if word == "all":
        return ["Deployment", "Service"]
    kinds = []
    for w in word.split(","):
        if w not in KINDS:
            raise KubectlError(f'error: the server doesn\'t have a resource type "{w}"')
        kinds.append(KINDS[w])
    return kinds


def _namespace(inside: ClusterInside, a: Args) -> tuple[str, bool]:
    names = a.words[1:]
    if a.verb == "create":
        if not names:
            raise KubectlError("error: exactly one NAME is required, got 0")
        if inside.has_namespace(names[0]):
            raise KubectlError(f'Error from server (AlreadyExists): namespaces "{names[0]}" already exists')
        inside.namespaces.append(names[0])
        return f"namespace/{names[0]} created", True
    if a.verb == "delete":
        gone = [n for n in names if inside.has_namespace(n)]
        missing = [n for n in names if not inside.has_namespace(n)]
        if missing and not a.ignore_not_found:
            raise KubectlError(f'Error from server (NotFound): namespaces "{missing[0]}" not found')
        inside.namespaces = [n for n in inside.namespaces if n not in gone]
        inside.objects = [o for o in inside.objects if o.namespace not in gone]
        return "\n".join(f'namespace "{n}" deleted' for n in gone), bool(gone)
    for n in names:
        if not inside.has_namespace(n):
            raise KubectlError(f'Error from server (NotFound): namespaces "{n}" not found')
    shown = names or list(inside.namespaces)
    if a.output == "name":
        return "\n".join(f"namespace/{n}" for n in shown), False
    return "\n".join(["NAME STATUS AGE"] + [f"{n} Active 1d" for n in shown]), False


def _ref(o: KubeObject) -> str:
    return f"{PREFIX.get(o.kind, o.kind.lower())}/{o.name}"


def _manifest(o: KubeObject) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": o.kind,
        "metadata": {"name": o.name, "namespace": o.namespace, "labels": dict(o.labels)},
    }
    if o.kind == "Secret":
        body["type"] = "Opaque"
        body["data"] = dict(o.data)
    return body


def _render(found: list[KubeObject], a: Args, named: bool) -> str:
    if a.output == "name":
        return "\n".join(_ref(o) for o in found)
    if a.output == "json":
        if named and len(found) == 1:
            return json.dumps(_manifest(found[0]), indent=2)
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": [_manifest(o) for o in found]}, indent=2)
    if a.output.startswith("jsonpath="):
        return "".join(_jsonpath(_manifest(o), a.output[len("jsonpath=") :]) for o in found)
    if not found:
        return f"No resources found in {a.namespace} namespace."
    return "\n".join(["NAME"] + [_ref(o) for o in found])


def _jsonpath(doc: dict[str, Any], expr: str) -> str:
    """``{.a.b}`` paths with ``\\.`` escapes (what ``-o jsonpath`` on a secret needs)."""
    expr = expr.strip().strip("'\"")
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]
    keys = [k.replace("\x00", ".") for k in expr.replace("\\.", "\x00").lstrip(".").split(".") if k]
    cur: object = doc
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            return ""
        cur = cur[k]
    return cur if isinstance(cur, str) else json.dumps(cur)

"""`reconciler migrate`: the text of the written manifests (the ClusterExtension and KubernetesCompute documents,
and the carried-over documents with their secret file references made relative to the output folder).

Apart from the conflict analysis because this only words decisions already made, as YAML.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from reconciler.loader import Document
from reconciler.manifest import ClusterExtension, InferenceCluster, KubernetesCompute, Workspace
from reconciler.migration_model import SCHEMA_LINE, TODO, ClusterPlan, Legacy, Strategy


def rel(path: Path, out: Path) -> str:
    return os.path.relpath(path.resolve() if not path.is_absolute() else path, out.resolve())


def _q(value: Any) -> str:
    """A YAML scalar: JSON strings and booleans are valid YAML flow scalars."""
    return json.dumps(value)


def extension_text(group: ClusterPlan, strategy: Strategy) -> str:
    lines = [
        SCHEMA_LINE.rstrip("\n"),
        f"# The Azure ML extension on {group.name}, written by `reconciler migrate --strategy {strategy.value}`.",
        "# TLS, the internal load balancer and HA are cluster-wide now: shared by every compute on this cluster.",
    ]
    lines += [f"# {TODO}: {t}" for t in group.todos]
    lines += [
        "apiVersion: reconciler.aml/v1",
        "kind: ClusterExtension",
        "metadata:",
        f"  name: {_q(group.name)}",
        "spec:",
        f"  clusterId: {_q(group.cluster_id)}",
    ]
    if strategy is Strategy.SAME_CLUSTER:
        lines.append(
            "  removeLegacyFrontEnd: true   # the azureml-fe objects a legacy detach leaves in default (E45005)"
        )
    lines.append("  inference:")
    s = group.settings
    for key in ("enabled", "internalLoadBalancer", "highAvailability", "allowInsecureConnections"):
        if key in s:
            comment = f"   # {TODO}: see MIGRATION.md" if any(t.startswith(key) for t in group.todos) else ""
            lines.append(f"    {key}: {_q(s[key])}{comment}")
    if "tls" in s:
        tls = s["tls"]
        lines.append("    tls:")
        lines.append(f"      cname: {_q(tls['cname'])}")
        for part in ("certificate", "key"):
            ((kind, value),) = tls[part].items()
            lines.append(f"      {part}: {{{kind}: {_q(value)}}}")
    lines.append("  version: {releaseTrain: stable, autoUpgrade: true}")
    return "\n".join(lines) + "\n"


def kubernetes_text(lg: Legacy) -> str:
    desc = lg.spec.spec.description or f"Replaces legacy compute {lg.name}"
    lines = [
        SCHEMA_LINE.rstrip("\n"),
        f"# Replaces the legacy AKS compute {lg.name!r} (written by `reconciler migrate`).",
        "apiVersion: reconciler.aml/v1",
        "kind: KubernetesCompute",
        "metadata:",
        f"  name: {_q(lg.new_name)}",
        "spec:",
        f"  workspace: {_q(lg.alias)}",
        f"  clusterId: {_q(lg.target)}",
        f"  namespace: {_q(lg.namespace)}",
        f"  replaces: {_q(lg.name)}",
        f"  description: {_q(desc)}",
    ]
    if lg.spec.spec.tags:
        lines.append(f"  tags: {json.dumps(dict(lg.spec.spec.tags))}")
    return "\n".join(lines) + "\n"


def dump_model(doc: Document, out: Path) -> str:
    """A carried-over document, re-written with its secret file references made relative to the output folder."""
    assert doc.model is not None
    data = doc.model.model_dump(mode="json", exclude_unset=True)
    _rewrite_files(data, doc, out)
    buf = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, buf)
    return SCHEMA_LINE + buf.getvalue()


def _rewrite_files(node: Any, doc: Document, out: Path) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("certificate", "key") and isinstance(value, dict) and "file" in value:
                value["file"] = rel(doc.path.parent / str(value["file"]), out)
            else:
                _rewrite_files(value, doc, out)
    elif isinstance(node, list):
        for item in node:
            _rewrite_files(item, doc, out)


def document_stem(doc: Document) -> str:
    model = doc.model
    if model is None:
        return "manifest"
    kinds: dict[type, str] = {
        Workspace: "workspace",
        InferenceCluster: "inference",
        ClusterExtension: "extension",
        KubernetesCompute: "kubernetes",
    }
    return f"{kinds.get(type(model), 'manifest')}-{model.metadata.name}"


def unique(files: dict[str, str], name: str) -> str:
    base, n = name, 2
    while name in files:
        name = base.replace(".yaml", f"-{n}.yaml")
        n += 1
    return name

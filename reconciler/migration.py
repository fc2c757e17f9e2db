"""`reconciler migrate`: legacy InferenceClusters → ClusterExtension + KubernetesCompute manifests and MIGRATION.md.

Pure: the workflow loads the manifests, observes Azure and finds certificate backups; this module
decides what to write. Every input document is carried into the new set (the output folder
replaces the manifests folder), except that each legacy InferenceCluster becomes a
KubernetesCompute (namespace named after the old compute, `replaces` naming it) on a cluster
with a ClusterExtension. Settings that become cluster-wide (TLS, internal load balancer, HA)
are merged per cluster; when the computes on one cluster disagree, the written manifest
carries a `TODO(migrate)` comment and MIGRATION.md lists the conflict. A leaf-label
certificate without a backup cannot be carried: its cname is written as a `TODO(migrate)`
value, which `validate` and `plan` refuse (MIG010) until it is replaced. MIGRATION.md is worded
by `migration_report`.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from reconciler.ids import cluster_key
from reconciler.loader import Document, LoadResult
from reconciler.manifest import (
    ClusterExtension,
    ClusterPurpose,
    InferenceCluster,
    KubernetesCompute,
    LoadBalancerType,
    SecretRef,
    Workspace,
)
from reconciler.plan import Op
from reconciler.state import Compute, ObservedState, WorkspaceRef

TODO = "TODO(migrate)"
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
SAME_CLUSTER_OPS = (Op.DETACH, Op.REMOVE_LEGACY_FE, Op.INSTALL, Op.CREATE_NAMESPACE, Op.K8S_ATTACH)


class Strategy(str, Enum):
    NEW_CLUSTER = "new-cluster"
    SAME_CLUSTER = "same-cluster"


class MigrationError(Exception):
    """The input cannot be migrated as asked (the message says why)."""


@dataclass(frozen=True)
class Backup:
    """A `backup-tls` backup of a leaf-label certificate: where its files are and the names it serves."""

    certificate: Path
    key: Path
    names: tuple[str, ...]


@dataclass
class Legacy:
    """One legacy compute being migrated."""

    doc: Document
    spec: InferenceCluster
    alias: str
    ref: WorkspaceRef
    observed: Compute | None
    source: str | None  # the cluster it runs on today
    target: str | None  # the cluster its Kubernetes compute goes to
    new_name: str
    namespace: str
    backup: Backup | None = None

    @property
    def name(self) -> str:
        return self.spec.metadata.name

    @property
    def tls_mode(self) -> str:
        tls = self.spec.spec.tls
        if not tls.enabled:
            return "none"
        return "custom" if tls.certificate is not None else "leaf"

    @property
    def internal(self) -> bool:
        return self.spec.spec.loadBalancer.type is LoadBalancerType.INTERNAL

    @property
    def dev_test(self) -> bool:
        return self.spec.spec.clusterPurpose is ClusterPurpose.DEV_TEST


@dataclass
class ClusterPlan:
    """The ClusterExtension of one target cluster and what its computes disagree on."""

    cluster_id: str
    computes: list[Legacy]
    declared: ClusterExtension | None  # an extension already in the manifests
    settings: dict[str, Any] = field(default_factory=dict)  # spec.inference as written
    conflicts: list[str] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.cluster_id.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Output:
    files: dict[str, str]  # file name in the output folder → text
    markdown: str
    notes: list[str]


def new_name(old: str) -> str:
    """The Kubernetes compute's name: the old one with `-k8s` (a name cannot change type in place)."""
    return f"{old[:20].rstrip('-')}-k8s"


def namespace_of(old: str) -> str:
    """A Kubernetes namespace (DNS label) named after the old compute."""
    name = re.sub(r"[^a-z0-9-]", "-", old.lower()).strip("-")[:63].strip("-")
    return name or "scoring"


def _legacies(
    result: LoadResult,
    observed: ObservedState,
    strategy: Strategy,
    target: str | None,
    backups: dict[tuple[str, str], Backup],
) -> tuple[list[Legacy], list[str]]:
    """Each legacy InferenceCluster with where it runs and where its Kubernetes compute goes; notes for the skipped."""
    workspaces = {
        ws.metadata.name: WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName)
        for _, ws in result.workspaces
    }
    legacies: list[Legacy] = []
    notes: list[str] = []
    for doc, ic in result.clusters:
        ref = workspaces[ic.spec.workspace]
        ows = observed.workspace(ref)
        current = next((c for n, c in ows.computes.items() if n.lower() == ic.metadata.name.lower()), None)
        source = (ic.spec.attach.clusterId if ic.spec.attach else None) or (current.cluster_id if current else None)
        if strategy is Strategy.SAME_CLUSTER:
            goes_to = source
        else:
            goes_to = target
        if goes_to is None:
            notes.append(
                f"{ic.spec.workspace}/{ic.metadata.name}: its cluster is created by the workspace and does not exist "
                "yet; nothing to migrate on the same cluster (it is carried over unchanged)"
            )
            continue
        if strategy is Strategy.NEW_CLUSTER and source and cluster_key(source) == cluster_key(goes_to):
            raise MigrationError(
                f"--target-cluster is the cluster {ic.metadata.name!r} runs on today; use --strategy same-cluster"
            )
        legacies.append(
            Legacy(
                doc,
                ic,
                ic.spec.workspace,
                ref,
                current,
                source,
                goes_to,
                new_name(ic.metadata.name),
                namespace_of(ic.metadata.name),
                backups.get((ref.key, ic.metadata.name)),
            )
        )
    return legacies, notes


def plan_migration(
    result: LoadResult,
    observed: ObservedState,
    strategy: Strategy,
    target: str | None,
    out: Path,
    backups: dict[tuple[str, str], Backup],
) -> Output:
    """What to write for this migration; `backups` by (workspace key, compute name)."""
    legacies, notes = _legacies(result, observed, strategy, target, backups)
    migrated = {id(lg.doc) for lg in legacies}
    groups: dict[str, ClusterPlan] = {}
    for lg in legacies:
        key = cluster_key(lg.target or "")
        if key not in groups:
            declared = next((ext for _, ext in result.extensions if cluster_key(ext.spec.clusterId) == key), None)
            groups[key] = ClusterPlan(lg.target or "", [], declared)
        groups[key].computes.append(lg)
    for group in groups.values():
        _merge(group, out)
        cluster = observed.cluster(group.cluster_id)
        nodes = sum(p.count for p in cluster.agent_pools) if cluster is not None else None
        if group.declared is None and group.settings.get("highAvailability") and nodes is not None and nodes < 3:
            group.todos.append(
                f"highAvailability: {group.name} has {nodes} node(s) and the HA router needs 3: scale the "
                "cluster or set highAvailability: false (plan refuses it as KUBE020 until then)"
            )

    files: dict[str, str] = {}
    for doc in result.documents:
        if doc.model is None:
            continue
        if id(doc) in migrated and strategy is Strategy.SAME_CLUSTER:
            continue  # its absence (with `replaces`) detaches it before the attach on the same cluster
        header = ""
        if id(doc) in migrated:
            lg = next(x for x in legacies if x.doc is doc)
            header = (
                f"# Legacy compute kept while it still serves traffic (new-cluster migration). Once clients use\n"
                f"# {lg.new_name!r}, delete this file: the next apply detaches it (never deletes its cluster).\n"
            )
        stem = f"legacy-{doc.model.metadata.name}" if id(doc) in migrated else _stem(doc)
        files[_unique(files, f"{stem}.yaml")] = header + _dump_model(doc, out)
    for group in groups.values():
        if group.declared is None:
            files[_unique(files, f"{group.name}-extension.yaml")] = _extension_text(group, strategy)
    for lg in legacies:
        files[_unique(files, f"{lg.new_name}.yaml")] = _kubernetes_text(lg)
    from reconciler.migration_report import markdown as render_markdown

    markdown = render_markdown(legacies, groups, strategy, out, notes)
    return Output(files, markdown, notes)


# -- cluster-wide settings ---------------------------------------------------------------------------
def _merge(group: ClusterPlan, out: Path) -> None:
    comps = group.computes

    def names(pred: Callable[[Legacy], bool]) -> str:
        return ", ".join(f"{c.alias}/{c.name}" for c in comps if pred(c))

    ha = any(not c.dev_test for c in comps)
    if ha and any(c.dev_test for c in comps):
        group.conflicts.append(
            f"high availability: DevTest compute(s) {names(lambda c: c.dev_test)} share the cluster with "
            f"production compute(s) {names(lambda c: not c.dev_test)}; the router is HA for all"
        )
    ilb = any(c.internal for c in comps)
    if ilb and not all(c.internal for c in comps):
        group.conflicts.append(
            f"internal load balancer: {names(lambda c: c.internal)} used an internal load balancer, "
            f"{names(lambda c: not c.internal)} a public IP; one router serves them all"
        )
        group.todos.append(
            "internalLoadBalancer: the computes on this cluster disagreed (see MIGRATION.md); true was kept"
        )
    settings: dict[str, Any] = {"enabled": True, "internalLoadBalancer": ilb, "highAvailability": ha}
    with_tls = [c for c in comps if c.tls_mode != "none"]
    if with_tls and len(with_tls) < len(comps):
        group.conflicts.append(
            f"TLS: {names(lambda c: c.tls_mode != 'none')} served HTTPS, "
            f"{names(lambda c: c.tls_mode == 'none')} plain HTTP; one router serves them all over HTTPS"
        )
    chosen = (
        next((c for c in with_tls if c.tls_mode == "custom"), None)
        or next((c for c in with_tls if c.backup is not None), None)
        or (with_tls[0] if with_tls else None)
    )
    cnames = {_cname(c) for c in with_tls}
    if len(cnames) > 1:
        group.conflicts.append(
            f"TLS: one cname per cluster now, the computes had {', '.join(sorted(str(n) for n in cnames))}; "
            f"{_cname(chosen) if chosen else ''} was kept"
        )
        group.todos.append("tls: the computes on this cluster served different names (see MIGRATION.md)")
    if chosen is None:
        settings["allowInsecureConnections"] = True
    elif chosen.tls_mode == "custom":
        tls = chosen.spec.spec.tls
        settings["tls"] = {
            "cname": tls.cname,
            "certificate": _ref(tls.certificate, chosen.doc, out),
            "key": _ref(tls.key, chosen.doc, out),
        }
    elif chosen.backup is not None:
        settings["tls"] = {
            "cname": chosen.backup.names[0] if chosen.backup.names else f"{TODO}: the certificate's name",
            "certificate": {"file": _rel(chosen.backup.certificate, out)},
            "key": {"file": _rel(chosen.backup.key, out)},
        }
    else:
        label = chosen.spec.spec.tls.leafDomainLabel or ""
        settings["tls"] = {
            "cname": f"{TODO}: leaf-label TLS ({label}) has no v2 equivalent; run backup-tls, or give your domain",
            "certificate": {"file": "TODO-certificate.pem"},
            "key": {"file": "TODO-key.pem"},
        }
        group.todos.append(
            f"tls: {chosen.alias}/{chosen.name} used a Microsoft leaf-label certificate with no backup: "
            f"`reconciler backup-tls {chosen.name} --workspace {chosen.alias}` and migrate again, or bring "
            "your own certificate and DNS name"
        )
    group.settings = settings


def _cname(c: Legacy) -> str | None:
    if c.tls_mode == "custom":
        return c.spec.spec.tls.cname
    if c.backup is not None and c.backup.names:
        return c.backup.names[0]
    return f"{c.spec.spec.tls.leafDomainLabel}…cloudapp.azure.net"


def _ref(ref: SecretRef | None, doc: Document, out: Path) -> dict[str, str]:
    if ref is None:
        return {"env": "TODO_MIGRATE_TLS"}
    if ref.env is not None:
        return {"env": ref.env}
    return {"file": _rel(doc.path.parent / str(ref.file), out)}


def _rel(path: Path, out: Path) -> str:
    return os.path.relpath(path.resolve() if not path.is_absolute() else path, out.resolve())


# -- written documents ---------------------------------------------------------------------------------
def _q(value: Any) -> str:
    """A YAML scalar: JSON strings and booleans are valid YAML flow scalars."""
    return json.dumps(value)


def _extension_text(group: ClusterPlan, strategy: Strategy) -> str:
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


def _kubernetes_text(lg: Legacy) -> str:
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


def _dump_model(doc: Document, out: Path) -> str:
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
                value["file"] = _rel(doc.path.parent / str(value["file"]), out)
            else:
                _rewrite_files(value, doc, out)
    elif isinstance(node, list):
        for item in node:
            _rewrite_files(item, doc, out)


def _stem(doc: Document) -> str:
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


def _unique(files: dict[str, str], name: str) -> str:
    base, n = name, 2
    while name in files:
        name = base.replace(".yaml", f"-{n}.yaml")
        n += 1
    return name

"""`reconciler migrate`: legacy InferenceClusters → ClusterExtension + KubernetesCompute manifests and MIGRATION.md.

Pure: the workflow loads the manifests, observes Azure and finds certificate backups; this module
decides what to write. Every input document is carried into the new set (the output folder
replaces the manifests folder), except that each legacy InferenceCluster becomes a
KubernetesCompute (namespace named after the old compute, `replaces` naming it) on a cluster
with a ClusterExtension. Settings that become cluster-wide (TLS, internal load balancer, HA)
are merged per cluster; when the computes on one cluster disagree, the written manifest
carries a `TODO(migrate)` comment and MIGRATION.md lists the conflict. A leaf-label
certificate without a backup cannot be carried: its cname is written as a `TODO(migrate)`
value, which `validate` and `plan` refuse (MIG010) until it is replaced.
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
    markdown = _markdown(legacies, groups, strategy, out, notes)
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


# -- MIGRATION.md ----------------------------------------------------------------------------------------
def _scheme(lg: Legacy) -> str:
    return "https" if lg.tls_mode != "none" else "http"


def _old_host(lg: Legacy) -> str:
    tls = lg.spec.spec.tls
    if lg.tls_mode == "custom":
        return str(tls.cname)
    if lg.tls_mode == "leaf":
        if lg.backup is not None and lg.backup.names:
            return lg.backup.names[0]
        return f"{tls.leafDomainLabel}XXXXXX.<region>.cloudapp.azure.net"
    return "<internal load balancer IP>" if lg.internal else "<public IP of azureml-fe>"


def _new_host(group: ClusterPlan) -> str:
    tls = (
        group.settings.get("tls")
        if group.declared is None
        else (group.declared.spec.inference.tls.model_dump() if group.declared.spec.inference.tls else None)
    )
    if tls and tls.get("cname") and not str(tls["cname"]).startswith(TODO):
        return str(tls["cname"])
    return "<IP of the azureml-fe service in namespace azureml>"


def _new_scheme(group: ClusterPlan) -> str:
    if group.declared is not None:
        return "http" if group.declared.spec.inference.allowInsecureConnections else "https"
    return "http" if group.settings.get("allowInsecureConnections") else "https"


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def _markdown(
    legacies: list[Legacy], groups: dict[str, ClusterPlan], strategy: Strategy, out: Path, notes: list[str]
) -> str:
    md: list[str] = [
        f"# Migration to Kubernetes computes ({strategy.value})",
        "",
        "Written by `reconciler migrate`. Legacy `AKS` computes cannot serve Azure ML v2 online endpoints; "
        "each one below is replaced by a Kubernetes compute on a cluster with the Azure ML extension. "
        f"This folder (`{out}`) is the complete new set of manifests.",
        "",
    ]
    if not legacies:
        md += ["No legacy InferenceCluster to migrate.", ""]
    md += ["## What changes, per compute", ""]
    for lg in legacies:
        group = groups[cluster_key(lg.target or "")]
        same = lg.source is not None and cluster_key(lg.source) == cluster_key(lg.target or "")
        md += [
            f"### {lg.alias}/{lg.name} → {lg.alias}/{lg.new_name}",
            "",
            f"- **Cluster**: {group.name} ({'the same cluster' if same else 'a new cluster; the legacy one keeps serving until you remove its manifest'}), "
            f"namespace `{lg.namespace}`.",
            f"- **Scoring URL**: was `{_scheme(lg)}://{_old_host(lg)}/api/v1/service/<service>/score` (v1 web service); "
            f"becomes `{_new_scheme(group)}://{_new_host(group)}/api/v1/endpoint/<endpoint>/score` once each model is "
            "redeployed as a Kubernetes online endpoint. Clients must switch.",
            "- **Keys**: the v1 web service keys stop working with the legacy compute; each v2 online endpoint has its "
            "own keys (`az ml online-endpoint get-credentials`). Hand clients the new keys.",
            f"- **TLS**: {_tls_line(lg, group)}",
            f"- **Cluster-wide settings**: TLS, internal load balancer and HA now belong to the extension on {group.name} "
            f"and are shared by every compute on it: {_settings_line(group)}.",
        ]
        if lg.observed is not None and lg.observed.created:
            md.append(
                "- **Created cluster**: Azure ML created this cluster; the legacy compute is *detached*, never deleted "
                "(a `Delete` would delete the cluster). Remove the cluster in AKS yourself if it is no longer needed."
            )
        if lg.observed is None:
            md.append("- Not found in Azure: the manifest is migrated as written.")
        md.append("")
    conflicts = [(g, c) for g in groups.values() for c in g.conflicts]
    md += ["## Conflicts between computes sharing a cluster", ""]
    md += [f"- {g.name}: {c}" for g, c in conflicts] or ["None."]
    todos = [(g, t) for g in groups.values() for t in g.todos]
    md += ["", "## Before you apply", ""]
    md += [f"- [ ] {g.name}: {t} (marked `{TODO}` in the manifest)" for g, t in todos] or ["Nothing left to fill in."]
    md += [f"- note: {n}" for n in notes]
    md += ["", "## Phases, in order", ""]
    if strategy is Strategy.SAME_CLUSTER:
        seconds = sum(op.expected_seconds for op in SAME_CLUSTER_OPS)
        backups = [lg for lg in legacies if lg.tls_mode == "leaf"]
        md += [
            "1. Save leaf-label certificates (the clean-up deletes the `azuremlfessl` secret): "
            + (
                ", ".join(f"`reconciler backup-tls {lg.name} --workspace {lg.alias}`" for lg in backups)
                if backups
                else "none needed"
            )
            + ".",
            f"2. Review: `reconciler validate {out}` and `reconciler plan {out}` (MIG002 marks the downtime).",
            f"3. In a maintenance window: `reconciler apply {out}`. On each cluster, one chain: legacy detach → removal of "
            "the `azureml-fe` objects in `default` → extension install → namespace → Kubernetes compute attach. "
            "If it stops half-way, run the same apply again: it continues from where Azure is.",
            "4. Redeploy each model as a Kubernetes online endpoint on the new compute "
            "(`az ml online-endpoint create` / `az ml online-deployment create` with `compute: azureml:<new compute>`).",
            "5. Give clients the new scoring URL and keys.",
            f"6. `reconciler plan {out} --detailed-exitcode` exits 0.",
            "",
            "## Expected downtime",
            "",
            f"Endpoints on the migrated computes are down from the legacy detach until the redeploy: about "
            f"{_duration(seconds)} of Azure operations per cluster (detach {_duration(Op.DETACH.expected_seconds)}, "
            f"clean-up {_duration(Op.REMOVE_LEGACY_FE.expected_seconds)}, install {_duration(Op.INSTALL.expected_seconds)}, "
            f"namespace {_duration(Op.CREATE_NAMESPACE.expected_seconds)}, attach {_duration(Op.K8S_ATTACH.expected_seconds)}), "
            "plus the time to redeploy your endpoints. To avoid it, migrate with `--strategy new-cluster`.",
            "",
        ]
    else:
        md += [
            f"1. Review: `reconciler validate {out}` and `reconciler plan {out}`: the extension is installed on the new "
            "cluster and the Kubernetes computes attached; MIG001 lists the legacy computes that still serve traffic.",
            f"2. `reconciler apply {out}`: no downtime, the legacy computes are untouched.",
            "3. Redeploy each model as a Kubernetes online endpoint on the new compute, test it, then give clients the "
            "new scoring URL and keys (and point your DNS name at the new router if you keep a cname).",
            f"4. Delete the `legacy-*.yaml` files from `{out}` and `reconciler apply {out}` again: the legacy computes "
            "are detached (never deleted; their clusters stay).",
            f"5. `reconciler plan {out} --detailed-exitcode` exits 0.",
            "",
            "## Expected downtime",
            "",
            "None: both computes serve side by side until clients have moved (blue/green).",
            "",
        ]
    md += ["## Commands", "", "```sh"]
    for lg in legacies:
        if lg.tls_mode == "leaf" and lg.backup is None:
            md.append(f"reconciler backup-tls {lg.name} --workspace {lg.alias} --out tls-backups")
    md += [f"reconciler validate {out}", f"reconciler plan {out}", f"reconciler apply {out}"]
    if strategy is Strategy.NEW_CLUSTER:
        md += [f"rm {out}/legacy-*.yaml", f"reconciler apply {out}"]
    md += [f"reconciler plan {out} --detailed-exitcode", "```", ""]
    return "\n".join(md)


def _tls_line(lg: Legacy, group: ClusterPlan) -> str:
    if lg.tls_mode == "none":
        base = "none before."
    elif lg.tls_mode == "custom":
        base = f"custom certificate for `{lg.spec.spec.tls.cname}`: carried to the extension (PEM pair + cname)."
    elif lg.backup is not None:
        base = (
            f"Microsoft leaf-label certificate (`{lg.spec.spec.tls.leafDomainLabel}`) has no v2 equivalent; the backup "
            f"is used as a custom certificate with the same name `{_old_host(lg)}` (its DNS record must point at the new router)."
        )
    else:
        base = (
            f"Microsoft leaf-label certificate (`{lg.spec.spec.tls.leafDomainLabel}`) has no v2 equivalent and no backup "
            f"exists: the manifest has a `{TODO}` cname. Run `reconciler backup-tls {lg.name} --workspace {lg.alias}` and "
            "migrate again, or bring your own certificate and DNS name."
        )
    if "tls" not in group.settings and group.declared is None:
        return base + " The new router serves plain HTTP (allowInsecureConnections)."
    return base


def _settings_line(group: ClusterPlan) -> str:
    if group.declared is not None:
        inf = group.declared.spec.inference
        return (
            f"the ClusterExtension already declared decides (HA {inf.highAvailability}, internal LB "
            f"{inf.internalLoadBalancer}, TLS {'on' if inf.tls else 'off'})"
        )
    s = group.settings
    tls = "on" if "tls" in s else "off"
    return (
        f"HA {str(s['highAvailability']).lower()} (DevTest maps to false), internal LB {str(s['internalLoadBalancer']).lower()}, "
        f"TLS {tls}" + ("; conflicts below" if group.conflicts else "")
    )

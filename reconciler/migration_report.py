"""MIGRATION.md of `reconciler migrate` (pure): what changes per compute, conflicts, phases, downtime, commands.

Reads the decisions of `migration` (which legacy compute goes where, each cluster's merged
settings and conflicts) and words them for the people doing the migration.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.ids import cluster_key
from reconciler.migration import SAME_CLUSTER_OPS, TODO, ClusterPlan, Legacy, Strategy
from reconciler.plan import Op


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


def markdown(
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

"""`reconciler import`: manifests for the AKS and Kubernetes computes a workspace already has (and their extensions).

Pure: observed state in, manifest texts out. Azure never returns TLS secrets, so
a custom certificate becomes a reference to fill in, reported, never guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.safeio import UnsafeFileError, describe_error, write_private
from reconciler.state import AksCluster, Compute, Extension, ObservedWorkspace

ALIAS_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
SCHEMA_REF = "../schemas/manifest.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_REF}\n"


def modeline(schema_ref: str = SCHEMA_REF) -> str:
    """The first line of a manifest: editors running yaml-language-server validate and complete with the schema."""
    return f"# yaml-language-server: $schema={schema_ref}\n"


@dataclass
class Imported:
    files: dict[str, str]  # file name -> YAML text
    notes: list[str] = field(default_factory=list)


def _q(value: object) -> str:
    """A YAML scalar that reads back as the same string (JSON strings are YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def _env_name(compute: str, what: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", compute.upper()) + f"_TLS_{what}"


def workspace_manifest(alias: str, ows: ObservedWorkspace, schema_ref: str = SCHEMA_REF) -> str:
    ref = ows.ref
    return (
        modeline(schema_ref)
        + "apiVersion: reconciler.aml/v1\nkind: Workspace\nmetadata:\n"
        + f"  name: {_q(alias)}\nspec:\n  subscriptionId: {_q(ref.subscription_id)}\n"
        + f"  resourceGroup: {_q(ref.resource_group)}\n  workspaceName: {_q(ref.workspace_name)}\n  prune: false\n"
    )


def cluster_manifest(
    alias: str, compute: Compute, cluster: AksCluster | None, notes: list[str], schema_ref: str = SCHEMA_REF
) -> str:
    lines = [
        "apiVersion: reconciler.aml/v1",
        "kind: InferenceCluster",
        "metadata:",
        f"  name: {_q(compute.name)}",
        "spec:",
        f"  workspace: {_q(alias)}",
    ]
    if compute.description:
        lines.append(f"  description: {_q(compute.description)}")
    lines.append(f"  clusterPurpose: {_q(compute.purpose or 'FastProd')}")
    if compute.created:
        pool = cluster.primary_pool if cluster else None
        location = (cluster.location if cluster else compute.location) or "CHANGE-ME"
        lines += [
            "  create:",
            f"    location: {_q(location)}",
            f"    vmSize: {_q((pool.vm_size if pool else compute.agent_vm_size) or 'Standard_D3_v2')}",
            f"    agentCount: {(pool.count if pool else compute.agent_count) or 3}",
        ]
        net = {k: v for k, v in (compute.network or {}).items() if v}
        if net:
            lines.append("    network:")
            lines += [
                f"      {k}: {_q(v)}"
                for k, v in net.items()
                if k in ("subnetId", "serviceCidr", "dnsServiceIP", "dockerBridgeCidr")
            ]
        if cluster is None:
            notes.append(f"{compute.name}: its AKS cluster no longer exists; check create.location and vmSize")
    else:
        lines += ["  attach:", f"    clusterId: {_q(compute.cluster_id)}"]
    if compute.load_balancer_type == "InternalLoadBalancer":
        lines += ["  loadBalancer:", "    type: InternalLoadBalancer"]
        if compute.load_balancer_subnet:
            lines.append(f"    subnet: {_q(compute.load_balancer_subnet)}")
    tls = compute.tls
    if tls.enabled:
        lines += ["  tls:", "    enabled: true"]
        if tls.leaf_domain_label:
            lines.append(f"    leafDomainLabel: {_q(tls.leaf_domain_label)}")
            if tls.overwrite_existing_domain:
                lines.append("    overwriteExistingDomain: true")
        else:
            cert, key = _env_name(compute.name, "CERT"), _env_name(compute.name, "KEY")
            lines += [
                f"    cname: {_q(tls.cname or 'CHANGE-ME')}",
                f"    certificate: {{env: {cert}}}   # Azure never returns it: provide the PEM",
                f"    key: {{env: {key}}}   # read it from the cluster's azuremlfessl secret if lost",
            ]
            notes.append(
                f"{compute.name}: custom TLS certificate and key are not returned by Azure; set {cert} and {key}"
            )
    user_tags = {k: v for k, v in compute.tags.items() if not k.startswith("reconciler-")}
    if user_tags:
        lines.append("  tags:")
        lines += [f"    {_q(k)}: {_q(v)}" for k, v in sorted(user_tags.items())]
    return modeline(schema_ref) + "\n".join(lines) + "\n"


def import_workspace(
    alias: str, ows: ObservedWorkspace, clusters: dict[str, AksCluster], schema_ref: str = SCHEMA_REF
) -> Imported:
    """Manifests whose modeline points at `schema_ref` (relative to the manifests folder)."""
    result = Imported({f"{alias}-workspace.yaml": workspace_manifest(alias, ows, schema_ref)})
    for name, compute in sorted(ows.computes.items()):
        if compute.compute_type.upper() != "AKS":
            continue
        cluster = clusters.get(compute.cluster_key or "")
        result.files[f"{name}.yaml"] = cluster_manifest(alias, compute, cluster, result.notes, schema_ref)
        if compute.failed:
            result.notes.append(f"{name}: provisioningState is Failed; plan will repair it")
    return result


class ImportWriteError(Exception):
    """A manifest could not be written; the message is for the user."""


def out_problem(alias: str, out: Path) -> str | None:
    """Why `--alias` / `--out` cannot be used, or None. An alias becomes a file name,
    so it must be a plain name: `../../x` would write outside `--out`."""
    if not ALIAS_PATTERN.match(alias):
        return (
            f"--alias {alias!r} is not a name: use 1-63 letters, digits, '-' and '_', starting with a letter or digit"
        )
    try:
        if out.exists() and not out.is_dir():
            return f"--out {out} is a file, not a folder; give the folder to write the manifests into"
    except (OSError, ValueError) as exc:
        return f"--out {out}: {describe_error(exc)}"
    return None


def write_files(imported: Imported, out: Path) -> None:
    """Write every manifest into `out`, each atomically; a name that is not a plain file name is refused."""
    for file_name in imported.files:
        if Path(file_name).name != file_name or file_name.startswith(".") or "\0" in file_name:
            raise ImportWriteError(f"refusing to write {file_name!r}: not a plain file name")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        raise ImportWriteError(f"cannot create folder {out}: {describe_error(exc)}") from None
    for file_name, text in imported.files.items():
        try:
            write_private(out / file_name, text, mode=0o644)
        except UnsafeFileError as exc:
            raise ImportWriteError(f"cannot write {out / file_name}: {exc}") from None


# -- Kubernetes computes and the Azure ML extension ---------------------------------------------------
ROUTER_TYPES = {"loadbalancer": "LoadBalancer", "nodeport": "NodePort", "clusterip": "ClusterIP"}


def _flow(value: object) -> str:
    """A nested value as one line of YAML (JSON is YAML)."""
    return json.dumps(value, sort_keys=True)


def kubernetes_manifest(alias: str, compute: Compute, schema_ref: str = SCHEMA_REF) -> str:
    lines = [
        "apiVersion: reconciler.aml/v1",
        "kind: KubernetesCompute",
        "metadata:",
        f"  name: {_q(compute.name)}",
        "spec:",
        f"  workspace: {_q(alias)}",
        f"  clusterId: {_q(compute.cluster_id)}",
        f"  namespace: {_q(compute.namespace or 'default')}",
    ]
    if compute.description:
        lines.append(f"  description: {_q(compute.description)}")
    if compute.identity_type and compute.identity_type.lower() != "none":
        identity: dict[str, object] = {"type": compute.identity_type}
        if compute.identity_ids:
            identity["ids"] = list(compute.identity_ids)
        lines.append(f"  identity: {_flow(identity)}")
    if compute.instance_types:
        lines.append(f"  instanceTypes: {_flow(compute.instance_types)}")
        if compute.default_instance_type:
            lines.append(f"  defaultInstanceType: {_q(compute.default_instance_type)}")
    user_tags = {k: v for k, v in compute.tags.items() if not k.startswith("reconciler-")}
    if user_tags:
        lines.append(f"  tags: {_flow(user_tags)}")
    return modeline(schema_ref) + "\n".join(lines) + "\n"


def extension_manifest(alias: str, ext: Extension, notes: list[str], schema_ref: str = SCHEMA_REF) -> str:
    """A ClusterExtension from the extension's settings; the write-only PEM pair becomes {env: ...} references."""
    s = {k: v for k, v in ext.settings.items()}

    def on(key: str, default: bool = False) -> bool:
        return str(s.get(key, default)).lower() == "true"

    inference = on("enableInference")
    lines = [
        "apiVersion: reconciler.aml/v1",
        "kind: ClusterExtension",
        "metadata:",
        f"  name: {_q(alias)}",
        "spec:",
        f"  clusterId: {_q(ext.cluster_id)}",
        f"  extensionName: {_q(ext.name)}",
        f"  training: {_q(on('enableTraining'))}",
        "  inference:",
        f"    enabled: {_q(inference)}",
    ]
    if inference:
        router = ROUTER_TYPES.get(str(s.get("inferenceRouterServiceType", "loadBalancer")).lower(), "LoadBalancer")
        lines += [
            f"    routerServiceType: {router}",
            f"    internalLoadBalancer: {_q(str(s.get('internalLoadBalancerProvider', '')).lower() == 'azure')}",
            f"    highAvailability: {_q(str(s.get('inferenceRouterHA', 'true')).lower() != 'false')}",
            f"    allowInsecureConnections: {_q(on('allowInsecureConnections'))}",
        ]
        if not on("allowInsecureConnections"):
            lines += ["    tls:", f"      cname: {_q(s.get('sslCname') or 'CHANGE-ME')}"]
            secret = s.get("sslSecret") or s.get("scoringFe.sslSecret")
            if secret:
                lines.append(f"      secretName: {_q(secret)}")
            else:
                cert, key = _env_name(alias, "CERT"), _env_name(alias, "KEY")
                lines += [
                    f"      certificate: {{env: {cert}}}   # protected settings are write-only: provide the PEM",
                    f"      key: {{env: {key}}}",
                ]
                notes.append(
                    f"extension/{alias}: the TLS certificate and key are protected settings Azure never returns; "
                    f"set {cert} and {key} (the first apply re-sends them)"
                )
    if ext.auto_upgrade:
        lines.append(f"  version: {{releaseTrain: {_q((ext.release_train or 'stable').lower())}, autoUpgrade: true}}")
    else:
        lines.append(f"  version: {{version: {_q(ext.version or 'CHANGE-ME')}, autoUpgrade: false}}")
    selector = {k[len("nodeSelector.") :]: v for k, v in s.items() if k.startswith("nodeSelector.")}
    if selector:
        lines.append(f"  nodeSelector: {_flow(selector)}")
    return modeline(schema_ref) + "\n".join(lines) + "\n"


def import_kubernetes(
    alias: str,
    ows: ObservedWorkspace,
    extensions: dict[str, tuple[Extension, ...]],
    result: Imported,
    schema_ref: str = SCHEMA_REF,
) -> None:
    """Add a KubernetesCompute per Kubernetes compute and a ClusterExtension per cluster they use."""
    clusters: dict[str, str] = {}
    for name, compute in sorted(ows.kubernetes.items()):
        result.files[f"{name}.yaml"] = kubernetes_manifest(alias, compute, schema_ref)
        if compute.cluster_key and compute.cluster_id:
            clusters.setdefault(compute.cluster_key, compute.cluster_id)
        if compute.failed:
            result.notes.append(f"{name}: provisioningState is Failed; plan will re-attach it")
    for key, cluster_id in sorted(clusters.items()):
        ext = next((e for e in extensions.get(key, ()) if e.is_azureml), None)
        cluster_name = cluster_id.rstrip("/").rsplit("/", 1)[-1]
        if ext is None:
            result.notes.append(
                f"cluster {cluster_name}: no Azure ML extension found; declare a ClusterExtension for it"
            )
            continue
        result.files[f"{cluster_name}-extension.yaml"] = extension_manifest(cluster_name, ext, result.notes, schema_ref)

"""`reconciler import`: manifests for the AKS computes a workspace already has.

Pure: observed state in, manifest texts out. Azure never returns TLS secrets, so
a custom certificate becomes a reference to fill in, reported, never guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from reconciler.state import AksCluster, Compute, ObservedWorkspace

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


def cluster_manifest(alias: str, compute: Compute, cluster: AksCluster | None, notes: list[str],
                     schema_ref: str = SCHEMA_REF) -> str:
    lines = [
        "apiVersion: reconciler.aml/v1", "kind: InferenceCluster", "metadata:", f"  name: {_q(compute.name)}", "spec:",
        f"  workspace: {_q(alias)}",
    ]
    if compute.description:
        lines.append(f"  description: {_q(compute.description)}")
    lines.append(f"  clusterPurpose: {_q(compute.purpose or 'FastProd')}")
    if compute.created:
        pool = cluster.primary_pool if cluster else None
        location = (cluster.location if cluster else compute.location) or "CHANGE-ME"
        lines += ["  create:", f"    location: {_q(location)}",
                  f"    vmSize: {_q((pool.vm_size if pool else compute.agent_vm_size) or 'Standard_D3_v2')}",
                  f"    agentCount: {(pool.count if pool else compute.agent_count) or 3}"]
        net = {k: v for k, v in (compute.network or {}).items() if v}
        if net:
            lines.append("    network:")
            lines += [f"      {k}: {_q(v)}" for k, v in net.items() if k in ("subnetId", "serviceCidr", "dnsServiceIP", "dockerBridgeCidr")]
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
            lines += [f"    cname: {_q(tls.cname or 'CHANGE-ME')}",
                      f"    certificate: {{env: {cert}}}   # Azure never returns it: provide the PEM",
                      f"    key: {{env: {key}}}   # read it from the cluster's azuremlfessl secret if lost"]
            notes.append(f"{compute.name}: custom TLS certificate and key are not returned by Azure; set {cert} and {key}")
    user_tags = {k: v for k, v in compute.tags.items() if not k.startswith("reconciler-")}
    if user_tags:
        lines.append("  tags:")
        lines += [f"    {_q(k)}: {_q(v)}" for k, v in sorted(user_tags.items())]
    return modeline(schema_ref) + "\n".join(lines) + "\n"


def import_workspace(alias: str, ows: ObservedWorkspace, clusters: dict[str, AksCluster],
                     schema_ref: str = SCHEMA_REF) -> Imported:
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

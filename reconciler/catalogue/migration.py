"""Rules of the move from legacy AKS computes to Kubernetes computes."""

from __future__ import annotations

from reconciler.catalogue.rule import E, W, rule

__all__ = ["MIG001", "MIG002", "MIG003", "MIG004", "MIG010"]

# -- Migration from legacy AKS computes: with Azure --
MIG001 = rule(
    "MIG001",
    W,
    "legacy compute still serves traffic",
    "once clients use the Kubernetes compute that replaces it, remove the legacy compute's InferenceCluster manifest: the next apply detaches it",
)
MIG002 = rule(
    "MIG002",
    W,
    "same-cluster migration: downtime",
    "endpoints on the legacy compute are down from its detach until the Kubernetes compute is attached and they are redeployed: plan a window, or migrate to a new cluster",
)
MIG003 = rule(
    "MIG003",
    W,
    "a leaf-label TLS certificate would be lost",
    "save it first with `reconciler backup-tls COMPUTE --out DIR` (then re-attach with it as a custom certificate and the same cname), or pass --accept-new-domain to apply",
)
MIG004 = rule(
    "MIG004",
    E,
    "replaced compute cannot be migrated here",
    "`replaces` names a legacy AKS compute of the same workspace; same-cluster migration needs removeLegacyFrontEnd: true on the cluster's ClusterExtension",
)
MIG010 = rule(
    "MIG010",
    E,
    "unresolved TODO(migrate)",
    "`reconciler migrate` could not carry this setting: fill it in (see MIGRATION.md), e.g. with a `backup-tls` backup as the certificate",
)

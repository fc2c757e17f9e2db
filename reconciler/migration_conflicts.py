"""`reconciler migrate`: the settings that become cluster-wide (TLS, internal load balancer, HA), merged per
target cluster, and where the computes on one cluster disagree.

Apart from the written manifests because this is the judgement: which setting wins, what is a conflict for
MIGRATION.md, and what is left as a `TODO(migrate)` for a person to decide.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.loader import Document
from reconciler.manifest import SecretRef
from reconciler.migration_manifests import rel
from reconciler.migration_model import TODO, ClusterPlan, Legacy


def merge(group: ClusterPlan, out: Path) -> None:
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
            "certificate": {"file": rel(chosen.backup.certificate, out)},
            "key": {"file": rel(chosen.backup.key, out)},
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
    return {"file": rel(doc.path.parent / str(ref.file), out)}

"""Offline rules of Kubernetes computes and the Azure ML cluster extension, and of what `migrate` left to fill in.

Apart from the legacy AKS rules: these follow the extension's settings and the v2 compute's shape.
Pure functions of the loaded manifests; `rules.check` runs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reconciler.catalogue import (
    AKS002,
    AKS003,
    AKS005,
    KUBE001,
    KUBE002,
    KUBE003,
    KUBE004,
    KUBE005,
    KUBE006,
    KUBE007,
    KUBE008,
    KUBE010,
    KUBE011,
    KUBE012,
    MIG010,
)
from reconciler.findings import Finding
from reconciler.ids import parse_cluster_id
from reconciler.loader import Document, LoadResult
from reconciler.manifest import ClusterExtension, KubernetesCompute, RouterServiceType
from reconciler.rules_aks import compute_name

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")


def extension_address(ext: ClusterExtension) -> str:
    return f"extension/{ext.metadata.name}"


def extensions(result: LoadResult) -> Iterator[Finding]:
    seen: dict[str, Document] = {}
    for doc, ext in result.extensions:
        spec, addr = ext.spec, extension_address(ext)
        cid = parse_cluster_id(spec.clusterId)
        if cid is None:
            yield AKS005.at(
                doc, ("spec", "clusterId"), f"{spec.clusterId!r} is not an AKS managed cluster id", address=addr
            )
        elif cid.key in seen:
            yield KUBE010.at(
                doc,
                ("spec", "clusterId"),
                f"cluster {cid.name!r} already has a ClusterExtension at {seen[cid.key].at(('spec', 'clusterId'))}",
                address=addr,
            )
        else:
            seen[cid.key] = doc
        if spec.ensure == "absent":
            continue
        inf = spec.inference
        if not spec.training and not inf.enabled:
            yield KUBE003.at(doc, ("spec",), "neither training nor inference.enabled is true", address=addr)
        if inf.enabled:
            if inf.internalLoadBalancer and inf.routerServiceType is RouterServiceType.NODE_PORT:
                yield KUBE002.at(
                    doc,
                    ("spec", "inference", "internalLoadBalancer"),
                    "internalLoadBalancer with routerServiceType NodePort",
                    address=addr,
                )
            yield from _extension_tls(doc, ext)
        version = spec.version
        if version.version and version.autoUpgrade:
            yield KUBE004.at(
                doc,
                ("spec", "version", "version"),
                f"version {version.version!r} is pinned but autoUpgrade is true",
                address=addr,
            )


def _extension_tls(doc: Document, ext: ClusterExtension) -> Iterator[Finding]:
    inf, addr, loc = ext.spec.inference, extension_address(ext), ("spec", "inference")
    tls = inf.tls
    pem = tls is not None and (tls.certificate is not None or tls.key is not None)
    secret = tls is not None and tls.secretName is not None
    ways = [
        w
        for w, on in (
            ("cname + certificate + key", pem),
            ("cname + secretName", secret),
            ("allowInsecureConnections", inf.allowInsecureConnections),
        )
        if on
    ]
    if len(ways) > 1:
        yield KUBE001.at(doc, loc, f"HTTPS is configured in more than one way: {' and '.join(ways)}", address=addr)
    elif not ways:
        if tls is not None and tls.cname:
            yield KUBE001.at(doc, (*loc, "tls"), "tls.cname needs certificate + key or secretName", address=addr)
        else:
            yield KUBE001.at(
                doc,
                loc,
                "no HTTPS settings: give a tls block, or allowInsecureConnections: true for HTTP",
                address=addr,
            )
    elif tls is not None and not tls.cname and (pem or secret):
        yield KUBE001.at(doc, (*loc, "tls"), "HTTPS needs tls.cname", address=addr)
    elif pem and (tls is None or tls.certificate is None or tls.key is None):
        yield KUBE001.at(doc, (*loc, "tls"), "a PEM pair needs both tls.certificate and tls.key", address=addr)
    elif inf.allowInsecureConnections and tls is not None and tls.cname:
        yield KUBE001.at(
            doc, (*loc, "tls", "cname"), "tls.cname is given with allowInsecureConnections: true", address=addr
        )


def kubernetes_address(kc: KubernetesCompute) -> str:
    return f"{kc.spec.workspace}/{kc.metadata.name}"


def kubernetes_computes(result: LoadResult) -> Iterator[Finding]:
    workspaces = {ws.metadata.name: ws for _, ws in result.workspaces}
    names: dict[tuple[str, str], Document] = {
        (ic.spec.workspace, ic.metadata.name.lower()): doc for doc, ic in result.clusters
    }
    namespaces: dict[tuple[str, str], tuple[Document, KubernetesCompute]] = {}
    for doc, kc in result.kubernetes_computes:
        spec, addr = kc.spec, kubernetes_address(kc)
        yield from compute_name(doc, kc)
        ws = workspaces.get(spec.workspace)
        if ws is None:
            known = ", ".join(sorted(workspaces)) or "none"
            yield AKS003.at(
                doc, ("spec", "workspace"), f"no Workspace named {spec.workspace!r} (declared: {known})", address=addr
            )
        name_key = (spec.workspace, kc.metadata.name.lower())
        if name_key in names:
            yield AKS002.at(
                doc,
                ("metadata", "name"),
                f"compute {kc.metadata.name!r} is already declared in workspace {spec.workspace!r} at {names[name_key].at(('metadata', 'name'))}",
                address=addr,
            )
        else:
            names[name_key] = doc
        cid = parse_cluster_id(spec.clusterId)
        if cid is None:
            yield AKS005.at(
                doc, ("spec", "clusterId"), f"{spec.clusterId!r} is not an AKS managed cluster id", address=addr
            )
        else:
            if ws is not None and cid.subscription.lower() != ws.spec.subscriptionId.lower():
                yield KUBE008.at(
                    doc,
                    ("spec", "clusterId"),
                    f"cluster is in subscription {cid.subscription}, workspace {spec.workspace!r} in {ws.spec.subscriptionId}",
                    address=addr,
                )
            ns_key = (cid.key, spec.namespace)
            if ns_key in namespaces:
                first_doc, first = namespaces[ns_key]
                yield KUBE011.at(
                    doc,
                    ("spec", "namespace"),
                    f"namespace {spec.namespace!r} of cluster {cid.name!r} is already used by {kubernetes_address(first)} ({first_doc.at(('spec', 'namespace'))})",
                    address=addr,
                )
            else:
                namespaces[ns_key] = (doc, kc)
        if not DNS_LABEL.match(spec.namespace):
            yield KUBE005.at(
                doc, ("spec", "namespace"), f"namespace {spec.namespace!r} is not a DNS label", address=addr
            )
        if spec.identity is not None:
            identity = spec.identity
            if identity.type == "SystemAssigned,UserAssigned":
                yield KUBE007.at(
                    doc,
                    ("spec", "identity", "type"),
                    "system-assigned and user-assigned identities together",
                    address=addr,
                )
            elif identity.type == "SystemAssigned" and identity.ids:
                yield KUBE007.at(
                    doc, ("spec", "identity", "ids"), "user-assigned ids with type SystemAssigned", address=addr
                )
            elif identity.type == "UserAssigned" and not identity.ids:
                yield KUBE007.at(doc, ("spec", "identity", "type"), "type UserAssigned without ids", address=addr)
        for name, itype in spec.instanceTypes.items():
            yield from _instance_type(doc, kc, name, itype.resources.requests, itype.resources.limits)
        if spec.defaultInstanceType and spec.instanceTypes and spec.defaultInstanceType not in spec.instanceTypes:
            yield KUBE012.at(
                doc,
                ("spec", "defaultInstanceType"),
                f"{spec.defaultInstanceType!r} is not one of {', '.join(sorted(spec.instanceTypes))}",
                address=addr,
            )


Quantities = dict[str, str | int | float]


def _instance_type(
    doc: Document, kc: KubernetesCompute, name: str, requests: Quantities, limits: Quantities
) -> Iterator[Finding]:
    loc, addr = ("spec", "instanceTypes", name, "resources"), kubernetes_address(kc)
    for gpu in GPU_RESOURCES:
        if gpu in requests:
            yield KUBE006.at(
                doc, (*loc, "requests", gpu), f"instance type {name!r}: GPUs ({gpu}) go under limits only", address=addr
            )
    for part, values in (("requests", requests), ("limits", limits)):
        for resource in ("cpu", "memory"):
            if resource not in values:
                yield KUBE006.at(
                    doc, (*loc, part), f"instance type {name!r}: {part}.{resource} is missing", address=addr
                )
            elif _is_zero(values[resource]):
                yield KUBE006.at(
                    doc,
                    (*loc, part, resource),
                    f"instance type {name!r}: {part}.{resource} is {values[resource]!r}",
                    address=addr,
                )
        for resource, value in values.items():
            if resource not in ("cpu", "memory") and _is_zero(value):
                yield KUBE006.at(
                    doc, (*loc, part, resource), f"instance type {name!r}: {part}.{resource} is {value!r}", address=addr
                )


def _is_zero(value: object) -> bool:
    """A Kubernetes quantity that is zero or not a quantity at all ("0", "0Gi", 0, "", "abc")."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)([a-zA-Z]*)\s*", str(value))
    return match is None or float(match.group(1)) == 0


def migration_todos(result: LoadResult) -> Iterator[Finding]:
    """A `TODO(migrate)` value that `reconciler migrate` could not fill in must never reach Azure."""
    for doc, ext in result.extensions:
        tls = ext.spec.inference.tls
        if tls is not None and tls.cname and tls.cname.startswith("TODO(migrate)"):
            yield MIG010.at(doc, ("spec", "inference", "tls", "cname"), tls.cname, address=extension_address(ext))

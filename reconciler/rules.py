"""Offline domain rules; their ids, severities and hints are in `catalogue`.

`check` is a pure function of the loaded manifests: no network, no clock.
Rules that need Azure (versions, real agent pools) belong to the planner.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator

from reconciler import vmsizes
from reconciler.catalogue import (
    AKS001,
    AKS002,
    AKS003,
    AKS004,
    AKS005,
    AKS006,
    AKS007,
    AKS008,
    AKS009,
    AKS010,
    AKS011,
    AKS012,
    AKS013,
    AKS014,
    AKS015,
    AKS016,
    AKS017,
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
    RULES,
    WS001,
    WS002,
)
from reconciler.findings import Finding
from reconciler.ids import is_subnet_id, parse_cluster_id
from reconciler.loader import Document, LoadResult, Loc
from reconciler.manifest import (
    ClusterExtension,
    ClusterPurpose,
    InferenceCluster,
    KubernetesCompute,
    LoadBalancerType,
    RouterServiceType,
    Workspace,
)

__all__ = ["RULES", "SERVICE_NAME_PATTERN", "address", "check"]

SERVICE_NAME_PATTERN = re.compile(r"^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$")

Check = Callable[[LoadResult], Iterator[Finding]]


def check(result: LoadResult) -> list[Finding]:
    """All offline rule findings, in file order."""
    findings = [f for fn in _CHECKS for f in fn(result)]
    return sorted(findings, key=lambda f: (str(f.position.path), f.position.line, f.position.col, f.rule))


def address(ic: InferenceCluster) -> str:
    return f"{ic.spec.workspace}/{ic.metadata.name}"


def _workspaces_unique(result: LoadResult) -> Iterator[Finding]:
    by_alias: dict[str, Document] = {}
    by_target: dict[tuple[str, str, str], str] = {}
    for doc, ws in result.workspaces:
        first = by_alias.get(ws.metadata.name)
        if first is not None:
            yield WS001.at(
                doc,
                ("metadata", "name"),
                f"workspace alias {ws.metadata.name!r} is already declared at {first.at(('metadata', 'name'))}",
            )
            continue
        by_alias[ws.metadata.name] = doc
        target = (ws.spec.subscriptionId.lower(), ws.spec.resourceGroup.lower(), ws.spec.workspaceName.lower())
        if target in by_target:
            yield WS002.at(
                doc,
                ("spec", "workspaceName"),
                f"workspace {ws.spec.workspaceName!r} is already declared as {by_target[target]!r}",
            )
        else:
            by_target[target] = ws.metadata.name


def _cluster_fields(result: LoadResult) -> Iterator[Finding]:
    workspaces = {ws.metadata.name: ws for _, ws in result.workspaces}
    for doc, ic in result.clusters:
        yield from _compute_name(doc, ic)
        ws = workspaces.get(ic.spec.workspace)
        if ws is None:
            known = ", ".join(sorted(workspaces)) or "none"
            yield AKS003.at(
                doc,
                ("spec", "workspace"),
                f"no Workspace named {ic.spec.workspace!r} (declared: {known})",
                address=address(ic),
            )
        yield from _attach_or_create(doc, ic, ws)
        yield from _load_balancer_and_tls(doc, ic)


def _compute_name(doc: Document, ic: InferenceCluster) -> Iterator[Finding]:
    name, loc = ic.metadata.name, ("metadata", "name")
    problem = None
    if not 3 <= len(name) <= 24:
        problem = f"is {len(name)} characters long (3 to 24 allowed)"
    elif not name[0].isascii() or not name[0].isalpha():
        problem = "must start with a letter"
    elif not re.fullmatch(r"[A-Za-z0-9-]+", name):
        problem = "may hold only letters, digits and '-'"
    elif not SERVICE_NAME_PATTERN.match(name):
        problem = "must not end in '-' followed by digits (Azure ML reserves that form)"
    if problem:
        yield AKS001.at(doc, loc, f"compute name {name!r} {problem}", address=address(ic))


def _attach_or_create(doc: Document, ic: InferenceCluster, ws: Workspace | None) -> Iterator[Finding]:
    spec = ic.spec
    if (spec.attach is None) == (spec.create is None):
        which = "both" if spec.attach else "neither"
        yield AKS004.at(doc, ("spec",), f"{which} of spec.attach and spec.create given", address=address(ic))
    if spec.attach is not None:
        loc = ("spec", "attach", "clusterId")
        cid = parse_cluster_id(spec.attach.clusterId)
        if cid is None:
            yield AKS005.at(
                doc, loc, f"{spec.attach.clusterId!r} is not an AKS managed cluster id", address=address(ic)
            )
        elif ws is not None and cid.subscription.lower() != ws.spec.subscriptionId.lower():
            yield AKS006.at(
                doc,
                loc,
                f"cluster is in subscription {cid.subscription}, workspace {ic.spec.workspace!r} in {ws.spec.subscriptionId}",
                address=address(ic),
            )
    if spec.create is not None:
        yield from _create(doc, ic)


def _create(doc: Document, ic: InferenceCluster) -> Iterator[Finding]:
    create = ic.spec.create
    assert create is not None
    base = ("spec", "create")
    if create.agentCount < 1:
        yield AKS011.at(doc, base + ("agentCount",), f"agentCount is {create.agentCount}", address=address(ic))
    size = vmsizes.lookup(create.vmSize)
    if size is None:
        close = vmsizes.suggest(create.vmSize)
        hint = f"; did you mean {close!r}?" if close else ""
        yield AKS009.at(
            doc,
            base + ("vmSize",),
            f"VM size {create.vmSize!r} is not in the built-in table{hint}",
            address=address(ic),
        )
    else:
        if size.accelerator:
            yield AKS010.at(
                doc,
                base + ("vmSize",),
                f"{size.name} is a {size.accelerator} size: the cluster must be created with it",
                address=address(ic),
            )
        dev = ic.spec.clusterPurpose is ClusterPurpose.DEV_TEST
        needed = vmsizes.MIN_VCPUS_DEVTEST if dev else vmsizes.MIN_VCPUS_PRODUCTION
        have = size.cores * create.agentCount
        if create.agentCount >= 1 and have < needed:
            purpose = ic.spec.clusterPurpose.value
            yield AKS008.at(
                doc,
                base + ("agentCount",),
                f"{create.agentCount} x {size.name} ({size.cores} cores) = {have} vCPUs; {purpose} needs at least {needed}",
                address=address(ic),
            )
    if create.network is not None:
        yield from _network(doc, ic, base + ("network",))


def _network(doc: Document, ic: InferenceCluster, loc: Loc) -> Iterator[Finding]:
    net = ic.spec.create.network  # type: ignore[union-attr]
    fields = {
        "subnetId": net.subnetId,
        "serviceCidr": net.serviceCidr,
        "dnsServiceIP": net.dnsServiceIP,
        "dockerBridgeCidr": net.dockerBridgeCidr,
    }
    missing = [k for k, v in fields.items() if v is None]
    if missing and len(missing) < len(fields):
        yield AKS015.at(doc, loc, f"network is missing {', '.join(missing)}", address=address(ic))
        return
    if missing:
        return
    if not is_subnet_id(net.subnetId):
        yield AKS016.at(
            doc, loc + ("subnetId",), f"{net.subnetId!r} is not a virtual network subnet id", address=address(ic)
        )
    try:
        service = ipaddress.ip_network(net.serviceCidr, strict=True)
    except ValueError as exc:
        yield AKS016.at(doc, loc + ("serviceCidr",), f"serviceCidr {net.serviceCidr!r}: {exc}", address=address(ic))
        service = None
    try:
        dns = ipaddress.ip_address(net.dnsServiceIP)
    except ValueError:
        yield AKS016.at(
            doc, loc + ("dnsServiceIP",), f"dnsServiceIP {net.dnsServiceIP!r} is not an IP address", address=address(ic)
        )
        dns = None
    try:
        bridge = ipaddress.ip_interface(net.dockerBridgeCidr)
    except ValueError:
        yield AKS016.at(
            doc,
            loc + ("dockerBridgeCidr",),
            f"dockerBridgeCidr {net.dockerBridgeCidr!r} is not an address with a prefix, e.g. 172.17.0.1/16",
            address=address(ic),
        )
        bridge = None
    if service is not None and dns is not None:
        if dns not in service:
            yield AKS016.at(
                doc,
                loc + ("dnsServiceIP",),
                f"dnsServiceIP {dns} is outside serviceCidr {service}",
                address=address(ic),
            )
        elif service.num_addresses > 2 and dns in (service.network_address, service.network_address + 1):
            yield AKS016.at(
                doc,
                loc + ("dnsServiceIP",),
                f"dnsServiceIP {dns} is the network or first address of {service} (reserved for the Kubernetes API service)",
                address=address(ic),
            )
    if service is not None and bridge is not None and bridge.network.overlaps(service):
        yield AKS016.at(
            doc,
            loc + ("dockerBridgeCidr",),
            f"dockerBridgeCidr {bridge} overlaps serviceCidr {service}",
            address=address(ic),
        )


def _load_balancer_and_tls(doc: Document, ic: InferenceCluster) -> Iterator[Finding]:
    lb, tls = ic.spec.loadBalancer, ic.spec.tls
    internal = lb.type is LoadBalancerType.INTERNAL
    if lb.subnet is not None and not internal:
        yield AKS014.at(
            doc,
            ("spec", "loadBalancer", "subnet"),
            "loadBalancer.subnet is set but type is PublicIp",
            address=address(ic),
        )
    loc = ("spec", "tls")
    custom = {"cname": tls.cname, "certificate": tls.certificate, "key": tls.key}
    given = [k for k, v in custom.items() if v is not None]
    if not tls.enabled:
        if tls.leafDomainLabel or given:
            yield AKS017.at(doc, loc, "tls.enabled is false, so its other settings are ignored", address=address(ic))
        return
    if internal:
        yield AKS013.at(
            doc, loc + ("enabled",), "TLS is enabled with loadBalancer.type InternalLoadBalancer", address=address(ic)
        )
    if tls.leafDomainLabel and given:
        yield AKS012.at(doc, loc, "both leafDomainLabel and a custom certificate are given", address=address(ic))
    elif not tls.leafDomainLabel and not given:
        yield AKS012.at(
            doc,
            loc + ("enabled",),
            "TLS is enabled without leafDomainLabel or cname + certificate + key",
            address=address(ic),
        )
    elif given and len(given) < 3:
        absent = ", ".join(k for k in custom if k not in given)
        yield AKS012.at(
            doc, loc, f"a custom certificate needs cname, certificate and key; missing {absent}", address=address(ic)
        )


def _per_workspace_uniqueness(result: LoadResult) -> Iterator[Finding]:
    names: dict[tuple[str, str], Document] = {}
    clusters: dict[tuple[str, str], tuple[Document, InferenceCluster]] = {}
    for doc, ic in result.clusters:
        ws = ic.spec.workspace
        name_key = (ws, ic.metadata.name.lower())
        if name_key in names:
            yield AKS002.at(
                doc,
                ("metadata", "name"),
                f"compute {ic.metadata.name!r} is already declared in workspace {ws!r} at {names[name_key].at(('metadata', 'name'))}",
                address=address(ic),
            )
        else:
            names[name_key] = doc
        cid = parse_cluster_id(ic.spec.attach.clusterId) if ic.spec.attach else None
        if cid is None:
            continue
        cluster_key = (ws, cid.key)
        if cluster_key in clusters:
            first_doc, first = clusters[cluster_key]
            yield AKS007.at(
                doc,
                ("spec", "attach", "clusterId"),
                f"cluster {cid.name!r} is already attached as {first.metadata.name!r} ({first_doc.at(('spec', 'attach', 'clusterId'))}) in workspace {ws!r}",
                address=address(ic),
            )
        else:
            clusters[cluster_key] = (doc, ic)


# -- Kubernetes compute (v2) and the Azure ML cluster extension ----------------------------
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")


def extension_address(ext: ClusterExtension) -> str:
    return f"extension/{ext.metadata.name}"


def _extensions(result: LoadResult) -> Iterator[Finding]:
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
            yield KUBE001.at(doc, loc + ("tls",), "tls.cname needs certificate + key or secretName", address=addr)
        else:
            yield KUBE001.at(
                doc,
                loc,
                "no HTTPS settings: give a tls block, or allowInsecureConnections: true for HTTP",
                address=addr,
            )
    elif tls is not None and not tls.cname and (pem or secret):
        yield KUBE001.at(doc, loc + ("tls",), "HTTPS needs tls.cname", address=addr)
    elif pem and (tls is None or tls.certificate is None or tls.key is None):
        yield KUBE001.at(doc, loc + ("tls",), "a PEM pair needs both tls.certificate and tls.key", address=addr)
    elif inf.allowInsecureConnections and tls is not None and tls.cname:
        yield KUBE001.at(
            doc, loc + ("tls", "cname"), "tls.cname is given with allowInsecureConnections: true", address=addr
        )


def kubernetes_address(kc: KubernetesCompute) -> str:
    return f"{kc.spec.workspace}/{kc.metadata.name}"


def _kubernetes_computes(result: LoadResult) -> Iterator[Finding]:
    workspaces = {ws.metadata.name: ws for _, ws in result.workspaces}
    names: dict[tuple[str, str], Document] = {
        (ic.spec.workspace, ic.metadata.name.lower()): doc for doc, ic in result.clusters
    }
    namespaces: dict[tuple[str, str], tuple[Document, KubernetesCompute]] = {}
    for doc, kc in result.kubernetes_computes:
        spec, addr = kc.spec, kubernetes_address(kc)
        yield from _compute_name(doc, kc)  # type: ignore[arg-type]
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
                doc, loc + ("requests", gpu), f"instance type {name!r}: GPUs ({gpu}) go under limits only", address=addr
            )
    for part, values in (("requests", requests), ("limits", limits)):
        for resource in ("cpu", "memory"):
            if resource not in values:
                yield KUBE006.at(
                    doc, loc + (part,), f"instance type {name!r}: {part}.{resource} is missing", address=addr
                )
            elif _is_zero(values[resource]):
                yield KUBE006.at(
                    doc,
                    loc + (part, resource),
                    f"instance type {name!r}: {part}.{resource} is {values[resource]!r}",
                    address=addr,
                )
        for resource, value in values.items():
            if resource not in ("cpu", "memory") and _is_zero(value):
                yield KUBE006.at(
                    doc, loc + (part, resource), f"instance type {name!r}: {part}.{resource} is {value!r}", address=addr
                )


def _is_zero(value: object) -> bool:
    """A Kubernetes quantity that is zero or not a quantity at all ("0", "0Gi", 0, "", "abc")."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)([a-zA-Z]*)\s*", str(value))
    return match is None or float(match.group(1)) == 0


# Every check, in the order they run (their findings are then sorted by position).
def _migration_todos(result: LoadResult) -> Iterator[Finding]:
    """A `TODO(migrate)` value that `reconciler migrate` could not fill in must never reach Azure."""
    for doc, ext in result.extensions:
        tls = ext.spec.inference.tls
        if tls is not None and tls.cname and tls.cname.startswith("TODO(migrate)"):
            yield MIG010.at(doc, ("spec", "inference", "tls", "cname"), tls.cname, address=extension_address(ext))


_CHECKS: tuple[Check, ...] = (
    _workspaces_unique,
    _cluster_fields,
    _per_workspace_uniqueness,
    _extensions,
    _kubernetes_computes,
    _migration_todos,
)

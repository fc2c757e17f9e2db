"""Offline rules of workspaces and legacy AKS inference computes (kind InferenceCluster).

Apart from the Kubernetes compute rules: these follow the legacy compute's attach/create, network and TLS
settings. Pure functions of the loaded manifests; `rules.check` runs them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

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
    WS001,
    WS002,
)
from reconciler.findings import Finding
from reconciler.ids import is_subnet_id, parse_cluster_id
from reconciler.loader import Document, LoadResult, Loc
from reconciler.manifest import (
    ClusterPurpose,
    InferenceCluster,
    KubernetesCompute,
    LoadBalancerType,
    NetworkSpec,
    Workspace,
)

SERVICE_NAME_PATTERN = re.compile(r"^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$")


def address(ic: InferenceCluster | KubernetesCompute) -> str:
    return f"{ic.spec.workspace}/{ic.metadata.name}"


def workspaces_unique(result: LoadResult) -> Iterator[Finding]:
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


def cluster_fields(result: LoadResult) -> Iterator[Finding]:
    workspaces = {ws.metadata.name: ws for _, ws in result.workspaces}
    for doc, ic in result.clusters:
        yield from compute_name(doc, ic)
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


def compute_name(doc: Document, ic: InferenceCluster | KubernetesCompute) -> Iterator[Finding]:
    """AKS001: both compute kinds follow Azure ML's compute name rules."""
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
        yield AKS011.at(doc, (*base, "agentCount"), f"agentCount is {create.agentCount}", address=address(ic))
    size = vmsizes.lookup(create.vmSize)
    if size is None:
        close = vmsizes.suggest(create.vmSize)
        hint = f"; did you mean {close!r}?" if close else ""
        yield AKS009.at(
            doc,
            (*base, "vmSize"),
            f"VM size {create.vmSize!r} is not in the built-in table{hint}",
            address=address(ic),
        )
    else:
        if size.accelerator:
            yield AKS010.at(
                doc,
                (*base, "vmSize"),
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
                (*base, "agentCount"),
                f"{create.agentCount} x {size.name} ({size.cores} cores) = {have} vCPUs; {purpose} needs at least {needed}",
                address=address(ic),
            )
    if create.network is not None:
        yield from _network(doc, ic, create.network, (*base, "network"))


def _network(doc: Document, ic: InferenceCluster, net: NetworkSpec, loc: Loc) -> Iterator[Finding]:
    subnet_id, service_cidr, dns_ip, bridge_cidr = net.subnetId, net.serviceCidr, net.dnsServiceIP, net.dockerBridgeCidr
    if subnet_id is None or service_cidr is None or dns_ip is None or bridge_cidr is None:
        fields = {
            "subnetId": subnet_id,
            "serviceCidr": service_cidr,
            "dnsServiceIP": dns_ip,
            "dockerBridgeCidr": bridge_cidr,
        }
        missing = [k for k, v in fields.items() if v is None]
        if len(missing) < len(fields):
            yield AKS015.at(doc, loc, f"network is missing {', '.join(missing)}", address=address(ic))
        return
    if not is_subnet_id(subnet_id):
        yield AKS016.at(
            doc, (*loc, "subnetId"), f"{subnet_id!r} is not a virtual network subnet id", address=address(ic)
        )
    service: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    try:
        service = ipaddress.ip_network(service_cidr, strict=True)
    except ValueError as exc:
        yield AKS016.at(doc, (*loc, "serviceCidr"), f"serviceCidr {service_cidr!r}: {exc}", address=address(ic))
        service = None
    dns: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        dns = ipaddress.ip_address(dns_ip)
    except ValueError:
        yield AKS016.at(
            doc, (*loc, "dnsServiceIP"), f"dnsServiceIP {dns_ip!r} is not an IP address", address=address(ic)
        )
        dns = None
    bridge: ipaddress.IPv4Interface | ipaddress.IPv6Interface | None
    try:
        bridge = ipaddress.ip_interface(bridge_cidr)
    except ValueError:
        yield AKS016.at(
            doc,
            (*loc, "dockerBridgeCidr"),
            f"dockerBridgeCidr {bridge_cidr!r} is not an address with a prefix, e.g. 172.17.0.1/16",
            address=address(ic),
        )
        bridge = None
    if service is not None and dns is not None:
        if dns not in service:
            yield AKS016.at(
                doc,
                (*loc, "dnsServiceIP"),
                f"dnsServiceIP {dns} is outside serviceCidr {service}",
                address=address(ic),
            )
        elif service.num_addresses > 2 and dns in (service.network_address, service.network_address + 1):
            yield AKS016.at(
                doc,
                (*loc, "dnsServiceIP"),
                f"dnsServiceIP {dns} is the network or first address of {service} (reserved for the Kubernetes API service)",
                address=address(ic),
            )
    if service is not None and bridge is not None and bridge.network.overlaps(service):
        yield AKS016.at(
            doc,
            (*loc, "dockerBridgeCidr"),
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
            doc, (*loc, "enabled"), "TLS is enabled with loadBalancer.type InternalLoadBalancer", address=address(ic)
        )
    if tls.leafDomainLabel and given:
        yield AKS012.at(doc, loc, "both leafDomainLabel and a custom certificate are given", address=address(ic))
    elif not tls.leafDomainLabel and not given:
        yield AKS012.at(
            doc,
            (*loc, "enabled"),
            "TLS is enabled without leafDomainLabel or cname + certificate + key",
            address=address(ic),
        )
    elif given and len(given) < 3:
        absent = ", ".join(k for k in custom if k not in given)
        yield AKS012.at(
            doc, loc, f"a custom certificate needs cname, certificate and key; missing {absent}", address=address(ic)
        )


def per_workspace_uniqueness(result: LoadResult) -> Iterator[Finding]:
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

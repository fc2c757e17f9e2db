"""Offline Azure rules, each with a stable id and a fix hint.

`check` is a pure function of the loaded manifests: no network, no clock.
Rules that need Azure (versions, real agent pools) belong to the planner.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Iterator

from reconciler import vmsizes
from reconciler.findings import Finding, Severity
from reconciler.ids import parse_cluster_id, is_subnet_id
from reconciler.loader import Document, LoadResult, Loc
from reconciler.manifest import ClusterPurpose, InferenceCluster, LoadBalancerType, Workspace

SERVICE_NAME_PATTERN = re.compile(r"^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    hint: str

    def at(self, doc: Document, loc: Loc, message: str, *, key: bool = False, address: str | None = None) -> Finding:
        return Finding(self.id, self.severity, message, doc.at(loc, key=key), self.hint, address)


RULES: dict[str, Rule] = {}


def define(id: str, severity: Severity, title: str, hint: str) -> Rule:
    """Register a rule under its stable id (README lists them all)."""
    RULES[id] = Rule(id, severity, title, hint)
    return RULES[id]


E, W = Severity.ERROR, Severity.WARNING
# Loader rules are listed here too so that every id has one home.
define("IO001", E, "manifest path cannot be read", "give a manifest file or a folder of them")
define("YAML001", E, "invalid YAML", "fix the YAML syntax at this position")
define("YAML002", E, "YAML anchors and aliases are not allowed", "write the value out in full")
define("YAML003", E, "custom YAML tags are not allowed", "remove the tag; manifests hold plain data only")
define("YAML004", E, "duplicate or non-string mapping keys", "keep one entry per key")
define("YAML005", E, "file too large or nested too deeply", "split or flatten the manifests")
define("SCHEMA001", E, "document does not match the manifest schema", "see schemas/manifest.schema.json")
WS001 = define("WS001", E, "workspace alias declared twice", "give each Workspace document its own metadata.name")
WS002 = define("WS002", E, "one Azure workspace declared under two aliases", "declare each workspace once and refer to that alias")
AKS001 = define(
    "AKS001", E, "invalid compute name",
    "use 3-24 letters, digits and '-', starting with a letter and not ending in '-<digits>'",
)
AKS002 = define("AKS002", E, "compute name used twice in one workspace", "compute names must be unique within a workspace")
AKS003 = define("AKS003", E, "unknown workspace alias", "refer to the metadata.name of a Workspace document")
AKS004 = define("AKS004", E, "exactly one of attach / create", "keep either spec.attach (existing cluster) or spec.create (new cluster)")
AKS005 = define(
    "AKS005", E, "malformed AKS cluster id",
    "use /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerService/managedClusters/<name>",
)
AKS006 = define("AKS006", E, "AKS cluster in another subscription", "Azure ML attaches only clusters in the workspace's subscription; it may be in another region")
AKS007 = define(
    "AKS007", E, "AKS cluster declared twice in one workspace",
    "a second attachment silently breaks the first: declare each cluster once per workspace (rename = change metadata.name)",
)
AKS008 = define("AKS008", E, "too few vCPUs for the cluster purpose", "production needs >= 12 vCPUs (nodes x cores), DevTest >= 2: add nodes, pick a larger size, or use DevTest")
AKS009 = define("AKS009", W, "VM size not known offline", "its cores are checked against Azure at plan time; check the spelling")
AKS010 = define("AKS010", W, "GPU/FPGA VM size", "deployments run only on the cluster's primary node pool; secondary node pools are not supported")
AKS011 = define("AKS011", E, "agentCount below 1", "set create.agentCount to 1 or more")
AKS012 = define(
    "AKS012", E, "TLS needs a leaf domain label or cname + certificate + key",
    "set tls.leafDomainLabel (Microsoft certificate) or tls.cname, tls.certificate and tls.key (your own), not both",
)
AKS013 = define("AKS013", E, "TLS with an internal load balancer", "TLS termination is not supported with InternalLoadBalancer: disable TLS or use PublicIp")
AKS014 = define("AKS014", E, "load balancer subnet without an internal load balancer", "set loadBalancer.type: InternalLoadBalancer or remove loadBalancer.subnet")
AKS015 = define("AKS015", E, "network settings incomplete", "give all four of subnetId, serviceCidr, dnsServiceIP, dockerBridgeCidr, or none")
AKS016 = define("AKS016", E, "invalid network addresses", "use a subnet id and CIDRs such that dnsServiceIP is inside serviceCidr and the Docker bridge does not overlap it")
AKS017 = define("AKS017", W, "TLS settings given while TLS is disabled", "set tls.enabled: true or remove the other tls fields")

Check = Callable[[LoadResult], Iterator[Finding]]
_CHECKS: list[Check] = []


def _check(fn: Check) -> Check:
    _CHECKS.append(fn)
    return fn


def check(result: LoadResult) -> list[Finding]:
    """All offline rule findings, in file order."""
    findings = [f for fn in _CHECKS for f in fn(result)]
    return sorted(findings, key=lambda f: (str(f.position.path), f.position.line, f.position.col, f.rule))


def address(ic: InferenceCluster) -> str:
    return f"{ic.spec.workspace}/{ic.metadata.name}"


@_check
def _workspaces_unique(result: LoadResult) -> Iterator[Finding]:
    by_alias: dict[str, Document] = {}
    by_target: dict[tuple[str, str, str], str] = {}
    for doc, ws in result.workspaces:
        first = by_alias.get(ws.metadata.name)
        if first is not None:
            yield WS001.at(doc, ("metadata", "name"), f"workspace alias {ws.metadata.name!r} is already declared at {first.at(('metadata', 'name'))}")
            continue
        by_alias[ws.metadata.name] = doc
        target = (ws.spec.subscriptionId.lower(), ws.spec.resourceGroup.lower(), ws.spec.workspaceName.lower())
        if target in by_target:
            yield WS002.at(doc, ("spec", "workspaceName"), f"workspace {ws.spec.workspaceName!r} is already declared as {by_target[target]!r}")
        else:
            by_target[target] = ws.metadata.name


@_check
def _cluster_fields(result: LoadResult) -> Iterator[Finding]:
    workspaces = {ws.metadata.name: ws for _, ws in result.workspaces}
    for doc, ic in result.clusters:
        yield from _compute_name(doc, ic)
        ws = workspaces.get(ic.spec.workspace)
        if ws is None:
            known = ", ".join(sorted(workspaces)) or "none"
            yield AKS003.at(doc, ("spec", "workspace"), f"no Workspace named {ic.spec.workspace!r} (declared: {known})", address=address(ic))
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
            yield AKS005.at(doc, loc, f"{spec.attach.clusterId!r} is not an AKS managed cluster id", address=address(ic))
        elif ws is not None and cid.subscription.lower() != ws.spec.subscriptionId.lower():
            yield AKS006.at(
                doc, loc,
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
        yield AKS009.at(doc, base + ("vmSize",), f"VM size {create.vmSize!r} is not in the built-in table", address=address(ic))
    else:
        if size.accelerator:
            yield AKS010.at(doc, base + ("vmSize",), f"{size.name} is a {size.accelerator} size: the cluster must be created with it", address=address(ic))
        dev = ic.spec.clusterPurpose is ClusterPurpose.DEV_TEST
        needed = vmsizes.MIN_VCPUS_DEVTEST if dev else vmsizes.MIN_VCPUS_PRODUCTION
        have = size.cores * create.agentCount
        if create.agentCount >= 1 and have < needed:
            purpose = ic.spec.clusterPurpose.value
            yield AKS008.at(
                doc, base + ("agentCount",),
                f"{create.agentCount} x {size.name} ({size.cores} cores) = {have} vCPUs; {purpose} needs at least {needed}",
                address=address(ic),
            )
    if create.network is not None:
        yield from _network(doc, ic, base + ("network",))


def _network(doc: Document, ic: InferenceCluster, loc: Loc) -> Iterator[Finding]:
    net = ic.spec.create.network  # type: ignore[union-attr]
    fields = {"subnetId": net.subnetId, "serviceCidr": net.serviceCidr, "dnsServiceIP": net.dnsServiceIP, "dockerBridgeCidr": net.dockerBridgeCidr}
    missing = [k for k, v in fields.items() if v is None]
    if missing and len(missing) < len(fields):
        yield AKS015.at(doc, loc, f"network is missing {', '.join(missing)}", address=address(ic))
        return
    if missing:
        return
    if not is_subnet_id(net.subnetId):
        yield AKS016.at(doc, loc + ("subnetId",), f"{net.subnetId!r} is not a virtual network subnet id", address=address(ic))
    try:
        service = ipaddress.ip_network(net.serviceCidr, strict=True)
    except ValueError as exc:
        yield AKS016.at(doc, loc + ("serviceCidr",), f"serviceCidr {net.serviceCidr!r}: {exc}", address=address(ic))
        service = None
    try:
        dns = ipaddress.ip_address(net.dnsServiceIP)
    except ValueError:
        yield AKS016.at(doc, loc + ("dnsServiceIP",), f"dnsServiceIP {net.dnsServiceIP!r} is not an IP address", address=address(ic))
        dns = None
    try:
        bridge = ipaddress.ip_interface(net.dockerBridgeCidr)
    except ValueError:
        yield AKS016.at(doc, loc + ("dockerBridgeCidr",), f"dockerBridgeCidr {net.dockerBridgeCidr!r} is not an address with a prefix, e.g. 172.17.0.1/16", address=address(ic))
        bridge = None
    if service is not None and dns is not None:
        if dns not in service:
            yield AKS016.at(doc, loc + ("dnsServiceIP",), f"dnsServiceIP {dns} is outside serviceCidr {service}", address=address(ic))
        elif service.num_addresses > 2 and dns in (service.network_address, service.network_address + 1):
            yield AKS016.at(doc, loc + ("dnsServiceIP",), f"dnsServiceIP {dns} is the network or first address of {service} (reserved for the Kubernetes API service)", address=address(ic))
    if service is not None and bridge is not None and bridge.network.overlaps(service):
        yield AKS016.at(doc, loc + ("dockerBridgeCidr",), f"dockerBridgeCidr {bridge} overlaps serviceCidr {service}", address=address(ic))


def _load_balancer_and_tls(doc: Document, ic: InferenceCluster) -> Iterator[Finding]:
    lb, tls = ic.spec.loadBalancer, ic.spec.tls
    internal = lb.type is LoadBalancerType.INTERNAL
    if lb.subnet is not None and not internal:
        yield AKS014.at(doc, ("spec", "loadBalancer", "subnet"), "loadBalancer.subnet is set but type is PublicIp", address=address(ic))
    loc = ("spec", "tls")
    custom = {"cname": tls.cname, "certificate": tls.certificate, "key": tls.key}
    given = [k for k, v in custom.items() if v is not None]
    if not tls.enabled:
        if tls.leafDomainLabel or given:
            yield AKS017.at(doc, loc, "tls.enabled is false, so its other settings are ignored", address=address(ic))
        return
    if internal:
        yield AKS013.at(doc, loc + ("enabled",), "TLS is enabled with loadBalancer.type InternalLoadBalancer", address=address(ic))
    if tls.leafDomainLabel and given:
        yield AKS012.at(doc, loc, "both leafDomainLabel and a custom certificate are given", address=address(ic))
    elif not tls.leafDomainLabel and not given:
        yield AKS012.at(doc, loc + ("enabled",), "TLS is enabled without leafDomainLabel or cname + certificate + key", address=address(ic))
    elif given and len(given) < 3:
        absent = ", ".join(k for k in custom if k not in given)
        yield AKS012.at(doc, loc, f"a custom certificate needs cname, certificate and key; missing {absent}", address=address(ic))


@_check
def _per_workspace_uniqueness(result: LoadResult) -> Iterator[Finding]:
    names: dict[tuple[str, str], Document] = {}
    clusters: dict[tuple[str, str], tuple[Document, InferenceCluster]] = {}
    for doc, ic in result.clusters:
        ws = ic.spec.workspace
        name_key = (ws, ic.metadata.name.lower())
        if name_key in names:
            yield AKS002.at(doc, ("metadata", "name"), f"compute {ic.metadata.name!r} is already declared in workspace {ws!r} at {names[name_key].at(('metadata', 'name'))}", address=address(ic))
        else:
            names[name_key] = doc
        cid = parse_cluster_id(ic.spec.attach.clusterId) if ic.spec.attach else None
        if cid is None:
            continue
        cluster_key = (ws, cid.key)
        if cluster_key in clusters:
            first_doc, first = clusters[cluster_key]
            yield AKS007.at(
                doc, ("spec", "attach", "clusterId"),
                f"cluster {cid.name!r} is already attached as {first.metadata.name!r} ({first_doc.at(('spec', 'attach', 'clusterId'))}) in workspace {ws!r}",
                address=address(ic),
            )
        else:
            clusters[cluster_key] = (doc, ic)

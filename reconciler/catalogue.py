"""Every rule the tool reports, in one place: stable id, severity, title and fix hint.

The loader (YAML and schema), `rules` (offline domain rules) and the planner (rules that
need Azure) all take their rules from here; README.md lists the same ids (a test checks).
To add a rule: define it here, list it in README.md, and raise it where it is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from reconciler.findings import Finding, Position, Severity


class Located(Protocol):
    """Something that knows where its nodes are (a loaded manifest document)."""

    def at(self, loc: tuple[str | int, ...] = (), *, key: bool = False) -> Position: ...


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    hint: str

    def finding(self, message: str, position: Position, address: str | None = None) -> Finding:
        return Finding(self.id, self.severity, message, position, self.hint, address)

    def at(self, doc: Located, loc: tuple[str | int, ...], message: str, *, key: bool = False,
           address: str | None = None) -> Finding:
        """A finding at the node `loc` of a document."""
        return self.finding(message, doc.at(loc, key=key), address)


def _rule(id: str, severity: Severity, title: str, hint: str) -> Rule:
    return Rule(id, severity, title, hint)


E, W = Severity.ERROR, Severity.WARNING

# -- the loader: files, YAML, schema --
IO001 = _rule("IO001", E, "manifest path cannot be read", "give a manifest file or a folder of them")
IO002 = _rule(
    "IO002", E, "a path under a manifests folder cannot be read",
    "fix or remove it (dangling symlink, unreadable folder, FIFO, device, symlink loop); nothing is pruned while it is unread",
)
YAML001 = _rule("YAML001", E, "invalid YAML", "fix the YAML syntax at this position")
YAML002 = _rule("YAML002", E, "YAML anchors and aliases are not allowed", "write the value out in full")
YAML003 = _rule("YAML003", E, "custom YAML tags are not allowed", "remove the tag; manifests hold plain data only")
YAML004 = _rule("YAML004", E, "duplicate or non-string mapping keys", "keep one entry per key")
YAML005 = _rule("YAML005", E, "file too large or nested too deeply", "split or flatten the manifests")
YAML006 = _rule("YAML006", E, "a scalar its tag cannot hold, or an integer beyond 63 bits", "write a plain value of the right type, or quote the text")
YAML007 = _rule("YAML007", E, "control character in a string", "remove it; manifests hold printable text only")
SCHEMA001 = _rule("SCHEMA001", E, "document does not match the manifest schema", "see schemas/manifest.schema.json")
WS001 = _rule("WS001", E, "workspace alias declared twice", "give each Workspace document its own metadata.name")
WS002 = _rule("WS002", E, "one Azure workspace declared under two aliases", "declare each workspace once and refer to that alias")
AKS001 = _rule(
    "AKS001", E, "invalid compute name",
    "use 3-24 letters, digits and '-', starting with a letter and not ending in '-<digits>'",
)
AKS002 = _rule("AKS002", E, "compute name used twice in one workspace", "compute names must be unique within a workspace")
AKS003 = _rule("AKS003", E, "unknown workspace alias", "refer to the metadata.name of a Workspace document")
AKS004 = _rule("AKS004", E, "exactly one of attach / create", "keep either spec.attach (existing cluster) or spec.create (new cluster)")
AKS005 = _rule(
    "AKS005", E, "malformed AKS cluster id",
    "use /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerService/managedClusters/<name>",
)
AKS006 = _rule("AKS006", E, "AKS cluster in another subscription", "Azure ML attaches only clusters in the workspace's subscription; it may be in another region")
AKS007 = _rule(
    "AKS007", E, "AKS cluster declared twice in one workspace",
    "a second attachment silently breaks the first: declare each cluster once per workspace (rename = change metadata.name)",
)
AKS008 = _rule("AKS008", E, "too few vCPUs for the cluster purpose", "production needs >= 12 vCPUs (nodes x cores), DevTest >= 2: add nodes, pick a larger size, or use DevTest")
AKS009 = _rule("AKS009", W, "VM size not known offline", "its cores are checked against Azure at plan time; check the spelling")
AKS010 = _rule("AKS010", W, "GPU/FPGA VM size", "deployments run only on the cluster's primary node pool; secondary node pools are not supported")
AKS011 = _rule("AKS011", E, "agentCount below 1", "set create.agentCount to 1 or more")
AKS012 = _rule(
    "AKS012", E, "TLS needs a leaf domain label or cname + certificate + key",
    "set tls.leafDomainLabel (Microsoft certificate) or tls.cname, tls.certificate and tls.key (your own), not both",
)
AKS013 = _rule("AKS013", E, "TLS with an internal load balancer", "TLS termination is not supported with InternalLoadBalancer: disable TLS or use PublicIp")
AKS014 = _rule("AKS014", E, "load balancer subnet without an internal load balancer", "set loadBalancer.type: InternalLoadBalancer or remove loadBalancer.subnet")
AKS015 = _rule("AKS015", E, "network settings incomplete", "give all four of subnetId, serviceCidr, dnsServiceIP, dockerBridgeCidr, or none")
AKS016 = _rule("AKS016", E, "invalid network addresses", "use a subnet id and CIDRs such that dnsServiceIP is inside serviceCidr and the Docker bridge does not overlap it")
AKS018 = _rule(
    "AKS018", E, "TLS certificate or key is not usable",
    "give a PEM certificate that covers tls.cname and has not expired, and the PEM private key that matches it",
)
AKS019 = _rule("AKS019", W, "TLS certificate expires soon", "renew the certificate and rotate it before it expires")
AKS017 = _rule("AKS017", W, "TLS settings given while TLS is disabled", "set tls.enabled: true or remove the other tls fields")

# -- rules that need Azure (checked by the planner) --
AKS020 = _rule("AKS020", E, "attach target cluster not found", "check the clusterId, or create the cluster in AKS first")
AKS021 = _rule("AKS021", E, "Kubernetes version not supported in the cluster's region", "upgrade the AKS cluster to a supported version (az aks get-versions -l <region>)")
AKS022 = _rule("AKS022", W, "preview Kubernetes version", "preview versions have no SLA; prefer a generally available version for production")
AKS023 = _rule("AKS023", E, "cluster has too few vCPUs for its purpose", "production needs >= 12 vCPUs over its agent pools, DevTest >= 2: scale the cluster in AKS or use DevTest")
AKS024 = _rule("AKS024", W, "private AKS cluster", "a private cluster (Private Link) must be reachable by Azure ML: attach from a workspace with network access to it")
AKS025 = _rule("AKS025", W, "API server authorized IP ranges", "allow the Azure ML control-plane ranges of the region pair in the cluster's authorized IP ranges")
AKS026 = _rule("AKS026", W, "Basic load balancer SKU", "authorized IP ranges and internal load balancers need the Standard load balancer: recreate the cluster with the Standard SKU")
AKS027 = _rule("AKS027", W, "VM size of the cluster not known", "its vCPUs could not be checked against the purpose's minimum")
AKS028 = _rule(
    "AKS028", E, "cluster already attached under a compute these manifests do not manage",
    "declare the cluster under that compute name, adopt it with `reconciler import`, or detach that compute first",
)
AKS029 = _rule("AKS029", E, "change needs a replacement", "location, vmSize and network of a created cluster cannot change in place: re-run with --replace NAME to delete and re-create it")
AKS030 = _rule("AKS030", E, "workspace not found", "check subscriptionId, resourceGroup and workspaceName, and your access to them")
AKS031 = _rule("AKS031", E, "region has no default Kubernetes version", "check create.location: AKS must be offered in that region")
AKS032 = _rule("AKS032", W, "TLS secret not available to plan", "the certificate change cannot be detected without it; provide the file or environment variable where you plan")
AKS033 = _rule("AKS033", E, "compute name taken by a non-AKS compute", "pick another compute name")
AKS034 = _rule("AKS034", W, "operation in progress", "the compute is planned once its running operation ends; apply waits for it first")
AKS035 = _rule("AKS035", W, "managed compute no longer declared", "set prune: true on the workspace to detach it, or declare it again")
AKS036 = _rule(
    "AKS036", E, "cluster held by a compute of another owner",
    "that compute belongs to another team's manifests (tag reconciler-owner): agree with its owner, who detaches it, then apply",
)
AKS037 = _rule(
    "AKS037", E, "TLS secret needed by a planned step cannot be read",
    "the step sends the certificate and key to Azure: provide the file or environment variable, or the step would fail mid-way",
)

# -- Kubernetes compute (v2) and the Azure ML cluster extension: offline --
KUBE001 = _rule(
    "KUBE001", E, "inference TLS: exactly one of cname + certificate + key, cname + secretName, allowInsecureConnections",
    "give tls.cname with tls.certificate and tls.key (your PEM pair), or tls.cname with tls.secretName, "
    "or allowInsecureConnections: true (HTTP) without a tls block",
)
KUBE002 = _rule("KUBE002", E, "internal load balancer with a NodePort router", "internalLoadBalancer needs routerServiceType LoadBalancer")
KUBE003 = _rule("KUBE003", E, "neither training nor inference", "enable training, inference, or both")
KUBE004 = _rule("KUBE004", E, "pinned version with auto-upgrade", "set version.autoUpgrade: false with version.version, or drop the pin and follow a releaseTrain")
KUBE005 = _rule("KUBE005", E, "namespace is not a valid DNS label", "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit")
KUBE006 = _rule("KUBE006", E, "instance type resources invalid", "give non-zero cpu and memory under requests and limits; GPUs (nvidia.com/gpu) only under limits")
KUBE007 = _rule("KUBE007", E, "identity must be system-assigned or user-assigned", "use type SystemAssigned without ids, or UserAssigned with ids; never both")
KUBE008 = _rule("KUBE008", E, "Kubernetes cluster in another subscription", "a Kubernetes compute's cluster must be in the workspace's subscription")
KUBE009 = _rule("KUBE009", E, "no Azure ML extension for the compute's cluster", "declare a ClusterExtension for the cluster, or install the Azure ML extension on it first")
KUBE010 = _rule("KUBE010", E, "cluster extension declared twice", "declare one ClusterExtension per cluster")
KUBE011 = _rule("KUBE011", W, "two Kubernetes computes in one namespace", "give each compute on a cluster its own namespace: sharing one is not a supported layout")
KUBE012 = _rule("KUBE012", E, "default instance type not declared", "name one of spec.instanceTypes, or drop defaultInstanceType")

# -- Kubernetes compute and the extension: with Azure --
KUBE020 = _rule("KUBE020", E, "inference router HA needs at least 3 nodes", "scale the cluster to 3 or more nodes or set inference.highAvailability: false")
KUBE021 = _rule("KUBE021", E, "nodeSelector key removed", "Azure does not support removing a nodeSelector key in place: put the key back (adding keys is fine)")
KUBE022 = _rule("KUBE022", E, "uninstall while Kubernetes computes use the cluster", "detach (remove the KubernetesCompute manifests of) every compute on the cluster first; uninstalling breaks them all")
KUBE023 = _rule(
    "KUBE023", E, "cluster cannot take the Azure ML extension: legacy AKS attachment or its azureml-fe leftovers",
    "a legacy AKS compute's azureml-fe objects conflict with the extension (E45004/E45005): plan the move with `reconciler migrate`",
)
KUBE024 = _rule("KUBE024", E, "extension version not available for the cluster", "pick a version from the extension type's versions list that supports the cluster's Kubernetes version")
KUBE025 = _rule("KUBE025", W, "extension operation in progress", "the extension is planned once its running operation ends: plan again then")
KUBE026 = _rule("KUBE026", W, "TLS secret of the extension not available to plan", "the certificate change cannot be detected without it; provide the file or environment variable where you plan")
KUBE027 = _rule("KUBE027", W, "disruptive extension change", "running endpoints on the cluster are interrupted while the extension is reconfigured: plan a window")
KUBE028 = _rule("KUBE028", E, "compute name taken by a compute of another type", "pick another compute name")
KUBE029 = _rule("KUBE029", W, "Kubernetes compute operation in progress", "the compute is planned once its running operation ends: plan again then")

# -- Migration from legacy AKS computes: with Azure --
MIG001 = _rule("MIG001", W, "legacy compute still serves traffic", "once clients use the Kubernetes compute that replaces it, remove the legacy compute's InferenceCluster manifest: the next apply detaches it")
MIG002 = _rule("MIG002", W, "same-cluster migration: downtime", "endpoints on the legacy compute are down from its detach until the Kubernetes compute is attached and they are redeployed: plan a window, or migrate to a new cluster")
MIG003 = _rule("MIG003", W, "a leaf-label TLS certificate would be lost", "save it first with `reconciler backup-tls COMPUTE --out DIR` (then re-attach with it as a custom certificate and the same cname), or pass --accept-new-domain to apply")
MIG004 = _rule("MIG004", E, "replaced compute cannot be migrated here", "`replaces` names a legacy AKS compute of the same workspace; same-cluster migration needs removeLegacyFrontEnd: true on the cluster's ClusterExtension")
MIG010 = _rule("MIG010", E, "unresolved TODO(migrate)", "`reconciler migrate` could not carry this setting: fill it in (see MIGRATION.md), e.g. with a `backup-tls` backup as the certificate")

RULES: dict[str, Rule] = {rule.id: rule for rule in (
    IO001,
    IO002,
    YAML001,
    YAML002,
    YAML003,
    YAML004,
    YAML005,
    YAML006,
    YAML007,
    SCHEMA001,
    WS001,
    WS002,
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
    AKS018,
    AKS019,
    AKS020,
    AKS021,
    AKS022,
    AKS023,
    AKS024,
    AKS025,
    AKS026,
    AKS027,
    AKS028,
    AKS029,
    AKS030,
    AKS031,
    AKS032,
    AKS033,
    AKS034,
    AKS035,
    AKS036,
    AKS037,
    KUBE001,
    KUBE002,
    KUBE003,
    KUBE004,
    KUBE005,
    KUBE006,
    KUBE007,
    KUBE008,
    KUBE009,
    KUBE010,
    KUBE011,
    KUBE012,
    KUBE020,
    KUBE021,
    KUBE022,
    KUBE023,
    KUBE024,
    KUBE025,
    KUBE026,
    KUBE027,
    KUBE028,
    KUBE029,
    MIG001,
    MIG002,
    MIG003,
    MIG004,
    MIG010,
)}

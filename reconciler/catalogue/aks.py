"""Rules of workspaces and legacy AKS inference computes: offline (`rules`) and with Azure (the planner)."""

from __future__ import annotations

from reconciler.catalogue.rule import E, W, rule

__all__ = [
    "AKS001",
    "AKS002",
    "AKS003",
    "AKS004",
    "AKS005",
    "AKS006",
    "AKS007",
    "AKS008",
    "AKS009",
    "AKS010",
    "AKS011",
    "AKS012",
    "AKS013",
    "AKS014",
    "AKS015",
    "AKS016",
    "AKS017",
    "AKS018",
    "AKS019",
    "AKS020",
    "AKS021",
    "AKS022",
    "AKS023",
    "AKS024",
    "AKS025",
    "AKS026",
    "AKS027",
    "AKS028",
    "AKS029",
    "AKS030",
    "AKS031",
    "AKS032",
    "AKS033",
    "AKS034",
    "AKS035",
    "AKS036",
    "AKS037",
    "WS001",
    "WS002",
]

WS001 = rule("WS001", E, "workspace alias declared twice", "give each Workspace document its own metadata.name")
WS002 = rule(
    "WS002", E, "one Azure workspace declared under two aliases", "declare each workspace once and refer to that alias"
)
AKS001 = rule(
    "AKS001",
    E,
    "invalid compute name",
    "use 3-24 letters, digits and '-', starting with a letter and not ending in '-<digits>'",
)
AKS002 = rule(
    "AKS002", E, "compute name used twice in one workspace", "compute names must be unique within a workspace"
)
AKS003 = rule("AKS003", E, "unknown workspace alias", "refer to the metadata.name of a Workspace document")
AKS004 = rule(
    "AKS004",
    E,
    "exactly one of attach / create",
    "keep either spec.attach (existing cluster) or spec.create (new cluster)",
)
AKS005 = rule(
    "AKS005",
    E,
    "malformed AKS cluster id",
    "use /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerService/managedClusters/<name>",
)
AKS006 = rule(
    "AKS006",
    E,
    "AKS cluster in another subscription",
    "Azure ML attaches only clusters in the workspace's subscription; it may be in another region",
)
AKS007 = rule(
    "AKS007",
    E,
    "AKS cluster declared twice in one workspace",
    "a second attachment silently breaks the first: declare each cluster once per workspace (rename = change metadata.name)",
)
AKS008 = rule(
    "AKS008",
    E,
    "too few vCPUs for the cluster purpose",
    "production needs >= 12 vCPUs (nodes x cores), DevTest >= 2: add nodes, pick a larger size, or use DevTest",
)
AKS009 = rule(
    "AKS009", W, "VM size not known offline", "its cores are checked against Azure at plan time; check the spelling"
)
AKS010 = rule(
    "AKS010",
    W,
    "GPU/FPGA VM size",
    "deployments run only on the cluster's primary node pool; secondary node pools are not supported",
)
AKS011 = rule("AKS011", E, "agentCount below 1", "set create.agentCount to 1 or more")
AKS012 = rule(
    "AKS012",
    E,
    "TLS needs a leaf domain label or cname + certificate + key",
    "set tls.leafDomainLabel (Microsoft certificate) or tls.cname, tls.certificate and tls.key (your own), not both",
)
AKS013 = rule(
    "AKS013",
    E,
    "TLS with an internal load balancer",
    "TLS termination is not supported with InternalLoadBalancer: disable TLS or use PublicIp",
)
AKS014 = rule(
    "AKS014",
    E,
    "load balancer subnet without an internal load balancer",
    "set loadBalancer.type: InternalLoadBalancer or remove loadBalancer.subnet",
)
AKS015 = rule(
    "AKS015",
    E,
    "network settings incomplete",
    "give all four of subnetId, serviceCidr, dnsServiceIP, dockerBridgeCidr, or none",
)
AKS016 = rule(
    "AKS016",
    E,
    "invalid network addresses",
    "use a subnet id and CIDRs such that dnsServiceIP is inside serviceCidr and the Docker bridge does not overlap it",
)
AKS018 = rule(
    "AKS018",
    E,
    "TLS certificate or key is not usable",
    "give a PEM certificate that covers tls.cname and has not expired, and the PEM private key that matches it",
)
AKS019 = rule("AKS019", W, "TLS certificate expires soon", "renew the certificate and rotate it before it expires")
AKS017 = rule(
    "AKS017", W, "TLS settings given while TLS is disabled", "set tls.enabled: true or remove the other tls fields"
)

# -- rules that need Azure (checked by the planner) --
AKS020 = rule("AKS020", E, "attach target cluster not found", "check the clusterId, or create the cluster in AKS first")
AKS021 = rule(
    "AKS021",
    E,
    "Kubernetes version not supported in the cluster's region",
    "upgrade the AKS cluster to a supported version (az aks get-versions -l <region>)",
)
AKS022 = rule(
    "AKS022",
    W,
    "preview Kubernetes version",
    "preview versions have no SLA; prefer a generally available version for production",
)
AKS023 = rule(
    "AKS023",
    E,
    "cluster has too few vCPUs for its purpose",
    "production needs >= 12 vCPUs over its agent pools, DevTest >= 2: scale the cluster in AKS or use DevTest",
)
AKS024 = rule(
    "AKS024",
    W,
    "private AKS cluster",
    "a private cluster (Private Link) must be reachable by Azure ML: attach from a workspace with network access to it",
)
AKS025 = rule(
    "AKS025",
    W,
    "API server authorized IP ranges",
    "allow the Azure ML control-plane ranges of the region pair in the cluster's authorized IP ranges",
)
AKS026 = rule(
    "AKS026",
    W,
    "Basic load balancer SKU",
    "authorized IP ranges and internal load balancers need the Standard load balancer: recreate the cluster with the Standard SKU",
)
AKS027 = rule(
    "AKS027", W, "VM size of the cluster not known", "its vCPUs could not be checked against the purpose's minimum"
)
AKS028 = rule(
    "AKS028",
    E,
    "cluster already attached under a compute these manifests do not manage",
    "declare the cluster under that compute name, adopt it with `reconciler import`, or detach that compute first",
)
AKS029 = rule(
    "AKS029",
    E,
    "change needs a replacement",
    "location, vmSize and network of a created cluster cannot change in place: re-run with --replace NAME to delete and re-create it",
)
AKS030 = rule(
    "AKS030", E, "workspace not found", "check subscriptionId, resourceGroup and workspaceName, and your access to them"
)
AKS031 = rule(
    "AKS031", E, "region has no default Kubernetes version", "check create.location: AKS must be offered in that region"
)
AKS032 = rule(
    "AKS032",
    W,
    "TLS secret not available to plan",
    "the certificate change cannot be detected without it; provide the file or environment variable where you plan",
)
AKS033 = rule("AKS033", E, "compute name taken by a non-AKS compute", "pick another compute name")
AKS034 = rule(
    "AKS034",
    W,
    "operation in progress",
    "the compute is planned once its running operation ends; apply waits for it first",
)
AKS035 = rule(
    "AKS035",
    W,
    "managed compute no longer declared",
    "set prune: true on the workspace to detach it, or declare it again",
)
AKS036 = rule(
    "AKS036",
    E,
    "cluster held by a compute of another owner",
    "that compute belongs to another team's manifests (tag reconciler-owner): agree with its owner, who detaches it, then apply",
)
AKS037 = rule(
    "AKS037",
    E,
    "TLS secret needed by a planned step cannot be read",
    "the step sends the certificate and key to Azure: provide the file or environment variable, or the step would fail mid-way",
)

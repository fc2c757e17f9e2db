"""Rules of Kubernetes computes and the Azure ML cluster extension: offline and with Azure."""

from __future__ import annotations

from reconciler.catalogue.rule import E, W, rule

__all__ = [
    "KUBE001",
    "KUBE002",
    "KUBE003",
    "KUBE004",
    "KUBE005",
    "KUBE006",
    "KUBE007",
    "KUBE008",
    "KUBE009",
    "KUBE010",
    "KUBE011",
    "KUBE012",
    "KUBE020",
    "KUBE021",
    "KUBE022",
    "KUBE023",
    "KUBE024",
    "KUBE025",
    "KUBE026",
    "KUBE027",
    "KUBE028",
    "KUBE029",
]

# -- Kubernetes compute (v2) and the Azure ML cluster extension: offline --
KUBE001 = rule(
    "KUBE001",
    E,
    "inference TLS: exactly one of cname + certificate + key, cname + secretName, allowInsecureConnections",
    "give tls.cname with tls.certificate and tls.key (your PEM pair), or tls.cname with tls.secretName, "
    "or allowInsecureConnections: true (HTTP) without a tls block",
)
KUBE002 = rule(
    "KUBE002",
    E,
    "internal load balancer with a NodePort router",
    "internalLoadBalancer needs routerServiceType LoadBalancer",
)
KUBE003 = rule("KUBE003", E, "neither training nor inference", "enable training, inference, or both")
KUBE004 = rule(
    "KUBE004",
    E,
    "pinned version with auto-upgrade",
    "set version.autoUpgrade: false with version.version, or drop the pin and follow a releaseTrain",
)
KUBE005 = rule(
    "KUBE005",
    E,
    "namespace is not a valid DNS label",
    "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
)
KUBE006 = rule(
    "KUBE006",
    E,
    "instance type resources invalid",
    "give non-zero cpu and memory under requests and limits; GPUs (nvidia.com/gpu) only under limits",
)
KUBE007 = rule(
    "KUBE007",
    E,
    "identity must be system-assigned or user-assigned",
    "use type SystemAssigned without ids, or UserAssigned with ids; never both",
)
KUBE008 = rule(
    "KUBE008",
    E,
    "Kubernetes cluster in another subscription",
    "a Kubernetes compute's cluster must be in the workspace's subscription",
)
KUBE009 = rule(
    "KUBE009",
    E,
    "no Azure ML extension for the compute's cluster",
    "declare a ClusterExtension for the cluster, or install the Azure ML extension on it first",
)
KUBE010 = rule("KUBE010", E, "cluster extension declared twice", "declare one ClusterExtension per cluster")
KUBE011 = rule(
    "KUBE011",
    W,
    "two Kubernetes computes in one namespace",
    "give each compute on a cluster its own namespace: sharing one is not a supported layout",
)
KUBE012 = rule(
    "KUBE012", E, "default instance type not declared", "name one of spec.instanceTypes, or drop defaultInstanceType"
)

# -- Kubernetes compute and the extension: with Azure --
KUBE020 = rule(
    "KUBE020",
    E,
    "inference router HA needs at least 3 nodes",
    "scale the cluster to 3 or more nodes or set inference.highAvailability: false",
)
KUBE021 = rule(
    "KUBE021",
    E,
    "nodeSelector key removed",
    "Azure does not support removing a nodeSelector key in place: put the key back (adding keys is fine)",
)
KUBE022 = rule(
    "KUBE022",
    E,
    "uninstall while Kubernetes computes use the cluster",
    "detach (remove the KubernetesCompute manifests of) every compute on the cluster first; uninstalling breaks them all",
)
KUBE023 = rule(
    "KUBE023",
    E,
    "cluster cannot take the Azure ML extension: legacy AKS attachment or its azureml-fe leftovers",
    "a legacy AKS compute's azureml-fe objects conflict with the extension (E45004/E45005): plan the move with `reconciler migrate`",
)
KUBE024 = rule(
    "KUBE024",
    E,
    "extension version not available for the cluster",
    "pick a version from the extension type's versions list that supports the cluster's Kubernetes version",
)
KUBE025 = rule(
    "KUBE025",
    W,
    "extension operation in progress",
    "the extension is planned once its running operation ends: plan again then",
)
KUBE026 = rule(
    "KUBE026",
    W,
    "TLS secret of the extension not available to plan",
    "the certificate change cannot be detected without it; provide the file or environment variable where you plan",
)
KUBE027 = rule(
    "KUBE027",
    W,
    "disruptive extension change",
    "running endpoints on the cluster are interrupted while the extension is reconfigured: plan a window",
)
KUBE028 = rule("KUBE028", E, "compute name taken by a compute of another type", "pick another compute name")
KUBE029 = rule(
    "KUBE029",
    W,
    "Kubernetes compute operation in progress",
    "the compute is planned once its running operation ends: plan again then",
)

"""The legacy planner's checks that need Azure: the attach target exists, runs a supported Kubernetes version,
has the vCPUs its purpose needs and no network setting that gets in the way; a created cluster's region has a
default version.

Apart from the decisions (`planner_legacy`) because these read only the observed clusters and regions, never the
workspace, and report through the planner's own `error` and `warn`.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler import vmsizes
from reconciler.catalogue import AKS020, AKS021, AKS022, AKS023, AKS024, AKS025, AKS026, AKS027, AKS031, Rule
from reconciler.desired import DesiredCluster
from reconciler.manifest import ClusterPurpose
from reconciler.state import ObservedState

Report = Callable[[Rule, str, DesiredCluster], None]


def missing_cluster(cluster_id: str | None) -> str:
    """AKS020's message, worded once for every place a named cluster is not found."""
    return f"AKS cluster {cluster_id} does not exist (or is not visible to you)"


def check_attach_target(dc: DesiredCluster, observed: ObservedState, error: Report, warn: Report) -> None:
    """The cluster an attach targets, as Azure reports it."""
    cluster = observed.cluster(dc.cluster_id)
    if cluster is None:
        error(AKS020, missing_cluster(dc.cluster_id), dc)
        return
    versions = observed.region_versions(cluster.location)
    if versions is not None:
        match = next((v for v in versions if v.version == cluster.kubernetes_version), None)
        if match is None:
            supported = ", ".join(v.version + (" (preview)" if v.preview else "") for v in versions) or "none"
            error(
                AKS021,
                f"cluster {cluster.name!r} runs Kubernetes {cluster.kubernetes_version}, not supported in {cluster.location}; supported: {supported}",
                dc,
            )
        elif match.preview:
            warn(AKS022, f"cluster {cluster.name!r} runs preview Kubernetes {cluster.kubernetes_version}", dc)
    vcpus = cluster.vcpus
    dev = dc.spec.spec.clusterPurpose is ClusterPurpose.DEV_TEST
    needed = vmsizes.MIN_VCPUS_DEVTEST if dev else vmsizes.MIN_VCPUS_PRODUCTION
    if vcpus is None:
        sizes = ", ".join(sorted({p.vm_size for p in cluster.agent_pools}))
        warn(AKS027, f"cluster {cluster.name!r} uses VM sizes not in the built-in table ({sizes})", dc)
    elif vcpus < needed:
        error(
            AKS023,
            f"cluster {cluster.name!r} has {vcpus} vCPUs; {dc.spec.spec.clusterPurpose.value} needs at least {needed}",
            dc,
        )
    if cluster.private:
        warn(AKS024, f"cluster {cluster.name!r} is a private cluster", dc)
    if cluster.authorized_ip_ranges:
        warn(AKS025, f"cluster {cluster.name!r} restricts its API server to authorized IP ranges", dc)
    if cluster.load_balancer_sku.lower() == "basic":
        warn(AKS026, f"cluster {cluster.name!r} uses the Basic load balancer SKU", dc)


def check_create(dc: DesiredCluster, observed: ObservedState, error: Report) -> None:
    """A cluster the workspace creates needs a default Kubernetes version in its region."""
    create = dc.spec.spec.create
    if create is None:
        return
    location = create.location
    versions = observed.region_versions(location)
    if versions is not None and not any(v.default for v in versions):
        error(AKS031, f"no default AKS Kubernetes version in region {location!r}", dc)

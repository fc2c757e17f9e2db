"""Desired and observed views of one compute, and their field-level differences.

Both sides are flattened into the same dict shape (manifest field names) so that
deepdiff can compare them (only when they are not plainly equal); values are normalised only for the comparison, and
differences are reported with the values as written.
"""

from __future__ import annotations

from typing import Any

from reconciler.desired import DesiredCluster
from reconciler.ids import cluster_key
from reconciler.manifest import ClusterPurpose, LoadBalancerType
from reconciler.plan import FieldDiff
from reconciler.secrets import redact
from reconciler.state import AksCluster, Compute


def desired_view(dc: DesiredCluster) -> dict[str, Any]:
    s = dc.spec.spec
    view: dict[str, Any] = {"mode": "create" if s.create else "attach"}
    if s.attach:
        view["clusterId"] = s.attach.clusterId
    if s.create:
        view.update(location=s.create.location, vmSize=s.create.vmSize, agentCount=s.create.agentCount)
        if s.create.network:
            view["network"] = s.create.network.model_dump(exclude_none=True)
    view.update(
        {
            "clusterPurpose": s.clusterPurpose.value,
            "description": s.description,
            "loadBalancer.type": s.loadBalancer.type.value,
            "loadBalancer.subnet": s.loadBalancer.subnet if s.loadBalancer.type is LoadBalancerType.INTERNAL else None,
            "tls.enabled": s.tls.enabled,
            "tls.leafDomainLabel": s.tls.leafDomainLabel if s.tls.enabled else None,
            "tls.cname": s.tls.cname if s.tls.enabled else None,
            "tags": dict(s.tags),
            "specDigest": dc.digest(),
        }
    )
    if s.tls.enabled and s.tls.certificate:
        view["tls.certificate"] = redact(dc.fingerprints.get("certificate"))
    if s.tls.enabled and s.tls.key:
        view["tls.key"] = redact(dc.fingerprints.get("key"))
    return view


def observed_view(compute: Compute, cluster: AksCluster | None, dc: DesiredCluster) -> dict[str, Any]:
    view: dict[str, Any] = {"mode": "create" if compute.created else "attach"}
    if not compute.created:
        view["clusterId"] = compute.cluster_id
    else:
        pool = cluster.primary_pool if cluster else None
        view.update(
            location=(cluster.location if cluster else compute.location),
            vmSize=(pool.vm_size if pool else compute.agent_vm_size),
            agentCount=(pool.count if pool else compute.agent_count),
        )
        if compute.network:
            view["network"] = {k: v for k, v in compute.network.items() if v is not None}
    tls = compute.tls
    view.update(
        {
            "clusterPurpose": compute.purpose or ClusterPurpose.FAST_PROD.value,
            "description": compute.description,
            "loadBalancer.type": compute.load_balancer_type,
            "loadBalancer.subnet": compute.load_balancer_subnet
            if compute.load_balancer_type == LoadBalancerType.INTERNAL.value
            else None,
            "tls.enabled": tls.enabled,
            "tls.leafDomainLabel": tls.leaf_domain_label if tls.enabled else None,
            "tls.cname": tls.cname if tls.enabled else None,
            "tags": {k: v for k, v in compute.tags.items() if not k.startswith("reconciler-")},
            "specDigest": compute.spec_digest,
        }
    )
    desired_tls = dc.spec.spec.tls
    # Azure never returns certificates: one that is there is compared through the digest.
    if tls.enabled and tls.cname:
        if desired_tls.enabled and desired_tls.certificate:
            view["tls.certificate"] = redact(dc.fingerprints.get("certificate"))
        if desired_tls.enabled and desired_tls.key:
            view["tls.key"] = redact(dc.fingerprints.get("key"))
    return view


def compared_views(
    compute: Compute, cluster: AksCluster | None, dc: DesiredCluster
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The observed and desired views as the planner compares them: the spec digest counts only
    when both sides have one (a compute attached by hand or before secrets were known has none)."""
    before, after = observed_view(compute, cluster, dc), desired_view(dc)
    if not dc.secrets_known or not compute.spec_digest:
        before.pop("specDigest", None)
        after.pop("specDigest", None)
    return before, after


def views_match(compute: Compute, dc: DesiredCluster) -> bool:
    """An attached compute already as declared, told without its cluster (an attachment's view holds
    nothing of the cluster but its id): what lets observing skip the cluster."""
    if compute.created or dc.spec.spec.create is not None:
        return False
    before, after = compared_views(compute, None, dc)
    return _normalise(before) == _normalise(after)


def _normalise(view: dict[str, Any]) -> dict[str, Any]:
    out = dict(view)
    if out.get("clusterId"):
        out["clusterId"] = cluster_key(out["clusterId"])
    if out.get("location"):
        out["location"] = out["location"].replace(" ", "").lower()
    if out.get("vmSize"):
        out["vmSize"] = out["vmSize"].lower()
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[FieldDiff]:
    """Field-level differences (deepdiff), reported with the values as written."""
    if not before:  # a new compute: every field it will have
        return [
            FieldDiff(k, None, v) for k, v in sorted(after.items()) if v not in (None, {}, "") and k != "specDigest"
        ]
    nb, na = _normalise(before), _normalise(after)
    if nb == na:  # the usual case: nothing to report, and deepdiff costs ~0.2 ms per compute
        return []
    from deepdiff import DeepDiff  # imported only when some view differs (~40 ms to import)

    result = DeepDiff(nb, na, view="tree", ignore_order=True)
    diffs: dict[str, FieldDiff] = {}
    for levels in result.values():
        for level in levels:
            parts = level.path(output_format="list")
            top = parts[0]
            path = ".".join(str(p) for p in parts)
            b = _at(before, parts)
            a = _at(after, parts)
            if top in ("tags", "network") and len(parts) == 1:
                path = top
            diffs[path] = FieldDiff(path, b, a)
    return sorted(diffs.values(), key=lambda d: d.path)


def _at(view: dict[str, Any], parts: list[Any]) -> Any:
    value: Any = view
    for p in parts:
        if not isinstance(value, dict) or p not in value:
            return None
        value = value[p]
    return value

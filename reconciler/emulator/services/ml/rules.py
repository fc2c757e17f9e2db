"""The ML service's checks on an AKS compute body, as pure functions (no state)."""

from __future__ import annotations

from typing import Any

from ... import domain
from ...domain import COMPUTE_NAME_RE, vm_cores
from ...errors import BadRequest, detail
from ...model import Cluster


def check_name(name: str) -> None:
    if not COMPUTE_NAME_RE.match(name):
        raise BadRequest(
            f"Compute name '{name}' is invalid. It must be 3 to 24 characters of letters, digits "
            "and '-', start with a letter, and not end with '-' followed by digits."
        )


def check_body(body: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(properties, properties.properties, tags) of a compute PUT body, or BadRequest."""
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise BadRequest("The request body must be a compute resource with 'properties'.")
    props = body["properties"]
    if str(props.get("computeType", "")).lower() != "aks":
        raise BadRequest(f"computeType '{props.get('computeType')}' is not supported; this endpoint models AKS.")
    settings = props.get("properties") or {}
    check_settings(settings)
    settings = {k: v for k, v in settings.items() if v is not None}  # a null means "not set", as in Azure
    tags = body.get("tags")
    if tags is not None and not isinstance(tags, dict):
        raise BadRequest("tags must be an object.")
    return props, settings, tags


def check_settings(settings: Any) -> None:
    if not isinstance(settings, dict):
        raise BadRequest("properties.properties must be an object.")
    purpose = settings.get("clusterPurpose")
    if purpose is not None and str(purpose).lower() not in domain.PURPOSES:
        raise BadRequest(f"Invalid clusterPurpose '{purpose}'. Allowed values: FastProd, DenseProd, DevTest.")
    lb = settings.get("loadBalancerType")
    if lb is not None and str(lb).lower() not in ("publicip", "internalloadbalancer"):
        raise BadRequest(f"Invalid loadBalancerType '{lb}'. Allowed values: PublicIp, InternalLoadBalancer.")
    _check_ssl(settings.get("sslConfiguration") or {}, str(lb or ""))


def _check_ssl(ssl: Any, lb: str) -> None:
    if not isinstance(ssl, dict):
        raise BadRequest("sslConfiguration must be an object.")
    status = str(ssl.get("status") or "Disabled").lower()
    if status not in ("enabled", "disabled", "auto"):
        raise BadRequest(f"Invalid sslConfiguration.status '{ssl.get('status')}'.")
    if status != "disabled" and lb.lower() == "internalloadbalancer":
        raise BadRequest(
            "TLS termination (sslConfiguration.status Enabled) is not supported with "
            "loadBalancerType InternalLoadBalancer."
        )
    custom = ssl.get("cname") and ssl.get("cert") and ssl.get("key")
    if status == "enabled" and not ssl.get("leafDomainLabel") and not custom:
        raise BadRequest("sslConfiguration with status Enabled needs either leafDomainLabel or cname, cert and key.")


def new_cluster_size(settings: dict[str, Any]) -> tuple[int, str, int]:
    """(agentCount, agentVmSize, cores per VM) of a compute create, defaults applied."""
    try:
        count = int(settings.get("agentCount", domain.DEFAULT_AGENT_COUNT))
    except (TypeError, ValueError):
        raise BadRequest(f"agentCount '{settings.get('agentCount')}' is not a number.") from None
    if count < 1:
        raise BadRequest("agentCount must be at least 1.")
    size = str(settings.get("agentVmSize") or domain.DEFAULT_AGENT_VM_SIZE)
    cores = vm_cores(size)
    if cores is None:
        raise BadRequest(f"Unknown agentVmSize '{size}'.")
    return count, size, cores


def capacity_error(purpose: str, vcpus: int, what: str) -> dict[str, Any] | None:
    need = domain.min_vcpus(purpose)
    if vcpus >= need:
        return None
    return detail(
        "BadRequest",
        f"{what} has {vcpus} vCPUs; cluster purpose {purpose} needs at least {need} vCPUs "
        "(node count x cores of the VM size).",
    )


def cluster_vcpus(cl: Cluster) -> int:
    return sum(p.count * (vm_cores(p.vm_size) or 0) for p in cl.agent_pools)


def attach_error(cl: Cluster, purpose: str, versions: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """Why attaching ``cl`` will fail (unsupported version, too small), or None.

    ``versions`` None skips the version check (a re-write of an existing attachment).
    """
    if versions is not None and cl.kubernetes_version not in {e["version"] for e in versions}:
        return detail(
            "BadRequest",
            f"Kubernetes version {cl.kubernetes_version} of AKS cluster '{cl.name}' is not "
            f"supported in region {cl.location}. Supported versions: "
            f"{domain.describe_versions(versions)}.",
        )
    return capacity_error(purpose, cluster_vcpus(cl), f"AKS cluster '{cl.name}'")


def parse_cluster_id(rid: str) -> tuple[str, str, str] | None:
    """(subscription, resourceGroup, name) of a managed cluster id, case-insensitively."""
    parts = [p for p in rid.strip().split("/") if p]
    if (
        len(parts) == 8
        and parts[0].lower() == "subscriptions"
        and parts[2].lower() == "resourcegroups"
        and parts[4].lower() == "providers"
        and parts[5].lower() == "microsoft.containerservice"
        and parts[6].lower() == "managedclusters"
    ):
        return parts[1], parts[3], parts[7]
    return None

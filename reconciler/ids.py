"""ARM resource ids of the kinds this project handles, parsed and compared as Azure does."""

from __future__ import annotations

import re
from dataclasses import dataclass

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_AKS_ID = re.compile(
    rf"^/subscriptions/(?P<sub>{_GUID})/resourceGroups/(?P<rg>[-\w.()]{{1,90}})"
    r"/providers/Microsoft\.ContainerService/managedClusters/(?P<name>[a-zA-Z0-9][-_a-zA-Z0-9]{0,62})$",
    re.IGNORECASE,
)
_SUBNET_ID = re.compile(
    rf"^/subscriptions/{_GUID}/resourceGroups/[-\w.()]{{1,90}}/providers/Microsoft\.Network"
    r"/virtualNetworks/[-\w.]{1,64}/subnets/[-\w.]{1,80}$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ClusterId:
    subscription: str
    resource_group: str
    name: str

    @property
    def key(self) -> str:
        """ARM ids are case-insensitive: compare them by this."""
        return str(self).lower()

    def __str__(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerService/managedClusters/{self.name}"
        )


def parse_cluster_id(value: str) -> ClusterId | None:
    match = _AKS_ID.match(value.strip())
    if not match:
        return None
    return ClusterId(match["sub"], match["rg"], match["name"])


def cluster_key(value: str) -> str:
    """Case-insensitive identity of any resource id string."""
    return value.strip().rstrip("/").lower()


def is_subnet_id(value: str) -> bool:
    return bool(_SUBNET_ID.match(value.strip()))

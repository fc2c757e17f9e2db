"""Azure rules the emulator enforces, modelled from Azure's documented behaviour and the REST spec.

Kept separate from the product's own rules on purpose: the emulator plays the role
of Azure, so it must not share code (or bugs) with the reconciler it tests.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

# The compute-name pattern the ML service applies (3-24 chars, starts with a letter,
# must not end in "-<digits>").
COMPUTE_NAME_RE = re.compile(r"^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$")

PRODUCTION_PURPOSES = {"fastprod", "denseprod"}
PURPOSES = {"fastprod": "FastProd", "denseprod": "DenseProd", "devtest": "DevTest"}
MIN_VCPUS_PRODUCTION = 12
MIN_VCPUS_DEVTEST = 2

DEFAULT_AGENT_COUNT = 3
DEFAULT_AGENT_VM_SIZE = "Standard_D3_v2"

# Operation durations in seconds at time_scale 1.
DURATIONS: dict[str, float] = {
    "create": 600.0,
    "attach": 300.0,
    "detach": 60.0,
    "update": 120.0,
    "scale": 180.0,
    "delete": 60.0,
    "install": 600.0,  # cluster extension
    "upgrade": 300.0,
    "uninstall": 300.0,
    "runCommand": 10.0,  # AKS Run Command (a pod runs the command line)
}

# vCPUs per VM size for the sizes commonly used with AKS inference clusters.
VM_CORES: dict[str, int] = {
    "standard_a1_v2": 1,
    "standard_a2_v2": 2,
    "standard_a4_v2": 4,
    "standard_a8_v2": 8,
    "standard_b2s": 2,
    "standard_b2ms": 2,
    "standard_b4ms": 4,
    "standard_b8ms": 8,
    "standard_d1_v2": 1,
    "standard_d2_v2": 2,
    "standard_d3_v2": 4,
    "standard_d4_v2": 8,
    "standard_d5_v2": 16,
    "standard_d11_v2": 2,
    "standard_d12_v2": 4,
    "standard_d13_v2": 8,
    "standard_d14_v2": 16,
    "standard_ds1_v2": 1,
    "standard_ds2_v2": 2,
    "standard_ds3_v2": 4,
    "standard_ds4_v2": 8,
    "standard_ds5_v2": 16,
    "standard_d2_v3": 2,
    "standard_d4_v3": 4,
    "standard_d8_v3": 8,
    "standard_d16_v3": 16,
    "standard_d2s_v3": 2,
    "standard_d4s_v3": 4,
    "standard_d8s_v3": 8,
    "standard_d16s_v3": 16,
    "standard_d32s_v3": 32,
    "standard_f2s_v2": 2,
    "standard_f4s_v2": 4,
    "standard_f8s_v2": 8,
    "standard_f16s_v2": 16,
    "standard_e2s_v3": 2,
    "standard_e4s_v3": 4,
    "standard_e8s_v3": 8,
    "standard_nc6": 6,
    "standard_nc12": 12,
    "standard_nc24": 24,
    "standard_nc6s_v3": 6,
    "standard_nc12s_v3": 12,
    "standard_nc24s_v3": 24,
    "standard_nv6": 6,
    "standard_nv12": 12,
    "standard_pb6s": 6,
}
_SIZE_RE = re.compile(r"^standard_[a-z]+?(\d+)", re.IGNORECASE)


def vm_cores(vm_size: str) -> int | None:
    """vCPUs of a VM size; newer families are parsed from the name (D8as_v5 → 8)."""
    key = vm_size.strip().lower()
    if key in VM_CORES:
        return VM_CORES[key]
    m = _SIZE_RE.match(key)
    return int(m.group(1)) if m else None


def normalize_region(region: str) -> str:
    """ARM region names are case- and space-insensitive ("West Europe" == "westeurope")."""
    return region.replace(" ", "").lower()


def purpose_of(settings: dict[str, Any]) -> str:
    raw = settings.get("clusterPurpose")
    return PURPOSES.get(str(raw).lower(), str(raw)) if raw else "FastProd"


def min_vcpus(purpose: str) -> int:
    return MIN_VCPUS_DEVTEST if purpose.lower() == "devtest" else MIN_VCPUS_PRODUCTION


def version_key(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split("."):
        digits = re.match(r"\d*", part).group(0)  # type: ignore[union-attr]
        out.append(int(digits) if digits else 0)
    return tuple(out)


def minor_of(v: str) -> str:
    return ".".join(v.split(".")[:2])


def kubernetes_versions_body(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Group seeded patch versions by minor, in the shape of KubernetesVersions_List."""
    patches = sorted((e["version"] for e in entries), key=version_key)
    by_minor: dict[str, list[dict[str, Any]]] = {}
    for e in sorted(entries, key=lambda e: version_key(e["version"])):
        by_minor.setdefault(minor_of(e["version"]), []).append(e)
    minors = sorted(by_minor, key=version_key)
    values = []
    for i, minor in enumerate(minors):
        next_minor = minors[i + 1] if i + 1 < len(minors) else None
        patch_versions = {}
        for e in by_minor[minor]:
            v = e["version"]
            upgrades = [p for p in patches if version_key(p) > version_key(v) and minor_of(p) in (minor, next_minor)]
            patch_versions[v] = {"upgrades": upgrades}
        item: dict[str, Any] = {"capabilities": {"supportPlan": ["KubernetesOfficial"]}}
        if any(e.get("default") for e in by_minor[minor]):
            item["isDefault"] = True
        if all(e.get("preview") for e in by_minor[minor]):
            item["isPreview"] = True
        item["patchVersions"] = patch_versions
        item["version"] = minor
        values.append(item)
    return {"values": values}


def describe_versions(entries: list[dict[str, Any]]) -> str:
    parts = []
    for e in sorted(entries, key=lambda e: version_key(e["version"])):
        tag = " (preview)" if e.get("preview") else ""
        tag += " (default)" if e.get("default") else ""
        parts.append(e["version"] + tag)
    return ", ".join(parts) if parts else "(none)"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_us(us: int) -> str:
    """ISO-8601 UTC timestamp from integer microseconds (always 6 fractional digits)."""
    return (_EPOCH + timedelta(microseconds=us)).isoformat(timespec="microseconds")


def iso(t: float) -> str:
    return iso_us(round(t * 1_000_000))

"""Cores of common Azure VM sizes, for Azure ML's vCPU minimums.

Sizes not listed here are not errors offline: the planner checks them against
the real cluster's agent pools.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VmSize:
    name: str
    cores: int
    accelerator: str | None = None  # "GPU" or "FPGA"


def _sizes(cores: dict[str, int], accelerator: str | None = None) -> dict[str, VmSize]:
    return {name.lower(): VmSize(name, n, accelerator) for name, n in cores.items()}


VM_SIZES: dict[str, VmSize] = {
    **_sizes(
        {
            "Standard_A2_v2": 2,
            "Standard_A4_v2": 4,
            "Standard_A8_v2": 8,
            "Standard_B2s": 2,
            "Standard_B2ms": 2,
            "Standard_B4ms": 4,
            "Standard_B8ms": 8,
            "Standard_D1_v2": 1,
            "Standard_D2_v2": 2,
            "Standard_D3_v2": 4,
            "Standard_D4_v2": 8,
            "Standard_D5_v2": 16,
            "Standard_D11_v2": 2,
            "Standard_D12_v2": 4,
            "Standard_D13_v2": 8,
            "Standard_D14_v2": 16,
            "Standard_DS1_v2": 1,
            "Standard_DS2_v2": 2,
            "Standard_DS3_v2": 4,
            "Standard_DS4_v2": 8,
            "Standard_DS5_v2": 16,
            "Standard_DS11_v2": 2,
            "Standard_DS12_v2": 4,
            "Standard_DS13_v2": 8,
            "Standard_DS14_v2": 16,
            "Standard_D2_v3": 2,
            "Standard_D4_v3": 4,
            "Standard_D8_v3": 8,
            "Standard_D16_v3": 16,
            "Standard_D32_v3": 32,
            "Standard_D2s_v3": 2,
            "Standard_D4s_v3": 4,
            "Standard_D8s_v3": 8,
            "Standard_D16s_v3": 16,
            "Standard_D32s_v3": 32,
            "Standard_D2s_v4": 2,
            "Standard_D4s_v4": 4,
            "Standard_D8s_v4": 8,
            "Standard_D16s_v4": 16,
            "Standard_D2s_v5": 2,
            "Standard_D4s_v5": 4,
            "Standard_D8s_v5": 8,
            "Standard_D16s_v5": 16,
            "Standard_D32s_v5": 32,
            "Standard_D2ds_v5": 2,
            "Standard_D4ds_v5": 4,
            "Standard_D8ds_v5": 8,
            "Standard_D16ds_v5": 16,
            "Standard_E2s_v3": 2,
            "Standard_E4s_v3": 4,
            "Standard_E8s_v3": 8,
            "Standard_E16s_v3": 16,
            "Standard_E2s_v5": 2,
            "Standard_E4s_v5": 4,
            "Standard_E8s_v5": 8,
            "Standard_E16s_v5": 16,
            "Standard_F2s_v2": 2,
            "Standard_F4s_v2": 4,
            "Standard_F8s_v2": 8,
            "Standard_F16s_v2": 16,
            "Standard_F32s_v2": 32,
        }
    ),
    **_sizes(
        {
            "Standard_NC6": 6,
            "Standard_NC12": 12,
            "Standard_NC24": 24,
            "Standard_NC6s_v3": 6,
            "Standard_NC12s_v3": 12,
            "Standard_NC24s_v3": 24,
            "Standard_NC4as_T4_v3": 4,
            "Standard_NC8as_T4_v3": 8,
            "Standard_NC16as_T4_v3": 16,
            "Standard_NC64as_T4_v3": 64,
            "Standard_NC24ads_A100_v4": 24,
            "Standard_ND6s": 6,
            "Standard_ND12s": 12,
            "Standard_ND24s": 24,
            "Standard_ND40rs_v2": 40,
            "Standard_NV6": 6,
            "Standard_NV12": 12,
            "Standard_NV24": 24,
            "Standard_NV12s_v3": 12,
            "Standard_NV24s_v3": 24,
        },
        "GPU",
    ),
    **_sizes({"Standard_PB6s": 6}, "FPGA"),
}


def lookup(name: str) -> VmSize | None:
    """Case-insensitive, as Azure treats VM size names."""
    return VM_SIZES.get(name.lower())


def suggest(name: str) -> str | None:
    """The known size closest to a misspelt one ("Standard_D3v2" → "Standard_D3_v2"), or None."""
    import difflib

    close = difflib.get_close_matches(name.lower(), list(VM_SIZES), n=1, cutoff=0.8)
    return VM_SIZES[close[0]].name if close else None


# Azure ML: production needs 12 vCPUs, DevTest 2.
MIN_VCPUS_PRODUCTION = 12
MIN_VCPUS_DEVTEST = 2

"""The node-label values and device-node groups the GPU daemons really publish (pure Python, no cdk8s).

Shared by the catalog layer (validating a leaf's `gpu.family`) and :mod:`ollama_constructs.gpu_node_selector`.
"""

from __future__ import annotations

from collections.abc import Mapping

NVIDIA_FAMILIES = ("maxwell", "pascal", "volta", "turing", "ampere", "ada-lovelace", "hopper", "blackwell", "rubin")
"""The values GPU Feature Discovery writes to `nvidia.com/gpu.family` (`getArchFamily`), oldest first."""

AMD_FAMILIES = (
    "SI",
    "CI",
    "KV",
    "VI",
    "CZ",
    "AI",
    "RV",
    "NV",
    "VGH",
    "GC_11_0_0",
    "YC",
    "GC_11_0_1",
    "GC_10_3_6",
    "GC_10_3_7",
    "GC_11_5_0",
    "GC_12_0_0",
)
"""The values the ROCm node labeller writes to `amd.com/gpu.family`: `FamilyIDtoString` in
ROCm/k8s-device-plugin `internal/pkg/amdgpu/amdgpu.go` (master, 2026-08-11), which names the kernel's
`AMDGPU_FAMILY_*` ids (`include/uapi/drm/amdgpu_drm.h`). The labeller writes `amd.com/gpu.family` only
when every GPU of the node is of one family (`createLabels` in `cmd/k8s-node-labeller/main.go`); a node
with mixed families gets counting labels `amd.com/gpu.family.<value>` instead."""

AMD_FAMILY_HINTS: Mapping[str, str] = {
    "cdna": "AI",
    "cdna1": "AI",
    "cdna2": "AI",
    "cdna3": "AI",
    "vega": "AI",
    "instinct": "AI",
    "mi100": "AI",
    "mi200": "AI",
    "mi210": "AI",
    "mi250": "AI",
    "mi250x": "AI",
    "mi300": "AI",
    "mi300x": "AI",
    "mi300a": "AI",
    "rdna": "NV",
    "rdna1": "NV",
    "rdna2": "NV",
    "navi": "NV",
    "rdna3": "GC_11_0_0",
    "rdna4": "GC_12_0_0",
}
"""Marketing and architecture names people write, and the labeller value that stands for them (lower-case
keys): Instinct MI100-MI300 (gfx908/90a/942) are of the kernel family AI, RDNA 1 and 2 discrete cards
(RX 5000/6000) NV, RDNA 3 discrete cards (RX 7000, W7000, gfx1100-1102) GC_11_0_0, RDNA 4 (RX 9000,
gfx1200/1201) GC_12_0_0. Only for error messages: the label value itself is what a leaf must name."""

AMD_VIDEO_GROUP_IDS = (44,)
"""GIDs of the host's `video` group, which owns `/dev/dri/card*`: 44 on Debian and Ubuntu (fixed by
base-passwd); Fedora and RHEL use 39."""

AMD_RENDER_GROUP_IDS = (109, 110, 992)
"""GIDs the host's `render` group (owner of `/dev/kfd` and `/dev/dri/renderD*`) has on common GPU nodes.
It is a dynamically allocated system group, so it differs by release: 109 on Ubuntu 20.04 (and in
ROCm's ROCm-docker images), 110 on Ubuntu 22.04 (where `sgx` and `kvm` take 108 and 109), 992 on Ubuntu
24.04 (systemd-sysusers allocates downward from 999: `sgx` 994, `kvm` 993, `render` 992). Listing all
three costs nothing: a supplemental GID that no file in the container carries grants nothing. Check a
node with `getent group render` (or `stat -c %g /dev/kfd`) and set the platform's
`gpu.amd.renderGroupIds` when it differs."""


def amd_family_problem(family: str) -> str | None:
    """Why `family` is not a value the ROCm node labeller writes (with the value to use), or None."""
    if family in AMD_FAMILIES:
        return None
    hint = AMD_FAMILY_HINTS.get(family.lower().replace(" ", "").replace("-", "").replace("_", ""))
    if hint is None and family.upper() in AMD_FAMILIES:
        hint = family.upper()
    suggestion = f"; for {family} use {hint}" if hint else ""
    return (
        f"family {family!r} is not a value the ROCm node labeller writes to amd.com/gpu.family "
        f"(no node would match){suggestion}; the values are {', '.join(AMD_FAMILIES)}"
    )


def nvidia_family_problem(family: str) -> str | None:
    """Why `family` is not a GPU Feature Discovery family, or None."""
    if family in NVIDIA_FAMILIES:
        return None
    return f"family {family!r} is not a GPU Feature Discovery family: {', '.join(NVIDIA_FAMILIES)}"

"""`GpuNodeSelector`: GPUs for a pod, or a pod that sees no GPU at all.

NVIDIA (device plugin + GPU Feature Discovery) and AMD (ROCm device plugin + node labeller) are
supported. The GPU request is an extended resource in the target containers' limits; the GPU kind is
selected with required node affinity on the labels those daemons publish.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal, NamedTuple

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import AfterValidator, Field, model_validator

from . import _gpu_labels, _jsii_host, _pod
from ._props import Props
from ._scope import public_construct
from ._types import DnsSubdomain, LabelValue

NVIDIA_GPU = "nvidia.com/gpu"
"""The NVIDIA device plugin's resource name, also the key of the usual GPU-node taint."""
AMD_GPU = "amd.com/gpu"
"""The ROCm device plugin's resource name, also the usual key of an AMD GPU-node taint."""

VENDOR_DOMAINS: Mapping[str, str] = {"nvidia": "nvidia.com", "amd": "amd.com"}
"""The domain each vendor's extended resources and node labels live under."""
DEFAULT_RESOURCES: Mapping[str, str] = {"nvidia": NVIDIA_GPU, "amd": AMD_GPU}
"""The resource (and taint key) used when `resource_name` is not given."""

NVIDIA_FAMILIES = _gpu_labels.NVIDIA_FAMILIES
"""The values GPU Feature Discovery writes to `nvidia.com/gpu.family` (`getArchFamily`), oldest first."""

BLACKWELL_COMPUTE_MAJORS = ("10", "12")
"""Compute-capability majors of Blackwell: 10 (B200/B300 data-centre parts), 12 (RTX 50xx, RTX PRO).

`family="blackwell"` selects on `nvidia.com/gpu.compute.major` instead of `nvidia.com/gpu.family`:
GFD learnt the `blackwell` family only in v0.18.0 (April 2025) and older GFD labels Blackwell nodes
`undefined`, whereas `gpu.compute.major` is published by every GFD version."""

AMD_FAMILIES = _gpu_labels.AMD_FAMILIES
"""The values the ROCm node labeller writes to `amd.com/gpu.family` (see :data:`_gpu_labels.AMD_FAMILIES`)."""

AMD_VIDEO_GROUP_IDS = _gpu_labels.AMD_VIDEO_GROUP_IDS
"""`video`: owns `/dev/dri/card*`. GID 44 is fixed by Debian/Ubuntu's base-passwd; Fedora/RHEL use 39."""
AMD_RENDER_GROUP_IDS = _gpu_labels.AMD_RENDER_GROUP_IDS
"""`render`: owns `/dev/dri/renderD*` and `/dev/kfd`. A dynamically allocated system group, so its GID
varies by host: 109 on Ubuntu 20.04 (and in ROCm's ROCm-docker images), 110 on Ubuntu 22.04, 992 on
Ubuntu 24.04. Check with `getent group render` on a GPU node."""
AMD_DEVICE_GROUPS = tuple(sorted({*AMD_VIDEO_GROUP_IDS, *AMD_RENDER_GROUP_IDS}))
"""The default `supplemental_groups` of an AMD GPU pod: every video and render GID above."""

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_QUALIFIED_NAME = re.compile(rf"^(?:(?P<prefix>[^/]+)/)?(?P<name>{_NAME})$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _check_qualified_name(value: str, *, prefix_required: bool, what: str, example: str) -> str:
    match = _QUALIFIED_NAME.match(value)
    prefix = match["prefix"] if match else None
    if (
        not match
        or len(match["name"]) > 63
        or (prefix is None and prefix_required)
        or (prefix is not None and (len(prefix) > 253 or not _SUBDOMAIN.match(prefix)))
    ):
        form = "<domain>/<name>" if prefix_required else "[<domain>/]<name>"
        raise ValueError(
            f"{value!r} is not a valid {what}: expected {form} (e.g. {example}), the domain a DNS "
            "subdomain, the name at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends"
        )
    return value


def _check_resource_name(value: str) -> str:
    return _check_qualified_name(
        value, prefix_required=True, what="extended resource name", example="nvidia.com/mig-1g.10gb"
    )


def _check_taint_key(value: str) -> str:
    return _check_qualified_name(value, prefix_required=False, what="taint key", example="nvidia.com/gpu")


ResourceName = Annotated[str, AfterValidator(_check_resource_name)]
"""An extended resource name, `<domain>/<name>` (e.g. `nvidia.com/gpu`, `amd.com/gpu`)."""
TaintKey = Annotated[str, AfterValidator(_check_taint_key)]
"""A taint key: a Kubernetes qualified name, `[<domain>/]<name>`."""
NodeLabelValue = Annotated[LabelValue, Field(min_length=1)]
"""A non-empty Kubernetes label value."""


def _domain(resource: str) -> str:
    return resource.split("/", 1)[0]


def _in_domain(resource: str, domain: str) -> bool:
    own = _domain(resource)
    return own == domain or own.endswith(f".{domain}")


def _is_mig(resource: str) -> bool:
    return _in_domain(resource, "nvidia.com") and resource.split("/", 1)[1].startswith("mig-")


class NodeLabelRequirement(NamedTuple):
    """One required node-affinity expression the selector added (for a `plan` printout)."""

    key: str
    operator: Literal["In", "Gt"]
    values: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.key} {self.operator} {', '.join(self.values)}"


_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


class GpuToleration(Props):
    """A toleration of a GPU-node taint."""

    key: TaintKey
    """The taint key, e.g. `nvidia.com/gpu`."""
    operator: Literal["Exists", "Equal"] = "Exists"
    """`Exists` tolerates any value of the taint; `Equal` only `value`. Default: `Exists`."""
    value: NodeLabelValue | None = None
    """The taint value, required with `Equal` and refused with `Exists`. Default: none."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    """The taint effect tolerated. Default: every effect (Kubernetes' meaning of an empty effect)."""

    @model_validator(mode="after")
    def _value_matches_operator(self) -> GpuToleration:
        if self.operator == "Equal" and self.value is None:
            raise ValueError(f"toleration of {self.key!r}: operator 'Equal' needs a value")
        if self.operator == "Exists" and self.value is not None:
            raise ValueError(
                f"toleration of {self.key!r}: operator 'Exists' takes no value (it tolerates any); "
                "use operator 'Equal' to tolerate one value"
            )
        return self

    def to_query(self) -> kplus.NodeTaintQuery:
        """This toleration as a cdk8s-plus taint query."""
        effect = getattr(kplus.TaintEffect, _EFFECTS[self.effect]) if self.effect else None
        if self.operator == "Equal":
            assert self.value is not None  # checked by the validator
            return kplus.NodeTaintQuery.is_(self.key, self.value, effect=effect)
        return kplus.NodeTaintQuery.exists(self.key, effect=effect)


@_jsii_host.shared(maxsize=256)
def _tainted(toleration: GpuToleration) -> kplus.TaintedNode:
    """The nodes `toleration` tolerates, shared."""
    return kplus.Node.tainted(toleration.to_query())


class GpuNodeSelectorProps(Props):
    """How many GPUs of which kind each pod gets and where such pods may run."""

    count: int = Field(default=1, ge=0, le=16)
    """GPUs per pod, as a limit of `resource_name`; `0` makes a CPU-only pod that sees no GPU. A MIG
    resource takes only `1`. Default: `1`."""
    vendor: Literal["nvidia", "amd"] = "nvidia"
    """Whose device plugin serves the GPUs: `nvidia` (NVIDIA device plugin, GPU Feature Discovery
    labels) or `amd` (ROCm device plugin, AMD node labeller labels). Default: `nvidia`."""
    resource_name: ResourceName | None = None
    """The extended resource to request, in the vendor's domain: e.g. a MIG slice
    `nvidia.com/mig-1g.10gb` (MIG strategy `mixed`), a time-sliced `nvidia.com/gpu.shared`, an MI300
    partition `amd.com/cpx_nps4`. Default: `nvidia.com/gpu` for NVIDIA, `amd.com/gpu` for AMD."""
    product: NodeLabelValue | None = None
    """Required GPU model, as the label value: `nvidia.com/gpu.product` for NVIDIA (e.g. `Tesla-T4`,
    `A100-SXM4-40GB`; time-sliced GPUs may carry a `-SHARED` suffix), `amd.com/gpu.product-name` for
    AMD. Default: any model."""
    family: NodeLabelValue | None = None
    """Required GPU architecture. NVIDIA: one of the GFD `nvidia.com/gpu.family` values (maxwell,
    pascal, volta, turing, ampere, ada-lovelace, hopper, blackwell, rubin); `blackwell` is selected by
    `nvidia.com/gpu.compute.major` In (10, 12) instead, since GFD before v0.18.0 labels Blackwell
    `undefined`. AMD: one of the ROCm node labeller's `amd.com/gpu.family` values (:data:`AMD_FAMILIES`:
    `AI` for Instinct MI100-MI300, `NV` for RDNA 1 and 2, `GC_11_0_0` for RDNA 3, `GC_12_0_0` for RDNA 4).
    Default: any architecture."""
    min_memory_gib: int | None = Field(default=None, ge=1, le=4096)
    """Least memory per GPU, in GiB, selected as `nvidia.com/gpu.memory` (MiB per GPU, or per MIG device
    with the `single` MIG strategy) Gt `min_memory_gib * 1024 - 1`. The label is NVML's total, often a
    little under the marketing size (a "16 GB" T4 reports 15360), so ask for a GiB less when in doubt.
    NVIDIA only: the AMD labeller's `amd.com/gpu.vram` is not a plain number. Default: any size."""
    runtime_class_name: DnsSubdomain | None = None
    """RuntimeClass for the vendor's container runtime (e.g. `nvidia` on k3s/RKE2, where the NVIDIA
    runtime is not containerd's default). Default: the node's default runtime."""
    node_selector: Mapping[str, str] = Field(default_factory=dict)
    """Further node labels the pod must match (ANDed with the GPU selection), e.g.
    `{"nvidia.com/gpu.present": "true"}`. Applies to CPU-only pods too. Default: none (the GPU request
    alone places the pod on GPU nodes)."""
    tolerations: tuple[GpuToleration, ...] | None = None
    """Taints of GPU nodes the pod tolerates; `()` tolerates none. Default: the vendor's usual GPU taint
    (key `nvidia.com/gpu` or `amd.com/gpu`, any value, NoSchedule) when `count` > 0, none for a
    CPU-only pod."""
    supplemental_groups: tuple[Annotated[int, Field(ge=0)], ...] | None = None
    """Supplemental GIDs of the pod, for a non-root process to open the GPU device nodes. AMD's
    `/dev/kfd` and `/dev/dri/renderD*` belong to the host's `render` group and `/dev/dri/card*` to
    `video`, and containerd keeps the host's ownership (unless `device_ownership_from_security_context`
    is on); the GIDs vary by distribution, see :data:`AMD_VIDEO_GROUP_IDS` and :data:`AMD_RENDER_GROUP_IDS`.
    Harmless for a root process. Default: `(44, 109, 110, 992)` (Ubuntu's video, and render on Ubuntu
    20.04, 22.04 and 24.04) for AMD when `count` > 0, none otherwise."""

    @model_validator(mode="after")
    def _consistent(self) -> GpuNodeSelectorProps:
        domain = VENDOR_DOMAINS[self.vendor]
        resource = self.resource_name
        if resource is not None and not _in_domain(resource, domain):
            if self.vendor == "amd" and _is_mig(resource):
                hint = "MIG is NVIDIA-only; use an amd.com/ resource such as amd.com/gpu or a partition"
            elif self.vendor == "amd" and _in_domain(resource, "nvidia.com"):
                hint = "it is an NVIDIA resource; set vendor='nvidia' or use an amd.com/ resource"
            elif self.vendor == "nvidia" and _in_domain(resource, "amd.com"):
                hint = "it is an AMD resource; set vendor='amd' or use an nvidia.com/ resource"
            else:
                hint = f"the {self.vendor} device plugin serves only {domain}/ resources"
            raise ValueError(
                f"resource_name {resource!r} does not belong to vendor {self.vendor!r} ({domain}): {hint}"
            )
        if resource is not None and _is_mig(resource) and self.count > 1:
            raise ValueError(
                f"count {self.count} with the MIG resource_name {resource!r}: a CUDA process uses one MIG "
                "instance, so request count 1 (or a larger MIG profile)"
            )
        if self.count == 0:
            selected = [
                name
                for name in ("resource_name", "product", "family", "min_memory_gib", "runtime_class_name")
                if getattr(self, name) is not None
            ]
            if selected:
                raise ValueError(
                    f"count 0 makes a CPU-only pod, which selects no GPU: remove {', '.join(selected)} "
                    "or set count to 1 or more"
                )
        if self.vendor == "nvidia" and self.family is not None and self.family not in NVIDIA_FAMILIES:
            raise ValueError(
                f"family {self.family!r} is not a GPU Feature Discovery family; "
                f"use one of {', '.join(NVIDIA_FAMILIES)}"
            )
        amd_problem = _gpu_labels.amd_family_problem(self.family) if self.vendor == "amd" and self.family else None
        if amd_problem:
            raise ValueError(amd_problem)
        if self.vendor == "amd" and self.min_memory_gib is not None:
            raise ValueError(
                "min_memory_gib is not supported with vendor 'amd': the AMD node labeller's "
                "amd.com/gpu.vram label is not a plain number (e.g. '16G'), so no Gt node selector can "
                "compare it; select the card by product or family instead"
            )
        return self


@public_construct
class GpuNodeSelector(Construct):
    """Applies a GPU request to a cdk8s-plus workload (Deployment, StatefulSet, Job or Pod).

    With `count` > 0:

    - `<resource_name>: <count>` in the limits of each target container (default: every container);
    - one required node-affinity term ANDing the product, family, memory and `node_selector`
      requirements;
    - tolerations (default: the vendor's GPU taint), the optional runtimeClassName, and for AMD the
      supplemental groups of the GPU device nodes.

    With `count` 0, a CPU-only pod: every container and init container gets
    `NVIDIA_VISIBLE_DEVICES=void`, so that on a node whose default runtime is NVIDIA's the pod still
    sees no GPU; for `vendor="amd"` also `ROCR_VISIBLE_DEVICES=-1` (an invalid ID: ROCm, hence
    Ollama, sees no GPU). `node_selector`, explicit `tolerations` and explicit `supplemental_groups`
    still apply.

    Synthesizes no object of its own: it changes `workload`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: GpuNodeSelectorProps | None = None,
        *,
        workload: kplus.AbstractPod,
        containers: Sequence[kplus.Container] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.props = props or GpuNodeSelectorProps()
        p = self.props
        self.workload = workload
        gpu = p.count > 0
        targets = tuple(containers) if containers is not None else tuple(workload.containers)
        self.resource_name: str | None = (p.resource_name or DEFAULT_RESOURCES[p.vendor]) if gpu else None
        """The extended resource requested, or None for a CPU-only pod."""
        self.node_affinity_labels: tuple[NodeLabelRequirement, ...] = self._requirements()
        """The required node-affinity expressions added (all ANDed in one term), in order."""

        if gpu:
            self._request_gpus(targets)
        else:
            self._hide_gpus()

        tolerations = p.tolerations
        if tolerations is None:
            default = GpuToleration(key=DEFAULT_RESOURCES[p.vendor], operator="Exists", effect="NoSchedule")
            tolerations = (default,) if gpu else ()
        scheduling = workload.scheduling if tolerations or self.node_affinity_labels else None
        for toleration in tolerations:
            scheduling.tolerate(_tainted(toleration))  # type: ignore[union-attr]

        groups = p.supplemental_groups
        if groups is None:
            groups = AMD_DEVICE_GROUPS if gpu and p.vendor == "amd" else ()
        if groups:
            # cdk8s-plus-28's PodSecurityContext has no supplementalGroups.
            _pod.patch_workload(
                workload,
                cdk8s.JsonPatch.add(
                    f"{_pod.pod_spec_path(workload)}/securityContext/supplementalGroups", list(groups)
                ),
            )

        if self.node_affinity_labels:
            queries = [
                kplus.NodeLabelQuery.in_(r.key, list(r.values))
                if r.operator == "In"
                else kplus.NodeLabelQuery.gt(r.key, list(r.values))
                for r in self.node_affinity_labels
            ]
            # One attract() call: each call adds a separate nodeSelectorTerm, and terms are ORed.
            scheduling.attract(kplus.Node.labeled(*queries))  # type: ignore[union-attr]

    def _requirements(self) -> tuple[NodeLabelRequirement, ...]:
        p = self.props
        found: list[NodeLabelRequirement] = []
        if p.vendor == "nvidia":
            if p.product is not None:
                found.append(NodeLabelRequirement("nvidia.com/gpu.product", "In", (p.product,)))
            if p.family == "blackwell":
                major = "nvidia.com/gpu.compute.major"
                found.append(NodeLabelRequirement(major, "In", BLACKWELL_COMPUTE_MAJORS))
            elif p.family is not None:
                found.append(NodeLabelRequirement("nvidia.com/gpu.family", "In", (p.family,)))
            if p.min_memory_gib is not None:
                more_than_mib = str(p.min_memory_gib * 1024 - 1)
                found.append(NodeLabelRequirement("nvidia.com/gpu.memory", "Gt", (more_than_mib,)))
        else:
            if p.product is not None:
                found.append(NodeLabelRequirement("amd.com/gpu.product-name", "In", (p.product,)))
            if p.family is not None:
                found.append(NodeLabelRequirement("amd.com/gpu.family", "In", (p.family,)))
        for key, value in sorted(p.node_selector.items()):
            found.append(NodeLabelRequirement(key, "In", (value,)))
        return tuple(found)

    def _request_gpus(self, targets: Sequence[kplus.Container]) -> None:
        p = self.props
        workload = self.workload
        assert self.resource_name is not None
        limit = _pod.escape_pointer(self.resource_name)
        patches = [
            _pod.add_patch(f"{_pod.container_path(workload, c)}/resources/limits/{limit}", _pod.count(p.count))
            for c in targets
        ]
        if p.runtime_class_name:
            spec = _pod.pod_spec_path(workload)
            patches.append(_pod.add_patch(f"{spec}/runtimeClassName", p.runtime_class_name))
        _pod.patch_workload(workload, *patches)

    def _hide_gpus(self) -> None:
        hidden = {"NVIDIA_VISIBLE_DEVICES": "void"}
        if self.props.vendor == "amd":
            hidden["ROCR_VISIBLE_DEVICES"] = "-1"
        for container in (*self.workload.containers, *self.workload.init_containers):
            for name, value in hidden.items():
                container.env.add_variable(name, _pod.env_value(value))

"""`GpuNodeSelector`: GPUs for a pod, or a pod that sees no GPU at all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cdk8s
import cdk8s_plus_28 as kplus
from cdk8s_plus_28 import k8s
from constructs import Construct
from pydantic import Field

from . import _pod
from ._props import Props
from ._types import DnsSubdomain

NVIDIA_GPU = "nvidia.com/gpu"
"""The NVIDIA device plugin's resource name, also the key of the usual GPU-node taint."""


class GpuNodeSelectorProps(Props):
    """How many GPUs each pod gets and where such pods may run."""

    count: int = Field(default=1, ge=0, le=16)
    """GPUs per pod, as `nvidia.com/gpu` limits; `0` makes a CPU-only pod that sees no GPU. Default: `1`."""
    runtime_class_name: DnsSubdomain | None = None
    """RuntimeClass for the NVIDIA container runtime (e.g. `nvidia` on k3s/RKE2). Default: the node's
    default runtime."""
    node_selector: Mapping[str, str] = Field(default_factory=dict)
    """Node labels the pod must match, e.g. `{"nvidia.com/gpu.present": "true"}`. Default: none (the GPU
    request alone places the pod on GPU nodes)."""
    tolerate_gpu_taint: bool = True
    """Tolerate the `nvidia.com/gpu` taint (any value, NoSchedule) that GPU nodes usually carry.
    Default: `true` when `count` > 0."""


class GpuNodeSelector(Construct):
    """Applies a GPU request to a cdk8s-plus workload (Deployment, StatefulSet, Job or Pod).

    With `count` > 0: `nvidia.com/gpu: <count>` in the limits of each target container, a toleration of
    the `nvidia.com/gpu` taint, the optional runtimeClassName and node selector. With `count` 0: every
    container and init container gets `NVIDIA_VISIBLE_DEVICES=void`, so that on a node whose default
    runtime is NVIDIA's the pod still sees no GPU.

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
        targets = tuple(containers) if containers is not None else tuple(workload.containers)
        self.resource_name: str | None = NVIDIA_GPU if p.count > 0 else None
        """The extended resource requested, or None for a CPU-only pod."""

        if p.count == 0:
            for container in (*workload.containers, *workload.init_containers):
                container.env.add_variable("NVIDIA_VISIBLE_DEVICES", kplus.EnvValue.from_value("void"))
            return

        spec = _pod.pod_spec_path(workload)
        patches = [
            cdk8s.JsonPatch.add(
                f"{_pod.container_path(workload, c)}/resources/limits/{_pod.escape_pointer(NVIDIA_GPU)}",
                k8s.Quantity.from_number(p.count),
            )
            for c in targets
        ]
        if p.runtime_class_name:
            patches.append(cdk8s.JsonPatch.add(f"{spec}/runtimeClassName", p.runtime_class_name))
        _pod.patch_workload(workload, *patches)
        if p.tolerate_gpu_taint:
            workload.scheduling.tolerate(
                kplus.Node.tainted(kplus.NodeTaintQuery.exists(NVIDIA_GPU, effect=kplus.TaintEffect.NO_SCHEDULE))
            )
        for key, value in sorted(p.node_selector.items()):
            workload.scheduling.attract(kplus.Node.labeled(kplus.NodeLabelQuery.is_(key, value)))

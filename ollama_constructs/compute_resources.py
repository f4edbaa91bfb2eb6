"""CPU and memory requests and limits of a container, as a props value."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_28 import k8s
from pydantic import model_validator

from . import _jsii_host, _pod
from ._props import Props
from ._types import Quantity, quantity_value


class ComputeResources(Props):
    """Requests and limits of one container (CPU, memory, node disk), as Kubernetes quantities; `None`
    leaves one unset."""

    cpu_request: Quantity | None = None
    """CPU the scheduler reserves, e.g. `500m`. Default: not set."""
    cpu_limit: Quantity | None = None
    """Most CPU the container may use, e.g. `2`. Default: not set."""
    memory_request: Quantity | None = None
    """Memory the scheduler reserves, e.g. `2Gi`. Default: not set."""
    memory_limit: Quantity | None = None
    """Most memory the container may use, e.g. `4Gi`. Default: not set."""
    ephemeral_storage_request: Quantity | None = None
    """Node disk (`ephemeral-storage`: writable layer, logs, disk-backed emptyDirs) the scheduler reserves,
    e.g. `10Gi`. Default: not set."""
    ephemeral_storage_limit: Quantity | None = None
    """Most node disk before the kubelet evicts the pod (summed over the pod's containers and compared with
    its emptyDirs, logs and writable layers together). Default: not set."""

    def patch(self, path: str) -> cdk8s.JsonPatch:
        """A JSON patch adding these resources at `path` (a container's `.../resources`), shared."""
        return _resources_patch(path, self)

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ComputeResources:
        for kind in ("cpu", "memory", "ephemeral_storage"):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            if request is not None and limit is not None and quantity_value(request) > quantity_value(limit):
                raise ValueError(f"{kind}_request ({request}) is larger than {kind}_limit ({limit})")
        return self

    def to_kube(self) -> k8s.ResourceRequirements:
        """The container's `resources` as the L1 struct, quantities exactly as given.

        `limits` is always present (possibly empty) so that extended resources such as `nvidia.com/gpu`
        can be added to it.
        """
        return k8s.ResourceRequirements(
            requests=_quantities(
                cpu=self.cpu_request, memory=self.memory_request, ephemeral_storage=self.ephemeral_storage_request
            ),
            limits=_quantities(
                cpu=self.cpu_limit, memory=self.memory_limit, ephemeral_storage=self.ephemeral_storage_limit
            ),
        )


def _quantities(**amounts: str | int | float | None) -> dict[str, k8s.Quantity]:
    return {name.replace("_", "-"): _pod.quantity(str(v)) for name, v in amounts.items() if v is not None}


@_jsii_host.shared(maxsize=1024)
def _resources_patch(path: str, resources: ComputeResources) -> cdk8s.JsonPatch:
    return cdk8s.JsonPatch.add(path, resources.to_kube())

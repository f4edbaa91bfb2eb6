"""Pod-level helpers shared by the constructs: the restricted security context, JSON-patch paths.

cdk8s-plus-28 lacks a few pod and container fields (extended resources such as `nvidia.com/gpu`,
`runtimeClassName`, `enableServiceLinks`); the constructs add those with JSON patches on the workload's
`Resource` child, addressed through the helpers here.
"""

from __future__ import annotations

import cdk8s
import cdk8s_plus_28 as kplus

from ._defaults import RUN_AS_USER


def restricted_security_context() -> kplus.ContainerSecurityContextProps:
    """A container security context that meets the "restricted" Pod Security Standard."""
    return kplus.ContainerSecurityContextProps(
        ensure_non_root=True,
        user=RUN_AS_USER,
        group=RUN_AS_USER,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        privileged=False,
        capabilities=kplus.ContainerSecutiryContextCapabilities(drop=[kplus.Capability.ALL]),
        seccomp_profile=kplus.SeccompProfile(type=kplus.SeccompProfileType.RUNTIME_DEFAULT),
    )


def pod_spec_path(workload: kplus.AbstractPod) -> str:
    """JSON-pointer of the pod spec inside the workload's manifest."""
    return "/spec" if isinstance(workload, kplus.Pod) else "/spec/template/spec"


def escape_pointer(token: str) -> str:
    """`token` escaped for a JSON pointer (`nvidia.com/gpu` -> `nvidia.com~1gpu`)."""
    return token.replace("~", "~0").replace("/", "~1")


def patch_workload(workload: kplus.AbstractPod, *patches: cdk8s.JsonPatch) -> None:
    """Apply JSON patches to the workload's primary object."""
    cdk8s.ApiObject.of(workload).add_json_patch(*patches)


def container_path(workload: kplus.AbstractPod, container: kplus.Container, *, init: bool = False) -> str:
    """JSON-pointer of `container` (an init container when `init`) in the workload's manifest."""
    containers = workload.init_containers if init else workload.containers
    for index, candidate in enumerate(containers):
        if candidate.name == container.name:
            kind = "initContainers" if init else "containers"
            return f"{pod_spec_path(workload)}/{kind}/{index}"
    raise ValueError(f"container {container.name!r} is not in the workload")

"""Pod-level helpers shared by the constructs: the restricted security context, JSON-patch paths.

cdk8s-plus-28 lacks a few pod and container fields (extended resources such as `nvidia.com/gpu`,
`runtimeClassName`, `enableServiceLinks`); the constructs add those with JSON patches on the workload's
`Resource` child, addressed through the helpers here.
"""

from __future__ import annotations

from collections.abc import Mapping

import cdk8s
import cdk8s_plus_28 as kplus
from cdk8s_plus_28 import k8s

from . import _jsii_host, _scope
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


ADDRESS_LABEL = "/spec/template/metadata/labels/cdk8s.io~1metadata.addr"
"""JSON pointer of the label cdk8s-plus puts on a workload's pods (its construct address); the
constructs remove it: their selectors use name and instance."""


def pod_spec_path(workload: kplus.AbstractPod) -> str:
    """JSON-pointer of the pod spec inside the workload's manifest."""
    return "/spec" if isinstance(workload, kplus.Pod) else "/spec/template/spec"


def escape_pointer(token: str) -> str:
    """`token` escaped for a JSON pointer (`nvidia.com/gpu` -> `nvidia.com~1gpu`)."""
    return token.replace("~", "~0").replace("/", "~1")


def patch_workload(workload: kplus.AbstractPod, *patches: cdk8s.JsonPatch) -> None:
    """Apply JSON patches to the workload's primary object."""
    _scope.api_object(workload).add_json_patch(*patches)


def _reference(obj: object) -> object:
    """The jsii object reference behind a proxy: comparing them costs no call into Node."""
    return getattr(getattr(obj, "__jsii_ref__", None), "ref", None) or id(obj)


def container_path(workload: kplus.AbstractPod, container: kplus.Container, *, init: bool = False) -> str:
    """JSON-pointer of `container` (an init container when `init`) in the workload's manifest."""
    containers = workload.init_containers if init else workload.containers
    wanted = _reference(container)
    for index, candidate in enumerate(containers):
        if _reference(candidate) == wanted:
            kind = "initContainers" if init else "containers"
            return f"{pod_spec_path(workload)}/{kind}/{index}"
    raise ValueError(f"container {container.name!r} is not in the workload")


# Immutable jsii value objects, made once per process: every call into cdk8s crosses to its Node process,
# and a catalog of a thousand leaves would otherwise make the same values hundreds of thousands of times.


@_jsii_host.shared(maxsize=4096)
def env_value(value: str) -> kplus.EnvValue:
    """`kplus.EnvValue.from_value(value)`, shared."""
    return kplus.EnvValue.from_value(value)


def env_values(env: Mapping[str, str]) -> dict[str, kplus.EnvValue]:
    """A container's `env_variables`, sorted by name."""
    return {name: env_value(value) for name, value in sorted(env.items())}


@_jsii_host.shared(maxsize=1024)
def seconds(amount: int) -> cdk8s.Duration:
    """`cdk8s.Duration.seconds(amount)`, shared."""
    return cdk8s.Duration.seconds(amount)


@_jsii_host.shared(maxsize=16)
def mebibytes(amount: int) -> cdk8s.Size:
    """`cdk8s.Size.mebibytes(amount)`, shared."""
    return cdk8s.Size.mebibytes(amount)


@_jsii_host.shared(maxsize=4096)
def quantity(text: str) -> k8s.Quantity:
    """`k8s.Quantity.from_string(text)`, shared."""
    return k8s.Quantity.from_string(text)


@_jsii_host.shared(maxsize=256)
def count(amount: int) -> k8s.Quantity:
    """`k8s.Quantity.from_number(amount)`, shared (extended resources such as GPUs)."""
    return k8s.Quantity.from_number(amount)


@_jsii_host.shared(maxsize=256)
def absolute(amount: int) -> kplus.PercentOrAbsolute:
    """`kplus.PercentOrAbsolute.absolute(amount)`, shared."""
    return kplus.PercentOrAbsolute.absolute(amount)


@_jsii_host.shared(maxsize=256)
def http_probe(path: str, port: int, period_seconds: int, timeout_seconds: int, failure_threshold: int) -> kplus.Probe:
    """An HTTP GET probe, shared between workloads with the same settings."""
    return kplus.Probe.from_http_get(
        path,
        port=port,
        period_seconds=seconds(period_seconds),
        timeout_seconds=seconds(timeout_seconds),
        failure_threshold=failure_threshold,
    )


@_jsii_host.shared(maxsize=256)
def tcp(port: int) -> kplus.NetworkPolicyPort:
    """`kplus.NetworkPolicyPort.tcp(port)`, shared."""
    return kplus.NetworkPolicyPort.tcp(port)


@_jsii_host.shared(maxsize=16)
def udp(port: int) -> kplus.NetworkPolicyPort:
    """`kplus.NetworkPolicyPort.udp(port)`, shared."""
    return kplus.NetworkPolicyPort.udp(port)


@_jsii_host.shared(maxsize=256)
def rolling_update(max_surge: int, max_unavailable: int) -> kplus.DeploymentStrategy:
    """A rolling update with absolute surge and unavailability, shared."""
    return kplus.DeploymentStrategy.rolling_update(max_surge=absolute(max_surge), max_unavailable=absolute(max_unavailable))


@_jsii_host.shared(maxsize=1)
def recreate() -> kplus.DeploymentStrategy:
    """`kplus.DeploymentStrategy.recreate()`, shared."""
    return kplus.DeploymentStrategy.recreate()


@_jsii_host.shared(maxsize=256)
def int_or_string(amount: int) -> k8s.IntOrString:
    """`k8s.IntOrString.from_number(amount)`, shared."""
    return k8s.IntOrString.from_number(amount)


@_jsii_host.shared(maxsize=1024)
def command_probe(command: tuple[str, ...], period_seconds: int, timeout_seconds: int, failure_threshold: int) -> kplus.Probe:
    """An exec probe, shared between workloads with the same command and settings."""
    return kplus.Probe.from_command(
        list(command),
        period_seconds=seconds(period_seconds),
        timeout_seconds=seconds(timeout_seconds),
        failure_threshold=failure_threshold,
    )


@_jsii_host.shared(maxsize=1024)
def command_handler(command: tuple[str, ...]) -> kplus.Handler:
    """An exec lifecycle handler, shared."""
    return kplus.Handler.from_command(list(command))


@_jsii_host.shared(maxsize=4096)
def add_patch(path: str, value: object) -> cdk8s.JsonPatch:
    """`cdk8s.JsonPatch.add(path, value)` for a hashable value (a scalar or a shared jsii value), shared:
    cdk8s copies a patch's operation before applying it, so one patch object can serve many objects."""
    return cdk8s.JsonPatch.add(path, value)


@_jsii_host.shared(maxsize=1024)
def remove_patch(path: str) -> cdk8s.JsonPatch:
    """`cdk8s.JsonPatch.remove(path)`, shared."""
    return cdk8s.JsonPatch.remove(path)

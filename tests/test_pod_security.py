"""Pod Security Standards (Baseline + Restricted): the checker itself, then every workload the repo ships.

For each control: a pod that violates it is caught, naming the object, the pod or container and the
control; a nearby pod that the standard allows passes. Container-level controls are exercised on
`containers`, `initContainers` and `ephemeralContainers`. Then every workload in `dist/**/*.k8s.yaml` and
`tests/golden/*.k8s.yaml` (globbed at collection time, so new files are covered) must have no violation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, Manifest
from tests.support import pod_security as pss
from tests.support.pod_security import restricted_violations

DIST_FILES = sorted((REPO / "dist").rglob("*.k8s.yaml"))
GOLDEN_FILES = sorted((REPO / "tests" / "golden").glob("*.k8s.yaml"))
MANIFEST_FILES = DIST_FILES + GOLDEN_FILES


# --- a compliant pod, and ways to break or bend it -----------------------------------------------------------


def restricted_container(name: str) -> Manifest:
    return {
        "name": name,
        "image": "docker.io/ollama/ollama:0.32.15",
        "ports": [{"containerPort": 11434, "name": "http"}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def compliant_pod() -> Manifest:
    """A pod with one container of each kind that meets every control."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "apps", "annotations": {}},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "initContainers": [restricted_container("init")],
            "containers": [restricted_container("app")],
            "ephemeralContainers": [restricted_container("debug")],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    }


CONTAINER_TARGETS = {
    "containers": 'container "app"',
    "initContainers": 'initContainer "init"',
    "ephemeralContainers": 'ephemeralContainer "debug"',
}

Mutation = Callable[[Manifest, Manifest], None]
"""Changes a pod in place: `(pod manifest, target container)`."""


def sc(c: Manifest) -> Manifest:
    return c["securityContext"]


def pod_sc(pod: Manifest) -> Manifest:
    return pod["spec"]["securityContext"]


def set_path(node: Manifest, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def drop_container_key(c: Manifest, key: str) -> None:
    sc(c).pop(key, None)


@dataclass(frozen=True)
class Case:
    id: str
    control: str
    level: str  # "pod": breaks the pod as a whole; "container": breaks the target container
    violate: Mutation
    comply: Mutation
    """A nearby change the standard allows (e.g. an explicit false, a safe value)."""


def on_pod(path: str, value: Any) -> Mutation:
    return lambda pod, _c: set_path(pod, path, value)


def on_container(path: str, value: Any) -> Mutation:
    return lambda _pod, c: set_path(c, path, value)


def both(*mutations: Mutation) -> Mutation:
    def run(pod: Manifest, c: Manifest) -> None:
        for m in mutations:
            m(pod, c)

    return run


def add_volume(volume: Manifest) -> Mutation:
    return lambda pod, _c: pod["spec"]["volumes"].append(volume)


def apparmor_annotation(value: str) -> Mutation:
    def run(pod: Manifest, c: Manifest) -> None:
        pod["metadata"]["annotations"][pss.APPARMOR_ANNOTATION_PREFIX + c["name"]] = value

    return run


def add_sysctl(name: str) -> Mutation:
    return lambda pod, _c: pod_sc(pod).setdefault("sysctls", []).append({"name": name, "value": "1"})


def no_pod_level(key: str) -> Mutation:
    return lambda pod, _c: pod_sc(pod).pop(key)


def no_container_level(key: str) -> Mutation:
    return lambda _pod, c: drop_container_key(c, key)


def every_container_non_root(pod: Manifest, _c: Manifest) -> None:
    for key in pss.CONTAINER_LISTS:
        for c in pod["spec"][key]:
            sc(c)["runAsNonRoot"] = True


def probe_host(where: str, action: str) -> Mutation:
    def run(_pod: Manifest, c: Manifest) -> None:
        port = {
            "httpGet": {"path": "/", "port": 11434, "host": "169.254.169.254"},
            "tcpSocket": {"port": 11434, "host": "10.0.0.1"},
        }[action]
        set_path(c, where, {action: port})

    return run


def probe_without_host(where: str) -> Mutation:
    return lambda _pod, c: set_path(c, where, {"httpGet": {"path": "/", "port": 11434, "host": ""}})


CASES = [
    # Baseline
    Case(
        "host-process-pod",
        pss.HOST_PROCESS,
        "pod",
        on_pod("spec.securityContext.windowsOptions.hostProcess", True),
        on_pod("spec.securityContext.windowsOptions.hostProcess", False),
    ),
    Case(
        "host-process-container",
        pss.HOST_PROCESS,
        "container",
        on_container("securityContext.windowsOptions.hostProcess", True),
        on_container("securityContext.windowsOptions.hostProcess", False),
    ),
    Case(
        "host-network", pss.HOST_NAMESPACES, "pod", on_pod("spec.hostNetwork", True), on_pod("spec.hostNetwork", False)
    ),
    Case("host-pid", pss.HOST_NAMESPACES, "pod", on_pod("spec.hostPID", True), on_pod("spec.hostPID", False)),
    Case("host-ipc", pss.HOST_NAMESPACES, "pod", on_pod("spec.hostIPC", True), on_pod("spec.hostIPC", False)),
    Case(
        "privileged",
        pss.PRIVILEGED,
        "container",
        on_container("securityContext.privileged", True),
        no_container_level("privileged"),
    ),
    Case(
        "capabilities-add-beyond-baseline",
        pss.CAPABILITIES,
        "container",
        on_container("securityContext.capabilities.add", ["SYS_ADMIN"]),
        on_container("securityContext.capabilities.add", ["NET_BIND_SERVICE"]),
    ),
    Case(
        "capabilities-add-baseline-only",
        pss.CAPABILITIES,
        "container",
        on_container("securityContext.capabilities.add", ["CHOWN"]),
        on_container("securityContext.capabilities.add", []),
    ),
    Case(
        "capabilities-net-raw",
        pss.CAPABILITIES,
        "container",
        on_container("securityContext.capabilities.add", ["NET_RAW"]),
        on_container("securityContext.capabilities.drop", ["ALL", "NET_RAW"]),
    ),
    Case(
        "capabilities-no-drop-all",
        pss.CAPABILITIES,
        "container",
        on_container("securityContext.capabilities.drop", ["NET_RAW"]),
        on_container("securityContext.capabilities.drop", ["NET_RAW", "ALL"]),
    ),
    Case(
        "capabilities-unset",
        pss.CAPABILITIES,
        "container",
        no_container_level("capabilities"),
        on_container("securityContext.capabilities", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}),
    ),
    Case(
        "host-path",
        pss.HOST_PATH_VOLUMES,
        "pod",
        add_volume({"name": "host", "hostPath": {"path": "/var/run"}}),
        add_volume({"name": "host", "emptyDir": {"medium": "Memory"}}),
    ),
    Case(
        "host-port",
        pss.HOST_PORTS,
        "container",
        on_container("ports", [{"containerPort": 80, "hostPort": 80}]),
        on_container("ports", [{"containerPort": 80, "hostPort": 0}]),
    ),
    Case(
        "host-liveness-http",
        pss.HOST_PROBES,
        "container",
        probe_host("livenessProbe", "httpGet"),
        probe_without_host("livenessProbe"),
    ),
    Case(
        "host-readiness-tcp",
        pss.HOST_PROBES,
        "container",
        probe_host("readinessProbe", "tcpSocket"),
        probe_without_host("readinessProbe"),
    ),
    Case(
        "host-startup-http",
        pss.HOST_PROBES,
        "container",
        probe_host("startupProbe", "httpGet"),
        probe_without_host("startupProbe"),
    ),
    Case(
        "host-post-start",
        pss.HOST_PROBES,
        "container",
        probe_host("lifecycle.postStart", "httpGet"),
        on_container("lifecycle.postStart", {"exec": {"command": ["true"]}}),
    ),
    Case(
        "host-pre-stop",
        pss.HOST_PROBES,
        "container",
        probe_host("lifecycle.preStop", "tcpSocket"),
        probe_without_host("lifecycle.preStop"),
    ),
    Case(
        "apparmor-pod-field",
        pss.APPARMOR,
        "pod",
        on_pod("spec.securityContext.appArmorProfile", {"type": "Unconfined"}),
        on_pod("spec.securityContext.appArmorProfile", {"type": "RuntimeDefault"}),
    ),
    Case(
        "apparmor-container-field",
        pss.APPARMOR,
        "container",
        on_container("securityContext.appArmorProfile", {"type": "Unconfined"}),
        on_container("securityContext.appArmorProfile", {"type": "Localhost", "localhostProfile": "k8s-ollama"}),
    ),
    Case(
        "apparmor-annotation",
        pss.APPARMOR,
        "container",
        apparmor_annotation("unconfined"),
        apparmor_annotation("localhost/k8s-ollama"),
    ),
    Case(
        "selinux-pod-type",
        pss.SELINUX,
        "pod",
        on_pod("spec.securityContext.seLinuxOptions", {"type": "spc_t"}),
        on_pod("spec.securityContext.seLinuxOptions", {"type": "container_engine_t", "level": "s0:c123,c456"}),
    ),
    Case(
        "selinux-container-type",
        pss.SELINUX,
        "container",
        on_container("securityContext.seLinuxOptions", {"type": "unconfined_t"}),
        on_container("securityContext.seLinuxOptions", {"type": "container_t"}),
    ),
    Case(
        "selinux-user",
        pss.SELINUX,
        "container",
        on_container("securityContext.seLinuxOptions", {"user": "system_u"}),
        on_container("securityContext.seLinuxOptions", {"user": ""}),
    ),
    Case(
        "selinux-role",
        pss.SELINUX,
        "pod",
        on_pod("spec.securityContext.seLinuxOptions", {"role": "system_r"}),
        on_pod("spec.securityContext.seLinuxOptions", {"level": "s0"}),
    ),
    Case(
        "proc-mount",
        pss.PROC_MOUNT,
        "container",
        on_container("securityContext.procMount", "Unmasked"),
        on_container("securityContext.procMount", "Default"),
    ),
    # hostUsers: false relaxes /proc only in Baseline; Restricted still requires Default.
    Case(
        "proc-mount-user-namespace",
        pss.PROC_MOUNT,
        "container",
        both(on_pod("spec.hostUsers", False), on_container("securityContext.procMount", "Unmasked")),
        on_pod("spec.hostUsers", False),
    ),
    Case(
        "seccomp-pod-unconfined",
        pss.SECCOMP,
        "pod",
        on_pod("spec.securityContext.seccompProfile", {"type": "Unconfined"}),
        on_pod("spec.securityContext.seccompProfile", {"type": "Localhost", "localhostProfile": "ollama.json"}),
    ),
    Case(
        "seccomp-container-unconfined",
        pss.SECCOMP,
        "container",
        on_container("securityContext.seccompProfile", {"type": "Unconfined"}),
        on_container("securityContext.seccompProfile", {"type": "Localhost", "localhostProfile": "ollama.json"}),
    ),
    # Neither pod nor container level: the pod's default is removed, the container's own one too.
    Case(
        "seccomp-unset",
        pss.SECCOMP,
        "container",
        both(no_pod_level("seccompProfile"), no_container_level("seccompProfile")),
        no_pod_level("seccompProfile"),
    ),
    Case(
        "sysctl-unsafe",
        pss.SYSCTLS,
        "pod",
        add_sysctl("kernel.msgmax"),
        add_sysctl("net.ipv4.ip_unprivileged_port_start"),
    ),
    Case(
        "sysctl-unsafe-net",
        pss.SYSCTLS,
        "pod",
        add_sysctl("net.core.somaxconn"),
        add_sysctl("net.ipv4.tcp_keepalive_time"),
    ),
    # Restricted
    Case(
        "volume-nfs",
        pss.VOLUME_TYPES,
        "pod",
        add_volume({"name": "models", "nfs": {"server": "nfs.local", "path": "/models"}}),
        add_volume({"name": "models", "persistentVolumeClaim": {"claimName": "models"}}),
    ),
    Case(
        "volume-git-repo",
        pss.VOLUME_TYPES,
        "pod",
        add_volume({"name": "src", "gitRepo": {"repository": "https://x/y.git"}}),
        add_volume({"name": "src", "projected": {"sources": []}}),
    ),
    Case(
        "volume-host-path-not-double-counted",
        pss.HOST_PATH_VOLUMES,
        "pod",
        add_volume({"name": "h", "hostPath": {"path": "/"}}),
        add_volume({"name": "h", "csi": {"driver": "x.csi.k8s.io"}}),
    ),
    Case(
        "privilege-escalation-true",
        pss.PRIVILEGE_ESCALATION,
        "container",
        on_container("securityContext.allowPrivilegeEscalation", True),
        on_container("securityContext.allowPrivilegeEscalation", False),
    ),
    Case(
        "privilege-escalation-unset",
        pss.PRIVILEGE_ESCALATION,
        "container",
        no_container_level("allowPrivilegeEscalation"),
        both(no_container_level("allowPrivilegeEscalation"), on_pod("spec.os", {"name": "windows"})),
    ),
    Case(
        "run-as-non-root-false-container",
        pss.RUN_AS_NON_ROOT,
        "container",
        on_container("securityContext.runAsNonRoot", False),
        no_container_level("runAsNonRoot"),
    ),
    Case(
        "run-as-non-root-false-pod",
        pss.RUN_AS_NON_ROOT,
        "pod",
        on_pod("spec.securityContext.runAsNonRoot", False),
        both(no_pod_level("runAsNonRoot"), every_container_non_root),
    ),
    Case(
        "run-as-non-root-unset",
        pss.RUN_AS_NON_ROOT,
        "container",
        both(no_pod_level("runAsNonRoot"), no_container_level("runAsNonRoot")),
        no_container_level("runAsNonRoot"),
    ),
    # Not relaxed by hostUsers: false (see the module docstring of tests/support/pod_security.py).
    Case(
        "run-as-non-root-user-namespace",
        pss.RUN_AS_NON_ROOT,
        "container",
        both(on_pod("spec.hostUsers", False), on_container("securityContext.runAsNonRoot", False)),
        on_pod("spec.hostUsers", False),
    ),
    Case(
        "run-as-user-0-container",
        pss.RUN_AS_USER,
        "container",
        on_container("securityContext.runAsUser", 0),
        no_container_level("runAsUser"),
    ),
    Case(
        "run-as-user-0-pod",
        pss.RUN_AS_USER,
        "pod",
        on_pod("spec.securityContext.runAsUser", 0),
        on_pod("spec.securityContext.runAsUser", 1),
    ),
]

# Windows pods are exempt from three Restricted controls (PSA since policy 1.25), not from the rest.
WINDOWS_EXEMPT = [
    ("seccomp", both(no_pod_level("seccompProfile"), no_container_level("seccompProfile"))),
    ("capabilities", no_container_level("capabilities")),
    ("privilege-escalation", on_container("securityContext.allowPrivilegeEscalation", True)),
]


def expand(cases: list[Case]) -> list[Any]:
    """One param per pod-level case, three per container-level case (one per kind of container)."""
    params = []
    for case in cases:
        targets = CONTAINER_TARGETS if case.level == "container" else {"containers": "pod"}
        for key, where in targets.items():
            suffix = f"-{key}" if case.level == "container" else ""
            params.append(pytest.param(case, key, where, id=case.id + suffix))
    return params


def mutated(mutation: Mutation, container_key: str = "containers") -> Manifest:
    pod = compliant_pod()
    mutation(pod, pod["spec"][container_key][0])
    return pod


def violations_of(manifest: Manifest) -> list[pss.Violation]:
    found = pss.check(manifest)
    assert [str(v) for v in found] == restricted_violations(manifest)
    return found


# --- the checker ------------------------------------------------------------------------------------------


def test_the_compliant_pod_passes() -> None:
    assert restricted_violations(compliant_pod()) == []


def test_every_control_has_a_case() -> None:
    assert {c.control for c in CASES} == set(pss.CONTROLS)


@pytest.mark.parametrize(("case", "container_key", "where"), expand(CASES))
def test_a_violation_is_caught(case: Case, container_key: str, where: str) -> None:
    found = violations_of(mutated(case.violate, container_key))
    assert found, f"{case.id}: not caught"
    assert {(v.control, v.where) for v in found} == {(case.control, where)}, found
    text = str(found[0])
    assert text.startswith("Pod apps/web: ") and case.control in text and where in text


@pytest.mark.parametrize(("case", "container_key", "where"), expand(CASES))
def test_the_allowed_variant_passes(case: Case, container_key: str, where: str) -> None:
    assert restricted_violations(mutated(case.comply, container_key)) == []


@pytest.mark.parametrize(("name", "mutation"), WINDOWS_EXEMPT, ids=[n for n, _ in WINDOWS_EXEMPT])
def test_windows_pods_are_exempt_from_linux_only_controls(name: str, mutation: Mutation) -> None:
    assert restricted_violations(mutated(mutation)), f"{name}: a Linux pod must be caught"
    pod = mutated(mutation)
    pod["spec"]["os"] = {"name": "windows"}
    assert restricted_violations(pod) == []


def test_windows_pods_still_meet_the_other_controls() -> None:
    pod = mutated(on_pod("spec.hostNetwork", True))
    pod["spec"]["os"] = {"name": "windows"}
    assert [v.control for v in violations_of(pod)] == [pss.HOST_NAMESPACES]


def test_a_pod_level_setting_covers_containers_that_leave_it_unset() -> None:
    pod = compliant_pod()
    for key in pss.CONTAINER_LISTS:
        for c in pod["spec"][key]:
            drop_container_key(c, "runAsNonRoot")
            drop_container_key(c, "seccompProfile")
    assert restricted_violations(pod) == []


def test_every_offending_container_is_named() -> None:
    pod = compliant_pod()
    for key in pss.CONTAINER_LISTS:
        sc(pod["spec"][key][0])["privileged"] = True
    found = violations_of(pod)
    assert sorted(v.where for v in found) == sorted(CONTAINER_TARGETS.values())
    assert {v.control for v in found} == {pss.PRIVILEGED}


def test_a_volume_without_a_source_is_an_empty_dir() -> None:
    pod = mutated(add_volume({"name": "scratch"}))
    assert restricted_violations(pod) == []


def test_image_volumes_are_allowed() -> None:
    pod = mutated(
        add_volume(
            {"name": "weights", "image": {"reference": "registry.local/models/phi:1", "pullPolicy": "IfNotPresent"}}
        )
    )
    assert restricted_violations(pod) == []


# --- workload kinds ----------------------------------------------------------------------------------------


def wrap(kind: str, pod: Manifest) -> Manifest:
    """`pod` as the pod template of a `kind` object with the pod's name and namespace."""
    meta = {"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"]}
    template = {"metadata": pod["metadata"], "spec": pod["spec"]}
    api = {
        "Deployment": "apps/v1",
        "StatefulSet": "apps/v1",
        "DaemonSet": "apps/v1",
        "ReplicaSet": "apps/v1",
        "Job": "batch/v1",
        "CronJob": "batch/v1",
    }
    if kind == "Pod":
        return pod
    if kind == "CronJob":
        spec: Manifest = {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}
    else:
        spec = {"template": template}
    return {"apiVersion": api.get(kind, "v1"), "kind": kind, "metadata": meta, "spec": spec}


WORKLOAD_KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]


@pytest.mark.parametrize("kind", WORKLOAD_KINDS)
def test_every_workload_kind_is_checked(kind: str) -> None:
    assert restricted_violations(wrap(kind, compliant_pod())) == []
    bad = compliant_pod()
    sc(bad["spec"]["initContainers"][0])["allowPrivilegeEscalation"] = True
    bad["metadata"]["annotations"][pss.APPARMOR_ANNOTATION_PREFIX + "app"] = "unconfined"
    annotation = pss.APPARMOR_ANNOTATION_PREFIX + "app"
    assert restricted_violations(wrap(kind, bad)) == [
        f'{kind} apps/web: container "app": AppArmor: '
        f"annotation {annotation} must be runtime/default or localhost/*, got 'unconfined'",
        f'{kind} apps/web: initContainer "init": Privilege Escalation: '
        "securityContext.allowPrivilegeEscalation must be false, got True",
    ]


@pytest.mark.parametrize(
    "kind", ["Service", "ConfigMap", "Gateway", "HTTPRoute", "PersistentVolumeClaim", "NetworkPolicy"]
)
def test_kinds_without_a_pod_have_no_violations(kind: str) -> None:
    assert restricted_violations({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, "spec": {}}) == []


def test_a_workload_without_a_pod_spec_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"Deployment apps/web: no pod spec at spec\.template\.spec"):
        restricted_violations({"kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"}, "spec": {}})


# --- what the repo ships -----------------------------------------------------------------------------------


def workloads(path: Path) -> list[Manifest]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") in pss.WORKLOAD_KINDS]


def test_the_manifest_globs_find_files() -> None:
    assert DIST_FILES, "no dist/**/*.k8s.yaml: synthesize first (make synth)"
    assert GOLDEN_FILES, "no tests/golden/*.k8s.yaml"
    assert sum(len(workloads(p)) for p in MANIFEST_FILES) >= len(GOLDEN_FILES), "the files hold no workload"


@pytest.mark.parametrize("path", MANIFEST_FILES, ids=[p.relative_to(REPO).as_posix() for p in MANIFEST_FILES])
def test_shipped_workloads_meet_the_restricted_standard(path: Path) -> None:
    violations = [v for w in workloads(path) for v in restricted_violations(w)]
    assert not violations, f"{path.relative_to(REPO)}:\n" + "\n".join(violations)


def test_the_seed_chart_meets_the_restricted_standard(seed_manifests: list[Manifest]) -> None:
    found = [m for m in seed_manifests if m["kind"] in pss.WORKLOAD_KINDS]
    assert found
    assert [v for m in found for v in restricted_violations(copy.deepcopy(m))] == []

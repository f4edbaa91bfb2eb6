"""The Kubernetes Pod Security Standards, Baseline and Restricted, as a checker of manifests (dicts).

`restricted_violations(manifest)` finds the pod template of any workload kind and returns one string per
violated control, naming the object, where in the pod (the pod itself or one container) and the control:

    Deployment ml-workloads/ollama-phi: container "ollama": Capabilities: must drop ALL (drop: none)

Source: the Pod Security Admission checks in kubernetes/kubernetes
(`staging/src/k8s.io/pod-security-admission/policy/check_*.go`), policy version `latest`, i.e. the
check set of Kubernetes 1.37, which the kubernetes.io page trails (it misses the `image` volume and the
1.32+ sysctls). Restricted includes everything in Baseline; where a Restricted check replaces a Baseline one
(seccomp, capabilities, /proc mount, volume types) the stricter rule is applied. Every container check
covers `containers`, `initContainers` (native sidecars included, with no exemption) and
`ephemeralContainers`.

Deliberate choices, stricter than PSA `latest` in one place:
  * The user-namespace relaxation (policy 1.35+: `hostUsers: false` skips runAsNonRoot and runAsUser) is
    NOT applied. The library also targets Kubernetes 1.28, whose admission enforces both controls
    whatever `hostUsers` says.
  * Windows pods (`spec.os.name: windows`) are exempt from the Restricted seccomp, capabilities and
    privilege-escalation controls, as PSA exempts them since policy 1.25.
  * "Non-root groups" is marked optional in the standard and no PSA check enforces it: not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]
Containers = list[tuple[str, Manifest, Manifest]]
"""`(where, container, its securityContext)` for every container."""
Add = Callable[[str, str, str], None]
"""Records a violation: `(where, control, detail)`."""

# The controls, named as in the standard. Every violation names exactly one of them.
HOST_PROCESS = "HostProcess"
HOST_NAMESPACES = "Host Namespaces"
PRIVILEGED = "Privileged Containers"
CAPABILITIES = "Capabilities"
HOST_PATH_VOLUMES = "HostPath Volumes"
HOST_PORTS = "Host Ports"
HOST_PROBES = "Host Probes / Lifecycle Hooks"
APPARMOR = "AppArmor"
SELINUX = "SELinux"
PROC_MOUNT = "/proc Mount Type"
SECCOMP = "Seccomp"
SYSCTLS = "Sysctls"
VOLUME_TYPES = "Volume Types"
PRIVILEGE_ESCALATION = "Privilege Escalation"
RUN_AS_NON_ROOT = "Running as Non-root"
RUN_AS_USER = "Running as Non-root user"

BASELINE_CONTROLS = (
    HOST_PROCESS,
    HOST_NAMESPACES,
    PRIVILEGED,
    CAPABILITIES,
    HOST_PATH_VOLUMES,
    HOST_PORTS,
    HOST_PROBES,
    APPARMOR,
    SELINUX,
    PROC_MOUNT,
    SECCOMP,
    SYSCTLS,
)
RESTRICTED_CONTROLS = (VOLUME_TYPES, PRIVILEGE_ESCALATION, RUN_AS_NON_ROOT, RUN_AS_USER)
CONTROLS = BASELINE_CONTROLS + RESTRICTED_CONTROLS

BASELINE_ADDABLE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_ADDABLE_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})

SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",  # policy 1.27
        "net.ipv4.tcp_keepalive_time",  # 1.29
        "net.ipv4.tcp_fin_timeout",  # 1.29
        "net.ipv4.tcp_keepalive_intvl",  # 1.29
        "net.ipv4.tcp_keepalive_probes",  # 1.29
        "net.ipv4.tcp_rmem",  # 1.32
        "net.ipv4.tcp_wmem",  # 1.32
        "net.ipv4.tcp_slow_start_after_idle",  # 1.37
        "net.ipv4.tcp_notsent_lowat",  # 1.37
    }
)

SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})

RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",  # allowed by PSA since 1.33 (an OCI image mounted read-only)
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)

SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_CONTAINER_WORD = {
    "initContainers": "initContainer",
    "containers": "container",
    "ephemeralContainers": "ephemeralContainer",
}

# Where each workload kind keeps its pod template: the path to the object holding `metadata` and `spec`.
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
WORKLOAD_KINDS = frozenset(TEMPLATE_PATHS)


@dataclass(frozen=True)
class Violation:
    """One violated control: `where` is "pod" or e.g. 'container "ollama"'."""

    obj: str
    where: str
    control: str
    detail: str

    def __str__(self) -> str:
        return f"{self.obj}: {self.where}: {self.control}: {self.detail}"


def object_name(manifest: Manifest) -> str:
    """`Kind namespace/name` (or `Kind name` without a namespace)."""
    meta = manifest.get("metadata") or {}
    ns = meta.get("namespace")
    name = meta.get("name", "<unnamed>")
    return f"{manifest.get('kind', '<no kind>')} {ns + '/' if ns else ''}{name}"


def pod_template(manifest: Manifest) -> tuple[Manifest, Manifest] | None:
    """`(pod metadata, pod spec)` of a workload manifest; None for a kind that holds no pod.

    Raises:
        ValueError: a workload kind whose pod template or pod spec is missing or not a mapping.
    """
    path = TEMPLATE_PATHS.get(manifest.get("kind", ""))
    if path is None:
        return None
    node: Any = manifest
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict) or not isinstance(node.get("spec"), dict):
        raise ValueError(f"{object_name(manifest)}: no pod spec at {'.'.join(path + ('spec',))}")
    return node.get("metadata") or {}, node["spec"]


def restricted_violations(manifest: Manifest) -> list[str]:
    """Every Baseline and Restricted violation of the pod in `manifest`, one string each.

    A manifest of a kind that holds no pod (Service, ConfigMap, ...) has none.
    """
    return [str(v) for v in check(manifest)]


def check(manifest: Manifest) -> list[Violation]:
    """The violations of `manifest` as structured values (see `restricted_violations`)."""
    template = pod_template(manifest)
    if template is None:
        return []
    meta, spec = template
    found: list[Violation] = []
    obj = object_name(manifest)

    def add(where: str, control: str, detail: str) -> None:
        found.append(Violation(obj, where, control, detail))

    pod_sc: Manifest = spec.get("securityContext") or {}
    windows = (spec.get("os") or {}).get("name") == "windows"
    containers = list(_containers(spec))

    _check_host_process(pod_sc, containers, add)
    _check_host_namespaces(spec, add)
    _check_privileged(containers, add)
    if not windows:
        _check_capabilities(containers, add)
    _check_volumes(spec, add)
    _check_host_ports(containers, add)
    _check_host_probes(containers, add)
    _check_apparmor(meta, pod_sc, containers, add)
    _check_selinux(pod_sc, containers, add)
    _check_proc_mount(containers, add)
    if not windows:
        _check_seccomp(pod_sc, containers, add)
        _check_privilege_escalation(containers, add)
    _check_sysctls(pod_sc, add)
    _check_run_as_non_root(pod_sc, containers, add)
    _check_run_as_user(pod_sc, containers, add)
    return found


# --- helpers -----------------------------------------------------------------------------------------------


def _containers(spec: Manifest) -> Iterator[tuple[str, Manifest, Manifest]]:
    """`(where, container, container securityContext)` for every container of every kind."""
    for key in CONTAINER_LISTS:
        for c in spec.get(key) or []:
            yield f'{_CONTAINER_WORD[key]} "{c.get("name", "<unnamed>")}"', c, c.get("securityContext") or {}


def _check_host_process(pod_sc: Manifest, containers: Containers, add: Add) -> None:
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess") is True:
        add("pod", HOST_PROCESS, "securityContext.windowsOptions.hostProcess must be unset or false")
    for where, _, sc in containers:
        if (sc.get("windowsOptions") or {}).get("hostProcess") is True:
            add(where, HOST_PROCESS, "securityContext.windowsOptions.hostProcess must be unset or false")


def _check_host_namespaces(spec: Manifest, add: Add) -> None:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            add("pod", HOST_NAMESPACES, f"{field} must be unset or false")


def _check_privileged(containers: Containers, add: Add) -> None:
    for where, _, sc in containers:
        if sc.get("privileged") is True:
            add(where, PRIVILEGED, "securityContext.privileged must be unset or false")


def _check_capabilities(containers: Containers, add: Add) -> None:
    for where, _, sc in containers:
        caps = sc.get("capabilities") or {}
        drop = caps.get("drop") or []
        if "ALL" not in drop:
            add(where, CAPABILITIES, f"securityContext.capabilities.drop must include ALL (drop: {drop or 'none'})")
        added = caps.get("add") or []
        beyond_baseline = sorted(set(added) - BASELINE_ADDABLE_CAPABILITIES)
        beyond_restricted = sorted(set(added) - RESTRICTED_ADDABLE_CAPABILITIES)
        if beyond_baseline:
            add(where, CAPABILITIES, f"adds capabilities beyond the baseline set: {beyond_baseline}")
        elif beyond_restricted:
            add(where, CAPABILITIES, f"may add only NET_BIND_SERVICE, adds {beyond_restricted}")


def _volume_type(volume: Manifest) -> str:
    """The volume source key; a volume with none defaults to emptyDir, as the API server does."""
    sources = [k for k in volume if k != "name"]
    return sources[0] if sources else "emptyDir"


def _check_volumes(spec: Manifest, add: Add) -> None:
    for volume in spec.get("volumes") or []:
        kind = _volume_type(volume)
        name = volume.get("name", "<unnamed>")
        if kind == "hostPath":
            add("pod", HOST_PATH_VOLUMES, f'volume "{name}" is a hostPath volume')
        elif kind not in RESTRICTED_VOLUME_TYPES:
            add("pod", VOLUME_TYPES, f'volume "{name}" has type {kind}, allowed: {sorted(RESTRICTED_VOLUME_TYPES)}')


def _check_host_ports(containers: Containers, add: Add) -> None:
    for where, c, _ in containers:
        for port in c.get("ports") or []:
            if port.get("hostPort") not in (None, 0):
                add(where, HOST_PORTS, f"hostPort {port['hostPort']} must be unset or 0")


def _check_host_probes(containers: Containers, add: Add) -> None:
    for where, c, _ in containers:
        handlers = [(name, c.get(name)) for name in ("livenessProbe", "readinessProbe", "startupProbe")]
        lifecycle = c.get("lifecycle") or {}
        handlers += [(f"lifecycle.{name}", lifecycle.get(name)) for name in ("postStart", "preStop")]
        for name, handler in handlers:
            for action in ("httpGet", "tcpSocket"):
                host = ((handler or {}).get(action) or {}).get("host")
                if host:
                    add(where, HOST_PROBES, f"{name}.{action}.host must be unset or empty, got {host!r}")


def _check_apparmor(meta: Manifest, pod_sc: Manifest, containers: Containers, add: Add) -> None:
    def bad(sc: Manifest) -> str | None:
        kind = (sc.get("appArmorProfile") or {}).get("type")
        return kind if kind is not None and kind not in APPARMOR_TYPES else None

    if (kind := bad(pod_sc)) is not None:
        add("pod", APPARMOR, f"securityContext.appArmorProfile.type must be RuntimeDefault or Localhost, got {kind}")
    for where, _, sc in containers:
        if (kind := bad(sc)) is not None:
            add(
                where, APPARMOR, f"securityContext.appArmorProfile.type must be RuntimeDefault or Localhost, got {kind}"
            )
    # The deprecated annotation names its container; say which kind of container that is when it exists.
    where_of = {c.get("name"): where for where, c, _ in containers}
    for key, value in sorted((meta.get("annotations") or {}).items()):
        if key.startswith(APPARMOR_ANNOTATION_PREFIX):
            if value not in ("", "runtime/default") and not str(value).startswith("localhost/"):
                name = key[len(APPARMOR_ANNOTATION_PREFIX) :]
                where = where_of.get(name, f'container "{name}"')
                add(where, APPARMOR, f"annotation {key} must be runtime/default or localhost/*, got {value!r}")


def _check_selinux(pod_sc: Manifest, containers: Containers, add: Add) -> None:
    def problems(sc: Manifest) -> list[str]:
        opts = sc.get("seLinuxOptions") or {}
        out = []
        if opts.get("type", "") not in SELINUX_TYPES:
            out.append(f"type {opts['type']!r} is not one of {sorted(t for t in SELINUX_TYPES if t)}")
        for field in ("user", "role"):
            if opts.get(field):
                out.append(f"{field} must not be set")
        return out

    for where, sc in [("pod", pod_sc)] + [(w, sc) for w, _, sc in containers]:
        for problem in problems(sc):
            add(where, SELINUX, f"securityContext.seLinuxOptions: {problem}")


def _check_proc_mount(containers: Containers, add: Add) -> None:
    for where, _, sc in containers:
        if sc.get("procMount") not in (None, "Default"):
            add(where, PROC_MOUNT, f"securityContext.procMount must be unset or Default, got {sc['procMount']}")


def _check_seccomp(pod_sc: Manifest, containers: Containers, add: Add) -> None:
    pod_type = (pod_sc.get("seccompProfile") or {}).get("type")
    if pod_type is not None and pod_type not in SECCOMP_TYPES:
        add("pod", SECCOMP, f"securityContext.seccompProfile.type must be RuntimeDefault or Localhost, got {pod_type}")
    pod_ok = pod_type in SECCOMP_TYPES
    for where, _, sc in containers:
        own = sc.get("seccompProfile")
        if own is not None:
            if own.get("type") not in SECCOMP_TYPES:
                add(
                    where,
                    SECCOMP,
                    f"securityContext.seccompProfile.type must be RuntimeDefault or Localhost, got {own.get('type')}",
                )
        elif not pod_ok:
            add(
                where,
                SECCOMP,
                "pod or container must set securityContext.seccompProfile.type to RuntimeDefault or Localhost",
            )


def _check_sysctls(pod_sc: Manifest, add: Add) -> None:
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            add("pod", SYSCTLS, f"sysctl {sysctl.get('name')!r} is not in the safe set")


def _check_privilege_escalation(containers: Containers, add: Add) -> None:
    for where, _, sc in containers:
        if sc.get("allowPrivilegeEscalation") is not False:
            add(
                where,
                PRIVILEGE_ESCALATION,
                f"securityContext.allowPrivilegeEscalation must be false, got {sc.get('allowPrivilegeEscalation')}",
            )


def _check_run_as_non_root(pod_sc: Manifest, containers: Containers, add: Add) -> None:
    pod_value = pod_sc.get("runAsNonRoot")
    if pod_value is False:
        add("pod", RUN_AS_NON_ROOT, "securityContext.runAsNonRoot must not be false")
    for where, _, sc in containers:
        own = sc.get("runAsNonRoot")
        if own is False:
            add(where, RUN_AS_NON_ROOT, "securityContext.runAsNonRoot must not be false")
        elif own is None and pod_value is not True:
            add(where, RUN_AS_NON_ROOT, "pod or container must set securityContext.runAsNonRoot to true")


def _check_run_as_user(pod_sc: Manifest, containers: Containers, add: Add) -> None:
    if pod_sc.get("runAsUser") == 0:
        add("pod", RUN_AS_USER, "securityContext.runAsUser must not be 0")
    for where, _, sc in containers:
        if sc.get("runAsUser") == 0:
            add(where, RUN_AS_USER, "securityContext.runAsUser must not be 0")

"""A small kubelet for tests: runs a synthesized pod's own commands as the kubelet would, against the stand-in.

`Pod(template, config_maps, root)` takes a pod template as the library synthesizes it (a Deployment's
`spec.template`) and the ConfigMaps it mounts, and on `start()`:

* makes the pod's network namespace (`unshare --net`, loopback up, the pod IP on it), so that several pods
  run at once and their ports never clash;
* runs the init containers in order, each to completion (a failure stops the pod, as it would stay in
  `Init:Error`), then starts every container;
* each container in its own mount and PID namespace inside the pod's network namespace: its volumes bound
  at their `mountPath` (ConfigMaps as files of their data, emptyDirs and claims as directories, read-only
  where the mount says so), the root filesystem read-only (`readOnlyRootFilesystem`), `/proc` of its own
  PID namespace (so `/proc/1` is its main process), its `env` (with the image's ENV under it and the
  stand-in first on PATH); `command`/`args`, or the image's `ollama serve`;
* the probes on their own schedules (`initialDelaySeconds`, `periodSeconds`, `timeoutSeconds`,
  `failureThreshold`; readiness and liveness only after the startup probe passed): exec probes in the
  container's namespaces, killed at `timeoutSeconds`; HTTP and TCP probes from the pod's network
  namespace to the pod IP; a failed startup or liveness probe restarts the container, a container that
  exits is restarted (`restartPolicy: Always`) after a back-off;
* `delete()`: the pod leaves its endpoints at once; each container's preStop hook, then its stop signal,
  then SIGKILL when `terminationGracePeriodSeconds` (plus the kubelet's one-off 2 s for a hook still
  running) has passed.

Container processes run as root, because mount namespaces need it; the read-only root filesystem still
makes every write outside a volume fail, as in the pod. The pod's timing comes from the template: tests
give the constructs small values, and `period_scale` shortens probe periods, so that scenarios run in
seconds. Everything the pod did is in `events` (time, kind, detail) and in each container's log.

Real reference: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/ (probes, container
restarts, termination) and https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
STANDIN = REPO / "tests" / "standin"
CLONE_NEWNET = 0x40000000
IMAGE_ENV = {"OLLAMA_HOST": "0.0.0.0:11434", "LANG": "C.UTF-8"}
"""The ENV of the ollama image (its Dockerfile) under each container's own env."""
IMAGE_ENTRYPOINT = ["ollama", "serve"]
"""The ollama image's ENTRYPOINT and CMD, for a container without `command`."""
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STATE_MOUNT = "/run/standin-ollama"
"""Where every container sees the pod's stand-in state (calls.log, registry.log): test bookkeeping, not
part of the pod."""
RESTART_BACKOFF_SECONDS = 0.5
"""The kubelet's restart back-off starts at 10 s; scaled down here."""

_libc = ctypes.CDLL(None, use_errno=True)


def tools_missing() -> str | None:
    """Why pods cannot run here (root and util-linux's unshare and nsenter, iproute2's ip), or None."""
    if os.geteuid() != 0:
        return "pod scenarios need root (network and mount namespaces)"
    for tool in ("unshare", "nsenter", "ip", "mount"):
        if not any(Path(d, tool).exists() for d in SYSTEM_PATH.split(":")):
            return f"{tool} is not installed"
    return None


def join_netns(path: str) -> None:
    """Move the calling thread into the network namespace at `path` (setns(2) is per thread)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns {path}: {os.strerror(error)}")
    finally:
        os.close(fd)


@dataclass
class Event:
    at: float
    kind: str
    detail: str


@dataclass
class Container:
    spec: dict
    init: bool
    pod: Pod
    restarts: int = 0
    process: subprocess.Popen | None = None
    main_pid: int | None = None
    started: threading.Event = field(default_factory=threading.Event)
    startup_passed: threading.Event = field(default_factory=threading.Event)
    ready: bool = False
    exit_codes: list[int] = field(default_factory=list)
    stopping: bool = False
    generation: int = 0
    log_path: Path | None = None
    last_log: Path | None = None

    @property
    def name(self) -> str:
        return self.spec["name"]

    def env(self) -> dict[str, str]:
        env = dict(IMAGE_ENV)
        env.update({e["name"]: str(e.get("value", "")) for e in self.spec.get("env", [])})
        env["PATH"] = os.pathsep.join([str(STANDIN), str(Path(sys.executable).parent), SYSTEM_PATH])
        env["STANDIN_OLLAMA_STATE_DIR"] = STATE_MOUNT
        env.update(self.pod.env_overrides.get(self.name, {}))
        return env

    def command(self) -> list[str]:
        command = list(self.spec.get("command") or IMAGE_ENTRYPOINT[:1])
        args = self.spec.get("args")
        if args is None and not self.spec.get("command"):
            args = IMAGE_ENTRYPOINT[1:]
        return command + list(args or [])


class Pod:
    """One pod of a synthesized template; see the module docstring."""

    def __init__(
        self,
        template: dict,
        config_maps: dict[str, dict[str, str]],
        root: Path,
        *,
        claims: dict[str, Path] | None = None,
        env: dict[str, dict[str, str]] | None = None,
        pod_ip: str = "10.244.0.10",
        period_scale: float = 1.0,
    ):
        self.template = template
        self.spec = template["spec"]
        self.config_maps = config_maps
        self.root = root
        self.claims = claims or {}
        self.env_overrides = env or {}
        self.ip = pod_ip
        self.period_scale = period_scale
        self.state = root / "standin-state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.events: list[Event] = []
        self.events_mu = threading.Lock()
        self.t0 = time.monotonic()
        self.holder: subprocess.Popen | None = None
        self.executor: concurrent.futures.ThreadPoolExecutor | None = None
        self.containers = [Container(c, False, self) for c in self.spec["containers"]]
        self.init_containers = [Container(c, True, self) for c in self.spec.get("initContainers", [])]
        self.terminating = False
        self.deleted = threading.Event()
        self.init_failed: str | None = None
        self.threads: list[threading.Thread] = []
        self.ready_history: list[tuple[float, bool]] = []
        self.volumes = self._volumes()

    # ---- bookkeeping

    def now(self) -> float:
        return time.monotonic() - self.t0

    def event(self, kind: str, detail: str = "") -> None:
        with self.events_mu:
            self.events.append(Event(self.now(), kind, detail))

    def events_of(self, kind: str) -> list[Event]:
        with self.events_mu:
            return [e for e in self.events if e.kind == kind]

    def container(self, name: str) -> Container:
        for c in self.init_containers + self.containers:
            if c.name == name:
                return c
        raise KeyError(name)

    def logs(self, name: str) -> str:
        """Everything the container wrote, over all its restarts (as `kubectl logs` and `--previous`)."""
        c = self.container(name)
        parts = sorted(self.root.glob(f"logs/{c.name}.*.log"), key=lambda p: int(p.name.split(".")[1]))
        return "".join(p.read_text(errors="replace") for p in parts)

    def termination_message(self, name: str) -> str:
        """FallbackToLogsOnError: the tail of the last run's log when it ended with an error."""
        c = self.container(name)
        if not c.exit_codes or c.exit_codes[-1] == 0 or c.last_log is None:
            return ""
        return "\n".join(c.last_log.read_text(errors="replace").splitlines()[-80:])

    @property
    def is_ready(self) -> bool:
        """The pod's Ready condition: every container ready, and not terminating."""
        return not self.terminating and all(c.ready for c in self.containers)

    def _record_ready(self) -> None:
        ready = self.is_ready
        if not self.ready_history or self.ready_history[-1][1] != ready:
            self.ready_history.append((self.now(), ready))
            self.event("Ready" if ready else "NotReady")

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_ready:
                return True
            if self.init_failed:
                return False
            time.sleep(0.05)
        return self.is_ready

    def wait_for(self, predicate: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(step)
        return predicate()

    # ---- volumes and namespaces

    def _volumes(self) -> dict[str, Path]:
        out = {}
        for volume in self.spec.get("volumes", []):
            name = volume["name"]
            path = self.root / "volumes" / name
            if "configMap" in volume:
                data = self.config_maps[volume["configMap"]["name"]]
                path.mkdir(parents=True, exist_ok=True)
                for key, text in data.items():
                    (path / key).write_text(text)
            elif "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                path = self.claims.setdefault(claim, self.root / "claims" / claim)
                path.mkdir(parents=True, exist_ok=True)
            elif "secret" in volume:
                path.mkdir(parents=True, exist_ok=True)
            else:  # emptyDir
                path.mkdir(parents=True, exist_ok=True)
            out[name] = path
        return out

    def _setup_script(self, container: Container) -> str:
        """Bash (run as root in the container's new mount namespace): the volumes at their mount paths,
        then every lower mount and the root filesystem read-only."""
        lines = ["set -eu"]
        overlays: list[str] = []
        scratch = self.root / "mnt" / f"{container.name}.{container.restarts}"
        volumes = {**self.volumes, "": self.state}
        declared = [*container.spec.get("volumeMounts", []), {"name": "", "mountPath": STATE_MOUNT}]
        sources = [str(volumes[m["name"]]) for m in declared]

        def hides_a_source(mount: dict) -> bool:  # e.g. /tmp, while the volumes live under the test's /tmp
            return any(source.startswith(mount["mountPath"].rstrip("/") + "/") for source in sources)

        for mount in sorted(declared, key=lambda m: (hides_a_source(m), m["mountPath"])):
            target = mount["mountPath"]
            source = volumes[mount["name"]]
            if not Path(target).exists():
                ancestor = Path(target).parent
                while not ancestor.exists():
                    ancestor = ancestor.parent
                if str(ancestor) == "/":
                    raise ValueError(f"{target}: no parent directory to lay an overlay on")
                if str(ancestor) not in overlays and not any(str(ancestor).startswith(o + "/") for o in overlays):
                    up = scratch / f"ov{len(overlays)}"
                    lines.append(f"mkdir -p {shlex.quote(str(up))}/u {shlex.quote(str(up))}/w")
                    lines.append(
                        f"mount -t overlay overlay -o lowerdir={ancestor},upperdir={up}/u,workdir={up}/w {shlex.quote(str(ancestor))}"
                    )
                    overlays.append(str(ancestor))
            lines.append(f"mkdir -p {shlex.quote(target)}")
            lines.append(f"mount --bind {shlex.quote(str(source))} {shlex.quote(target)}")
            if mount.get("readOnly"):
                lines.append(f"mount -o remount,bind,ro {shlex.quote(target)}")
        for overlay in overlays:
            lines.append(f"mount -o remount,ro {shlex.quote(overlay)}")
        if container.spec.get("securityContext", {}).get("readOnlyRootFilesystem"):
            lines.append("mount -o remount,bind,ro /")
        lines.append('exec env -i "$@"')
        return "\n".join(lines)

    def _netns(self) -> str:
        assert self.holder is not None
        return f"/proc/{self.holder.pid}/ns/net"

    def in_netns(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        """Run `fn(*args)` in a thread inside the pod's network namespace (a client next to the pod)."""
        assert self.executor is not None
        return self.executor.submit(fn, *args)

    # ---- running

    def start(self) -> Pod:
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--", sys.executable, "-c",
             "import subprocess, signal, sys\n"
             "subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)\n"
             f"subprocess.run(['ip', 'addr', 'add', '{self.ip}/32', 'dev', 'lo'], check=True)\n"
             "print('ready', flush=True)\n"
             "signal.pause()\n"],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.holder.stdout is not None and self.holder.stdout.readline().strip() == "ready"
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=8, initializer=join_netns, initargs=(self._netns(),)
        )
        self.event("Scheduled", self.ip)
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        self.threads.append(thread)
        return self

    def _spawn(self, container: Container) -> subprocess.Popen:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        log_path = self.root / "logs" / f"{container.name}.{container.restarts}.log"
        container.log_path = log_path
        env = container.env()
        argv = [
            "nsenter", f"--net={self._netns()}", "--",
            "unshare", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "--kill-child", "--",
            "bash", "-c", self._setup_script(container), "setup",
            *[f"{k}={v}" for k, v in sorted(env.items())], *container.command(),
        ]
        with open(log_path, "ab") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        container.process = process
        container.generation += 1
        container.main_pid = None
        for _ in range(200):  # the forked child of unshare is the container's PID 1
            try:
                children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
            except OSError:
                children = []
            if children:
                container.main_pid = int(children[0])
                break
            if process.poll() is not None:
                break
            time.sleep(0.01)
        self.event("Started", container.name)
        container.started.set()
        return process

    def _run(self) -> None:
        for container in self.init_containers:
            process = self._spawn(container)
            code = process.wait()
            container.exit_codes.append(code)
            container.restarts += 1
            self.event("Exited", f"{container.name} {code}")
            if code != 0 or self.terminating:
                self.init_failed = f"init container {container.name} exited with {code}"
                self.event("InitFailed", self.init_failed)
                return
        for container in self.containers:
            thread = threading.Thread(target=self._keep_running, args=(container,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _keep_running(self, container: Container) -> None:
        """restartPolicy Always: start, probe, restart after exit."""
        while not self.terminating:
            process = self._spawn(container)
            generation = container.generation
            container.startup_passed.clear()
            container.ready = False
            self._record_ready()
            probes = [
                threading.Thread(target=self._probe_loop, args=(container, kind, generation), daemon=True)
                for kind in ("startup", "readiness", "liveness")
            ]
            for probe in probes:
                probe.start()
            code = process.wait()
            container.exit_codes.append(code)
            container.last_log = container.log_path
            container.restarts += 1
            container.ready = False
            self._record_ready()
            self.event("Exited", f"{container.name} {code}")
            if self.terminating:
                return
            self.event("BackOff", container.name)
            time.sleep(RESTART_BACKOFF_SECONDS)

    def _probe_loop(self, container: Container, kind: str, generation: int) -> None:
        probe = container.spec.get(f"{kind}Probe")
        if kind == "startup":
            if probe is None:
                container.startup_passed.set()
                if container.spec.get("readinessProbe") is None:
                    container.ready = True
                    self._record_ready()
                return
        elif probe is None:
            if kind == "readiness":
                container.startup_passed.wait()
                if container.generation == generation:
                    container.ready = True
                    self._record_ready()
            return
        else:
            while not container.startup_passed.wait(0.05):
                if container.generation != generation or self.terminating:
                    return
        period = probe.get("periodSeconds", 10) * self.period_scale
        timeout = probe.get("timeoutSeconds", 1)
        threshold = probe.get("failureThreshold", 3)
        time.sleep(probe.get("initialDelaySeconds", 0) * self.period_scale)
        failures = 0
        while container.generation == generation and not self.terminating and container.process is not None \
                and container.process.poll() is None:
            ok, detail = self._probe_once(container, probe, timeout)
            self.event(f"Probe.{kind}", f"{container.name} {'ok' if ok else 'fail'} {detail}".strip())
            if ok:
                failures = 0
                if kind == "startup":
                    container.startup_passed.set()
                    return
                if kind == "readiness" and not container.ready:
                    container.ready = True
                    self._record_ready()
            else:
                failures += 1
                if kind == "readiness" and failures >= threshold and container.ready:
                    container.ready = False
                    self._record_ready()
                if kind in ("startup", "liveness") and failures >= threshold:
                    self.event("Killing", f"{container.name}: {kind} probe failed {failures} times")
                    self._stop(container, grace=self.spec.get("terminationGracePeriodSeconds", 30), run_hook=True)
                    return
            time.sleep(period)

    def _probe_once(self, container: Container, probe: dict, timeout: float) -> tuple[bool, str]:
        if "exec" in probe:
            code, out = self.exec(container.name, probe["exec"]["command"], timeout)
            return code == 0, out.strip().splitlines()[-1] if out.strip() else f"exit {code}"
        if "httpGet" in probe:
            get = probe["httpGet"]

            def request() -> tuple[bool, str]:
                conn = http.client.HTTPConnection(self.ip, int(get["port"]), timeout=timeout)
                try:
                    conn.request("GET", get.get("path", "/"))
                    status = conn.getresponse().status
                    return 200 <= status < 400, f"HTTP {status}"
                except OSError as exc:
                    return False, str(exc)
                finally:
                    conn.close()

            return self.in_netns(request).result()
        if "tcpSocket" in probe:
            def connect() -> tuple[bool, str]:
                try:
                    socket.create_connection((self.ip, int(probe["tcpSocket"]["port"])), timeout=timeout).close()
                    return True, ""
                except OSError as exc:
                    return False, str(exc)

            return self.in_netns(connect).result()
        raise ValueError(f"unknown probe {probe}")

    def exec(self, name: str, command: list[str], timeout: float | None = None) -> tuple[int, str]:
        """`kubectl exec`: `command` in the container's namespaces with its env; killed after `timeout`."""
        container = self.container(name)
        if container.main_pid is None:
            return 126, "container not running"
        env = container.env()
        argv = ["nsenter", "-t", str(container.main_pid), "--net", "--mount", "--pid", "--",
                "env", "-i", *[f"{k}={v}" for k, v in sorted(env.items())], *command]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            out, _ = process.communicate(timeout=timeout)
            return process.returncode, out
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, _ = process.communicate()
            return 124, (out or "") + f"\n(probe timed out after {timeout}s)"

    def signal(self, name: str, signum: int) -> None:
        """A signal to the container's main process (its PID 1)."""
        container = self.container(name)
        if container.main_pid is not None:
            os.kill(container.main_pid, signum)

    def _stop(self, container: Container, grace: float, run_hook: bool) -> None:
        """Kill a container as the kubelet does: preStop, the stop signal, SIGKILL when the grace passed."""
        deadline = time.monotonic() + grace
        hook = (container.spec.get("lifecycle") or {}).get("preStop")
        if run_hook and hook is not None:
            self.event("PreStop", f"{container.name} started")
            if "exec" in hook:
                code, out = self.exec(container.name, hook["exec"]["command"], max(deadline - time.monotonic(), 0) + 2)
                self.event("PreStop", f"{container.name} ended {code}")
                if code != 0:
                    self.event("FailedPreStopHook", f"{container.name}: {out.strip()[-200:]}")
            elif "sleep" in hook:
                time.sleep(min(hook["sleep"]["seconds"], max(deadline - time.monotonic(), 0) + 2))
        process = container.process
        if process is None or process.poll() is not None:
            return
        self.event("Signal", f"{container.name} SIGTERM")
        if container.main_pid is not None:
            try:
                os.kill(container.main_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            self.event("Signal", f"{container.name} SIGKILL")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def delete(self, timeout: float | None = None) -> float:
        """Delete the pod: out of the endpoints at once, then every container stopped in parallel. Returns
        the seconds the deletion took."""
        started = time.monotonic()
        self.terminating = True
        self._record_ready()
        self.event("Deleting")
        grace = self.spec.get("terminationGracePeriodSeconds", 30)
        stoppers = [threading.Thread(target=self._stop, args=(c, grace, True)) for c in self.containers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout)
        self.deleted.set()
        self.event("Deleted")
        self.close()
        return time.monotonic() - started

    def close(self) -> None:
        """Tear everything down at once (also after a failed test)."""
        self.terminating = True
        for container in self.init_containers + self.containers:
            process = container.process
            if process is not None and process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait(timeout=10)
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)

    # ---- clients in the pod's network namespace

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30) -> tuple[int, Any]:
        """One request to the pod IP, as a client behind the Service; the answer parsed as JSON."""

        def send() -> tuple[int, Any]:
            conn = http.client.HTTPConnection(self.ip, 11434, timeout=timeout)
            try:
                conn.request(method, path, body=None if body is None else json.dumps(body))
                response = conn.getresponse()
                raw = response.read()
                try:
                    return response.status, json.loads(raw)
                except ValueError:
                    return response.status, raw.decode(errors="replace")
            finally:
                conn.close()

        return self.in_netns(send).result()

    def stream(self, path: str, body: dict, timeout: float = 60) -> concurrent.futures.Future:
        """A streamed request; the future gives (lines received, whether the stream ended cleanly, times)."""

        def run() -> tuple[list[dict], bool, list[float]]:
            conn = http.client.HTTPConnection(self.ip, 11434, timeout=timeout)
            lines: list[dict] = []
            times: list[float] = []
            try:
                conn.request("POST", path, body=json.dumps(body))
                response = conn.getresponse()
                while True:
                    line = response.readline()
                    if not line:
                        return lines, bool(lines) and lines[-1].get("done") is True, times
                    if line.strip():
                        lines.append(json.loads(line))
                        times.append(self.now())
            except (OSError, http.client.HTTPException, ValueError):
                return lines, False, times
            finally:
                conn.close()

        return self.in_netns(run)

"""`ApiKeyProxy`: nginx in front of Ollama, admitting only requests that carry an API key from a Secret.

Ollama has no authentication of its own. The proxy is nginx, configured by the library: the nginx.conf
is rendered from the package file `ollama_constructs/proxy/nginx.conf.template`, whose placeholders are
upper-case names between two at-signs (`@UPSTREAM_ADDRESS@`); the template's header lists them. The
entrypoint `ollama_constructs/proxy/entrypoint.sh` (POSIX sh) turns the Secret's key file into an nginx
`map` include, runs nginx in the foreground, and rewrites the map and reloads nginx whenever the file
changes (the kubelet updates a mounted Secret in place), so keys are added and revoked without a restart.
"""

from __future__ import annotations

import functools


import re
from collections.abc import Mapping
from importlib import resources
from typing import Annotated

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import Field, model_validator

from . import _checkov, _drain, _jsii_host, _labels, _pod, _scope, _scripts
from ._defaults import RUN_AS_USER
from ._props import Props
from ._types import DataKey, DnsLabel, DnsSubdomain, Form, ServiceName
from .compute_resources import ComputeResources

DEFAULT_PROXY_IMAGE = "docker.io/nginxinc/nginx-unprivileged:1.30.5-alpine"
"""nginx 1.30.5 (the stable branch), NGINX's unprivileged Alpine image: it listens on 8080 and runs as
uid 101 by itself, and has busybox `sh` for the entrypoint. The pod runs it as the library's uid 10001."""

PROXY_PORT = 8080
"""The port nginx listens on (the unprivileged image's; no root needed)."""

CONFIG_DIR = f"{_scripts.SCRIPTS_ROOT}/auth-proxy"
"""Where the ConfigMap (`nginx.conf`, `entrypoint.sh`) is mounted, read-only."""

KEYS_DIR = "/var/run/secrets/ollama-auth"
"""Where the Secret is mounted, read-only; its key `secret_key` appears as the file `api-keys`."""

KEYS_FILE = f"{KEYS_DIR}/api-keys"
"""The key file the entrypoint reads."""

MAP_DIR = "/run/ollama-auth"
"""A memory-backed emptyDir holding the generated map of keys (never on the node's disk)."""

MAP_FILE = f"{MAP_DIR}/api-keys.map"
"""The nginx `map` include the entrypoint writes and nginx.conf includes."""

RUN_DIR = "/tmp"
"""An emptyDir for nginx's pid file and temp files (the root filesystem is read-only)."""

CACHE_DIR = "/var/cache/nginx"
"""An emptyDir at the image's own cache and temp directory, for anything nginx writes there by default."""

HEALTH_PATH = "/healthz"
"""The location nginx answers itself, without a key: the liveness and readiness probes'."""

TEMPLATE = "nginx.conf.template"
ENTRYPOINT = "entrypoint.sh"

_PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")

NginxSize = Annotated[str, Form(r"^[1-9][0-9]{0,5}[kKmMgG]?$", "an nginx size: a number of bytes, optionally with k, m or g")]
"""An nginx size: a number of bytes, optionally with k, m or g (`64m`)."""

SecretKey = DataKey
"""A key in a Secret's data."""


@functools.lru_cache(maxsize=None)
def proxy_file(name: str) -> str:
    """The text of the packaged proxy file `name` (`nginx.conf.template` or `entrypoint.sh`)."""
    return resources.files("ollama_constructs").joinpath("proxy", name).read_text(encoding="utf-8")


def render(template: str, values: Mapping[str, str]) -> str:
    """`template` with each `@NAME@` replaced by `values[NAME]`.

    Raises:
        ValueError: when the template has a placeholder without a value, or a value has no placeholder.
    """
    used: set[str] = set()

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in values:
            raise ValueError(f"the proxy template has the placeholder @{name}@, which has no value")
        used.add(name)
        return str(values[name])

    text = _PLACEHOLDER.sub(value, template)
    unused = sorted(set(values) - used)
    if unused:
        raise ValueError(f"the proxy template has no placeholder for {', '.join(unused)}")
    return text


def _host_header(service: str, namespace: str | None, port: int) -> str:
    """`<service>.<namespace>.svc[:<port>]`: the Host header of requests to a Service."""
    host = f"{service}.{namespace}.svc" if namespace else service
    return host if port == 80 else f"{host}:{port}"


@_jsii_host.shared(maxsize=1)
def _one_mebibyte() -> cdk8s.Size:
    """1 MiB, made once (every jsii object costs a call into Node)."""
    return cdk8s.Size.mebibytes(1)


@_jsii_host.shared(maxsize=16)
def _pre_stop(delay_seconds: int) -> kplus.ContainerLifecycle:
    """Give the endpoints time to drop the pod before nginx gets its stop signal; made once per delay.
    nginx then drains by itself: the image's stop signal is SIGQUIT, a graceful shutdown that closes the
    listeners and idle connections and finishes the requests in flight (bounded by
    `worker_shutdown_timeout`), https://nginx.org/en/docs/control.html."""
    return kplus.ContainerLifecycle(pre_stop=kplus.Handler.from_command(["sleep", str(delay_seconds)]))


class ApiKeyProxyProps(Props):
    """Which Secret holds the API keys, where accepted requests go, and how the proxy runs."""

    secret_name: DnsSubdomain
    """The existing Secret holding the API keys; the construct does not create it."""
    name: ServiceName = "ollama"
    """Base name: the ConfigMap, Deployment and Service are `<name>-auth`. Default: `ollama`."""
    secret_key: SecretKey = "api-keys"
    """The key in the Secret: one API key a line (16-256 characters of `A-Z a-z 0-9 . _ ~ + / = -`),
    blank lines and lines starting with `#` ignored. Default: `api-keys`."""
    upstream_service_name: DnsLabel | None = None
    """The Ollama Service in the proxy's namespace, when the construct is not given `upstream`.
    Default: none (then `upstream` is required)."""
    upstream_port: int | None = Field(default=None, ge=1, le=65535)
    """The Ollama Service's port. Default: the `upstream` Service's port, else `80`."""
    timeout_seconds: int = Field(default=600, ge=1, le=86_400)
    """nginx's read and send timeouts towards Ollama, long enough for long streamed answers. Default: `600`."""
    keys_reload_seconds: int = Field(default=5, ge=1, le=3600)
    """How often the entrypoint checks the key file for changes. A changed Secret reaches the pod when the
    kubelet next syncs it (its sync period, a minute by default, plus its cache's delay), so a revoked key
    stops working within about a minute and this many seconds. Default: `5`."""
    drain_seconds: int | None = Field(default=None, ge=0, le=86_400)
    """How long a stopping proxy keeps serving the answers in flight (nginx's `worker_shutdown_timeout`),
    after a pause of `drain_delay_seconds` for the endpoints to drop it; the grace period covers both.
    Default: `timeout_seconds`."""
    drain_delay_seconds: int = Field(default=_drain.ENDPOINT_REMOVAL_SECONDS, ge=0, le=120)
    """The preStop's pause before nginx stops taking connections. Default: `5`."""
    max_body_size: NginxSize = "64m"
    """The largest request body (chat requests may carry images), in nginx's notation. Default: `64m`."""
    replicas: int = Field(default=2, ge=0)
    """Number of proxy pods. Default: `2`."""
    image: str = DEFAULT_PROXY_IMAGE
    """The nginx image; it must have `sh` and nginx on PATH. Default:
    `docker.io/nginxinc/nginx-unprivileged:1.30.5-alpine`."""
    resources: ComputeResources = ComputeResources(
        cpu_request="50m",
        cpu_limit="500m",
        memory_request="32Mi",
        memory_limit="128Mi",
        ephemeral_storage_request="64Mi",
        ephemeral_storage_limit="256Mi",
    )
    """Requests and limits of the nginx container. Default: 50m/500m CPU, 32Mi/128Mi memory, 64Mi/256Mi node
    disk (its temp and cache emptyDirs stay small: bodies are not buffered; and its log, which the kubelet
    rotates at 10Mi by default)."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on every object and pod (e.g. `app.kubernetes.io/part-of`). Default: none."""

    @model_validator(mode="after")
    def _check(self) -> ApiKeyProxyProps:
        _labels.object_labels(f"{self.name}-auth", "auth-proxy", self.labels)
        return self

    @property
    def effective_drain_seconds(self) -> int:
        """The drain bound: `drain_seconds`, else the request timeout."""
        return self.timeout_seconds if self.drain_seconds is None else self.drain_seconds


@_scope.public_construct
class ApiKeyProxy(Construct):
    """An API-key check in front of Ollama: nginx admits a request only with `Authorization: Bearer <key>`
    for a key in the Secret `secret_name`, and proxies it to the Ollama Service.

    Requests without an accepted key get 401 with `{"error":"unauthorized"}` and `WWW-Authenticate: Bearer`.
    Accepted requests go to Ollama over HTTP/1.1 without the Authorization header, with `Host` set to the
    upstream, unbuffered both ways (streamed NDJSON and SSE answers arrive as they are produced), with read
    and send timeouts of `timeout_seconds` and bodies up to `max_body_size`. nginx answers `/healthz` itself,
    without a key. The access log names no header, so keys never reach the logs. Changes of the Secret
    take effect without a restart: the Secret is mounted as a directory (never with subPath), which the
    kubelet updates in place, and the entrypoint reloads nginx when the key file changes (every
    `keys_reload_seconds`); a revoked key is refused from then on, answers in flight finish.

    The upstream is the keyword `upstream` (preferred: e.g. `OllamaServer.service`), or the props'
    `upstream_service_name` and `upstream_port`.

    Synthesizes:
      * a ConfigMap `<name>-auth` holding the rendered `nginx.conf` and `entrypoint.sh`;
      * a Deployment `<name>-auth` (the `Resource` child): `replicas` nginx pods on port 8080 with a
        read-only root filesystem, emptyDirs for nginx's pid, temp and cache paths and a memory-backed one
        for the generated map of keys, the Secret mounted read-only at `/var/run/secrets/ollama-auth`,
        liveness and readiness probes on `/healthz`, and the ConfigMap's checksum as a pod annotation;
      * a Service `<name>-auth` (port `http` 80 -> 8080), selecting the pods by name and instance
        (`<name>-auth`, so it never selects the Ollama pods).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: ApiKeyProxyProps,
        *,
        upstream: kplus.Service | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        namespace = _scope.namespace_of(scope)
        upstream_host, upstream_port, host_header = self._upstream(upstream, namespace)
        self.upstream_host: str = upstream_host
        """The Ollama Service's host name as nginx resolves it (`<service>.<namespace>.svc` across namespaces)."""
        self.upstream_port: int = upstream_port
        """The Ollama Service's port the proxy sends to."""
        self.upstream_host_header: str = host_header
        """The Host header sent upstream: the Service's namespace-qualified name `<service>.<namespace>.svc`
        (with `:<port>` unless 80), which a KEDA HTTP interceptor upstream routes by, never a bare name that a
        same-named Service of another namespace shares."""
        instance = f"{p.name}-auth"
        labels = {
            **_labels.object_labels(instance, "auth-proxy", p.labels),
            _labels.VERSION: _labels.image_version(p.image),
        }

        data = {"nginx.conf": self._nginx_conf(), ENTRYPOINT: proxy_file(ENTRYPOINT)}
        self.config_map = kplus.ConfigMap(
            self,
            "Config",
            metadata=cdk8s.ApiObjectMetadata(name=instance, labels=labels),
            data=data,
        )
        self.deployment = kplus.Deployment(
            self,
            "Resource",
            metadata=cdk8s.ApiObjectMetadata(
                name=instance, labels=labels, annotations=_checkov.tag_pinned_image_skips(p.image)
            ),
            select=False,
            pod_metadata=cdk8s.ApiObjectMetadata(
                labels=labels,
                annotations={f"{_scripts.CHECKSUM_ANNOTATION_PREFIX}auth-proxy": _scripts.checksum(data)},
            ),
            replicas=p.replicas,
            strategy=_pod.rolling_update(1, 0),
            automount_service_account_token=False,
            security_context=kplus.PodSecurityContextProps(
                ensure_non_root=True, user=RUN_AS_USER, group=RUN_AS_USER, fs_group=RUN_AS_USER
            ),
            # The preStop pause, then nginx's graceful stop (SIGQUIT) bounded by the drain (see `_drain`).
            termination_grace_period=_pod.seconds(
                _drain.termination_grace_seconds(p.effective_drain_seconds, p.drain_delay_seconds)
            ),
        )
        self.deployment.select(kplus.LabelSelector.of(labels=_labels.selector_labels(instance)))
        self.container = self._add_container()
        _pod.patch_workload(
            self.deployment,
            # cdk8s-plus labels pods with its own construct address; selectors here use name and instance.
            _pod.remove_patch(_pod.ADDRESS_LABEL),
            _pod.add_patch("/spec/template/spec/enableServiceLinks", False),
            p.resources.patch(f"{_pod.container_path(self.deployment, self.container)}/resources"),
        )

        self.service = kplus.Service(
            self,
            "Service",
            metadata=cdk8s.ApiObjectMetadata(name=instance, labels=labels),
            type=kplus.ServiceType.CLUSTER_IP,
            ports=[kplus.ServicePort(name="http", port=80, target_port=PROXY_PORT)],
        )
        for key, value in _labels.selector_labels(instance).items():
            self.service.select_label(key, value)

        self.service_name: str = instance
        """The proxy Service's name: give it to clients (or to :class:`GatewayExposure`) instead of Ollama's."""
        self.port: int = 80
        """The proxy Service's port."""
        self.url: str = f"http://{instance}.{namespace}.svc" if namespace else f"http://{instance}"
        """The in-cluster URL of the authenticated Ollama API."""

    def _upstream(self, upstream: kplus.Service | None, own_namespace: str | None) -> tuple[str, int, str]:
        """The upstream's host (qualified with its namespace when that differs from ours), port and Host header."""
        p = self.props
        if upstream is None:
            if p.upstream_service_name is None:
                raise ValueError("ApiKeyProxy needs the upstream: pass `upstream=` or set upstream_service_name")
            port = p.upstream_port or 80
            return p.upstream_service_name, port, _host_header(p.upstream_service_name, own_namespace, port)
        if p.upstream_service_name is not None:
            raise ValueError("give the upstream either as `upstream=` or as upstream_service_name, not both")
        if p.upstream_port is not None:
            ports = [port.port for port in upstream.ports]
            if p.upstream_port not in ports:
                raise ValueError(f"upstream_port {p.upstream_port} is not a port of the Service {upstream.name} ({ports})")
        name, port = _scope.name_and_port(upstream)
        upstream_namespace = upstream.metadata.namespace or _scope.namespace_of(upstream)
        host = name
        if upstream_namespace and upstream_namespace != own_namespace:
            host = f"{name}.{upstream_namespace}.svc"
        port = p.upstream_port or port
        return host, port, _host_header(name, upstream_namespace or own_namespace, port)

    def _nginx_conf(self) -> str:
        p = self.props
        host_header = self.upstream_host_header
        return render(
            proxy_file(TEMPLATE),
            {
                "LISTEN_PORT": str(PROXY_PORT),
                "RUN_DIR": RUN_DIR,
                "KEYS_MAP_FILE": MAP_FILE,
                "HEALTH_PATH": HEALTH_PATH,
                "UPSTREAM_ADDRESS": f"{self.upstream_host}:{self.upstream_port}",
                "UPSTREAM_HOST": host_header,
                "TIMEOUT_SECONDS": str(p.timeout_seconds),
                "DRAIN_SECONDS": str(p.effective_drain_seconds),
                "MAX_BODY_SIZE": p.max_body_size,
            },
        )

    def _mounts(self) -> list[kplus.VolumeMount]:
        p = self.props
        secret = kplus.Secret.from_secret_name(self, "Keys", p.secret_name)
        keys = kplus.Volume.from_secret(
            self,
            "KeysVolume",
            secret,
            name="api-keys",
            items={p.secret_key: kplus.PathMapping(path=KEYS_FILE.rsplit("/", 1)[1])},
            default_mode=0o440,
        )
        key_map = kplus.Volume.from_empty_dir(
            self, "KeysMap", "api-keys-map", medium=kplus.EmptyDirMedium.MEMORY, size_limit=_one_mebibyte()
        )
        config = kplus.Volume.from_config_map(self, "ConfigVolume", self.config_map, name="auth-config")
        return [
            kplus.VolumeMount(path=CONFIG_DIR, volume=config, read_only=True),
            # The whole volume, never a subPath: the kubelet then swaps in a changed Secret's files.
            kplus.VolumeMount(path=KEYS_DIR, volume=keys, read_only=True),
            kplus.VolumeMount(path=MAP_DIR, volume=key_map),
            kplus.VolumeMount(path=RUN_DIR, volume=kplus.Volume.from_empty_dir(self, "Tmp", "tmp")),
            kplus.VolumeMount(path=CACHE_DIR, volume=kplus.Volume.from_empty_dir(self, "Cache", "nginx-cache")),
        ]

    def _add_container(self) -> kplus.Container:
        p = self.props
        env = {
            "OLLAMA_AUTH_KEYS_FILE": KEYS_FILE,
            "OLLAMA_AUTH_MAP_FILE": MAP_FILE,
            "OLLAMA_AUTH_NGINX_CONF": f"{CONFIG_DIR}/nginx.conf",
            "OLLAMA_AUTH_RELOAD_INTERVAL_SECONDS": str(p.keys_reload_seconds),
        }
        container = self.deployment.add_container(
            name="nginx",
            image=p.image,
            image_pull_policy=kplus.ImagePullPolicy.IF_NOT_PRESENT,
            command=["/bin/sh", f"{CONFIG_DIR}/{ENTRYPOINT}"],
            ports=[kplus.ContainerPort(number=PROXY_PORT, name="http")],
            env_variables=_pod.env_values(env),
            security_context=_pod.restricted_security_context(),
            liveness=_pod.http_probe(HEALTH_PATH, PROXY_PORT, 10, 2, 3),
            readiness=_pod.http_probe(HEALTH_PATH, PROXY_PORT, 5, 2, 2),
            lifecycle=_pre_stop(p.drain_delay_seconds),
            volume_mounts=self._mounts(),
        )
        return container

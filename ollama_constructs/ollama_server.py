"""`OllamaServer`: the Ollama Deployment and its ClusterIP Service."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Literal

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import AfterValidator, Field, model_validator

from . import _labels, _pod, _scripts
from ._defaults import DEFAULT_OLLAMA_IMAGE, MODELS_PATH, OLLAMA_PORT, RUN_AS_USER
from ._props import Props
from ._types import DnsLabel
from .compute_resources import ComputeResources
from .model_reference import normalize_model_name

_SCRIPTS_DIR = f"{_scripts.SCRIPTS_ROOT}/server"

OWNED_ENV = frozenset(
    {
        "HOME",
        "OLLAMA_HOST",
        "OLLAMA_MODELS",
        "OLLAMA_KEEP_ALIVE",
        "OLLAMA_CONTEXT_LENGTH",
        "OLLAMA_NO_CLOUD",
        "OLLAMA_CLI_TIMEOUT_SECONDS",
        "OLLAMA_PRELOAD_TIMEOUT_SECONDS",
    }
)
"""Environment variables the server sets from its typed props; `env` cannot override them."""

ModelName = Annotated[str, AfterValidator(normalize_model_name)]

_PULL_POLICIES = {
    "IfNotPresent": kplus.ImagePullPolicy.IF_NOT_PRESENT,
    "Always": kplus.ImagePullPolicy.ALWAYS,
    "Never": kplus.ImagePullPolicy.NEVER,
}


class OllamaServerProps(Props):
    """What the Ollama server runs and how."""

    name: DnsLabel = "ollama"
    """Name of the Deployment and the Service (the in-cluster DNS name). Default: `ollama`."""
    models: tuple[ModelName, ...] = ()
    """The models the server serves, the primary first; names get `:latest` when untagged.
    Default: none (readiness then means only that the server answers)."""
    preload: bool = True
    """Load the primary model before the pod is Ready and keep it loaded; readiness then means "the
    primary model is loaded". Without it readiness means "the primary model is on disk". Default: `true`."""
    image: str = DEFAULT_OLLAMA_IMAGE
    """The Ollama image. Default: `docker.io/ollama/ollama:0.32.15`."""
    image_pull_policy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    """When the kubelet pulls the image. Default: `IfNotPresent` (the image is pinned)."""
    replicas: int = Field(default=1, ge=0)
    """Number of pods. Default: `1`."""
    resources: ComputeResources = ComputeResources(
        cpu_request="500m", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi"
    )
    """Requests and limits of the Ollama container. Default: 500m/2 CPU, 2Gi/4Gi memory (the seed's)."""
    context_length: int = Field(default=4096, ge=256)
    """`OLLAMA_CONTEXT_LENGTH`, pinned because Ollama's own default depends on the VRAM. Default: `4096`."""
    keep_alive: str | None = None
    """`OLLAMA_KEEP_ALIVE`: how long an idle model stays loaded. Default: `-1` (forever) with `preload`,
    else `5m`."""
    env: Mapping[str, str] = Field(default_factory=dict)
    """Extra environment variables of the Ollama container. Default: none."""
    startup_timeout_seconds: int = Field(default=600, ge=30)
    """How long the server may take to answer HTTP after it starts (GPU discovery, pruning). Default: `600`."""
    termination_grace_period_seconds: int = Field(default=120, ge=0)
    """Time for in-flight streamed answers to finish on shutdown. Default: `120`."""
    max_surge: int = Field(default=1, ge=0)
    """Extra pods a rolling update may start; `0` for GPU nodes with no spare GPU. Default: `1`."""
    max_unavailable: int = Field(default=0, ge=0)
    """Pods a rolling update may take down. Default: `0`."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on every object and pod (e.g. `app.kubernetes.io/part-of`). Default: none."""

    @model_validator(mode="after")
    def _check(self) -> OllamaServerProps:
        owned = sorted(OWNED_ENV.intersection(self.env))
        if owned:
            raise ValueError(f"env cannot set {', '.join(owned)}: typed props own them")
        if self.max_surge == 0 and self.max_unavailable == 0:
            raise ValueError("max_surge and max_unavailable cannot both be 0 (a rollout could never progress)")
        _labels.object_labels(self.name, "server", self.labels)
        return self

    @property
    def effective_keep_alive(self) -> str:
        """The keep-alive the server runs with."""
        return self.keep_alive or ("-1" if self.preload else "5m")


class OllamaServer(Construct):
    """The Ollama server: `ollama serve` on port 11434 behind a ClusterIP Service on port 80.

    Synthesizes:
      * a Deployment `<name>` (the `Resource` child): one non-root container with a read-only root
        filesystem, a startup probe and a liveness probe on HTTP `/`, a readiness probe that passes only
        when the primary model is loaded (or present, without preload), a postStart hook that preloads the
        primary model, the `OLLAMA_*` settings pinned, the model volume at `/var/lib/ollama`;
      * a ConfigMap `<name>-server` holding the probe and preload scripts;
      * a Service `<name>` (port `http` 80 -> 11434), selecting the pods by name and instance.

    The model volume is an emptyDir; :class:`OllamaModelPull` fills it before the server starts.
    """

    def __init__(self, scope: Construct, id: str, props: OllamaServerProps | None = None) -> None:
        super().__init__(scope, id)
        self.props = props or OllamaServerProps()
        p = self.props
        labels = {**_labels.object_labels(p.name, "server", p.labels), _labels.VERSION: _labels.image_version(p.image)}
        namespace = cdk8s.Chart.of(self).namespace

        script_data = _scripts.scripts_data("model-ready.sh", "model-preload.sh")
        self.scripts_config_map = kplus.ConfigMap(
            self,
            "Scripts",
            metadata=cdk8s.ApiObjectMetadata(name=f"{p.name}-server", labels=labels),
            data=script_data,
            immutable=False,
        )
        self.deployment = kplus.Deployment(
            self,
            "Resource",
            metadata=cdk8s.ApiObjectMetadata(name=p.name, labels=labels),
            select=False,
            pod_metadata=cdk8s.ApiObjectMetadata(
                labels=labels,
                annotations={f"{_scripts.CHECKSUM_ANNOTATION_PREFIX}server-scripts": _scripts.checksum(script_data)},
            ),
            replicas=p.replicas,
            strategy=kplus.DeploymentStrategy.rolling_update(
                max_surge=kplus.PercentOrAbsolute.absolute(p.max_surge),
                max_unavailable=kplus.PercentOrAbsolute.absolute(p.max_unavailable),
            ),
            automount_service_account_token=False,
            security_context=kplus.PodSecurityContextProps(
                ensure_non_root=True, user=RUN_AS_USER, group=RUN_AS_USER, fs_group=RUN_AS_USER
            ),
            termination_grace_period=cdk8s.Duration.seconds(p.termination_grace_period_seconds),
        )
        self.deployment.select(kplus.LabelSelector.of(labels=_labels.selector_labels(p.name)))
        self.models_volume = kplus.Volume.from_empty_dir(self, "Models", "models")
        """The volume that holds the models (mounted at `/var/lib/ollama`)."""
        self.container = self._add_container(script_data)
        _pod.patch_workload(
            self.deployment,
            # cdk8s-plus labels pods with its own construct address; selectors here use name and instance.
            cdk8s.JsonPatch.remove("/spec/template/metadata/labels/cdk8s.io~1metadata.addr"),
            cdk8s.JsonPatch.add("/spec/template/spec/enableServiceLinks", False),
            cdk8s.JsonPatch.add(f"{_pod.container_path(self.deployment, self.container)}/resources", p.resources.to_kube()),
        )

        self.service = kplus.Service(
            self,
            "Service",
            metadata=cdk8s.ApiObjectMetadata(name=p.name, labels=labels),
            type=kplus.ServiceType.CLUSTER_IP,
            ports=[kplus.ServicePort(name="http", port=80, target_port=OLLAMA_PORT)],
        )
        for key, value in _labels.selector_labels(p.name).items():
            self.service.select_label(key, value)

        self.service_name: str = p.name
        """The Service's name, the in-cluster DNS name of the API."""
        self.port: int = 80
        """The Service's port."""
        self.url: str = f"http://{p.name}.{namespace}.svc" if namespace else f"http://{p.name}"
        """The in-cluster URL of the Ollama API."""

    @property
    def primary_model(self) -> str | None:
        """The model readiness and preload are about, or None without models."""
        return self.props.models[0] if self.props.models else None

    def _env(self) -> dict[str, kplus.EnvValue]:
        p = self.props
        env = {
            "HOME": MODELS_PATH,
            "OLLAMA_HOST": f"0.0.0.0:{OLLAMA_PORT}",
            "OLLAMA_MODELS": f"{MODELS_PATH}/models",
            "OLLAMA_KEEP_ALIVE": p.effective_keep_alive,
            "OLLAMA_CONTEXT_LENGTH": str(p.context_length),
            "OLLAMA_NO_CLOUD": "1",
            "OLLAMA_CLI_TIMEOUT_SECONDS": "5",
            "OLLAMA_PRELOAD_TIMEOUT_SECONDS": str(p.startup_timeout_seconds),
            **p.env,
        }
        return {k: kplus.EnvValue.from_value(v) for k, v in sorted(env.items())}

    def _readiness(self) -> kplus.Probe:
        model = self.primary_model
        if model is None:
            return kplus.Probe.from_http_get("/", port=OLLAMA_PORT, period_seconds=cdk8s.Duration.seconds(10))
        mode = "loaded" if self.props.preload else "present"
        return kplus.Probe.from_command(
            ["bash", f"{_SCRIPTS_DIR}/model-ready.sh", model, mode],
            period_seconds=cdk8s.Duration.seconds(10),
            timeout_seconds=cdk8s.Duration.seconds(10),
            failure_threshold=3,
        )

    def _add_container(self, script_data: Mapping[str, str]) -> kplus.Container:
        p = self.props
        startup_period = 10
        lifecycle = None
        if p.preload and self.primary_model is not None:
            lifecycle = kplus.ContainerLifecycle(
                post_start=kplus.Handler.from_command(["bash", f"{_SCRIPTS_DIR}/model-preload.sh", self.primary_model])
            )
        container = self.deployment.add_container(
            name="ollama",
            image=p.image,
            image_pull_policy=_PULL_POLICIES[p.image_pull_policy],
            ports=[kplus.ContainerPort(number=OLLAMA_PORT, name="http")],
            env_variables=self._env(),
            security_context=_pod.restricted_security_context(),
            startup=kplus.Probe.from_http_get(
                "/",
                port=OLLAMA_PORT,
                period_seconds=cdk8s.Duration.seconds(startup_period),
                timeout_seconds=cdk8s.Duration.seconds(5),
                failure_threshold=math.ceil(p.startup_timeout_seconds / startup_period),
            ),
            liveness=kplus.Probe.from_http_get(
                "/",
                port=OLLAMA_PORT,
                period_seconds=cdk8s.Duration.seconds(20),
                timeout_seconds=cdk8s.Duration.seconds(5),
                failure_threshold=3,
            ),
            readiness=self._readiness(),
            lifecycle=lifecycle,
        )
        container.mount(MODELS_PATH, self.models_volume)
        container.mount("/tmp", kplus.Volume.from_empty_dir(self, "Tmp", "tmp"))
        container.mount(
            _SCRIPTS_DIR,
            kplus.Volume.from_config_map(self, "ScriptsVolume", self.scripts_config_map, name="server-scripts"),
            read_only=True,
        )
        return container

"""`OllamaServer`: the Ollama Deployment and its ClusterIP Service."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Literal

import cdk8s
import cdk8s_plus_28 as kplus
from cdk8s_plus_28 import k8s
from constructs import Construct
from pydantic import AfterValidator, Field, model_validator

from . import _checkov, _drain, _jsii_host, _labels, _ollama_env, _pod, _scope, _scripts
from ._defaults import DEFAULT_OLLAMA_IMAGE, MODELS_PATH, OLLAMA_PORT, RUN_AS_USER
from ._props import Props
from ._types import DnsLabel, DnsSubdomain, Quantity, quantity_value
from .compute_resources import ComputeResources
from .model_reference import ModelName

WARM_DIR = "/run/ollama-constructs/warm"
"""A memory-backed emptyDir shared by the ollama container and the model-keeper."""

WARM_MARKER = f"{WARM_DIR}/primary"
"""The file the model-keeper writes when the first warm-up of the primary model has finished."""

_LOCAL_SERVER = f"127.0.0.1:{OLLAMA_PORT}"
_PROBE_CLI_TIMEOUT_SECONDS = 2
"""Bound of the readiness probe's one CLI call, well inside its timeoutSeconds."""
_KEEPER_RESOURCES = ComputeResources(cpu_request="10m", cpu_limit="500m", memory_request="32Mi", memory_limit="128Mi")

OWNED_ENV = frozenset(_ollama_env.TYPED) | _ollama_env.LIBRARY
"""Environment variables the server sets from its typed props; `env` cannot override them."""

Duration = Annotated[str, AfterValidator(_ollama_env.check_duration)]

_PULL_POLICIES = {
    "IfNotPresent": kplus.ImagePullPolicy.IF_NOT_PRESENT,
    "Always": kplus.ImagePullPolicy.ALWAYS,
    "Never": kplus.ImagePullPolicy.NEVER,
}


class ModelVolume(Props):
    """A PersistentVolumeClaim for the models, instead of an emptyDir."""

    size: Quantity = "20Gi"
    """Size of each claim. Default: `20Gi`."""
    storage_class: DnsSubdomain | None = None
    """StorageClass of the claim. Default: the cluster's default class."""
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany"] = "ReadWriteOnce"
    """`ReadWriteOnce`: a claim per replica (a StatefulSet with a claim template when there are several
    replicas, so no claim is ever attached on two nodes). `ReadWriteMany`: one claim shared by every
    replica. Default: `ReadWriteOnce`."""
    existing_claim: DnsSubdomain | None = None
    """Mount this existing claim instead of creating one. Default: a claim `<name>-models` is created."""


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
    max_replicas: int | None = Field(default=None, ge=1)
    """The most pods an autoscaler may run; the workload shape and the disruption budget follow it.
    Default: `replicas` (not autoscaled)."""
    resources: ComputeResources = ComputeResources(
        cpu_request="500m", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi"
    )
    """Requests and limits of the Ollama container. Default: 500m/2 CPU, 2Gi/4Gi memory (the seed's)."""
    context_length: int = Field(default=4096, ge=256)
    """`OLLAMA_CONTEXT_LENGTH`, pinned because Ollama's own default depends on the VRAM. Default: `4096`."""
    keep_alive: Duration | None = None
    """`OLLAMA_KEEP_ALIVE`: how long an idle model stays loaded. Default: `-1` (forever) with `preload`,
    else `5m`."""
    num_parallel: int = Field(default=1, ge=1, le=64)
    """`OLLAMA_NUM_PARALLEL`: requests served at once per model. Default: `1`."""
    max_loaded_models: int | None = Field(default=None, ge=1)
    """`OLLAMA_MAX_LOADED_MODELS`. Default: unset (Ollama's: 3 per GPU, 3 on CPU)."""
    max_queue: int | None = Field(default=None, ge=1)
    """`OLLAMA_MAX_QUEUE`: queued requests before 503. Default: unset (Ollama's 512)."""
    flash_attention: bool | None = None
    """`OLLAMA_FLASH_ATTENTION`. Default: unset (automatic)."""
    kv_cache_type: Literal["f16", "q8_0", "q4_0"] | None = None
    """`OLLAMA_KV_CACHE_TYPE`. Default: unset (`f16`)."""
    load_timeout: Duration | None = None
    """`OLLAMA_LOAD_TIMEOUT`. Default: unset (Ollama's `5m`)."""
    env: Mapping[str, str] = Field(default_factory=dict)
    """Extra environment variables of the Ollama container. Default: none."""
    startup_timeout_seconds: int = Field(default=600, ge=30)
    """How long the server may take to answer HTTP after it starts (GPU discovery, pruning). Default: `600`."""
    progress_deadline_seconds: int = Field(default=600, ge=60)
    """Deployment `progressDeadlineSeconds`: the first rollout includes the init container's download, so
    a large model needs more before ArgoCD would call the rollout Degraded. Default: `600`."""
    drain_seconds: int = Field(default=600, ge=0, le=86_400)
    """How long a stopping pod keeps serving the answers in flight. Ollama cuts every open connection on
    SIGTERM, so a preStop hook first waits `drain_delay_seconds` for the endpoints to drop the pod, then
    until no client connection is left, at most this long; the grace period covers both (see
    `termination_grace_seconds`). Default: `600` (the default request timeout)."""
    drain_delay_seconds: int = Field(default=_drain.ENDPOINT_REMOVAL_SECONDS, ge=0, le=120)
    """The preStop's pause before the drain, for kube-proxy and the Gateway to stop sending new
    connections. Default: `5`."""
    keeper_interval_seconds: int = Field(default=30, ge=1, le=300)
    """With preload, how often the model-keeper checks that the primary model is loaded (and loads it
    again when a client, another model or a crash unloaded it). Default: `30`."""
    priority_class_name: DnsSubdomain | None = None
    """PriorityClass of the pods. Default: none (the cluster's default priority)."""
    max_surge: int = Field(default=1, ge=0)
    """Extra pods a rolling update may start; `0` for GPU nodes with no spare GPU. Default: `1`."""
    max_unavailable: int = Field(default=0, ge=0)
    """Pods a rolling update may take down. Default: `0`."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on every object and pod (e.g. `app.kubernetes.io/part-of`). Default: none."""
    model_volume: ModelVolume | None = None
    """Keep the models on a PersistentVolumeClaim. Default: an emptyDir (pulled again on every new pod)."""
    models_size_limit: Quantity | None = None
    """`sizeLimit` of the models emptyDir (no claim), e.g. `20Gi`, written in MiB: the kubelet evicts the pod
    when the models outgrow it, before they fill the node's disk. Give the container an `ephemeral-storage`
    limit above it (`resources`). Default: no limit."""

    @model_validator(mode="after")
    def _check(self) -> OllamaServerProps:
        if self.kv_cache_type not in (None, "f16") and self.flash_attention is False:
            raise ValueError(f"kv_cache_type {self.kv_cache_type} needs flash attention")
        volume = self.model_volume
        if volume and volume.existing_claim and volume.access_mode == "ReadWriteOnce" and self.most_replicas > 1:
            raise ValueError(
                f"a ReadWriteOnce claim ({volume.existing_claim}) cannot be shared by {self.most_replicas} replicas; "
                "use access_mode ReadWriteMany, one replica, or no existing claim (a claim per replica)"
            )
        problems = _ollama_env.env_problems(dict(self.env))
        if problems:
            raise ValueError("env cannot set " + "; ".join(problems))
        if self.max_surge == 0 and self.max_unavailable == 0:
            raise ValueError("max_surge and max_unavailable cannot both be 0 (a rollout could never progress)")
        _labels.object_labels(self.name, "server", self.labels)
        return self

    @property
    def most_replicas(self) -> int:
        """The most pods the workload can have."""
        return max(self.replicas, self.max_replicas or 0)

    @property
    def shape(self) -> Literal["Deployment", "StatefulSet"]:
        """The workload kind: a StatefulSet only for several replicas on ReadWriteOnce claims."""
        volume = self.model_volume
        if volume and volume.access_mode == "ReadWriteOnce" and not volume.existing_claim and self.most_replicas > 1:
            return "StatefulSet"
        return "Deployment"

    @property
    def shared_volume(self) -> bool:
        """Whether several servers may share the model volume (a ReadWriteMany claim)."""
        return self.model_volume is not None and self.model_volume.access_mode == "ReadWriteMany"

    @property
    def effective_keep_alive(self) -> str:
        """The keep-alive the server runs with."""
        return self.keep_alive or ("-1" if self.preload else "5m")

    @property
    def termination_grace_seconds(self) -> int:
        """The pods' `terminationGracePeriodSeconds`: the drain's pause, the drain and a stop margin."""
        return _drain.termination_grace_seconds(self.drain_seconds, self.drain_delay_seconds)


@_scope.public_construct
class OllamaServer(Construct):
    """The Ollama server: `ollama serve` on port 11434 behind a ClusterIP Service on port 80.

    Synthesizes:
      * the workload `<name>` (the `Resource` child): the `ollama` container (non-root, read-only root
        filesystem, the `OLLAMA_*` settings pinned, the model volume at `/var/lib/ollama`) with a startup
        and a liveness probe on HTTP `/`, a readiness probe that never waits on Ollama's scheduler, and a
        preStop hook that drains the answers in flight before Ollama gets SIGTERM. With `preload` and
        models, the container `model-keeper` warms the primary model up once and then keeps it loaded.
        Its shape follows the model volume:

        ====================================  ===========================================================
        model volume                          workload
        ====================================  ===========================================================
        none (emptyDir)                       Deployment, rolling update
        ReadWriteOnce claim, 0 or 1 replica   Deployment, Recreate (the claim is never on two nodes)
        ReadWriteOnce claim, several replicas StatefulSet with a claim template `models` (a claim each)
                                              and a headless Service `<name>-headless`
        ReadWriteMany claim                   Deployment, rolling update, one claim shared by all pods
        ====================================  ===========================================================

      * a PersistentVolumeClaim `<name>-models` (Deployment shapes with a claim and no existing claim);
      * a ConfigMap `<name>-scripts`, the pod's one copy of its scripts (:class:`OllamaModelPull` given
        `server=` adds its own to it), mounted at `/opt/ollama-constructs/scripts`; its checksum on the pod
        template rolls the pods when a script changes;
      * a Service `<name>` (port `http` 80 -> 11434), selecting the pods by name and instance;
      * with several replicas, a PodDisruptionBudget `<name>` (one pod at a time) and topology spread over
        nodes and zones.

    Readiness: with `preload`, the primary model is on the volume, the model-keeper's first warm-up has
    finished, and the server answers; without it, the model is on the volume and the server answers;
    without models, HTTP `/`. Whether the model is loaded at this moment is not asked (`GET /api/ps` blocks
    while any model loads): the model-keeper loads it again when it was unloaded, and the pod stays in
    service meanwhile.

    :class:`OllamaModelPull` fills the model volume before the server starts.
    """

    def __init__(self, scope: Construct, id: str, props: OllamaServerProps | None = None) -> None:
        super().__init__(scope, id)
        self.props = props or OllamaServerProps()
        p = self.props
        self.labels = {**_labels.object_labels(p.name, "server", p.labels), _labels.VERSION: _labels.image_version(p.image)}
        """The metadata labels of the server's objects and pods."""
        labels = self.labels
        namespace = _scope.namespace_of(scope)

        self._script_data = _scripts.scripts_data(*_scripts.SERVER_SCRIPTS)
        self.scripts_config_map = kplus.ConfigMap(
            self,
            "Scripts",
            metadata=cdk8s.ApiObjectMetadata(name=f"{p.name}-scripts", labels=labels),
            data=self._script_data,
            immutable=False,
        )
        """The ConfigMap holding the pod's scripts (one copy per service; see :meth:`add_scripts`)."""
        self.claim: k8s.KubePersistentVolumeClaim | None = None
        """The model claim this construct created, if any."""
        self.workload: kplus.Deployment | kplus.StatefulSet = self._workload()
        """The Deployment or StatefulSet running the server (see the table above)."""
        self.workload.select(kplus.LabelSelector.of(labels=_labels.selector_labels(p.name)))
        self.models_volume = self._models_volume()
        """The volume that holds the models (mounted at `/var/lib/ollama`)."""
        self.workload.add_volume(self.models_volume)
        self.scripts_volume = kplus.Volume.from_config_map(self, "ScriptsVolume", self.scripts_config_map, name="scripts")
        """The volume of the scripts ConfigMap (mounted read-only at `/opt/ollama-constructs/scripts`)."""
        self.warm_volume: kplus.Volume | None = None
        """With preload and models: the emptyDir holding the model-keeper's warm-up marker."""
        if p.preload and self.primary_model is not None:
            self.warm_volume = kplus.Volume.from_empty_dir(
                self, "Warm", "warm-state", medium=kplus.EmptyDirMedium.MEMORY, size_limit=_pod.mebibytes(1)
            )
        self.container = self._add_container()
        """The `ollama` container."""
        self.keeper_container: kplus.Container | None = None
        """With preload and models: the `model-keeper` container (warm-up, then keeping the primary loaded)."""
        spec = _pod.pod_spec_path(self.workload)
        patches = [
            # cdk8s-plus labels pods with its own construct address; selectors here use name and instance.
            _pod.remove_patch(_pod.ADDRESS_LABEL),
            _pod.add_patch(f"{spec}/enableServiceLinks", False),
            p.resources.patch(f"{_pod.container_path(self.workload, self.container)}/resources"),
        ]
        if self.warm_volume is not None:
            self.keeper_container = self._add_keeper()
            keeper = _pod.container_path(self.workload, self.keeper_container)
            patches += [
                _KEEPER_RESOURCES.patch(f"{keeper}/resources"),
                # Its last log lines (the error that ended it) are its termination message in `kubectl describe`.
                _pod.add_patch(f"{keeper}/terminationMessagePolicy", "FallbackToLogsOnError"),
            ]
            _checkov.skip_checks_once(self.workload, *_checkov.SIDECAR_PROBE_SKIPS)
        _pod.patch_workload(self.workload, *patches)
        if isinstance(self.workload, kplus.StatefulSet):
            self._claim_template()
        if p.priority_class_name:
            _pod.patch_workload(self.workload, _pod.add_patch(f"{spec}/priorityClassName", p.priority_class_name))
        self.disruption_budget: k8s.KubePodDisruptionBudget | None = None
        """With several replicas: at most one pod evicted at a time, and pods spread over nodes."""
        if p.most_replicas > 1:
            self._availability()

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

    def add_scripts(self, *names: str) -> None:
        """Ship the packaged scripts `names` in the pod's scripts ConfigMap too (once each), and update the
        checksum that rolls the pods when a script changes."""
        for name in names:
            if name not in self._script_data:
                self._script_data[name] = _scripts.script_text(name)
                self.scripts_config_map.add_data(name, self._script_data[name])
        self.workload.pod_metadata.add_annotation(_scripts.CHECKSUM_ANNOTATION, _scripts.checksum(self._script_data))

    def _workload(self) -> kplus.Deployment | kplus.StatefulSet:
        p = self.props
        common = dict(
            metadata=cdk8s.ApiObjectMetadata(
                name=p.name, labels=self.labels, annotations=_checkov.tag_pinned_image_skips(p.image)
            ),
            select=False,
            pod_metadata=cdk8s.ApiObjectMetadata(
                labels=self.labels,
                annotations={_scripts.CHECKSUM_ANNOTATION: _scripts.checksum(self._script_data)},
            ),
            replicas=p.replicas,
            automount_service_account_token=False,
            security_context=kplus.PodSecurityContextProps(
                ensure_non_root=True, user=RUN_AS_USER, group=RUN_AS_USER, fs_group=RUN_AS_USER
            ),
            # The preStop drain, then Ollama's own stop (see `_drain`).
            termination_grace_period=_pod.seconds(p.termination_grace_seconds),
        )
        if p.shape == "StatefulSet":
            self.headless_service: kplus.Service | None = kplus.Service(
                self,
                "Headless",
                metadata=cdk8s.ApiObjectMetadata(name=f"{p.name}-headless", labels=self.labels),
                cluster_ip="None",
                ports=[kplus.ServicePort(name="http", port=OLLAMA_PORT, target_port=OLLAMA_PORT)],
            )
            workload = kplus.StatefulSet(
                self,
                "Resource",
                service=self.headless_service,
                pod_management_policy=kplus.PodManagementPolicy.PARALLEL,
                **common,
            )
            _scope.api_object(self.headless_service).add_json_patch(
                cdk8s.JsonPatch.replace("/spec/selector", _labels.selector_labels(p.name))
            )
            return workload
        self.headless_service = None
        if p.model_volume is not None and p.model_volume.access_mode == "ReadWriteOnce":
            strategy = _pod.recreate()
        else:
            strategy = _pod.rolling_update(p.max_surge, p.max_unavailable)
        return kplus.Deployment(
            self,
            "Resource",
            strategy=strategy,
            progress_deadline=_pod.seconds(p.progress_deadline_seconds),
            **common,
        )

    def _models_volume(self) -> kplus.Volume:
        volume = self.props.model_volume
        if volume is None or isinstance(self.workload, kplus.StatefulSet):
            # A StatefulSet's pods get the claim template's volume of the same name instead (see _claim_template).
            limit = self.props.models_size_limit if volume is None else None
            size = None if limit is None else _pod.mebibytes(math.ceil(quantity_value(str(limit)) / 2**20))
            return kplus.Volume.from_empty_dir(self, "Models", "models", size_limit=size)
        name = volume.existing_claim
        if name is None:
            name = f"{self.props.name}-models"
            self.claim = k8s.KubePersistentVolumeClaim(
                self,
                "Claim",
                metadata=k8s.ObjectMeta(name=name, labels=self.labels),
                spec=self._claim_spec(volume),
            )
        claim = kplus.PersistentVolumeClaim.from_claim_name(self, "ClaimRef", name)
        return kplus.Volume.from_persistent_volume_claim(self, "Models", claim, name="models")

    @staticmethod
    def _claim_spec(volume: ModelVolume) -> k8s.PersistentVolumeClaimSpec:
        return k8s.PersistentVolumeClaimSpec(
            access_modes=[volume.access_mode],
            storage_class_name=volume.storage_class,
            resources=k8s.ResourceRequirements(requests={"storage": _pod.quantity(str(volume.size))}),
        )

    def _claim_template(self) -> None:
        """Turn the `models` pod volume into a claim template (cdk8s-plus-28 has no claim templates)."""
        volume = self.props.model_volume
        assert volume is not None
        volumes = [v.name for v in self.workload.volumes]
        _pod.patch_workload(
            self.workload,
            cdk8s.JsonPatch.remove(f"/spec/template/spec/volumes/{volumes.index('models')}"),
            cdk8s.JsonPatch.add(
                "/spec/volumeClaimTemplates",
                [
                    k8s.KubePersistentVolumeClaimProps(
                        metadata=k8s.ObjectMeta(name="models", labels=self.labels), spec=self._claim_spec(volume)
                    )
                ],
            ),
        )

    def _availability(self) -> None:
        selector = k8s.LabelSelector(match_labels=_labels.selector_labels(self.props.name))
        self.disruption_budget = k8s.KubePodDisruptionBudget(
            self,
            "DisruptionBudget",
            metadata=k8s.ObjectMeta(name=self.props.name, labels=self.labels),
            spec=k8s.PodDisruptionBudgetSpec(max_unavailable=_pod.int_or_string(1), selector=selector),
        )
        spread = [
            k8s.TopologySpreadConstraint(
                max_skew=1, topology_key=key, when_unsatisfiable="ScheduleAnyway", label_selector=selector
            )
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ]
        _pod.patch_workload(
            self.workload, cdk8s.JsonPatch.add(f"{_pod.pod_spec_path(self.workload)}/topologySpreadConstraints", spread)
        )

    @property
    def deployment(self) -> kplus.Deployment:
        """The workload when it is a Deployment (every shape but several replicas on ReadWriteOnce claims)."""
        if not isinstance(self.workload, kplus.Deployment):
            raise TypeError(f"{self.props.name} runs as a StatefulSet; use `workload`")
        return self.workload

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
            "OLLAMA_NUM_PARALLEL": str(p.num_parallel),
            "OLLAMA_NO_CLOUD": "1",
            # The probe's and the preStop's scripts (not read by Ollama).
            "OLLAMA_CLI_TIMEOUT_SECONDS": str(_PROBE_CLI_TIMEOUT_SECONDS),
            "OLLAMA_DRAIN_DELAY_SECONDS": str(p.drain_delay_seconds),
            "OLLAMA_DRAIN_TIMEOUT_SECONDS": str(p.drain_seconds),
            **({"OLLAMA_WARM_MARKER": WARM_MARKER} if self.warm_volume is not None else {}),
            # A shared store: one server's start-up pruning must not delete another's in-flight downloads.
            **({"OLLAMA_NOPRUNE": "1"} if p.shared_volume else {}),
            **p.env,
        }
        optional = {
            "OLLAMA_MAX_LOADED_MODELS": p.max_loaded_models,
            "OLLAMA_MAX_QUEUE": p.max_queue,
            "OLLAMA_FLASH_ATTENTION": None if p.flash_attention is None else ("1" if p.flash_attention else "0"),
            "OLLAMA_KV_CACHE_TYPE": p.kv_cache_type,
            "OLLAMA_LOAD_TIMEOUT": p.load_timeout,
        }
        env.update({k: str(v) for k, v in optional.items() if v is not None})
        return _pod.env_values(env)

    def _readiness(self) -> kplus.Probe:
        model = self.primary_model
        if model is None:
            return _pod.http_probe("/", OLLAMA_PORT, 10, 5, 3)
        mode = "warm" if self.warm_volume is not None else "present"
        return _pod.command_probe(("bash", f"{_scripts.SCRIPTS_DIR}/model-ready.sh", model, mode), 10, 5, 3)

    def _add_container(self) -> kplus.Container:
        p = self.props
        startup_period = 10
        mounts = [
            kplus.VolumeMount(path=MODELS_PATH, volume=self.models_volume),
            kplus.VolumeMount(path="/tmp", volume=kplus.Volume.from_empty_dir(self, "Tmp", "tmp")),
            kplus.VolumeMount(path=_scripts.SCRIPTS_DIR, volume=self.scripts_volume, read_only=True),
        ]
        if self.warm_volume is not None:
            mounts.append(kplus.VolumeMount(path=WARM_DIR, volume=self.warm_volume, read_only=True))
        return self.workload.add_container(
            name="ollama",
            image=p.image,
            image_pull_policy=_PULL_POLICIES[p.image_pull_policy],
            ports=[kplus.ContainerPort(number=OLLAMA_PORT, name="http")],
            env_variables=self._env(),
            security_context=_pod.restricted_security_context(),
            startup=_pod.http_probe(
                "/", OLLAMA_PORT, startup_period, 5, math.ceil(p.startup_timeout_seconds / startup_period)
            ),
            liveness=_pod.http_probe("/", OLLAMA_PORT, 20, 5, 3),
            readiness=self._readiness(),
            lifecycle=_drain_lifecycle(),
            volume_mounts=mounts,
        )

    def _add_keeper(self) -> kplus.Container:
        p = self.props
        assert self.warm_volume is not None and self.primary_model is not None
        env = {
            "HOME": "/tmp",
            "OLLAMA_HOST": _LOCAL_SERVER,
            "OLLAMA_MODELS": f"{MODELS_PATH}/models",
            "NVIDIA_VISIBLE_DEVICES": "void",
            "OLLAMA_WARM_MARKER": WARM_MARKER,
            # The sizing budget: server start plus loading the primary model.
            "OLLAMA_WARMUP_TIMEOUT_SECONDS": str(p.startup_timeout_seconds),
            "OLLAMA_KEEPER_INTERVAL_SECONDS": str(p.keeper_interval_seconds),
        }
        return self.workload.add_container(
            name="model-keeper",
            image=p.image,
            image_pull_policy=_PULL_POLICIES[p.image_pull_policy],
            command=["bash", f"{_scripts.SCRIPTS_DIR}/model-keeper.sh", self.primary_model],
            env_variables=_pod.env_values(env),
            security_context=_pod.restricted_security_context(),
            volume_mounts=[
                kplus.VolumeMount(path=MODELS_PATH, volume=self.models_volume, read_only=True),
                kplus.VolumeMount(path="/tmp", volume=kplus.Volume.from_empty_dir(self, "KeeperTmp", "model-keeper-tmp")),
                kplus.VolumeMount(path=_scripts.SCRIPTS_DIR, volume=self.scripts_volume, read_only=True),
                kplus.VolumeMount(path=WARM_DIR, volume=self.warm_volume),
            ],
        )


@_jsii_host.shared(maxsize=1)
def _drain_lifecycle() -> kplus.ContainerLifecycle:
    """The ollama container's preStop: `drain.sh` (see `_drain`); made once."""
    return kplus.ContainerLifecycle(
        pre_stop=_pod.command_handler(("bash", f"{_scripts.SCRIPTS_DIR}/drain.sh", str(OLLAMA_PORT)))
    )

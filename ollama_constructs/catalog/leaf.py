"""The catalog leaf (`workloadType: OLLAMA_INFERENCE_LOAD`) as pydantic models.

The YAML keys are camelCase, as the contract (`catalog-leaf.md`) names them; the Python attributes are
their snake_case twins. Unknown keys are errors everywhere. Fields that a platform-defaults file may
supply are optional here and filled in by :func:`ollama_constructs.catalog.apply_platform_defaults`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel

from .. import _gpu_labels
from .._net import Cidr
from .._ollama_env import check_duration, env_problems
from ..model_reference import ModelReference, ModelReferenceError, check_digest, split_pinned
from .._types import (
    DataKey,
    DnsLabel,
    DnsSubdomain,
    HostName,
    HostPort,
    INT32_MAX,
    LabelValue,
    Quantity,
    ResourceName,
    ServiceName,
    StrictModel,
    quantity_value,
)

WORKLOAD_TYPE = "OLLAMA_INFERENCE_LOAD"
"""The `workloadType` this library synthesizes; leaves of other types belong to other charts."""


class LeafModel(StrictModel):
    """Base of the leaf's models: camelCase keys, unknown keys rejected, immutable once loaded; integers are
    whole numbers up to 2**31-1 and booleans `true` or `false` (see `StrictModel`)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


def _model_reference(value: str) -> str:
    try:
        return ModelReference.parse(value).short
    except ModelReferenceError as exc:
        raise ValueError(str(exc)) from None


ModelRef = Annotated[str, AfterValidator(_model_reference)]
"""A model reference `[host[:port]/][namespace/]name[:tag]`, normalized to carry a tag (`phi` -> `phi:latest`)."""


def _digest(value: str) -> str:
    try:
        return check_digest(value)
    except ModelReferenceError as exc:
        raise ValueError(str(exc)) from None


Digest = Annotated[str, AfterValidator(_digest)]
"""A manifest digest, `sha256:<64 lower-case hex>`."""


class PinnedModel(LeafModel):
    """A model, optionally pinned to a manifest digest (the object form of a model entry)."""

    name: ModelRef
    """The model reference, without a digest."""
    digest: Digest | None = None
    """The manifest digest the pulled model must have. Default: not pinned."""

    @property
    def pinned(self) -> bool:
        """Whether a digest is given."""
        return self.digest is not None


def _model_entry(value: Any) -> Any:
    """Turn the string form `name:tag[@sha256:<hex>]` into the object form."""
    if isinstance(value, str):
        try:
            ref, digest = split_pinned(value)
        except ModelReferenceError as exc:
            raise ValueError(str(exc)) from None
        return {"name": ref.short, "digest": digest}
    return value


_MODEL_ENTRY_SCHEMA = {
    "anyOf": [
        {"type": "string", "description": "name[:tag][@sha256:<64 hex>]"},
        {
            "type": "object",
            "properties": {"name": {"type": "string"}, "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}},
            "required": ["name"],
            "additionalProperties": False,
        },
    ]
}

ModelEntry = Annotated[PinnedModel, BeforeValidator(_model_entry), WithJsonSchema(_MODEL_ENTRY_SCHEMA)]
"""A model: `phi`, `phi:latest@sha256:<hex>` or `{name: phi:latest, digest: sha256:<hex>}`."""


class ResourceAmounts(LeafModel):
    """CPU, memory and node-disk amounts, as Kubernetes quantities."""

    cpu: Quantity | None = None
    """CPU, e.g. `500m` or `2`. Default: not set."""
    memory: Quantity | None = None
    """Memory, e.g. `2Gi`. Default: not set."""
    ephemeral_storage: Quantity | None = None
    """Node disk (`ephemeral-storage`), e.g. `50Gi`: the models' emptyDir, `/tmp` and logs. Default: sized
    from the models (twice their download size, plus 1Gi requested and 2Gi allowed for the rest)."""


class Resources(LeafModel):
    """Requests and limits of the Ollama container."""

    requests: ResourceAmounts = ResourceAmounts()
    """What the scheduler reserves. Default: nothing."""
    limits: ResourceAmounts = ResourceAmounts()
    """The most the container may use. Default: no limit."""

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        for resource in ("cpu", "memory", "ephemeral_storage"):
            request = getattr(self.requests, resource)
            limit = getattr(self.limits, resource)
            if request is not None and limit is not None and quantity_value(request) > quantity_value(limit):
                key = to_camel(resource)
                raise ValueError(
                    f"requests.{key} ({request}) is larger than limits.{key} ({limit}); "
                    "a request must not exceed its limit"
                )
        return self

    @property
    def sets_compute(self) -> bool:
        """Whether CPU or memory is given: then they are explicit and no preset applies. Node disk alone
        leaves CPU and memory to the preset."""
        return any(getattr(amounts, r) is not None for amounts in (self.requests, self.limits) for r in ("cpu", "memory"))


class Container(LeafModel):
    """Replicas and resources of the Ollama server."""

    replicas: int = Field(default=1, ge=0, le=INT32_MAX)
    """Pods of the server; `0` keeps the objects but runs nothing. Default: `1`."""
    resources: Resources | None = None
    """CPU and memory requests and limits. Default: the platform's defaults."""
    drain_seconds: int | None = Field(default=None, ge=0, le=86_400)
    """How long a stopping pod keeps serving the answers already streaming (a rollout, a node drain):
    Ollama cuts every open connection when it stops, so the pod first leaves its endpoints and waits
    until its client connections end, at most this long (its grace period is this plus 20 s). An
    addition to the contract. Default: `ingress.timeoutSeconds` (600), the longest a request may take."""


NVIDIA_FAMILIES = _gpu_labels.NVIDIA_FAMILIES
"""GPU Feature Discovery's `nvidia.com/gpu.family` values."""


class GpuToleration(LeafModel):
    """A toleration of a GPU-node taint."""

    key: str = Field(min_length=1, max_length=253)
    """The taint key, e.g. `nvidia.com/gpu`."""
    operator: Literal["Exists", "Equal"] = "Exists"
    """`Exists` (any value) or `Equal`. Default: `Exists`."""
    value: str | None = None
    """The taint value, with `Equal`. Default: none."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    """The taint effect; none means every effect. Default: none."""


class Gpu(LeafModel):
    """GPUs for each replica, and the nodes that have them."""

    count: int = Field(default=0, ge=0, le=16)
    """GPUs per replica; `0` means CPU only, and the pod then sees no GPU. Default: `0`."""
    vendor: Literal["nvidia", "amd"] = "nvidia"
    """`nvidia` (`nvidia.com/gpu`) or `amd` (`amd.com/gpu` and the `-rocm` image). Default: `nvidia`."""
    resource_name: ResourceName | None = None
    """The extended resource, e.g. a MIG slice `nvidia.com/mig-1g.10gb`. Default: the vendor's GPU resource."""
    product: str | None = Field(default=None, max_length=63)
    """Only nodes with this GPU product label (e.g. `NVIDIA-GeForce-RTX-5070-Ti`). Default: any."""
    family: str | None = None
    """Only nodes of this GPU family: a GPU Feature Discovery family for NVIDIA (e.g. `blackwell`,
    `hopper`), the ROCm node labeller's `amd.com/gpu.family` value for AMD (e.g. `AI` for Instinct MI100-MI300,
    `GC_11_0_0` for RDNA 3, `NV` for RDNA 1 and 2). Default: any."""
    min_memory_gib: int | None = Field(default=None, ge=1, le=1024, alias="minMemoryGiB")
    """Only nodes whose GPUs have at least this memory. Default: what the models need, for NVIDIA."""
    runtime_class_name: DnsSubdomain | None = None
    """RuntimeClass of the vendor's container runtime (e.g. `nvidia` on k3s/RKE2). Default: the node's default."""
    tolerations: tuple[GpuToleration, ...] | None = None
    """Tolerations of GPU-node taints. Default: the vendor's usual taint (`nvidia.com/gpu` or `amd.com/gpu`)."""

    @model_validator(mode="after")
    def _consistent(self) -> Gpu:
        selection = [f for f in ("resource_name", "product", "family", "min_memory_gib", "runtime_class_name")
                     if getattr(self, f) is not None]
        if self.count == 0 and selection:
            names = ", ".join(to_camel(f) for f in selection)
            raise ValueError(f"count is 0 (CPU only), so {names} would select nothing; remove it or set count")
        resource = self.resource_name or ""
        if self.vendor == "amd" and (resource.startswith("nvidia.com/") or "mig-" in resource):
            raise ValueError(f"resourceName {resource} is an NVIDIA resource; AMD GPUs use amd.com/...")
        if self.vendor == "nvidia" and resource.startswith("amd.com/"):
            raise ValueError(f"resourceName {resource} is an AMD resource; set vendor: amd")
        if resource.startswith("nvidia.com/mig-") and self.count > 1:
            raise ValueError("a MIG slice serves one CUDA process: count must be 1 with a MIG resourceName")
        if self.vendor == "amd" and self.min_memory_gib is not None:
            raise ValueError("minMemoryGiB is not supported for AMD: the node labeller's VRAM label is not numeric")
        if self.family is not None:
            check = _gpu_labels.amd_family_problem if self.vendor == "amd" else _gpu_labels.nvidia_family_problem
            problem = check(self.family)
            if problem:
                raise ValueError(problem)
        return self


def _duration(value: str | int) -> str:
    return check_duration(str(value))


Duration = Annotated[str | int, AfterValidator(_duration)]
"""A Go duration (`30s`, `5m`, `1h30m`) or whole seconds; `-1` means forever where allowed."""


def _extra_env(value: dict[str, str]) -> dict[str, str]:
    problems = env_problems(value)
    if problems:
        raise ValueError("; ".join(problems))
    return value


class Ollama(LeafModel):
    """Settings of the Ollama server, each becoming an `OLLAMA_*` variable."""

    image: str | None = None
    """The Ollama container image. Default: the platform's pinned image (`-rocm` variant for AMD GPUs)."""
    keep_alive: Duration | None = None
    """`OLLAMA_KEEP_ALIVE`: how long an idle model stays loaded. Default: `-1` (forever) with `preload`, else `5m`."""
    context_length: int | None = Field(default=None, ge=256, le=1_048_576)
    """`OLLAMA_CONTEXT_LENGTH` in tokens, pinned so memory use is predictable. Default: the platform's (4096)."""
    num_parallel: int | None = Field(default=None, ge=1, le=64)
    """`OLLAMA_NUM_PARALLEL`: requests served at once per model (memory grows with it). Default: the
    platform's (1)."""
    max_loaded_models: int | None = Field(default=None, ge=1, le=64)
    """`OLLAMA_MAX_LOADED_MODELS`. Default: Ollama's (3 per GPU, 3 on CPU), raised to the number of models
    when the leaf serves more, so that none is evicted."""
    max_queue: int | None = Field(default=None, ge=1, le=100_000)
    """`OLLAMA_MAX_QUEUE`: requests that wait before the server answers 503. Default: Ollama's (512)."""
    flash_attention: bool | None = None
    """`OLLAMA_FLASH_ATTENTION`. Default: unset (Ollama turns it on where the model supports it)."""
    kv_cache_type: Literal["f16", "q8_0", "q4_0"] | None = None
    """`OLLAMA_KV_CACHE_TYPE`: `q8_0` halves and `q4_0` quarters the KV cache (needs flash attention).
    Default: `f16`."""
    load_timeout: Duration | None = None
    """`OLLAMA_LOAD_TIMEOUT`: how long a model load may stall; raise it for large models. Default: `5m`."""
    extra_env: Annotated[dict[str, str], AfterValidator(_extra_env)] = Field(default_factory=dict)
    """Other environment variables of the server (an escape hatch). Names owned by typed fields, set by
    the library, or no longer read by Ollama are refused. Default: none."""

    @model_validator(mode="after")
    def _consistent(self) -> Ollama:
        if self.kv_cache_type not in (None, "f16") and self.flash_attention is False:
            raise ValueError(f"kvCacheType {self.kv_cache_type} needs flash attention; drop flashAttention: false")
        return self


class IssuerRef(LeafModel):
    """A cert-manager issuer."""

    kind: Literal["Issuer", "ClusterIssuer"] = "ClusterIssuer"
    """`Issuer` (in the leaf's namespace) or `ClusterIssuer`. Default: `ClusterIssuer`."""
    name: DnsLabel
    """The issuer's name."""


class Tls(LeafModel):
    """TLS of the public host."""

    issuer_ref: IssuerRef | None = None
    """The cert-manager issuer of the host's certificate. Default: the platform's issuer."""


class ParentRef(LeafModel):
    """A shared Gateway to attach the route to."""

    name: DnsLabel
    """The Gateway's name."""
    namespace: DnsLabel
    """The Gateway's namespace."""
    section_name: DnsLabel | None = None
    """The listener (its HTTPS listener). Default: every listener that admits the route."""


class GatewayClass(LeafModel):
    """The Gateway that exposes the service: a dedicated one of a class, or a shared one."""

    class_name: DnsLabel | None = None
    """GatewayClass of a dedicated Gateway. Default: the platform's class."""
    parent_ref: ParentRef | None = None
    """Attach to this shared Gateway instead (no Gateway or Certificate of our own). Default: the platform's
    shared Gateway if it has one, else a dedicated Gateway."""

    @model_validator(mode="after")
    def _one(self) -> GatewayClass:
        if self.class_name is not None and self.parent_ref is not None:
            raise ValueError("give either 'className' (a dedicated Gateway) or 'parentRef' (a shared one), not both")
        return self


class Auth(LeafModel):
    """Who may call the API through the Gateway."""

    mode: Literal["apiKey", "none"]
    """`apiKey`: `Authorization: Bearer <key>` with a key from the Secret; `none`: anyone who reaches the
    host (refused in `prod`)."""
    secret_name: DnsSubdomain | None = None
    """With `apiKey`: the Secret holding the keys, one per line under the key `api-keys`.
    Default: `<serviceName>-api-keys`."""

    @model_validator(mode="after")
    def _secret_with_api_key(self) -> Auth:
        if self.mode == "none" and self.secret_name is not None:
            raise ValueError("secretName goes with mode apiKey")
        return self


class Ingress(LeafModel):
    """Exposure through the Gateway API, with TLS."""

    enabled: bool = False
    """Expose the service on `host` over HTTPS. Default: `false` (cluster-internal only)."""
    host: HostName | None = None
    """The public DNS name; required when `enabled`. Default: none."""
    gateway: GatewayClass = GatewayClass()
    """The Gateway to use. Default: a dedicated Gateway of the platform's class."""
    tls: Tls = Tls()
    """Certificate settings. Default: the platform's issuer."""
    timeout_seconds: int | None = Field(default=None, ge=1, le=86_400)
    """Request timeout, long enough for streamed answers. Default: the platform's value (600)."""
    auth: Auth | None = None
    """Who may call the API from outside. Default: `apiKey` with the Secret `<serviceName>-api-keys`;
    `{mode: none}` must be written explicitly."""

    @model_validator(mode="after")
    def _host_when_enabled(self) -> Ingress:
        if self.enabled and not self.host:
            raise ValueError("host is required when ingress is enabled")
        return self


_TRIPLE_QUOTE = '"""'
ParameterValue = str | int | float | bool


class CustomModel(LeafModel):
    """A model built at start-up from a Modelfile: generated from `from` (+ `system`, `template`,
    `parameters`) or given literally as `modelfile`."""

    name: ModelRef
    """Name of the model clients will use, e.g. `support-bot` (`:latest` is added)."""
    from_: ModelEntry | None = Field(default=None, alias="from")
    """The base model, pulled explicitly first (so registry settings and pins apply). Default: none
    (then `modelfile` is required)."""
    system: str | None = None
    """The system prompt. Default: the base model's."""
    template: str | None = None
    """The prompt template (Go template syntax). Default: the base model's."""
    parameters: dict[str, ParameterValue | list[ParameterValue]] | None = None
    """Modelfile PARAMETERs, e.g. `{temperature: 0.2, stop: ["<|end|>"]}`. Default: the base model's."""
    modelfile: str | None = None
    """A literal Modelfile; its FROM must name a model of `models` (or a file-less base). Default: none."""

    @model_validator(mode="after")
    def _one_source(self) -> CustomModel:
        if (self.from_ is None) == (self.modelfile is None):
            raise ValueError("give either 'from' (with optional system, template, parameters) or 'modelfile'")
        if self.modelfile is not None and (self.system or self.template or self.parameters):
            raise ValueError("'system', 'template' and 'parameters' go with 'from', not with a literal 'modelfile'")
        if self.modelfile is not None and not re.search(r"(?im)^\s*FROM\s+\S", self.modelfile):
            raise ValueError("the modelfile needs a FROM line")
        for field in ("system", "template"):
            if _TRIPLE_QUOTE in (getattr(self, field) or ""):
                raise ValueError(f"{field} cannot contain {_TRIPLE_QUOTE} (the Modelfile quoting)")
        return self


class CaBundle(LeafModel):
    """A CA certificate bundle in a Secret."""

    secret_name: DnsSubdomain
    """The Secret in the leaf's namespace."""
    key: DataKey = "ca.crt"
    """The key of the PEM bundle in the Secret. Default: `ca.crt`."""


class BlobStore(LeafModel):
    """Where an internal registry's blob downloads go: Ollama accepts a blob GET only when it is answered
    with a 307 redirect to another host (an S3 bucket, MinIO, a CDN), so the pods connect there too."""

    ports: Annotated[tuple[Annotated[int, Field(ge=1, le=65535)], ...], Field(min_length=1)] = (443, 9000)
    """TCP ports of the blob store. Default: `443` and `9000` (S3 and most CDNs; MinIO's default port)."""
    cidrs: tuple[Cidr, ...] = ()
    """Its addresses, when known, IPv4 or IPv6 (e.g. `10.20.0.0/24`). Default: any address."""
    namespace: DnsLabel | None = None
    """The namespace it runs in, when it runs in the cluster (e.g. MinIO): its pods are then allowed by
    namespace too, which Cilium needs (it never matches pod addresses with an address rule). Default: none."""


class Registry(LeafModel):
    """An internal Ollama registry to pull models from instead of registry.ollama.ai."""

    host: HostPort
    """`host[:port]` of the registry, e.g. `models.corp:5000`."""
    insecure: bool = False
    """Plain HTTP (not "skip TLS verification": Ollama has no such switch). Default: `false`."""
    ca_bundle: CaBundle | None = None
    """The CA that signed the registry's certificate, when it is private. Default: the image's CAs."""
    namespace: DnsLabel | None = None
    """The namespace the registry runs in, when it runs in the cluster: its pods are then allowed by
    namespace too (Cilium never matches pod addresses with an address rule). Default: none (any address)."""
    blob_store: BlobStore = BlobStore()
    """Where the registry redirects blob downloads. Default: ports 443 and 9000 at any address."""


class Persistence(LeafModel):
    """Keep the models on a PersistentVolumeClaim across restarts."""

    enabled: bool = False
    """Use a claim instead of an emptyDir. Default: `false`."""
    size: Quantity | Literal["auto"] | None = None
    """Claim size, or `auto` to size it from the models (twice their download size). Default: `auto`
    (not allowed with `existingClaim`)."""
    storage_class: DnsSubdomain | None = None
    """StorageClass of the claim. Default: the platform's, else the cluster's default class."""
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany"] = "ReadWriteOnce"
    """`ReadWriteOnce`: one claim per replica (a StatefulSet when there are several). `ReadWriteMany`: one
    claim shared by every replica. Default: `ReadWriteOnce`."""
    existing_claim: DnsSubdomain | None = None
    """Use this claim instead of creating one. Default: a claim `<serviceName>-models` is created."""

    @model_validator(mode="after")
    def _claim_or_size(self) -> Persistence:
        if self.existing_claim and self.size is not None:
            raise ValueError("'size' cannot be given with 'existingClaim' (the existing claim has its size)")
        if self.existing_claim and self.storage_class:
            raise ValueError("'storageClass' cannot be given with 'existingClaim'")
        return self


class Autoscaling(LeafModel):
    """Scale on request queue depth (KEDA HTTP add-on), not on CPU."""

    enabled: bool = False
    """Scale the server between `minReplicas` and `maxReplicas`. Default: `false` (`container.replicas`)."""
    min_replicas: int = Field(default=1, ge=0, le=1000)
    """Fewest replicas; `0` allows scale to zero: the interceptor holds the first request while a replica
    starts, and with `preload` the replica is Ready (and gets the request) only once the primary model is
    loaded. Default: `1`."""
    max_replicas: int = Field(default=3, ge=1, le=1000)
    """Most replicas. Default: `3`."""
    target_pending_requests: int | None = Field(default=None, ge=1, le=10_000)
    """Requests in flight per replica above which a replica is added. Default: `ollama.numParallel`
    (what one replica answers at once)."""

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"maxReplicas ({self.max_replicas}) is below minReplicas ({self.min_replicas})")
        return self


class CatalogLeaf(LeafModel):
    """One Ollama inference service, as a service team asks for it."""

    workload_type: Literal["OLLAMA_INFERENCE_LOAD"]
    """Always `OLLAMA_INFERENCE_LOAD`; leaves of other types are skipped."""
    service_name: ServiceName
    """Base name of every object (a DNS label of at most 47 characters). Renaming it makes a new service."""
    service_catalog: Annotated[LabelValue, Field(min_length=1)]
    """The catalog the service belongs to (label `app.kubernetes.io/part-of`)."""
    namespace: DnsLabel
    """Namespace of every namespaced object."""
    environment: Literal["dev", "test", "staging", "prod"]
    """Deployment stage: `dev`, `test`, `staging` or `prod`."""
    owner: Annotated[LabelValue, Field(min_length=1)] | None = None
    """Team that owns the service (label `owner`). Default: none."""
    model: ModelEntry | None = None
    """One model to serve: shorthand for `models: [<model>]`. Give `model` or `models`, not both."""
    models: Annotated[tuple[ModelEntry, ...], Field(min_length=1)] | None = None
    """Every model the server must hold; the first is the primary (readiness, preload)."""
    custom_models: tuple[CustomModel, ...] = ()
    """Models built at start-up from Modelfiles. Default: none."""
    preload: bool = True
    """Load the primary model before the pod is Ready, and keep it loaded. Default: `true`."""
    registry: Registry | None = None
    """Pull models from an internal registry. Default: the platform's registry, else registry.ollama.ai."""
    remove_unlisted_models: bool = False
    """Let the model manager delete models that are on the volume but no longer listed (hot-swap).
    Default: `false` (models are only added)."""
    persistence: Persistence = Persistence()
    """Where the models are kept. Default: an emptyDir (models are pulled again when a pod is replaced)."""
    ollama: Ollama = Ollama()
    """Settings of the Ollama server. Default: the platform's."""
    gpu: Gpu = Gpu()
    """GPUs per replica. Default: none (CPU only)."""
    preset: Literal["small", "medium", "large", "auto"] | None = None
    """Resources sized from the models: fixed `small`, `medium`, `large`, or `auto` (from the known sizes
    of the models). Default: `auto` when `container.resources` is absent."""
    container: Container = Container()
    """Replicas and resources. Default: one replica with the platform's resources."""
    ingress: Ingress = Ingress()
    """Public exposure. Default: not exposed."""
    autoscaling: Autoscaling = Autoscaling()
    """Scaling on request queue depth. Default: off."""

    @model_validator(mode="after")
    def _model_or_models(self) -> CatalogLeaf:
        if self.model is not None and self.models is not None:
            raise ValueError("give either 'model' or 'models', not both")
        if self.model is None and self.models is None:
            raise ValueError("one of 'model' or 'models' is required")
        names = self.model_names + tuple(c.name for c in self.custom_models)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"models are listed twice: {', '.join(duplicates)}")
        if self.preset is not None and self.container.resources is not None and self.container.resources.sets_compute:
            raise ValueError("give either 'preset' or 'container.resources' cpu and memory, not both")
        if self.preload and self.ollama.keep_alive is not None and str(self.ollama.keep_alive) not in ("-1", "-1m", "-1s", "-1h"):
            raise ValueError(
                f"ollama.keepAlive {self.ollama.keep_alive} would unload the preloaded primary model and the pod "
                "would never be Ready again; use -1 or set preload: false"
            )
        persistence = self.persistence
        if (
            persistence.enabled
            and persistence.existing_claim
            and persistence.access_mode == "ReadWriteOnce"
            and self.most_replicas > 1
        ):
            raise ValueError(
                f"persistence.existingClaim '{persistence.existing_claim}' is ReadWriteOnce and cannot be shared by "
                f"{self.most_replicas} replicas; use accessMode ReadWriteMany, one replica, or no existingClaim "
                "(then each replica gets a claim)"
            )
        pins = {m.name: m.digest for m in self.pinned_models}
        for index, custom in enumerate(self.custom_models):
            base = custom.from_
            if base is not None and base.name in pins and base.digest is not None and base.digest != pins[base.name]:
                raise ValueError(
                    f"customModels[{index}].from pins {base.name} to another digest than the models list does"
                )
        return self

    @property
    def most_replicas(self) -> int:
        """The most pods the server can have: `autoscaling.maxReplicas` when autoscaled, else `container.replicas`."""
        return self.autoscaling.max_replicas if self.autoscaling.enabled else self.container.replicas

    @property
    def pinned_models(self) -> tuple[PinnedModel, ...]:
        """Every model entry, the primary first."""
        if self.models is not None:
            return self.models
        return (self.model,) if self.model is not None else ()

    @property
    def model_names(self) -> tuple[str, ...]:
        """Every model's normalized name, the primary first."""
        return tuple(m.name for m in self.pinned_models)

    @property
    def model_fields_path(self) -> str:
        """The leaf field that lists the models (`model` or `models`), for messages."""
        return "models" if self.models is not None else "model"

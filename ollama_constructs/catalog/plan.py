"""What a leaf resolves to: its sizing, and the facts `ollama-constructs plan` prints (in words, or as JSON).

A plan is data: per leaf, a list of :class:`Fact` (a stable key, a label, the fact in words, its value as
JSON, and where it came from). Each fact comes from one function registered with :func:`fact`, in the order
they are printed; a new fact is a new registered function, and it appears in the text, the JSON and the
plan's JSON Schema (`schema/plan.schema.json`) at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..model_reference import DEFAULT_HOST
from .leaf import CatalogLeaf
from .loader import Catalog, LoadedLeaf
from .platform import GATEWAY_IMPLEMENTATIONS, certificate_setup, gateway_data_plane
from .sizing import (
    DOWNLOAD_BYTES_PER_SECOND,
    LOAD_BYTES_PER_SECOND,
    SizingPlan,
    _gb,
    _gib,
    _params,
    known_model,
    plan_sizing,
    startup_timeout_seconds,
)
from .timeouts import leaf_timeouts


def sized_models(leaf: CatalogLeaf) -> tuple[str, ...]:
    """The models that are downloaded: the leaf's, then the bases of its custom models."""
    names = list(leaf.model_names)
    names += [c.from_.name for c in leaf.custom_models if c.from_ is not None and c.from_.name not in names]
    return tuple(names)


def served_model_count(leaf: CatalogLeaf) -> int:
    """How many models clients can use (pulled and custom)."""
    return len(sized_models(leaf)) + len(leaf.custom_models)


def leaf_sizing(leaf: CatalogLeaf) -> SizingPlan:
    """The sizing of a leaf with its platform defaults applied.

    Raises:
        SizingError: when the leaf leaves a size to the library (`preset: auto`, `persistence.size: auto`)
            and a model's size is not known.
    """
    ollama = leaf.ollama
    resources = leaf.container.resources
    return plan_sizing(
        sized_models(leaf),
        preset=None if resources is not None and resources.sets_compute else (leaf.preset or "auto"),
        volume_auto=leaf.persistence.enabled and leaf.persistence.size == "auto",
        context_length=ollama.context_length or 4096,
        num_parallel=ollama.num_parallel or 1,
        kv_cache_type=ollama.kv_cache_type or "f16",
        flash_attention=ollama.flash_attention,
        gpu_count=leaf.gpu.count,
        max_loaded_models=ollama.max_loaded_models or served_model_count(leaf),
        # Node disk (sizing.disk_sizing): the models are in an emptyDir unless persistence is on.
        models_in_empty_dir=not leaf.persistence.enabled,
        ephemeral_storage_request=None if resources is None else resources.requests.ephemeral_storage,
        ephemeral_storage_limit=None if resources is None else resources.limits.ephemeral_storage,
    )


def preload_timeout_seconds(leaf: CatalogLeaf) -> int:
    """The budget to start the server and load the primary model (the startup probe and the preload).

    It depends on the primary model only, so adding other models to a hot-swapped list leaves the pod
    template as it is.
    """
    known = known_model(leaf.model_names[0])
    return startup_timeout_seconds(None if known is None else known.download_bytes)



Source = Literal["leaf", "platform", "default", "models", "preset"]
"""Where a fact's value came from: written in the `leaf`; filled from the `platform` defaults (the file, or
the built-in ones); the library's `default`; derived from the `models`' known sizes; a fixed `preset`."""

SOURCE_WORDS: dict[str, str] = {
    "leaf": "",
    "platform": "platform default",
    "default": "default",
    "models": "",
    "preset": "",
}
"""How the text marks a fact's source (the text of a derived fact says itself how it was derived)."""

PLAN_FORMAT_VERSION = 1
"""The version of the JSON shape; it changes only when a key or a value's shape changes incompatibly."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing a leaf resolves to."""

    key: str
    """Stable identifier, e.g. `resources` (see `FACTS` and schema/plan.schema.json)."""
    label: str
    """What the fact is about, in words, e.g. `resources` or `model phi:latest`."""
    text: str
    """The fact in words."""
    value: Any
    """The fact as JSON data (its shape per key: schema/plan.schema.json)."""
    source: Source | None = None
    """Where the value came from; None when it has several parts with their own sources."""

    def line(self) -> str:
        origin = SOURCE_WORDS.get(self.source or "leaf", "")
        return f"{self.label}: {self.text}" + (f" ({origin})" if origin else "")

    def to_json(self) -> dict[str, Any]:
        data = {"key": self.key, "label": self.label, "text": self.text, "value": self.value}
        if self.source is not None:
            data["source"] = self.source
        return data


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What the fact functions read: the leaf as written, as resolved, and its sizing."""

    loaded: LoadedLeaf
    sizing: SizingPlan

    @property
    def leaf(self) -> CatalogLeaf:
        return self.loaded.leaf

    @property
    def resolved(self) -> CatalogLeaf:
        return self.loaded.resolved


FactFunction = Callable[[PlanContext], Iterable[Fact]]


@dataclass(frozen=True, slots=True)
class FactKind:
    """A registered fact: its key, what its value holds (JSON Schema), and the function that makes it."""

    key: str
    description: str
    value_schema: dict[str, Any]
    make: FactFunction


FACTS: list[FactKind] = []
"""Every kind of fact, in the order `plan` prints them."""


def fact(key: str, description: str, value_schema: dict[str, Any]) -> Callable[[FactFunction], FactFunction]:
    """Register a fact function (it yields the facts of its `key` for one leaf, or none)."""

    def register(make: FactFunction) -> FactFunction:
        FACTS.append(FactKind(key, description, value_schema, make))
        return make

    return register


def _source(own: object) -> Source:
    """`leaf` when the leaf set the field itself, else `platform`."""
    return "leaf" if own is not None else "platform"


_STR = {"type": "string"}
_INT = {"type": "integer"}
_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_STR = {"type": ["string", "null"]}


def _object(properties: dict[str, Any], required: Sequence[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
    }


# --------------------------------------------------------------------------- the facts, in order


@fact(
    "model",
    "One model the server holds (pulled, or built from a Modelfile), the primary first; sizes in bytes, null "
    "when the model's size is not known.",
    _object(
        {
            "name": _STR,
            "role": {"enum": ["primary", "model", "custom", "base of a custom model"]},
            "pinned": {"type": "boolean"},
            "downloadBytes": _NULLABLE_INT,
            "parameters": _NULLABLE_INT,
            "kvCacheBytes": _NULLABLE_INT,
            "memoryBytes": _NULLABLE_INT,
            "resident": {"type": "boolean"},
        }
    ),
)
def _models(c: PlanContext) -> Iterator[Fact]:
    pinned = {m.name for m in c.resolved.pinned_models if m.pinned}
    listed = set(c.resolved.model_names)
    for index, m in enumerate(c.sizing.models):
        role = "primary" if index == 0 else ("model" if m.name in listed else "base of a custom model")
        known = m.known
        if known is None:
            words = "size unknown"
        else:
            capped = " (its trained context)" if (m.context_tokens or 0) < c.sizing.context_length else ""
            use = "embeddings" if known.embedding else f"{_gib(m.kv_cache_bytes)} KV cache at {m.context_tokens} tokens{capped}"
            words = (
                f"{_gb(known.download_bytes)} download, {_params(known.parameters)} parameters, {use}, "
                f"{_gib(m.memory_bytes)} when loaded"
            )
        words += ", stays loaded" if m.resident else ", loaded on demand"
        words += ", pinned to its digest" if m.name in pinned else ""
        yield Fact(
            "model",
            f"{role} {m.name}" if role != "model" else f"model {m.name}",
            words,
            {
                "name": m.name,
                "role": role,
                "pinned": m.name in pinned,
                "downloadBytes": None if known is None else known.download_bytes,
                "parameters": None if known is None else known.parameters,
                "kvCacheBytes": m.kv_cache_bytes,
                "memoryBytes": m.memory_bytes,
                "resident": m.resident,
            },
            "leaf",
        )
    for custom in c.resolved.custom_models:
        base = custom.from_.name if custom.from_ is not None else "the FROM of its Modelfile"
        yield Fact(
            "model",
            f"custom {custom.name}",
            f"built at start-up from {base}",
            {"name": custom.name, "role": "custom", "pinned": False, "downloadBytes": None, "parameters": None,
             "kvCacheBytes": None, "memoryBytes": None, "resident": True},
            "leaf",
        )


@fact(
    "serving",
    "How the server serves: context window in tokens, requests at once per model, KV cache type, how many "
    "models stay loaded at once, and how long an idle model stays loaded (`-1`: forever).",
    _object(
        {
            "contextLength": _INT,
            "numParallel": _INT,
            "kvCacheType": {"enum": ["f16", "q8_0", "q4_0"]},
            "maxLoadedModels": _INT,
            "keepAlive": _STR,
            "preload": {"type": "boolean"},
        }
    ),
)
def _serving(c: PlanContext) -> Iterator[Fact]:
    s, ollama, leaf = c.sizing, c.resolved.ollama, c.leaf
    keep_alive = str(ollama.keep_alive) if ollama.keep_alive is not None else ("-1" if c.resolved.preload else "5m")
    kept = "forever" if keep_alive.startswith("-") else f"for {keep_alive} when idle"
    preload = "the primary model is loaded before the pod is Ready" if c.resolved.preload else "models load on the first request"
    parts = [
        f"{s.context_length}-token context" + ("" if leaf.ollama.context_length else " (platform default)"),
        f"{s.num_parallel} request{'s' if s.num_parallel > 1 else ''} at a time per model"
        + ("" if leaf.ollama.num_parallel else " (platform default)"),
        f"KV cache {s.kv_cache_type}",
        f"at most {s.max_loaded_models} model{'s' if s.max_loaded_models > 1 else ''} loaded at once",
        f"a model stays loaded {kept}",
        preload,
    ]
    yield Fact(
        "serving",
        "serving",
        "; ".join(parts),
        {
            "contextLength": s.context_length,
            "numParallel": s.num_parallel,
            "kvCacheType": s.kv_cache_type,
            "maxLoadedModels": s.max_loaded_models,
            "keepAlive": keep_alive,
            "preload": c.resolved.preload,
        },
    )


@fact(
    "memoryEstimate",
    "Memory the resident models need (weights, KV cache, 1 GiB overhead each), in bytes; null when a size is "
    "unknown.",
    _NULLABLE_INT,
)
def _memory(c: PlanContext) -> Iterator[Fact]:
    estimate = c.sizing.memory_estimate_bytes
    words = "unknown (a model's size is not known)" if estimate is None else (
        f"{_gib(estimate)} for the models that stay loaded (weights, KV cache, 1 GiB overhead each)"
    )
    yield Fact("memoryEstimate", "memory estimate", words, estimate)


_AMOUNT = _object({"request": _NULLABLE_STR, "limit": _NULLABLE_STR})


@fact(
    "resources",
    "The Ollama container's CPU and memory requests and limits (Kubernetes quantities, null when not set); "
    "`how`: `explicit` (container.resources), a fixed preset (`small`, `medium`, `large`) or `auto` (from the "
    "models' sizes); `recommendedPreset`: the smallest preset that fits the estimate.",
    _object(
        {
            "how": {"enum": ["explicit", "small", "medium", "large", "auto"]},
            "cpu": _AMOUNT,
            "memory": _AMOUNT,
            "recommendedPreset": _NULLABLE_STR,
        }
    ),
)
def _resources(c: PlanContext) -> Iterator[Fact]:
    explicit = c.resolved.container.resources
    if explicit is not None:
        cpu = (explicit.requests.cpu, explicit.limits.cpu)
        memory = (explicit.requests.memory, explicit.limits.memory)
        how, source, origin = "explicit", "leaf", "explicit (container.resources)"
    else:
        sized = c.sizing.resources
        assert sized is not None  # a preset, or auto from known sizes (checked when loaded)
        cpu, memory = (sized.cpu_request, sized.cpu_limit), (sized.memory_request, sized.memory_limit)
        how = c.sizing.preset or "auto"
        source = "models" if how == "auto" else "preset"
        origin = "auto" if how == "auto" else f"preset {how}"
        if c.leaf.preset is None:
            origin += ", as no container.resources are given"

    def pair(name: str, amounts: tuple[Any, Any]) -> str:
        request, limit = (None if v is None else str(v) for v in amounts)
        return f"{name} request {request or 'none'}, limit {limit or 'none'}"

    recommended = c.sizing.recommended_preset if c.sizing.memory_estimate_bytes is not None else None
    words = f"{origin}: {pair('CPU', cpu)}; {pair('memory', memory)}"
    if recommended and recommended != how:
        words += f"; the preset that fits the estimate is {recommended}"
    yield Fact(
        "resources",
        "resources",
        words,
        {
            "how": how,
            "cpu": {"request": None if cpu[0] is None else str(cpu[0]), "limit": None if cpu[1] is None else str(cpu[1])},
            "memory": {
                "request": None if memory[0] is None else str(memory[0]),
                "limit": None if memory[1] is None else str(memory[1]),
            },
            "recommendedPreset": recommended,
        },
        source,
    )


@fact(
    "gpu",
    "GPUs per replica and the nodes they select: the extended resource, count, product and family labels, "
    "the least GPU memory in GiB (null: any), the RuntimeClass; count 0 means CPU only.",
    _object(
        {
            "count": _INT,
            "resource": _NULLABLE_STR,
            "product": _NULLABLE_STR,
            "family": _NULLABLE_STR,
            "minMemoryGiB": _NULLABLE_INT,
            "runtimeClassName": _NULLABLE_STR,
        }
    ),
)
def _gpu(c: PlanContext) -> Iterator[Fact]:
    gpu = c.resolved.gpu
    if not gpu.count:
        yield Fact(
            "gpu", "GPU", "none: CPU only, and the pod sees no GPU",
            {"count": 0, "resource": None, "product": None, "family": None, "minMemoryGiB": None, "runtimeClassName": None},
            "default" if c.leaf.gpu.count == 0 else "leaf",
        )
        return
    resource = gpu.resource_name or ("amd.com/gpu" if gpu.vendor == "amd" else "nvidia.com/gpu")
    memory = gpu.min_memory_gib
    memory_source = "the leaf's minMemoryGiB"
    if memory is None and gpu.vendor == "nvidia" and gpu.resource_name is None:
        memory, memory_source = c.sizing.gpu_min_memory_gib, "what the models need"
    parts = [f"{gpu.count} × {resource} per replica"]
    parts += [f"{name} {value}" for name, value in (("product", gpu.product), ("family", gpu.family)) if value]
    if memory:
        parts.append(f"on nodes whose GPUs have at least {memory} GiB ({memory_source})")
    if gpu.runtime_class_name:
        parts.append(f"RuntimeClass {gpu.runtime_class_name}")
    yield Fact(
        "gpu",
        "GPU",
        ", ".join(parts),
        {
            "count": gpu.count,
            "resource": resource,
            "product": gpu.product,
            "family": gpu.family,
            "minMemoryGiB": memory,
            "runtimeClassName": gpu.runtime_class_name,
        },
        "leaf",
    )


@fact(
    "replicas",
    "Pods of the server: a fixed number, or autoscaled between min and max (the KEDA HTTP add-on, on requests "
    "in flight per replica).",
    _object(
        {
            "autoscaled": {"type": "boolean"},
            "replicas": _NULLABLE_INT,
            "min": _NULLABLE_INT,
            "max": _NULLABLE_INT,
            "targetPendingRequests": _NULLABLE_INT,
        }
    ),
)
def _replicas(c: PlanContext) -> Iterator[Fact]:
    scaling = c.resolved.autoscaling
    if not scaling.enabled:
        count = c.resolved.container.replicas
        yield Fact(
            "replicas", "replicas", f"{count}, not autoscaled",
            {"autoscaled": False, "replicas": count, "min": None, "max": None, "targetPendingRequests": None},
            "leaf" if "replicas" in c.leaf.container.model_fields_set else "default",
        )
        return
    target = scaling.target_pending_requests or c.resolved.ollama.num_parallel or 1
    yield Fact(
        "replicas",
        "replicas",
        f"autoscaled from {scaling.min_replicas} to {scaling.max_replicas} by the KEDA HTTP add-on, one more "
        f"replica above {target} request{'s' if target > 1 else ''} in flight per replica"
        + ("" if scaling.target_pending_requests else " (numParallel)"),
        {"autoscaled": True, "replicas": None, "min": scaling.min_replicas, "max": scaling.max_replicas,
         "targetPendingRequests": target},
        "leaf",
    )


@fact(
    "volume",
    "Where the models are kept: an emptyDir, or a claim (its name, size, access mode and StorageClass, null "
    "for the cluster's default class).",
    _object(
        {
            "kind": {"enum": ["emptyDir", "claim", "claimPerReplica", "existingClaim"]},
            "claim": _NULLABLE_STR,
            "size": _NULLABLE_STR,
            "accessMode": _NULLABLE_STR,
            "storageClass": _NULLABLE_STR,
        }
    ),
)
def _volume(c: PlanContext) -> Iterator[Fact]:
    p = c.resolved.persistence
    if not p.enabled:
        yield Fact(
            "volume", "model volume", "an emptyDir: every new pod pulls the models again",
            {"kind": "emptyDir", "claim": None, "size": None, "accessMode": None, "storageClass": None},
            "default",
        )
        return
    per_replica = p.access_mode == "ReadWriteOnce" and c.resolved.most_replicas > 1 and not p.existing_claim
    if p.existing_claim:
        words = f"the existing claim {p.existing_claim}, {p.access_mode}"
        value = {"kind": "existingClaim", "claim": p.existing_claim, "size": None, "accessMode": p.access_mode,
                 "storageClass": None}
    else:
        size = c.sizing.volume_size if p.size == "auto" else str(p.size)
        sized = " (twice the models' download size)" if p.size == "auto" else ""
        klass = p.storage_class or "the cluster's default"
        klass_origin = "" if c.leaf.persistence.storage_class or not p.storage_class else " (platform default)"
        if per_replica:
            where = f"a claim of {size}{sized} per replica (the StatefulSet's claim template models)"
        else:
            shared = ", shared by every replica" if p.access_mode == "ReadWriteMany" else ""
            where = f"the claim {c.resolved.service_name}-models of {size}{sized}{shared}"
        words = f"{where}, {p.access_mode}, StorageClass {klass}{klass_origin}"
        value = {"kind": "claimPerReplica" if per_replica else "claim",
                 "claim": None if per_replica else f"{c.resolved.service_name}-models", "size": size,
                 "accessMode": p.access_mode, "storageClass": p.storage_class}
    yield Fact("volume", "model volume", words, value, "leaf")


@fact(
    "timeBudgets",
    "Seconds Kubernetes waits: `rollout` is the Deployment's progressDeadlineSeconds (image pull, the first "
    "download, start-up), `startup` the startup probe's and the preload's budget for loading the primary model.",
    _object({"rollout": _INT, "startup": _INT, "basis": _STR}),
)
def _time_budgets(c: PlanContext) -> Iterator[Fact]:
    s = c.sizing
    if s.download_bytes is None:
        basis = "a model's size is unknown, so the longest budgets"
    else:
        basis = (
            f"{_gb(s.download_bytes)} downloaded at {DOWNLOAD_BYTES_PER_SECOND // 1_000_000} MB/s, "
            f"loaded at {LOAD_BYTES_PER_SECOND // 1_000_000} MB/s"
        )
    startup = preload_timeout_seconds(c.resolved)
    yield Fact(
        "timeBudgets",
        "time budgets",
        f"a rollout may take {s.progress_deadline_seconds} s (progressDeadlineSeconds), loading the primary model "
        f"{startup} s (startup probe and the first warm-up); {basis}",
        {"rollout": s.progress_deadline_seconds, "startup": startup, "basis": basis},
    )


@fact(
    "timeouts",
    "Every time bound of a request, from one rule (ollama_constructs/catalog/timeouts.py): `answer` is "
    "ingress.timeoutSeconds, `coldStart` how long the autoscaler's interceptor holds a request for a ready replica "
    "(0 when not autoscaled), `request` the route's and the auth proxy's timeouts (their sum), `drain` how long a "
    "stopping pod serves the answers in flight, `grace` its terminationGracePeriodSeconds; `routeTimeoutsIgnored` "
    "says why the Gateway implementation does not apply the route's timeouts, or is null.",
    _object(
        {
            "answer": _INT,
            "coldStart": _INT,
            "request": _INT,
            "drain": _INT,
            "grace": _INT,
            "routeTimeoutsIgnored": _NULLABLE_STR,
        }
    ),
)
def _timeouts(c: PlanContext) -> Iterator[Fact]:
    t = leaf_timeouts(c.resolved, c.sizing)
    own = c.leaf
    parts = [f"an answer may take {t.answer_seconds} s (ingress.timeoutSeconds"
             + (")" if own.ingress.timeout_seconds is not None else ", platform default)")]
    if t.cold_start_seconds:
        parts.append(
            f"the autoscaler's interceptor holds a request up to {t.cold_start_seconds} s for a ready replica "
            f"(conditionWait: a pull and a load) and waits {t.response_header_seconds} s for an answer's headers"
        )
    ignored = None
    if c.resolved.ingress.enabled:
        gateway = c.resolved.ingress.gateway
        class_name = gateway.class_name or c.loaded.platform.ingress.gateway_class_name
        known = GATEWAY_IMPLEMENTATIONS.get(class_name)
        ignored = known.route_timeouts if known is not None else None
        auth = c.resolved.ingress.auth
        through = "the route and the auth proxy allow" if auth is not None and auth.mode == "apiKey" else "the route allows"
        parts.append(f"{through} {t.request_seconds} s")
        if ignored:
            parts.append(f"but class {class_name} ({known.name}) {ignored}")  # type: ignore[union-attr]
    drain_source = "container.drainSeconds" if own.container.drain_seconds is not None else "the answer's bound"
    parts.append(
        f"a stopping pod serves the answers in flight up to {t.drain_seconds} s ({drain_source}), "
        f"terminationGracePeriodSeconds {t.grace_seconds}"
    )
    yield Fact(
        "timeouts", "timeouts", "; ".join(parts),
        {"answer": t.answer_seconds, "coldStart": t.cold_start_seconds, "request": t.request_seconds,
         "drain": t.drain_seconds, "grace": t.grace_seconds, "routeTimeoutsIgnored": ignored},
    )


@fact("image", "The Ollama image.", _STR)
def _image(c: PlanContext) -> Iterator[Fact]:
    image = c.resolved.ollama.image or ""
    rocm = ", the ROCm variant for the AMD GPU" if c.leaf.ollama.image is None and image.endswith("-rocm") else ""
    yield Fact("image", "image", image + rocm, image, _source(c.leaf.ollama.image))


@fact(
    "registry",
    "Where models are pulled from: `host` (registry.ollama.ai, or an internal registry), plain HTTP or not, "
    "and the Secret of a private CA.",
    _object({"host": _STR, "insecure": {"type": "boolean"}, "caSecret": _NULLABLE_STR}),
)
def _registry(c: PlanContext) -> Iterator[Fact]:
    registry = c.resolved.registry
    if registry is None:
        yield Fact("registry", "registry", DEFAULT_HOST, {"host": DEFAULT_HOST, "insecure": False, "caSecret": None}, "default")
        return
    ca = registry.ca_bundle
    words = registry.host + (", plain HTTP" if registry.insecure else ", HTTPS")
    if ca:
        words += f", CA from Secret {ca.secret_name} (key {ca.key})"
    words += "; models of registry.ollama.ai are pulled from it and copied to their short names"
    yield Fact(
        "registry", "registry", words,
        {"host": registry.host, "insecure": registry.insecure, "caSecret": ca.secret_name if ca else None},
        _source(c.leaf.registry),
    )


@fact(
    "exposure",
    "Whether and where the service is public: the host, the Gateway (a dedicated one of `gatewayClass`, or "
    "the shared `parentRef`), the certificate's issuer (a dedicated Gateway only), the request timeout in "
    "seconds; null values when not exposed.",
    _object(
        {
            "exposed": {"type": "boolean"},
            "url": _NULLABLE_STR,
            "gatewayClass": _NULLABLE_STR,
            "parentRef": {"type": ["string", "null"]},
            "issuer": _NULLABLE_STR,
            "timeoutSeconds": _NULLABLE_INT,
        }
    ),
)
def _exposure(c: PlanContext) -> Iterator[Fact]:
    ingress, own = c.resolved.ingress, c.leaf.ingress
    if not ingress.enabled:
        url = f"http://{c.resolved.service_name}.{c.resolved.namespace}.svc"
        yield Fact(
            "exposure", "exposure", f"cluster-internal only, at {url}",
            {"exposed": False, "url": None, "gatewayClass": None, "parentRef": None, "issuer": None, "timeoutSeconds": None},
            "default" if not own.enabled else "leaf",
        )
        return
    gateway = ingress.gateway
    origin = lambda own_value: "" if own_value is not None else " (platform default)"  # noqa: E731
    parts = [f"https://{ingress.host}"]
    issuer = None
    if gateway.parent_ref is not None:
        ref = gateway.parent_ref
        parent = f"{ref.namespace}/{ref.name}" + (f" (listener {ref.section_name})" if ref.section_name else "")
        parts.append(f"a route on the shared Gateway {parent}{origin(own.gateway.parent_ref)}, whose listener holds the certificate")
    else:
        parent = None
        parts.append(f"a dedicated Gateway of class {gateway.class_name}{origin(own.gateway.class_name)}")
        tls = ingress.tls.issuer_ref
        assert tls is not None
        issuer = f"{tls.kind} {tls.name}"
    parts.append(f"{ingress.timeout_seconds} s request timeout{origin(own.timeout_seconds)}")
    yield Fact(
        "exposure", "exposure", ", ".join(parts),
        {"exposed": True, "url": f"https://{ingress.host}", "gatewayClass": gateway.class_name, "parentRef": parent,
         "issuer": issuer, "timeoutSeconds": ingress.timeout_seconds},
    )


@fact(
    "auth",
    "Who may call the public host: `apiKey` (a Bearer key from the Secret `secretName`) or `none`; null mode "
    "when the service is not exposed.",
    _object({"mode": {"enum": ["apiKey", "none", None]}, "secretName": _NULLABLE_STR}),
)
def _auth(c: PlanContext) -> Iterator[Fact]:
    ingress = c.resolved.ingress
    if not ingress.enabled:
        return
    auth = ingress.auth
    assert auth is not None  # the platform defaults give apiKey
    source: Source = "leaf" if c.leaf.ingress.auth is not None else "default"
    if auth.mode == "none":
        yield Fact("auth", "auth", "none: anyone who reaches the host may call the API", {"mode": "none", "secretName": None}, source)
        return
    yield Fact(
        "auth", "auth",
        f"an API key (Authorization: Bearer) from the Secret {auth.secret_name}, one key per line under api-keys",
        {"mode": "apiKey", "secretName": auth.secret_name},
        source,
    )



@fact(
    "certificate",
    "How the host's certificate is issued: `issuer` (a Certificate from an issuer that proves the host "
    "without this Gateway: DNS-01, a CA), `acmeHttp01` (an ACME Issuer made for the leaf, solving HTTP-01 "
    "through its own Gateway) or `sharedGateway` (no Certificate: the shared Gateway's listener holds one).",
    _object({"setup": {"enum": ["issuer", "acmeHttp01", "sharedGateway"]}, "issuer": _NULLABLE_STR}),
)
def _certificate(c: PlanContext) -> Iterator[Fact]:
    setup = certificate_setup(c.leaf, c.loaded.platform)
    if setup is None:
        return
    issuer = f"{setup.issuer_kind} {setup.issuer_name}" if setup.issuer_name else None
    yield Fact("certificate", "certificate", setup.description, {"setup": setup.setup, "issuer": issuer})


@fact(
    "gatewayTraffic",
    "Where the Gateway's proxies connect from, as the NetworkPolicy admits them: a `namespace`, or null when "
    "no namespace selector can match the traffic (Cilium's reserved:ingress identity: the platform must allow "
    "it with a Cilium policy); `target` is the pod the Gateway reaches.",
    _object({"namespace": _NULLABLE_STR, "target": _STR, "reason": _STR}),
)
def _gateway_traffic(c: PlanContext) -> Iterator[Fact]:
    resolved, platform = c.resolved, c.loaded.platform
    plane = gateway_data_plane(resolved, platform)
    if plane is None:
        return
    auth = resolved.ingress.auth
    if auth is not None and auth.mode == "apiKey":
        target = f"the auth proxy {resolved.service_name}-auth (port 8080)"
    elif resolved.autoscaling.enabled:
        target = f"the KEDA interceptor (namespace {platform.autoscaling.interceptor_namespace}, which the platform admits)"
    else:
        target = f"the server {resolved.service_name} (port 11434)"
    if plane.cilium_ingress:
        words = (
            f"{plane.reason}, which no NetworkPolicy namespace selector matches: to reach {target} the platform "
            "must allow it with a CiliumNetworkPolicy fromEntities [ingress] (the README's "
            "CiliumClusterwideNetworkPolicy `ollama-from-cilium-gateways`), or every request is dropped"
        )
    else:
        words = f"{target} admits namespace {plane.namespace} ({plane.reason})"
    yield Fact("gatewayTraffic", "gateway traffic", words, {"namespace": plane.namespace, "target": target, "reason": plane.reason})


@fact(
    "dns",
    "The DNS servers every pod may query on port 53: pods of `namespace` with one of `podLabels`, and the "
    "node-local `addresses`.",
    _object(
        {
            "namespace": _STR,
            "podLabels": {"type": "array", "items": {"type": "object", "additionalProperties": _STR}},
            "addresses": {"type": "array", "items": _STR},
        }
    ),
)
def _dns(c: PlanContext) -> Iterator[Fact]:
    dns = c.loaded.platform.dns
    selectors = "; ".join(",".join(f"{k}={v}" for k, v in labels.items()) for labels in dns.pod_labels)
    addresses = ", ".join(dns.node_local_addresses) or "no address"
    yield Fact(
        "dns", "DNS", f"pods {selectors} in namespace {dns.namespace}, and {addresses} (port 53)",
        {"namespace": dns.namespace, "podLabels": [dict(x) for x in dns.pod_labels], "addresses": list(dns.node_local_addresses)},
        "platform",
    )


@fact(
    "registryEgress",
    "Where the pods may connect to pull models: the registry's `ports` at `cidrs` (empty: public addresses "
    "for registry.ollama.ai, any address for an internal registry), its blob store (the target of Ollama's "
    "307 redirect) on `blobPorts` at `blobCidrs`, and in-cluster `namespaces`.",
    _object(
        {
            "registry": _STR,
            "blobPorts": {"type": "array", "items": _INT},
            "blobCidrs": {"type": "array", "items": _STR},
            "namespaces": {"type": "array", "items": _STR},
        }
    ),
)
def _registry_egress(c: PlanContext) -> Iterator[Fact]:
    registry = c.resolved.registry
    if registry is None:
        yield Fact(
            "registryEgress", "registry egress",
            "port 443 to public IPv4 and IPv6 addresses (registry.ollama.ai and its CDN)",
            {"registry": DEFAULT_HOST, "blobPorts": [443], "blobCidrs": [], "namespaces": []},
            "default",
        )
        return
    blob = registry.blob_store
    where = ", ".join(blob.cidrs) if blob.cidrs else "any address"
    inside = [n for n in (registry.namespace, blob.namespace) if n]
    words = (
        f"{registry.host} at any address; its blob store (the 307 redirect target) on port(s) "
        f"{', '.join(map(str, blob.ports))} at {where}"
        + (f"; pods of namespace(s) {', '.join(inside)} by namespace" if inside else "")
    )
    yield Fact(
        "registryEgress", "registry egress", words,
        {"registry": registry.host, "blobPorts": list(blob.ports), "blobCidrs": list(blob.cidrs), "namespaces": inside},
    )


PLATFORM_FIELDS: dict[str, Callable[[CatalogLeaf], object]] = {
    "ollama.image": lambda leaf: leaf.ollama.image,
    "ollama.contextLength": lambda leaf: leaf.ollama.context_length,
    "ollama.numParallel": lambda leaf: leaf.ollama.num_parallel,
    "ingress.gateway": lambda leaf: leaf.ingress.gateway.class_name or leaf.ingress.gateway.parent_ref,
    "ingress.tls.issuerRef": lambda leaf: leaf.ingress.tls.issuer_ref,
    "ingress.timeoutSeconds": lambda leaf: leaf.ingress.timeout_seconds,
    "registry": lambda leaf: leaf.registry,
    "persistence.storageClass": lambda leaf: leaf.persistence.storage_class,
}
"""The leaf fields that platform defaults fill when a leaf leaves them open."""


def platform_defaults_applied(loaded: LoadedLeaf) -> list[str]:
    """The leaf fields that a platform default filled (the leaf left them open, and they apply)."""
    leaf, resolved = loaded.leaf, loaded.resolved
    return [
        name
        for name, own in PLATFORM_FIELDS.items()
        if own(leaf) is None
        and own(resolved) is not None
        and (not name.startswith("ingress") or resolved.ingress.enabled)
        and not (name == "persistence.storageClass" and not resolved.persistence.enabled)
    ]


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class LeafPlan:
    """Everything one leaf resolves to."""

    file: str
    namespace: str
    service_name: str
    environment: str
    facts: tuple[Fact, ...] = field(default_factory=tuple)
    platform_defaults: tuple[str, ...] = ()
    """The leaf fields a platform default filled (each fact's text marks them too)."""

    def lines(self) -> list[str]:
        """The plan in words: a heading, then one line per fact."""
        return [f"{self.file}: {self.namespace}/{self.service_name} ({self.environment})"] + [
            f"  {f.line()}" for f in self.facts
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "namespace": self.namespace,
            "serviceName": self.service_name,
            "environment": self.environment,
            "facts": [f.to_json() for f in self.facts],
            "platformDefaultsApplied": list(self.platform_defaults),
        }


def leaf_plan(loaded: LoadedLeaf) -> LeafPlan:
    """The facts of one loaded leaf, in `FACTS` order."""
    context = PlanContext(loaded, leaf_sizing(loaded.resolved))
    facts = tuple(f for kind in FACTS for f in kind.make(context))
    r = loaded.resolved
    return LeafPlan(loaded.file, r.namespace, r.service_name, r.environment, facts, tuple(platform_defaults_applied(loaded)))


def describe(loaded: LoadedLeaf) -> list[str]:
    """The `plan` printout of one leaf."""
    return leaf_plan(loaded).lines()


def plan_text(catalog: Catalog, platform_origin: str) -> str:
    """`ollama-constructs plan`: every leaf's facts in words, and where the platform defaults came from."""
    blocks = ["\n".join(leaf_plan(loaded).lines()) for loaded in catalog.leaves]
    return f"platform defaults: {platform_origin}\n\n" + "\n\n".join(blocks) + "\n"


def plan_json(catalog: Catalog, platform_origin: str) -> str:
    """`ollama-constructs plan --format json`, in the shape of `plan_json_schema()`."""
    data = {
        "version": PLAN_FORMAT_VERSION,
        "platformDefaults": platform_origin,
        "leaves": [leaf_plan(loaded).to_json() for loaded in catalog.leaves],
        "skipped": [{"file": s.file, "workloadType": s.workload_type} for s in catalog.skipped],
    }
    return json.dumps(data, indent=2) + "\n"


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of `plan --format json` (committed as schema/plan.schema.json)."""
    fact_schemas = []
    for kind in FACTS:
        fact_schemas.append(
            {
                "description": kind.description,
                "properties": {"key": {"const": kind.key}, "value": kind.value_schema},
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ollama-constructs.dev/schemas/plan.schema.json",
        "title": "ollama-constructs plan --format json",
        "description": "What each leaf of a catalog resolves to, as facts: one object per fact, in the order "
        "`plan` prints them. `key` says which fact (and the shape of `value`), `label` and `text` say it in "
        "words, `source` where the value came from.",
        "type": "object",
        "required": ["version", "platformDefaults", "leaves", "skipped"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": PLAN_FORMAT_VERSION},
            "platformDefaults": {"type": "string", "description": "The platform-defaults file, or `built-in`."},
            "leaves": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["file", "namespace", "serviceName", "environment", "facts", "platformDefaultsApplied"],
                    "additionalProperties": False,
                    "properties": {
                        "file": _STR,
                        "namespace": _STR,
                        "serviceName": _STR,
                        "environment": _STR,
                        "facts": {"type": "array", "items": {"$ref": "#/$defs/fact"}},
                        "platformDefaultsApplied": {
                            "type": "array",
                            "items": {"enum": list(PLATFORM_FIELDS)},
                            "description": "The leaf fields a platform default filled.",
                        },
                    },
                },
            },
            "skipped": {
                "type": "array",
                "items": _object({"file": _STR, "workloadType": _STR}),
            },
        },
        "$defs": {
            "fact": {
                "type": "object",
                "required": ["key", "label", "text", "value"],
                "additionalProperties": False,
                "properties": {
                    "key": {"enum": [kind.key for kind in FACTS]},
                    "label": _STR,
                    "text": _STR,
                    "value": {},
                    "source": {
                        "enum": list(SOURCE_WORDS),
                        "description": "Where the value came from: the `leaf`, the `platform` defaults, the "
                        "library's `default`, the `models`' known sizes, a fixed `preset`; absent when the "
                        "fact has parts from several (its text says which).",
                    },
                },
                "oneOf": fact_schemas,
            }
        },
    }


def plan_json_schema_text() -> str:
    return json.dumps(plan_json_schema(), indent=2, sort_keys=True) + "\n"

"""Sizing from known model sizes: memory, presets, GPU memory, volume size and time budgets.

The catalog layer uses this to turn `preset`, `persistence.size: auto` and the models of a leaf into
numbers before anything is synthesized; the `plan` command prints them. Pure Python (no cdk8s).

Figures come from the shared Ollama facts (§7): download sizes in decimal GB as `ollama list` prints
them, the f16 KV cache per token (`2 × layers × kv_heads × head_dim × 2 bytes`) and the presets of
§7.4. Every estimate errs on the large side: a pod that asks for too much memory is scheduled later, a
pod that asks for too little is OOM-killed while it serves.

Assumptions (each a named constant below):
  * memory of one loaded model = weights (its download size) + KV cache + 1 GiB of compute buffers and
    runtime (facts §7.3: 0.5-1.5 GB). Each loaded model is its own runner process, so the overhead counts
    once per resident model;
  * KV cache = bytes per token × context (capped at the model's trained context) × `OLLAMA_NUM_PARALLEL`,
    halved by `q8_0` and quartered by `q4_0` when flash attention is on (or auto, which Ollama turns on
    where the model supports it);
  * memory limit = request + max(2 GiB, a quarter of the request), for prompt-processing spikes and the
    page cache of the memory-mapped weights, which the cgroup charges to the pod;
  * model downloads at 25 MB/s (200 Mbit/s, a shared egress or proxy), model loads at 100 MB/s (a network
    block volume's baseline throughput); the startup probe allows 120 s of server start (GPU discovery,
    pruning) plus the resident models' load, 300-1800 s; the rollout deadline adds 300 s of image pull and
    the download of every model (the init container pulls them), 600-10800 s; both in whole minutes;
  * volume = 2 × the models' download sizes, so an update can download new layers before the old ones are
    pruned (facts §7.4), and at least 5 GiB;
  * node disk (`ephemeral-storage`), when the models live in an emptyDir on the node: the emptyDir's
    `sizeLimit` is that same volume size; the Ollama container requests it plus 1 GiB and is limited to it
    plus 2 GiB, for the pod's `/tmp`, container logs and writable layers (the root filesystems are
    read-only). With a claim it requests 1 GiB and is limited to 2 GiB. The kubelet evicts a pod whose
    emptyDir outgrows its `sizeLimit`, or whose emptyDirs, logs and writable layers together outgrow the
    sum of its containers' limits; the scheduler places it only where its requests fit the node's
    allocatable ephemeral storage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .._types import quantity_value
from ..model_reference import DEFAULT_NAMESPACE, ModelReference

KvCacheType = Literal["f16", "q8_0", "q4_0"]
"""`OLLAMA_KV_CACHE_TYPE`: the K/V cache's element type."""

PresetName = Literal["small", "medium", "large", "auto"]
"""A leaf's `preset`: one of the fixed resource sets, or `auto` (derived from the models)."""

FIXED_PRESETS: tuple[str, ...] = ("small", "medium", "large")
"""The fixed presets, smallest first."""

_KIB_BYTES = 1024
_GIB_BYTES = 1024**3
_MB_BYTES = 1000**2
_GB_BYTES = 1000**3

RUNTIME_OVERHEAD_BYTES = 1 * _GIB_BYTES
"""Compute buffers and runtime of one loaded model (facts §7.3: about 0.5-1.5 GB)."""

MEMORY_HEADROOM_MIN_GIB = 2
"""Least gap between the memory request and limit of `auto`; the gap is otherwise a quarter of the request."""

VOLUME_FLOOR_GIB = 5
"""Smallest volume that `persistence.size: auto` asks for."""

VOLUME_HEADROOM_FACTOR = 2
"""Volume per downloaded byte: an update downloads new layers before pruning the old ones (facts §7.4)."""

DOWNLOAD_BYTES_PER_SECOND = 25 * _MB_BYTES
"""Assumed pull bandwidth from the registry (25 MB/s = 200 Mbit/s): conservative for a shared egress."""

LOAD_BYTES_PER_SECOND = 100 * _MB_BYTES
"""Assumed read rate of the weights from the model volume into memory (a network block volume's baseline)."""

SERVER_START_SECONDS = 120
"""`ollama serve` until it answers HTTP: GPU discovery and blob pruning at start."""

IMAGE_PULL_SECONDS = 300
"""Pulling the Ollama image (several GB with its CUDA and ROCm libraries) on a node without it."""

STARTUP_TIMEOUT_FLOOR_SECONDS = 300
STARTUP_TIMEOUT_CEILING_SECONDS = 1800
PROGRESS_DEADLINE_FLOOR_SECONDS = 600
"""Kubernetes' own default `progressDeadlineSeconds`."""
PROGRESS_DEADLINE_CEILING_SECONDS = 10_800
"""Three hours: beyond that a stuck rollout would go unreported too long (about 250 GB at 25 MB/s)."""

_KV_DIVISOR = {"f16": 1, "q8_0": 2, "q4_0": 4}


SCRATCH_REQUEST_GIB = 1
"""Node disk the Ollama container requests besides its models: `/tmp`, container logs, writable layers."""
SCRATCH_LIMIT_GIB = 2
"""Node disk the Ollama container may use besides its models before the kubelet evicts the pod."""


class SizingError(ValueError):
    """An estimate was needed for a model whose size is not known (or an explicit size cannot work)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        """The leaf field to set, when it is not the one the caller would guess. Default: none."""


@dataclass(frozen=True, slots=True)
class KnownModel:
    """Figures of one model from the library, at its canonical `name:tag`."""

    name: str
    """Canonical `name:tag`, e.g. `llama3.1:8b`."""
    download_bytes: int
    """Download and disk size, decimal as `ollama list` prints it."""
    parameters: int
    """Parameter count."""
    kv_bytes_per_token: int
    """f16 KV cache per token of context; 0 for embedding models (no KV cache)."""
    max_context_tokens: int | None = None
    """Trained context; Ollama caps the context length there. `None`: unknown, so never capped."""
    embedding: bool = False
    """Embedding-only (no generation)."""


def _m(
    name: str, gb: float, billions: float, kv_kib: int, max_ctx: int | None = None, embedding: bool = False
) -> KnownModel:
    return KnownModel(name, round(gb * _GB_BYTES), round(billions * 1e9), kv_kib * _KIB_BYTES, max_ctx, embedding)


# Sizes and parameters: facts §7.1. KV/token: facts §7.3 where it has the model; otherwise "derived" is
# 2 (K and V) × layers × kv_heads × head_dim × 2 bytes from the model's published config.json.
_LLAMA_CTX = 131_072
_MODELS: tuple[tuple[tuple[str, ...], KnownModel], ...] = (
    (("phi:latest", "phi:2.7b"), _m("phi:2.7b", 1.6, 2.7, 320, 2048)),
    # phi3: the 4k and 128k variants share the figures; no cap, so the estimate covers both.
    (("phi3:latest", "phi3:3.8b", "phi3:mini"), _m("phi3:3.8b", 2.2, 3.8, 384)),
    # derived: 40 layers × 10 kv heads × head_dim 128 -> 200 KiB.
    (("phi3:medium", "phi3:14b"), _m("phi3:14b", 7.9, 14, 200)),
    (("llama3.2:1b",), _m("llama3.2:1b", 1.3, 1.24, 32, _LLAMA_CTX)),
    (("llama3.2:latest", "llama3.2:3b"), _m("llama3.2:3b", 2.019393189, 3.2, 112, _LLAMA_CTX)),
    (("llama3.1:latest", "llama3.1:8b"), _m("llama3.1:8b", 4.9, 8.0, 128, _LLAMA_CTX)),
    (("llama3.1:70b",), _m("llama3.1:70b", 43, 70.6, 320, _LLAMA_CTX)),
    # Llama 3.3 70B has the architecture of llama3.1:70b (80 layers × 8 kv heads × 128).
    (("llama3.3:latest", "llama3.3:70b"), _m("llama3.3:70b", 43, 70.6, 320, _LLAMA_CTX)),
    (("qwen2.5:latest", "qwen2.5:7b"), _m("qwen2.5:7b", 4.683087332, 7.6, 56, 32_768)),
    (("mistral:latest", "mistral:7b"), _m("mistral:7b", 4.1, 7.2, 128, 32_768)),
    (("gemma2:latest", "gemma2:9b"), _m("gemma2:9b", 5.4, 9, 336, 8192)),
    # derived: 26 layers × 4 kv heads × head_dim 256 -> 104 KiB.
    (("gemma2:2b",), _m("gemma2:2b", 1.6, 2.6, 104, 8192)),
    # derived: 46 layers × 16 kv heads × head_dim 128 -> 368 KiB.
    (("gemma2:27b",), _m("gemma2:27b", 16, 27, 368, 8192)),
    # derived: 40 layers × 10 kv heads × head_dim 128 -> 200 KiB; trained on 16k.
    (("phi4:latest", "phi4:14b"), _m("phi4:14b", 9.1, 14, 200, 16_384)),
    # derived: 34 layers × 4 kv heads × head_dim 256 -> 136 KiB, counting every layer at full context
    # although five in six use a 1k sliding window: conservative.
    (("gemma3:latest", "gemma3:4b"), _m("gemma3:4b", 3.3, 4, 136, 131_072)),
    # derived: a Qwen2.5-7B distillation, 28 layers × 4 kv heads × head_dim 128 -> 56 KiB.
    (("deepseek-r1:7b",), _m("deepseek-r1:7b", 4.7, 7.6, 56, 131_072)),
    # An encoder: llama.cpp keeps no KV cache for it; its compute buffer is in the runtime overhead.
    (
        ("nomic-embed-text:latest", "nomic-embed-text:v1.5"),
        _m("nomic-embed-text:v1.5", 0.274, 0.137, 0, embedding=True),
    ),
)
_BY_NAME = {alias: model for aliases, model in _MODELS for alias in aliases}


def known_model(name: str) -> KnownModel | None:
    """The figures of model `name`, or None when its size is not known.

    `name` is normalized first (`phi` is `phi:latest`); a pinned digest (`phi@sha256:…`) is ignored, since
    the figures are per tag. A model on another registry is known when its namespace is `library` (a
    mirror of a library model); any other namespace is unknown.

    Raises:
        ModelReferenceError: when `name` is not a valid model reference.
    """
    ref = _reference(name)
    if ref.namespace != DEFAULT_NAMESPACE:
        return None
    return _BY_NAME.get(f"{ref.name}:{ref.tag}")


def context_tokens(model: KnownModel, context_length: int) -> int:
    """The context Ollama gives `model`: `context_length`, capped at the model's trained context."""
    if model.max_context_tokens is None:
        return context_length
    return min(context_length, model.max_context_tokens)


def kv_cache_bytes(
    model: KnownModel,
    *,
    context_length: int,
    num_parallel: int = 1,
    kv_cache_type: KvCacheType = "f16",
    flash_attention: bool | None = None,
) -> int:
    """KV cache of `model` loaded with `num_parallel` slots of `context_length` tokens.

    Args:
        model: the model.
        context_length: `OLLAMA_CONTEXT_LENGTH`; capped at the model's trained context.
        num_parallel: `OLLAMA_NUM_PARALLEL`; each slot has its own context.
        kv_cache_type: `OLLAMA_KV_CACHE_TYPE`; `q8_0` halves and `q4_0` quarters the f16 size.
        flash_attention: `OLLAMA_FLASH_ATTENTION`; a quantized cache needs it, so `False` counts f16.
            `None` (auto) counts as on: Ollama enables it where the model supports it.
    """
    divisor = 1 if flash_attention is False else _KV_DIVISOR[kv_cache_type]
    tokens = context_tokens(model, context_length) * num_parallel
    return -(-model.kv_bytes_per_token * tokens // divisor)


def model_memory_bytes(
    model: KnownModel,
    *,
    context_length: int,
    num_parallel: int = 1,
    kv_cache_type: KvCacheType = "f16",
    flash_attention: bool | None = None,
) -> int:
    """Memory of `model` once loaded: weights + KV cache + :data:`RUNTIME_OVERHEAD_BYTES`.

    The arguments are those of :func:`kv_cache_bytes`.
    """
    kv = kv_cache_bytes(
        model,
        context_length=context_length,
        num_parallel=num_parallel,
        kv_cache_type=kv_cache_type,
        flash_attention=flash_attention,
    )
    return model.download_bytes + kv + RUNTIME_OVERHEAD_BYTES


@dataclass(frozen=True, slots=True)
class ResourceSet:
    """Resources of the Ollama container, as Kubernetes quantities, and the GPU memory it needs."""

    cpu_request: str
    """e.g. `2`."""
    cpu_limit: str
    memory_request: str
    """e.g. `8Gi`."""
    memory_limit: str
    gpu_min_memory_gib: int
    """Least memory per GPU (GiB) for GPU leaves, as GPU Feature Discovery's `nvidia.com/gpu.memory`."""


# Facts §7.4: "small" covers tiny and small (<= 3 GB of weights), "medium" 4-6 GB, "large" a 70B (43 GB).
_PRESETS = {
    "small": ResourceSet("1", "4", "4Gi", "6Gi", 6),
    "medium": ResourceSet("2", "8", "8Gi", "12Gi", 8),
    "large": ResourceSet("8", "16", "48Gi", "64Gi", 48),
}
_WEIGHT_BANDS = (("small", 3 * _GB_BYTES), ("medium", 6 * _GB_BYTES))
"""The most weights each preset is meant for (facts §7.4); anything larger is `large`."""


def preset_resources(name: str) -> ResourceSet:
    """The fixed resource set of preset `name` (`small`, `medium` or `large`).

    Raises:
        ValueError: for any other name (`auto` has no fixed resources).
    """
    if name not in _PRESETS:
        raise ValueError(f"preset {name!r} has no fixed resources; expected one of {', '.join(FIXED_PRESETS)}")
    return _PRESETS[name]


def weights_band(weights_bytes: int) -> str:
    """The preset meant for `weights_bytes` of weights: `small` up to 3 GB, `medium` up to 6 GB, else `large`."""
    return next((name for name, most in _WEIGHT_BANDS if weights_bytes <= most), "large")


def auto_resources(memory_bytes: int, weights_bytes: int, *, gpu_count: int = 0) -> ResourceSet:
    """Resources derived from a memory estimate.

    Args:
        memory_bytes: the estimate of every resident model (see :func:`model_memory_bytes`).
        weights_bytes: the resident models' download sizes; the CPU is that of :func:`weights_band`'s preset.
        gpu_count: GPUs per replica; the models are assumed spread evenly over them.

    Returns:
        Memory request = the estimate rounded up to a whole GiB; limit = request + max(2 GiB, request / 4);
        GPU memory = the estimate per GPU, rounded up (weights and KV cache must fit in VRAM).
    """
    request_gib = math.ceil(memory_bytes / _GIB_BYTES)
    limit_gib = request_gib + max(MEMORY_HEADROOM_MIN_GIB, math.ceil(request_gib / 4))
    cpu = _PRESETS[weights_band(weights_bytes)]
    gpu_gib = gpu_memory_gib(memory_bytes, gpu_count)
    return ResourceSet(cpu.cpu_request, cpu.cpu_limit, f"{request_gib}Gi", f"{limit_gib}Gi", gpu_gib)


def gpu_memory_gib(memory_bytes: int, gpu_count: int = 1) -> int:
    """Memory each GPU needs (GiB, rounded up) to hold `memory_bytes` spread evenly over `gpu_count` GPUs."""
    return math.ceil(memory_bytes / max(gpu_count, 1) / _GIB_BYTES)


def recommended_preset(memory_bytes: int, *, gpu_gib: int | None = None) -> str | None:
    """The smallest fixed preset that covers an estimate, or None when even `large` is too small.

    Args:
        memory_bytes: the memory estimate; it must fit in the preset's memory request.
        gpu_gib: for GPU leaves, the memory each GPU needs; it must fit in the preset's GPU memory.
    """
    for name in FIXED_PRESETS:
        preset = _PRESETS[name]
        if memory_bytes <= quantity_value(preset.memory_request) and (
            gpu_gib is None or gpu_gib <= preset.gpu_min_memory_gib
        ):
            return name
    return None


def volume_size(models: Sequence[str]) -> str:
    """`persistence.size: auto`: 2 × the models' download sizes in whole GiB, at least 5Gi (e.g. `20Gi`).

    Raises:
        SizingError: when a model's size is not known.
    """
    known = _require_known(models, "set persistence.size explicitly (e.g. 20Gi)")
    total = VOLUME_HEADROOM_FACTOR * sum(m.download_bytes for m in known)
    return f"{max(VOLUME_FLOOR_GIB, math.ceil(total / _GIB_BYTES))}Gi"


@dataclass(frozen=True, slots=True)
class DiskSizing:
    """Node disk (`ephemeral-storage`) of the Ollama pod; see :func:`disk_sizing`."""

    models_size_limit: str | None
    """`sizeLimit` of the models emptyDir; None when the models are on a claim."""
    request: str
    """The Ollama container's `ephemeral-storage` request."""
    limit: str
    """Its `ephemeral-storage` limit."""
    explicit: bool
    """Whether the leaf set the request or the limit."""


def disk_sizing(
    models: Sequence[str], *, empty_dir: bool, request: str | None = None, limit: str | None = None
) -> DiskSizing:
    """The node disk of a pod whose models are in an emptyDir (`empty_dir`) or on a claim.

    Explicit values (`container.resources.requests/limits.ephemeralStorage`) win; the emptyDir's
    `sizeLimit` is then the limit less :data:`SCRATCH_LIMIT_GIB`.

    Raises:
        SizingError: when the models are in an emptyDir, no limit is given and a model's size is not known;
            when a given limit leaves no room for the models (or less than they download).
    """
    limit_field = "container.resources.limits.ephemeralStorage"
    explicit = request is not None or limit is not None
    if not empty_dir:
        limit_text = limit or _larger(f"{SCRATCH_LIMIT_GIB}Gi", request)
        request_text = request or _smaller(f"{SCRATCH_REQUEST_GIB}Gi", limit_text)
        return DiskSizing(None, request_text, limit_text, explicit)
    if limit is None:
        known = _require_known(
            models,
            f"set {limit_field} (the models are kept in an emptyDir on the node's disk: set persistence, or the "
            "most node disk the pod may use)",
            field=limit_field,
        )
        gib = max(VOLUME_FLOOR_GIB, math.ceil(VOLUME_HEADROOM_FACTOR * sum(m.download_bytes for m in known) / _GIB_BYTES))
        size_limit = f"{gib}Gi"
        limit = _larger(f"{gib + SCRATCH_LIMIT_GIB}Gi", request)
        request = request or _smaller(f"{gib + SCRATCH_REQUEST_GIB}Gi", limit)
        return DiskSizing(size_limit, request, limit, explicit)
    room = int(quantity_value(limit)) - SCRATCH_LIMIT_GIB * _GIB_BYTES
    if room <= 0:
        raise SizingError(
            f"{limit} leaves no room for the models: the pod's /tmp, logs and writable layers take up to "
            f"{SCRATCH_LIMIT_GIB}Gi of it (the models are in an emptyDir on the node's disk)",
            field=limit_field,
        )
    knowns = [known_model(m) for m in models]
    if None not in knowns:
        download = sum(k.download_bytes for k in knowns)  # type: ignore[union-attr]
        if room < download:
            raise SizingError(
                f"{limit} leaves {_gib(room)} for the models (less {SCRATCH_LIMIT_GIB}Gi for /tmp and logs), less "
                f"than they download ({_gb(download)}): the kubelet would evict the pod during its first pull",
                field=limit_field,
            )
    size_limit = f"{room // _GIB_BYTES}Gi" if room % _GIB_BYTES == 0 else f"{math.floor(room / 2**20)}Mi"
    return DiskSizing(size_limit, request or _smaller(size_limit, limit), limit, True)


def _smaller(a: str, b: str) -> str:
    """The smaller of two quantities, as written."""
    return a if quantity_value(a) <= quantity_value(b) else b


def _larger(a: str, b: str | None) -> str:
    """The larger of two quantities (`b` may be absent), as written."""
    return a if b is None or quantity_value(a) >= quantity_value(b) else b


def startup_timeout_seconds(load_bytes: int | None) -> int:
    """Startup probe budget: server start + loading `load_bytes` of weights, whole minutes, 300-1800 s.

    `None` (a size is unknown) gives the ceiling.
    """
    if load_bytes is None:
        return STARTUP_TIMEOUT_CEILING_SECONDS
    seconds = SERVER_START_SECONDS + load_bytes / LOAD_BYTES_PER_SECOND
    return _clamp_minutes(seconds, STARTUP_TIMEOUT_FLOOR_SECONDS, STARTUP_TIMEOUT_CEILING_SECONDS)


def progress_deadline_seconds(download_bytes: int | None, load_bytes: int | None) -> int:
    """Deployment `progressDeadlineSeconds`: image pull + model download (the init container) + startup.

    Whole minutes, 600-10800 s; `None` for either size (a size is unknown) gives the ceiling.
    """
    if download_bytes is None or load_bytes is None:
        return PROGRESS_DEADLINE_CEILING_SECONDS
    seconds = IMAGE_PULL_SECONDS + download_bytes / DOWNLOAD_BYTES_PER_SECOND + startup_timeout_seconds(load_bytes)
    return _clamp_minutes(seconds, PROGRESS_DEADLINE_FLOOR_SECONDS, PROGRESS_DEADLINE_CEILING_SECONDS)


@dataclass(frozen=True, slots=True)
class ModelSizing:
    """One model of a plan; the numbers are None when its size is not known."""

    name: str
    """The model, normalized (`phi:latest`)."""
    known: KnownModel | None
    context_tokens: int | None
    kv_cache_bytes: int | None
    memory_bytes: int | None
    resident: bool
    """Stays loaded (counts toward the memory estimate)."""


@dataclass(frozen=True, slots=True)
class SizingPlan:
    """Every sizing number of one leaf; see :func:`plan_sizing`."""

    models: tuple[ModelSizing, ...]
    context_length: int
    num_parallel: int
    kv_cache_type: str
    gpu_count: int
    max_loaded_models: int
    memory_estimate_bytes: int | None
    """Weights + KV cache + overhead of the resident models; None when a size is unknown."""
    download_bytes: int | None
    """What the init container downloads: every model; None when a size is unknown."""
    preset: str | None
    """The preset asked for; None when the leaf sets `container.resources`."""
    recommended_preset: str | None
    resources: ResourceSet | None
    """The container's resources; None when the leaf sets them."""
    gpu_min_memory_gib: int | None
    """Memory each GPU needs (the preset's, or the estimate's); None for CPU leaves or when unknown."""
    volume_size: str | None
    """`persistence.size: auto`; None when not asked for."""
    progress_deadline_seconds: int
    startup_timeout_seconds: int
    warnings: tuple[str, ...] = ()
    disk: DiskSizing | None = None
    """Node disk of the pod; None when not asked for."""

    def describe(self) -> list[str]:
        """Human-readable lines for the `plan` command."""
        lines = ["models:"]
        for m in self.models:
            if m.known is None:
                lines.append(f"  {m.name}: size unknown")
                continue
            role = "embedding" if m.known.embedding else f"{_gib(m.kv_cache_bytes)} KV at {m.context_tokens} tokens"
            state = "resident" if m.resident else "not resident"
            lines.append(
                f"  {m.name}: {_gb(m.known.download_bytes)} download, {_params(m.known.parameters)} parameters, "
                f"{role}, {_gib(m.memory_bytes)} loaded ({state})"
            )
        lines.append(
            f"context: {self.context_length} tokens × {self.num_parallel} parallel, KV cache {self.kv_cache_type}; "
            f"up to {self.max_loaded_models} models loaded"
        )
        estimate = "unknown" if self.memory_estimate_bytes is None else _gib(self.memory_estimate_bytes)
        lines.append(f"memory estimate: {estimate}")
        preset = self.preset or "none (container.resources set explicitly)"
        if self.memory_estimate_bytes is not None:
            preset += f"; recommended: {self.recommended_preset or 'none fits, set container.resources'}"
        lines.append(f"preset: {preset}")
        if self.resources is not None:
            r = self.resources
            lines.append(
                f"resources: cpu {r.cpu_request} / {r.cpu_limit}, memory {r.memory_request} / {r.memory_limit}"
            )
        if self.gpu_min_memory_gib is not None:
            lines.append(f"GPU memory: at least {self.gpu_min_memory_gib} GiB per GPU × {self.gpu_count}")
        if self.volume_size is not None:
            lines.append(f"volume: {self.volume_size}")
        basis = (
            "a model size is unknown: the ceilings"
            if self.download_bytes is None
            else f"download {_gb(self.download_bytes)} at {DOWNLOAD_BYTES_PER_SECOND // _MB_BYTES} MB/s"
        )
        lines.append(
            f"time budgets: progressDeadlineSeconds {self.progress_deadline_seconds}, "
            f"startup timeout {self.startup_timeout_seconds} s ({basis})"
        )
        if self.disk is not None:
            d = self.disk
            where = f"models emptyDir sizeLimit {d.models_size_limit}, " if d.models_size_limit else ""
            how = "explicit" if d.explicit else "from the models"
            lines.append(f"node disk: {where}ephemeral-storage {d.request} / {d.limit} ({how})")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return lines


def plan_sizing(
    models: Sequence[str],
    *,
    preset: PresetName | None = "auto",
    volume_auto: bool = False,
    context_length: int = 4096,
    num_parallel: int = 1,
    kv_cache_type: KvCacheType = "f16",
    flash_attention: bool | None = None,
    gpu_count: int = 0,
    max_loaded_models: int | None = None,
    resident_models: int | None = None,
    models_in_empty_dir: bool | None = None,
    ephemeral_storage_request: str | None = None,
    ephemeral_storage_limit: str | None = None,
) -> SizingPlan:
    """Size one leaf: resources, GPU memory, volume and time budgets.

    Args:
        models: the leaf's models, the primary first; pinned digests are ignored.
        preset: `auto`, a fixed preset, or None when the leaf sets `container.resources`.
        volume_auto: size the volume (`persistence.size: auto`).
        context_length: `OLLAMA_CONTEXT_LENGTH`.
        num_parallel: `OLLAMA_NUM_PARALLEL`.
        kv_cache_type: `OLLAMA_KV_CACHE_TYPE`.
        flash_attention: `OLLAMA_FLASH_ATTENTION`; None is auto (see :func:`kv_cache_bytes`).
        gpu_count: GPUs per replica; 0 for CPU only.
        max_loaded_models: `OLLAMA_MAX_LOADED_MODELS`; None is Ollama's auto (3 per GPU, 3 on CPU).
        resident_models: how many models stay loaded. Default: all, up to `max_loaded_models`; when fewer
            fit, the largest.
        models_in_empty_dir: size the node disk (:func:`disk_sizing`) for models in an emptyDir (`True`) or
            on a claim (`False`). Default: None, no disk sizing.
        ephemeral_storage_request: the leaf's explicit `ephemeral-storage` request, if any.
        ephemeral_storage_limit: the leaf's explicit `ephemeral-storage` limit, if any.

    Raises:
        SizingError: when `preset` is `auto` or `volume_auto` is set and a model's size is not known.
        ValueError: for out-of-range settings.
    """
    names = [_reference(m).short for m in models]
    _check_settings(names, context_length, num_parallel, kv_cache_type, gpu_count, max_loaded_models, resident_models)
    if preset not in (None, "auto"):
        preset_resources(preset)
    fixes = []
    if preset == "auto":
        gpu_hint = " (and gpu.minMemoryGiB)" if gpu_count else ""
        fixes.append(f"set container.resources{gpu_hint} explicitly, or use a preset ({', '.join(FIXED_PRESETS)})")
    if volume_auto:
        fixes.append("set persistence.size explicitly (e.g. 20Gi)")
    if fixes:
        _require_known(names, "; and ".join(fixes))

    kv_settings = {
        "context_length": context_length,
        "num_parallel": num_parallel,
        "kv_cache_type": kv_cache_type,
        "flash_attention": flash_attention,
    }
    knowns = [known_model(n) for n in names]
    memory = [None if k is None else model_memory_bytes(k, **kv_settings) for k in knowns]
    all_known = None not in knowns
    max_loaded = max_loaded_models or 3 * max(gpu_count, 1)
    # The largest stay loaded (ties keep the leaf's order); in the leaf's order when a size is unknown.
    order = sorted(range(len(names)), key=lambda i: -memory[i]) if all_known else range(len(names))
    resident = set(list(order)[: min(resident_models or len(names), max_loaded)])
    sizings = tuple(
        ModelSizing(
            name=name,
            known=k,
            context_tokens=None if k is None else context_tokens(k, context_length),
            kv_cache_bytes=None if k is None else kv_cache_bytes(k, **kv_settings),
            memory_bytes=memory[i],
            resident=i in resident,
        )
        for i, (name, k) in enumerate(zip(names, knowns, strict=True))
    )

    estimate = weights = download = needed_gpu = recommended = None
    if all_known:
        estimate = sum(s.memory_bytes for s in sizings if s.resident)
        weights = sum(s.known.download_bytes for s in sizings if s.resident)
        download = sum(k.download_bytes for k in knowns)
        needed_gpu = gpu_memory_gib(estimate, gpu_count) if gpu_count else None
        recommended = recommended_preset(estimate, gpu_gib=needed_gpu)

    resources = None
    warnings: list[str] = []
    if preset == "auto":
        resources = auto_resources(estimate, weights, gpu_count=gpu_count)
    elif preset is not None:
        resources = _PRESETS[preset]
        if estimate is not None:
            warnings.extend(_preset_warnings(preset, estimate, needed_gpu))
    if len(resident) < len(names):
        warnings.append(
            f"only {len(resident)} of {len(names)} models stay loaded (maxLoadedModels); the others load on "
            "demand and evict one"
        )
    if gpu_count and resources is not None:
        needed_gpu = resources.gpu_min_memory_gib

    return SizingPlan(
        models=sizings,
        context_length=context_length,
        num_parallel=num_parallel,
        kv_cache_type=kv_cache_type,
        gpu_count=gpu_count,
        max_loaded_models=max_loaded,
        memory_estimate_bytes=estimate,
        download_bytes=download,
        preset=preset,
        recommended_preset=recommended,
        resources=resources,
        gpu_min_memory_gib=needed_gpu,
        volume_size=volume_size(names) if volume_auto else None,
        progress_deadline_seconds=progress_deadline_seconds(download, weights),
        startup_timeout_seconds=startup_timeout_seconds(weights),
        warnings=tuple(warnings),
        disk=None
        if models_in_empty_dir is None
        else disk_sizing(
            names, empty_dir=models_in_empty_dir, request=ephemeral_storage_request, limit=ephemeral_storage_limit
        ),
    )


def _reference(text: str) -> ModelReference:
    """`text` parsed, without the digest a pinned reference (`name:tag@sha256:<hex>`) carries."""
    return ModelReference.parse(text.partition("@")[0] if isinstance(text, str) else text)


def _require_known(models: Sequence[str], fix: str, field: str | None = None) -> list[KnownModel]:
    known = [known_model(m) for m in models]
    unknown = [_reference(m).short for m, k in zip(models, known, strict=True) if k is None]
    if unknown:
        listed = ", ".join(repr(u) for u in unknown)
        subject = f"model {listed} has" if len(unknown) == 1 else f"models {listed} have"
        raise SizingError(f"{subject} no known size; {fix}", field=field)
    return known  # type: ignore[return-value]


def _check_settings(
    names: list[str],
    context_length: int,
    num_parallel: int,
    kv_cache_type: str,
    gpu_count: int,
    max_loaded_models: int | None,
    resident_models: int | None,
) -> None:
    if not names:
        raise ValueError("at least one model is needed")
    if context_length < 1 or num_parallel < 1 or gpu_count < 0:
        raise ValueError("context_length and num_parallel must be at least 1, gpu_count at least 0")
    if kv_cache_type not in _KV_DIVISOR:
        raise ValueError(f"kv_cache_type {kv_cache_type!r} must be one of {', '.join(_KV_DIVISOR)}")
    if max_loaded_models is not None and max_loaded_models < 1:
        raise ValueError("max_loaded_models must be at least 1")
    if resident_models is not None and not 1 <= resident_models <= len(names):
        raise ValueError(f"resident_models must be between 1 and the number of models ({len(names)})")


def _preset_warnings(preset: str, estimate: int, needed_gpu: int | None) -> list[str]:
    fixed = _PRESETS[preset]
    warnings = []
    if estimate > quantity_value(fixed.memory_request):
        warnings.append(
            f"the memory estimate {_gib(estimate)} exceeds the memory request of preset {preset!r} "
            f"({fixed.memory_request}); use 'auto' or a larger preset"
        )
    if needed_gpu is not None and needed_gpu > fixed.gpu_min_memory_gib:
        warnings.append(
            f"the models need {needed_gpu} GiB per GPU, more than preset {preset!r} asks for "
            f"({fixed.gpu_min_memory_gib} GiB)"
        )
    return warnings


def _clamp_minutes(seconds: float, floor: int, ceiling: int) -> int:
    return min(ceiling, max(floor, 60 * math.ceil(seconds / 60)))


def _gib(n: int | None) -> str:
    return f"{(n or 0) / _GIB_BYTES:.2f} GiB"


def _gb(n: int) -> str:
    return f"{n / _GB_BYTES:.1f} GB" if n >= _GB_BYTES else f"{round(n / _MB_BYTES)} MB"


def _params(n: int) -> str:
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{round(n / 1e6)}M"

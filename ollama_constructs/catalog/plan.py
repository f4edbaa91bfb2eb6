"""What a leaf resolves to: its sizing plan and the human-readable `plan` printout."""

from __future__ import annotations

from .leaf import CatalogLeaf
from .loader import LoadedLeaf
from .platform import PlatformDefaults, network_facts
from .sizing import SizingPlan, known_model, plan_sizing, startup_timeout_seconds


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


def describe(loaded: LoadedLeaf, platform: PlatformDefaults | None = None) -> list[str]:
    """The `plan` printout of one leaf: what was resolved and where each value came from."""
    leaf, resolved = loaded.leaf, loaded.resolved
    lines = [f"{loaded.file}: {resolved.namespace}/{resolved.service_name} ({resolved.environment})"]
    sizing = leaf_sizing(resolved)
    lines += [f"  {line}" for line in sizing.describe()]
    gpu = resolved.gpu
    if gpu.count:
        selection = [f"{gpu.count} x {gpu.resource_name or ('amd.com/gpu' if gpu.vendor == 'amd' else 'nvidia.com/gpu')}"]
        selection += [f"{name} {value}" for name, value in (("product", gpu.product), ("family", gpu.family)) if value]
        memory = gpu.min_memory_gib or sizing.gpu_min_memory_gib
        if memory and gpu.vendor == "nvidia":
            selection.append(f"at least {memory} GiB per GPU")
        lines.append(f"  GPU: {', '.join(selection)}")
    else:
        lines.append("  GPU: none (CPU only; the pod sees no GPU)")
    if resolved.persistence.enabled:
        p = resolved.persistence
        claim = p.existing_claim or f"{resolved.service_name}-models ({sizing.volume_size or p.size})"
        lines.append(f"  volume: {claim}, {p.access_mode}, class {p.storage_class or 'cluster default'}")
    else:
        lines.append("  volume: emptyDir (models are pulled again on every new pod)")
    lines.append(f"  image: {resolved.ollama.image}")
    defaults = _platform_values(leaf, resolved)
    lines.append("  platform defaults applied: " + (", ".join(defaults) if defaults else "none"))
    lines += [f"  {topic}: {text}" for topic, text in network_facts(leaf, platform or PlatformDefaults())]
    return lines


def _platform_values(leaf: CatalogLeaf, resolved: CatalogLeaf) -> list[str]:
    """The fields the leaf left open and the platform (or built-in) defaults filled."""
    found = []
    pairs = {
        "ollama.image": (leaf.ollama.image, resolved.ollama.image),
        "ollama.contextLength": (leaf.ollama.context_length, resolved.ollama.context_length),
        "ollama.numParallel": (leaf.ollama.num_parallel, resolved.ollama.num_parallel),
        "ingress.gateway.className": (leaf.ingress.gateway.class_name, resolved.ingress.gateway.class_name),
        "ingress.tls.issuerRef": (leaf.ingress.tls.issuer_ref, resolved.ingress.tls.issuer_ref),
        "ingress.timeoutSeconds": (leaf.ingress.timeout_seconds, resolved.ingress.timeout_seconds),
        "registry": (leaf.registry, resolved.registry),
        "persistence.storageClass": (leaf.persistence.storage_class, resolved.persistence.storage_class),
    }
    for field, (own, value) in pairs.items():
        if own is None and value is not None and (field.startswith("ingress") is False or resolved.ingress.enabled):
            shown = value if isinstance(value, (str, int)) else value.model_dump(by_alias=True, exclude_none=True)
            found.append(f"{field}={shown}")
    return found

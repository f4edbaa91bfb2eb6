"""Policy: the rules a `prod` leaf must meet and the combinations that cannot work, in one place.

Each rule has an id, applies to the leaf with the platform defaults applied, and reports the field it is
about, so the refusal reads `catalog/x.yaml: models[0]: ... (rule prod/pinned-models)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .leaf import CatalogLeaf


@dataclass(frozen=True, slots=True)
class PolicyViolation:
    """A leaf field that breaks an environment rule."""

    rule: str
    """The rule id, e.g. `prod/pinned-models`."""
    field: str
    """The leaf field path."""
    message: str
    """What is wrong and how to fix it."""


Rule = Callable[[CatalogLeaf], Iterator[tuple[str, str]]]


def _pinned_models(leaf: CatalogLeaf) -> Iterator[tuple[str, str]]:
    for index, entry in enumerate(leaf.pinned_models):
        if not entry.pinned:
            field = "models" if leaf.models is not None else "model"
            field = f"{field}[{index}]" if leaf.models is not None else field
            yield field, f"'{entry.name}' is not pinned; give it as '{entry.name}@sha256:<digest>'"
    for index, custom in enumerate(leaf.custom_models):
        if custom.from_ is not None and not custom.from_.pinned:
            yield f"customModels[{index}].from", f"base model '{custom.from_.name}' is not pinned"


def _pinned_image(leaf: CatalogLeaf) -> Iterator[tuple[str, str]]:
    image = leaf.ollama.image or ""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    if not digest and tag in (None, "latest"):
        yield "ollama.image", f"'{image}' is not pinned; use a version tag (e.g. :0.32.15) or a digest"


def _auth_required(leaf: CatalogLeaf) -> Iterator[tuple[str, str]]:
    auth = leaf.ingress.auth
    if leaf.ingress.enabled and auth is not None and auth.mode == "none":
        yield "ingress.auth.mode", "an exposed prod service must authenticate its callers; use mode apiKey"


PROD_RULES: dict[str, Rule] = {
    "prod/pinned-models": _pinned_models,
    "prod/pinned-image": _pinned_image,
    "prod/auth-required": _auth_required,
}
"""The rules of `environment: prod`: every model pinned to a digest, the image pinned, authentication
on an exposed service."""


_BLACKWELL_PRODUCT = re.compile(r"RTX-?50[0-9]{2}|Blackwell|(^|-)G?B[23]00|GB10", re.I)
BLACKWELL_MIN_VERSION = (0, 5, 13)
"""The first Ollama release with compute capability 12.0 (RTX 50xx) kernels."""


def image_version(image: str) -> tuple[int, int, int] | None:
    """The release of an Ollama image tag (`...:0.32.15-rocm` -> (0, 32, 15)); None when it is not a version."""
    name = image.partition("@")[0]
    last = name.rsplit("/", 1)[-1]
    match = re.match(r"^[^:]+:v?([0-9]+)\.([0-9]+)\.([0-9]+)", last)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _blackwell_image(leaf: CatalogLeaf) -> Iterator[tuple[str, str]]:
    gpu = leaf.gpu
    blackwell = gpu.family == "blackwell" or bool(gpu.product and _BLACKWELL_PRODUCT.search(gpu.product))
    version = image_version(leaf.ollama.image or "")
    if gpu.count and blackwell and version is not None and version < BLACKWELL_MIN_VERSION:
        yield "ollama.image", (
            f"Ollama {'.'.join(map(str, version))} has no Blackwell (sm_120) kernels; use 0.5.13 or later"
        )


def _rocm_image(leaf: CatalogLeaf) -> Iterator[tuple[str, str]]:
    image = leaf.ollama.image or ""
    if leaf.gpu.count and leaf.gpu.vendor == "amd" and "rocm" not in image.rsplit("/", 1)[-1]:
        yield "ollama.image", f"'{image}' is not a ROCm image; AMD GPUs need the -rocm variant (e.g. :0.32.15-rocm)"
    if leaf.gpu.count and leaf.gpu.vendor == "nvidia" and image.partition("@")[0].endswith("-rocm"):
        yield "ollama.image", f"'{image}' is the ROCm variant; NVIDIA GPUs need the plain image"


COMPATIBILITY_RULES: dict[str, Rule] = {
    "gpu/blackwell-image": _blackwell_image,
    "gpu/rocm-image": _rocm_image,
}
"""Combinations that cannot work in any environment."""


def policy_violations(leaf: CatalogLeaf) -> list[PolicyViolation]:
    """Every rule the leaf breaks: the compatibility rules always, the `prod` rules in `prod`."""
    rules = dict(COMPATIBILITY_RULES)
    if leaf.environment == "prod":
        rules.update(PROD_RULES)
    return [PolicyViolation(rule, field, message) for rule, check in rules.items() for field, message in check(leaf)]

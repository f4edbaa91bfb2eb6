"""Platform defaults: what a platform team sets once for every leaf of its catalog.

They come from an optional `platform-defaults.yaml` in the catalog directory (or a file named on the
command line); what the file leaves out, and the whole file when it is absent, takes the built-in
defaults below. A field that a leaf sets wins over the platform default.
"""

from __future__ import annotations

from pydantic import Field

from .._defaults import DEFAULT_OLLAMA_IMAGE
from .._types import DnsLabel, Quantity
from .leaf import CatalogLeaf, IssuerRef, LeafModel

PLATFORM_DEFAULTS_FILE = "platform-defaults.yaml"
"""The file name, in the catalog directory, that holds the platform defaults (not a leaf)."""


class PlatformOllama(LeafModel):
    """Platform-wide Ollama settings."""

    image: str = DEFAULT_OLLAMA_IMAGE
    """The Ollama image every leaf runs unless it names its own. Default: `docker.io/ollama/ollama:0.32.15`."""
    context_length: int = Field(default=4096, ge=256, le=1_048_576)
    """Context window in tokens. Default: `4096`."""


class PlatformContainer(LeafModel):
    """Platform-wide container resources."""

    cpu_request: Quantity = "500m"
    """CPU request when a leaf gives no resources. Default: `500m`."""
    cpu_limit: Quantity = "2"
    """CPU limit when a leaf gives no resources. Default: `2`."""
    memory_request: Quantity = "2Gi"
    """Memory request when a leaf gives no resources. Default: `2Gi`."""
    memory_limit: Quantity = "4Gi"
    """Memory limit when a leaf gives no resources. Default: `4Gi`."""


class PlatformIngress(LeafModel):
    """Platform-wide exposure settings."""

    gateway_class_name: DnsLabel = "eg"
    """GatewayClass of dedicated Gateways. Default: `eg` (Envoy Gateway's usual class)."""
    issuer_ref: IssuerRef = IssuerRef(kind="ClusterIssuer", name="letsencrypt-prod")
    """cert-manager issuer of every host's certificate. Default: ClusterIssuer `letsencrypt-prod`."""
    timeout_seconds: int = Field(default=600, ge=1, le=86_400)
    """Request timeout of routes. Default: `600` (ten minutes, for long streamed answers)."""


class PlatformDefaults(LeafModel):
    """Values that a platform team sets once for every leaf."""

    ollama: PlatformOllama = PlatformOllama()
    """Ollama image and settings. Default: see the fields."""
    container: PlatformContainer = PlatformContainer()
    """Resources when a leaf gives none. Default: see the fields."""
    ingress: PlatformIngress = PlatformIngress()
    """Gateway class, certificate issuer and timeouts. Default: see the fields."""


def apply_platform_defaults(leaf: CatalogLeaf, platform: PlatformDefaults) -> CatalogLeaf:
    """`leaf` with every field it leaves open filled from `platform`; the leaf's own values win."""
    ollama = leaf.ollama.model_copy(
        update={
            "image": leaf.ollama.image or platform.ollama.image,
            "context_length": leaf.ollama.context_length or platform.ollama.context_length,
        }
    )
    ingress = leaf.ingress.model_copy(
        update={
            "gateway": leaf.ingress.gateway.model_copy(
                update={"class_name": leaf.ingress.gateway.class_name or platform.ingress.gateway_class_name}
            ),
            "tls": leaf.ingress.tls.model_copy(
                update={"issuer_ref": leaf.ingress.tls.issuer_ref or platform.ingress.issuer_ref}
            ),
            "timeout_seconds": leaf.ingress.timeout_seconds or platform.ingress.timeout_seconds,
        }
    )
    container = leaf.container
    if container.resources is None:
        container = container.model_validate(
            {
                "replicas": container.replicas,
                "resources": {
                    "requests": {"cpu": platform.container.cpu_request, "memory": platform.container.memory_request},
                    "limits": {"cpu": platform.container.cpu_limit, "memory": platform.container.memory_limit},
                },
            }
        )
    return leaf.model_copy(update={"ollama": ollama, "ingress": ingress, "container": container})

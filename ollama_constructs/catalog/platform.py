"""Platform defaults: what a platform team sets once for every leaf of its catalog.

They come from an optional `platform-defaults.yaml` in the catalog directory (or a file named on the
command line); what the file leaves out, and the whole file when it is absent, takes the built-in
defaults below. A field that a leaf sets wins over the platform default.
"""

from __future__ import annotations

from pydantic import Field

from .._defaults import DEFAULT_OLLAMA_IMAGE
from .._types import DnsLabel, DnsSubdomain
from .leaf import Auth, CatalogLeaf, IssuerRef, LeafModel, ParentRef, Registry

PLATFORM_DEFAULTS_FILE = "platform-defaults.yaml"
"""The file name, in the catalog directory, that holds the platform defaults (not a leaf)."""


class PlatformOllama(LeafModel):
    """Platform-wide Ollama settings."""

    image: str = DEFAULT_OLLAMA_IMAGE
    """The Ollama image every leaf runs unless it names its own. Default: `docker.io/ollama/ollama:0.32.15`."""
    context_length: int = Field(default=4096, ge=256, le=1_048_576)
    """Context window in tokens. Default: `4096`."""
    num_parallel: int = Field(default=1, ge=1, le=64)
    """Requests served at once per model. Default: `1`."""


class PlatformIngress(LeafModel):
    """Platform-wide exposure settings."""

    gateway_class_name: DnsLabel = "eg"
    """GatewayClass of dedicated Gateways. Default: `eg` (Envoy Gateway's usual class)."""
    issuer_ref: IssuerRef = IssuerRef(kind="ClusterIssuer", name="letsencrypt-prod")
    """cert-manager issuer of every host's certificate. Default: ClusterIssuer `letsencrypt-prod`."""
    timeout_seconds: int = Field(default=600, ge=1, le=86_400)
    """Request timeout of routes. Default: `600` (ten minutes, for long streamed answers)."""
    parent_ref: ParentRef | None = None
    """A shared Gateway every exposed leaf attaches to, unless it names a class or its own. Default: none
    (a dedicated Gateway per leaf)."""
    gateway_namespace: DnsLabel | None = None
    """Where the Gateway's data plane (the proxy pods) runs, for the NetworkPolicy: e.g. `envoy-gateway-system`
    for Envoy Gateway. Default: the Gateway's own namespace (as with Istio)."""


class PlatformPersistence(LeafModel):
    """Platform-wide storage settings."""

    storage_class: DnsLabel | None = None
    """StorageClass of model claims. Default: the cluster's default class."""


class PlatformAutoscaling(LeafModel):
    """Where the KEDA HTTP add-on runs."""

    interceptor_namespace: DnsLabel = "keda"
    """Namespace of the add-on's interceptor. Default: `keda`."""
    interceptor_service: DnsLabel = "keda-add-ons-http-interceptor-proxy"
    """The interceptor's proxy Service. Default: `keda-add-ons-http-interceptor-proxy`."""
    interceptor_port: int = Field(default=8080, ge=1, le=65535)
    """Its port. Default: `8080`."""


class PlatformArgoCd(LeafModel):
    """Where ArgoCD finds the synthesized manifests; with it, one Application per leaf is written."""

    repo_url: str = Field(min_length=1, alias="repoURL")
    """The Git repository holding the output directory."""
    target_revision: str = "main"
    """The branch, tag or commit to sync. Default: `main`."""
    path: str = "dist"
    """The output directory inside the repository; a leaf's path is `<path>/<namespace>/<serviceName>`.
    Default: `dist`."""
    project: DnsLabel = "default"
    """The ArgoCD project. Default: `default`."""
    namespace: DnsLabel = "argocd"
    """Where the Application objects live. Default: `argocd`."""


class PlatformDefaults(LeafModel):
    """Values that a platform team sets once for every leaf."""

    ollama: PlatformOllama = PlatformOllama()
    """Ollama image and settings. Default: see the fields."""
    ingress: PlatformIngress = PlatformIngress()
    """Gateway class, certificate issuer and timeouts. Default: see the fields."""
    registry: Registry | None = None
    """The internal registry every leaf pulls from unless it names its own. Default: registry.ollama.ai."""
    persistence: PlatformPersistence = PlatformPersistence()
    """Storage settings. Default: see the fields."""
    autoscaling: PlatformAutoscaling = PlatformAutoscaling()
    """The KEDA HTTP add-on. Default: see the fields."""
    argocd: PlatformArgoCd | None = None
    """Write an ArgoCD Application per leaf. Default: none (no Applications)."""
    priority_class_name: DnsSubdomain | None = None
    """PriorityClass of every Ollama pod (GPU pods are expensive to preempt). Default: none."""


def apply_platform_defaults(leaf: CatalogLeaf, platform: PlatformDefaults) -> CatalogLeaf:
    """`leaf` with every field it leaves open filled from `platform`; the leaf's own values win."""
    image = leaf.ollama.image or platform.ollama.image
    if leaf.ollama.image is None and leaf.gpu.vendor == "amd" and leaf.gpu.count and not image.endswith("-rocm"):
        image += "-rocm"  # the platform pins the version; AMD GPUs need its ROCm variant
    ollama = leaf.ollama.model_copy(
        update={
            "image": image,
            "context_length": leaf.ollama.context_length or platform.ollama.context_length,
            "num_parallel": leaf.ollama.num_parallel or platform.ollama.num_parallel,
        }
    )
    gateway = leaf.ingress.gateway
    if gateway.class_name is None and gateway.parent_ref is None:
        if platform.ingress.parent_ref is not None:
            gateway = gateway.model_copy(update={"parent_ref": platform.ingress.parent_ref})
        else:
            gateway = gateway.model_copy(update={"class_name": platform.ingress.gateway_class_name})
    auth = leaf.ingress.auth or Auth(mode="apiKey")
    if auth.mode == "apiKey" and auth.secret_name is None:
        auth = auth.model_copy(update={"secret_name": f"{leaf.service_name}-api-keys"})
    ingress = leaf.ingress.model_copy(
        update={
            "gateway": gateway,
            "auth": auth,
            "tls": leaf.ingress.tls.model_copy(
                update={"issuer_ref": leaf.ingress.tls.issuer_ref or platform.ingress.issuer_ref}
            ),
            "timeout_seconds": leaf.ingress.timeout_seconds or platform.ingress.timeout_seconds,
        }
    )
    preset = leaf.preset or (None if leaf.container.resources is not None else "auto")
    persistence = leaf.persistence
    if persistence.enabled:
        persistence = persistence.model_copy(
            update={
                "size": persistence.size if persistence.size is not None or persistence.existing_claim else "auto",
                "storage_class": persistence.storage_class
                or (None if persistence.existing_claim else platform.persistence.storage_class),
            }
        )
    return leaf.model_copy(
        update={
            "ollama": ollama,
            "ingress": ingress,
            "preset": preset,
            "persistence": persistence,
            "registry": leaf.registry or platform.registry,
        }
    )

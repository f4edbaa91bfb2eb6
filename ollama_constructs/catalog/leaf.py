"""The catalog leaf (`workloadType: OLLAMA_INFERENCE_LOAD`) as pydantic models.

The YAML keys are camelCase, as the contract (`catalog-leaf.md`) names them; the Python attributes are
their snake_case twins. Unknown keys are errors everywhere. Fields that a platform-defaults file may
supply are optional here and filled in by :func:`ollama_constructs.catalog.apply_platform_defaults`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from ..model_reference import ModelReference, ModelReferenceError
from .._types import DnsLabel, HostName, LabelValue, Quantity, ServiceName, quantity_value

WORKLOAD_TYPE = "OLLAMA_INFERENCE_LOAD"
"""The `workloadType` this library synthesizes; leaves of other types belong to other charts."""


class LeafModel(BaseModel):
    """Base of the leaf's models: camelCase keys, unknown keys rejected, immutable once loaded."""

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


class ResourceAmounts(LeafModel):
    """CPU and memory amounts, as Kubernetes quantities."""

    cpu: Quantity | None = None
    """CPU, e.g. `500m` or `2`. Default: not set."""
    memory: Quantity | None = None
    """Memory, e.g. `2Gi`. Default: not set."""


class Resources(LeafModel):
    """Requests and limits of the Ollama container."""

    requests: ResourceAmounts = ResourceAmounts()
    """What the scheduler reserves. Default: nothing."""
    limits: ResourceAmounts = ResourceAmounts()
    """The most the container may use. Default: no limit."""

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        for resource in ("cpu", "memory"):
            request = getattr(self.requests, resource)
            limit = getattr(self.limits, resource)
            if request is not None and limit is not None and quantity_value(request) > quantity_value(limit):
                raise ValueError(
                    f"requests.{resource} ({request}) is larger than limits.{resource} ({limit}); "
                    "a request must not exceed its limit"
                )
        return self


class Container(LeafModel):
    """Replicas and resources of the Ollama server."""

    replicas: int = Field(default=1, ge=0)
    """Pods of the server; `0` keeps the objects but runs nothing. Default: `1`."""
    resources: Resources | None = None
    """CPU and memory requests and limits. Default: the platform's defaults."""


class Gpu(LeafModel):
    """GPUs for each replica."""

    count: int = Field(default=0, ge=0, le=16)
    """GPUs per replica; `0` means CPU only, and the pod then sees no GPU. Default: `0`."""


class Ollama(LeafModel):
    """Settings of the Ollama server."""

    image: str | None = None
    """The Ollama container image. Default: the platform's pinned image."""
    context_length: int | None = Field(default=None, ge=256, le=1_048_576)
    """Context window in tokens, pinned so memory use is predictable. Default: the platform's value (4096)."""


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


class GatewayClass(LeafModel):
    """The Gateway that exposes the service."""

    class_name: DnsLabel | None = None
    """GatewayClass of the dedicated Gateway. Default: the platform's class."""


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

    @model_validator(mode="after")
    def _host_when_enabled(self) -> Ingress:
        if self.enabled and not self.host:
            raise ValueError("host is required when ingress is enabled")
        return self


class CatalogLeaf(LeafModel):
    """One Ollama inference service, as a service team asks for it."""

    workload_type: Literal["OLLAMA_INFERENCE_LOAD"]
    """Always `OLLAMA_INFERENCE_LOAD`; leaves of other types are skipped."""
    service_name: ServiceName
    """Base name of every object (a DNS label of at most 47 characters). Renaming it makes a new service."""
    service_catalog: LabelValue
    """The catalog the service belongs to (label `app.kubernetes.io/part-of`)."""
    namespace: DnsLabel
    """Namespace of every namespaced object."""
    environment: Literal["dev", "test", "staging", "prod"]
    """Deployment stage: `dev`, `test`, `staging` or `prod`."""
    owner: LabelValue | None = None
    """Team that owns the service (label `owner`). Default: none."""
    model: ModelRef | None = None
    """One model to serve: shorthand for `models: [<model>]`. Give `model` or `models`, not both."""
    models: Annotated[tuple[ModelRef, ...], Field(min_length=1)] | None = None
    """Every model the server must hold; the first is the primary (readiness, preload)."""
    preload: bool = True
    """Load the primary model before the pod is Ready, and keep it loaded. Default: `true`."""
    ollama: Ollama = Ollama()
    """Settings of the Ollama server. Default: the platform's."""
    gpu: Gpu = Gpu()
    """GPUs per replica. Default: none (CPU only)."""
    container: Container = Container()
    """Replicas and resources. Default: one replica with the platform's resources."""
    ingress: Ingress = Ingress()
    """Public exposure. Default: not exposed."""

    @model_validator(mode="after")
    def _model_or_models(self) -> CatalogLeaf:
        if self.model is not None and self.models is not None:
            raise ValueError("give either 'model' or 'models', not both")
        if self.model is None and self.models is None:
            raise ValueError("one of 'model' or 'models' is required")
        names = self.model_names
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"models are listed twice: {', '.join(duplicates)}")
        return self

    @property
    def model_names(self) -> tuple[str, ...]:
        """Every model, normalized, the primary first."""
        if self.models is not None:
            return self.models
        return (self.model,) if self.model is not None else ()

"""`OllamaInferenceChart`: one catalog leaf, as a chart of the four constructs."""

from __future__ import annotations

import cdk8s
from constructs import Construct

from . import _labels
from .catalog import CatalogLeaf, PlatformDefaults, apply_platform_defaults
from .compute_resources import ComputeResources
from .gateway_exposure import GatewayExposure, GatewayExposureProps
from .gpu_node_selector import GpuNodeSelector, GpuNodeSelectorProps
from .ollama_model_pull import OllamaModelPull, OllamaModelPullProps
from .ollama_server import OllamaServer, OllamaServerProps


class OllamaInferenceChart(cdk8s.Chart):
    """Everything one leaf asks for, in the leaf's namespace; the one place that maps a leaf to props.

    Composes :class:`OllamaServer` (Deployment, Service, probe scripts), :class:`OllamaModelPull` (init
    container and its script), :class:`GpuNodeSelector` (GPU limits and scheduling, or no GPU at all) and,
    when `ingress.enabled`, :class:`GatewayExposure` (Gateway, HTTPRoutes, Certificate). Every object is
    named after `serviceName` and carries the `app.kubernetes.io/*` labels, as do the pod templates.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        leaf: CatalogLeaf,
        *,
        platform: PlatformDefaults | None = None,
    ) -> None:
        self.leaf = apply_platform_defaults(leaf, platform or PlatformDefaults())
        """The leaf with the platform defaults applied."""
        super().__init__(scope, id, namespace=self.leaf.namespace, disable_resource_name_hashes=True)
        leaf = self.leaf
        labels = self._labels()

        self.server = OllamaServer(self, "Server", self._server_props(labels))
        self.model_pull = OllamaModelPull(
            self,
            "ModelPull",
            OllamaModelPullProps(
                name=leaf.service_name, models=leaf.model_names, image=leaf.ollama.image, labels=labels
            ),
            workload=self.server.deployment,
            models_volume=self.server.models_volume,
        )
        self.gpu = GpuNodeSelector(
            self,
            "Gpu",
            GpuNodeSelectorProps(count=leaf.gpu.count),
            workload=self.server.deployment,
            containers=[self.server.container],
        )
        self.exposure: GatewayExposure | None = None
        """The public exposure, when the leaf enables ingress."""
        if leaf.ingress.enabled and leaf.ingress.host:
            issuer = leaf.ingress.tls.issuer_ref
            assert issuer is not None and leaf.ingress.gateway.class_name is not None  # platform defaults
            self.exposure = GatewayExposure(
                self,
                "Exposure",
                GatewayExposureProps(
                    name=leaf.service_name,
                    host=leaf.ingress.host,
                    gateway_class_name=leaf.ingress.gateway.class_name,
                    issuer_kind=issuer.kind,
                    issuer_name=issuer.name,
                    timeout_seconds=leaf.ingress.timeout_seconds or 600,
                    labels=labels,
                ),
                service=self.server.service,
            )

    def _labels(self) -> dict[str, str]:
        leaf = self.leaf
        labels = {
            _labels.PART_OF: leaf.service_catalog,
            _labels.VERSION: _labels.image_version(leaf.ollama.image or ""),
            "environment": leaf.environment,
        }
        if leaf.owner:
            labels["owner"] = leaf.owner
        return labels

    def _server_props(self, labels: dict[str, str]) -> OllamaServerProps:
        leaf = self.leaf
        resources = leaf.container.resources
        assert resources is not None  # filled by the platform defaults
        gpu = leaf.gpu.count > 0
        return OllamaServerProps(
            name=leaf.service_name,
            models=leaf.model_names,
            preload=leaf.preload,
            image=leaf.ollama.image,
            replicas=leaf.container.replicas,
            resources=ComputeResources(
                cpu_request=resources.requests.cpu,
                cpu_limit=resources.limits.cpu,
                memory_request=resources.requests.memory,
                memory_limit=resources.limits.memory,
            ),
            context_length=leaf.ollama.context_length,
            # A rollout on GPU nodes must not wait for a spare GPU: replace pods one at a time instead.
            max_surge=0 if gpu else 1,
            max_unavailable=1 if gpu else 0,
            labels=labels,
        )

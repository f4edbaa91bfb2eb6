"""Ollama inference services on Kubernetes as typed cdk8s constructs.

Use the constructs in any cdk8s chart, or let :class:`OllamaInferenceChart` build one chart from a
catalog leaf. The catalog layer (leaf models, platform defaults, loading) is :mod:`ollama_constructs.catalog`.
"""

from ._defaults import DEFAULT_OLLAMA_IMAGE
from .catalog import CatalogError, CatalogLeaf, PlatformDefaults, load_catalog
from .compute_resources import ComputeResources
from .gateway_exposure import GatewayExposure, GatewayExposureProps
from .gpu_node_selector import GpuNodeSelector, GpuNodeSelectorProps
from .model_reference import ModelReference, ModelReferenceError
from .ollama_inference_chart import OllamaInferenceChart
from .ollama_model_pull import OllamaModelPull, OllamaModelPullProps
from .ollama_server import OllamaServer, OllamaServerProps

__all__ = [
    "DEFAULT_OLLAMA_IMAGE",
    "CatalogError",
    "CatalogLeaf",
    "ComputeResources",
    "GatewayExposure",
    "GatewayExposureProps",
    "GpuNodeSelector",
    "GpuNodeSelectorProps",
    "ModelReference",
    "ModelReferenceError",
    "OllamaInferenceChart",
    "OllamaModelPull",
    "OllamaModelPullProps",
    "OllamaServer",
    "OllamaServerProps",
    "PlatformDefaults",
    "load_catalog",
]

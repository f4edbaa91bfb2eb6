"""Ollama inference services on Kubernetes as typed cdk8s constructs.

Use the constructs in any cdk8s chart, or let :class:`OllamaInferenceChart` build one chart from a
catalog leaf. The catalog layer (leaf models, platform defaults, loading) is :mod:`ollama_constructs.catalog`.
"""

import importlib
from typing import TYPE_CHECKING, Any

# Lazy: `import ollama_constructs.catalog` (and `ollama-constructs validate`) must not start cdk8s's Node
# process; the constructs load on first use.
_EXPORTS = {
    "AcmeHttp01": ".gateway_exposure",
    "ApiKeyProxy": ".api_key_proxy",
    "ApiKeyProxyProps": ".api_key_proxy",
    "BackendService": ".gateway_exposure",
    "ClusterDns": ".ollama_network_policy",
    "CatalogError": ".catalog",
    "CatalogLeaf": ".catalog",
    "ComputeResources": ".compute_resources",
    "CustomModelfile": ".ollama_model_pull",
    "DEFAULT_OLLAMA_IMAGE": "._defaults",
    "DuplicateObjectError": "._scope",
    "GatewayExposure": ".gateway_exposure",
    "GatewayExposureProps": ".gateway_exposure",
    "GpuNodeSelector": ".gpu_node_selector",
    "GpuNodeSelectorProps": ".gpu_node_selector",
    "GpuToleration": ".gpu_node_selector",
    "INFERENCE_PATHS": ".gateway_exposure",
    "Interceptor": ".ollama_autoscaler",
    "ModelReference": ".model_reference",
    "ModelReferenceError": ".model_reference",
    "ModelSource": ".ollama_model_pull",
    "ModelVolume": ".ollama_server",
    "NodeLabelRequirement": ".gpu_node_selector",
    "OllamaAutoscaler": ".ollama_autoscaler",
    "OllamaAutoscalerProps": ".ollama_autoscaler",
    "OllamaInferenceChart": ".ollama_inference_chart",
    "OllamaModelPull": ".ollama_model_pull",
    "OllamaModelPullProps": ".ollama_model_pull",
    "OllamaNetworkPolicy": ".ollama_network_policy",
    "OllamaNetworkPolicyProps": ".ollama_network_policy",
    "OllamaServer": ".ollama_server",
    "OllamaServerProps": ".ollama_server",
    "ParentGateway": ".gateway_exposure",
    "PlatformDefaults": ".catalog",
    "SecretKey": ".ollama_model_pull",
    "LoadedLeaf": ".catalog",
    "load_catalog": ".catalog",
    "load_leaf": ".catalog",
}

if TYPE_CHECKING:  # pragma: no cover
    from ._defaults import DEFAULT_OLLAMA_IMAGE
    from ._scope import DuplicateObjectError
    from .api_key_proxy import ApiKeyProxy, ApiKeyProxyProps
    from .catalog import CatalogError, CatalogLeaf, LoadedLeaf, PlatformDefaults, load_catalog, load_leaf
    from .compute_resources import ComputeResources
    from .gateway_exposure import (
        AcmeHttp01,
        BackendService,
        GatewayExposure,
        GatewayExposureProps,
        INFERENCE_PATHS,
        ParentGateway,
    )
    from .gpu_node_selector import GpuNodeSelector, GpuNodeSelectorProps, GpuToleration, NodeLabelRequirement
    from .model_reference import ModelReference, ModelReferenceError
    from .ollama_autoscaler import Interceptor, OllamaAutoscaler, OllamaAutoscalerProps
    from .ollama_inference_chart import OllamaInferenceChart
    from .ollama_model_pull import CustomModelfile, ModelSource, OllamaModelPull, OllamaModelPullProps, SecretKey
    from .ollama_network_policy import ClusterDns, OllamaNetworkPolicy, OllamaNetworkPolicyProps
    from .ollama_server import ModelVolume, OllamaServer, OllamaServerProps


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AcmeHttp01",
    "ApiKeyProxy",
    "ApiKeyProxyProps",
    "BackendService",
    "CatalogError",
    "ClusterDns",
    "CatalogLeaf",
    "ComputeResources",
    "CustomModelfile",
    "DEFAULT_OLLAMA_IMAGE",
    "DuplicateObjectError",
    "GatewayExposure",
    "GatewayExposureProps",
    "GpuNodeSelector",
    "GpuNodeSelectorProps",
    "GpuToleration",
    "INFERENCE_PATHS",
    "Interceptor",
    "LoadedLeaf",
    "ModelReference",
    "ModelReferenceError",
    "ModelSource",
    "ModelVolume",
    "NodeLabelRequirement",
    "OllamaAutoscaler",
    "OllamaAutoscalerProps",
    "OllamaInferenceChart",
    "OllamaModelPull",
    "OllamaModelPullProps",
    "OllamaNetworkPolicy",
    "OllamaNetworkPolicyProps",
    "OllamaServer",
    "OllamaServerProps",
    "ParentGateway",
    "PlatformDefaults",
    "SecretKey",
    "load_catalog",
    "load_leaf",
]

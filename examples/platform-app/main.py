"""A platform team's cdk8s app built on ollama-constructs (installed from its wheel, like any dependency).

It synthesizes two kinds of chart into `dist/`:

* one `OllamaInferenceChart` per leaf of `leaves/`, exactly as the library's own command line would;
* a hand-assembled chart for a shared embedding service, composed from the constructs: the server, its model
  pull, CPU-only scheduling, an API-key proxy in front of it, a public route on the platform's shared
  Gateway, and NetworkPolicies.

Run it with `python main.py` (or `cdk8s synth`, which runs the same): Node 22 (or 24) must be on PATH.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cdk8s
from constructs import Construct

from ollama_constructs import (
    ApiKeyProxy,
    ApiKeyProxyProps,
    CatalogError,
    GatewayExposure,
    GatewayExposureProps,
    GpuNodeSelector,
    GpuNodeSelectorProps,
    LoadedLeaf,
    OllamaInferenceChart,
    OllamaModelPull,
    OllamaModelPullProps,
    OllamaNetworkPolicy,
    OllamaNetworkPolicyProps,
    OllamaServer,
    OllamaServerProps,
    ParentGateway,
    load_catalog,
)

HERE = Path(__file__).resolve().parent
SHARED_GATEWAY = ParentGateway(name="shared", namespace="gateway-system", section_name="https")


class EmbeddingsChart(cdk8s.Chart):
    """A shared embedding service for every team: CPU only, behind API keys, on the shared Gateway."""

    def __init__(self, scope: Construct, id: str, *, namespace: str, host: str) -> None:
        super().__init__(scope, id, namespace=namespace, disable_resource_name_hashes=True)
        labels = {"app.kubernetes.io/part-of": "platform-embeddings"}
        models = ("nomic-embed-text", "mxbai-embed-large:335m")
        self.server = OllamaServer(
            self, "Server", OllamaServerProps(name="embeddings", models=models, replicas=2, labels=labels)
        )
        OllamaModelPull(
            self,
            "Models",
            OllamaModelPullProps(name="embeddings", models=models, labels=labels),
            workload=self.server.workload,
            models_volume=self.server.models_volume,
            server_container=self.server.container,
        )
        GpuNodeSelector(self, "Cpu", GpuNodeSelectorProps(count=0), workload=self.server.workload)
        self.proxy = ApiKeyProxy(
            self,
            "Auth",
            ApiKeyProxyProps(name="embeddings", secret_name="embeddings-api-keys", labels=labels),
            upstream=self.server.service,
        )
        self.exposure = GatewayExposure(
            self,
            "Public",
            GatewayExposureProps(name="embeddings", host=host, parent=SHARED_GATEWAY, labels=labels),
            service=self.proxy.service,
        )
        OllamaNetworkPolicy(
            self,
            "ServerPolicy",
            OllamaNetworkPolicyProps(name="embeddings", allow_from_namespaces=(namespace,), labels=labels),
        )
        OllamaNetworkPolicy(
            self,
            "ProxyPolicy",
            OllamaNetworkPolicyProps(
                name="embeddings-auth",
                port=8080,
                allow_from_namespaces=(SHARED_GATEWAY.namespace,),
                registry_ports=(),
                egress_to_pods=(({"app.kubernetes.io/name": "embeddings"}, 11434),),
                labels=labels,
            ),
        )

    @property
    def url(self) -> str:
        """Where the teams call the service."""
        return self.exposure.url


def leaf_charts(app: cdk8s.App, leaves: tuple[LoadedLeaf, ...]) -> list[OllamaInferenceChart]:
    """One chart per leaf, named `<namespace>.<serviceName>` as the library's command line names them."""
    return [
        OllamaInferenceChart(app, f"{loaded.leaf.namespace}.{loaded.leaf.service_name}", loaded) for loaded in leaves
    ]


def build(outdir: Path) -> cdk8s.App:
    """The app, writing into `outdir` when synthesized."""
    app = cdk8s.App(outdir=str(outdir), yaml_output_type=cdk8s.YamlOutputType.FILE_PER_CHART)
    leaf_charts(app, load_catalog(HERE / "leaves").leaves)
    EmbeddingsChart(app, "platform.embeddings", namespace="platform", host="embeddings.llm.example.com")
    return app


def main() -> int:
    try:
        app = build(HERE / "dist")
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    app.synth()
    for chart in app.charts:
        print(f"synthesized {chart.node.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

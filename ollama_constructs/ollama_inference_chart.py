"""`OllamaInferenceChart`: one catalog leaf, as a chart of the four constructs."""

from __future__ import annotations

from typing import Any

import cdk8s
from constructs import Construct

from . import _argocd, _docs, _labels, _scope
from ._modelfile import render_modelfile
from .catalog import CatalogLeaf, LoadedLeaf, PlatformDefaults, apply_platform_defaults
from .catalog.platform import certificate_setup, gateway_data_plane
from .catalog.leaf import PinnedModel, Registry
from .catalog.plan import leaf_sizing, preload_timeout_seconds, served_model_count
from .catalog.timeouts import leaf_timeouts
from .compute_resources import ComputeResources
from ._defaults import OLLAMA_PORT
from .api_key_proxy import PROXY_PORT, ApiKeyProxy, ApiKeyProxyProps
from .gateway_exposure import AcmeHttp01, BackendService, GatewayExposure, GatewayExposureProps, ParentGateway
from .ollama_autoscaler import Interceptor, OllamaAutoscaler, OllamaAutoscalerProps
from .ollama_network_policy import ClusterDns, OllamaNetworkPolicy, OllamaNetworkPolicyProps
from .gpu_node_selector import GpuNodeSelector, GpuNodeSelectorProps
from .model_reference import DEFAULT_HOST, ModelReference
from .ollama_model_pull import CustomModelfile, ModelSource, OllamaModelPull, OllamaModelPullProps, SecretKey
from .ollama_server import ModelVolume, OllamaServer, OllamaServerProps


class OllamaInferenceChart(cdk8s.Chart):
    """Everything one leaf asks for, in the leaf's namespace; the one place that maps a leaf to props.

    Composes :class:`OllamaServer` (Deployment, Service, probe scripts), :class:`OllamaModelPull` (init
    container and its script), :class:`GpuNodeSelector` (GPU limits and scheduling, or no GPU at all) and,
    when `ingress.enabled`, :class:`GatewayExposure` (Gateway, HTTPRoutes, Certificate). Every object is
    named after `serviceName` and carries the `app.kubernetes.io/*` labels, as do the pod templates.

    Hand it what :func:`~ollama_constructs.load_leaf` or :func:`~ollama_constructs.load_catalog` gives, a
    :class:`~ollama_constructs.LoadedLeaf` (it carries its platform defaults): ``OllamaInferenceChart(app,
    "assistant", load_leaf("catalog/assistant.yaml"))``. A :class:`~ollama_constructs.CatalogLeaf` built in
    Python works too, with the platform defaults as `platform` (default: the built-in ones). Two objects of
    one kind with the same name (say, a construct added to the chart later) are refused by :meth:`to_json`.
    """

    checks_unique_objects = True
    """The chart checks its own manifests for duplicate objects (in `to_json`), cheaper than a validation."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        leaf: LoadedLeaf | CatalogLeaf,
        *,
        platform: PlatformDefaults | None = None,
    ) -> None:
        if isinstance(leaf, LoadedLeaf):
            if platform is not None:
                raise TypeError(
                    "a LoadedLeaf carries the platform defaults it was checked with; give `platform` only with a CatalogLeaf"
                )
            leaf, platform = leaf.leaf, leaf.platform
        self.platform = platform or PlatformDefaults()
        """The platform defaults the leaf was resolved with."""
        self.leaf_as_written = leaf
        """The leaf as written (which fields it set itself decides some defaults, e.g. its issuer)."""
        self.leaf = apply_platform_defaults(leaf, self.platform)
        """The leaf with the platform defaults applied."""
        super().__init__(scope, id, namespace=self.leaf.namespace, disable_resource_name_hashes=True)
        leaf = self.leaf
        labels = self._labels()
        self.sizing = leaf_sizing(leaf)
        """Resources, GPU memory, volume size and time budgets derived from the models."""
        self.timeouts = leaf_timeouts(leaf, self.sizing)
        """Every time bound of a request (route, proxy, autoscaler, drain, grace), from one rule
        (:mod:`ollama_constructs.catalog.timeouts`)."""

        self.server = OllamaServer(self, "Server", self._server_props(labels))
        self.model_pull = OllamaModelPull(self, "ModelPull", self._model_pull_props(labels), server=self.server)
        self.gpu = GpuNodeSelector(
            self,
            "Gpu",
            self._gpu_props(),
            workload=self.server.workload,
            containers=[self.server.container],
        )
        self.autoscaler: OllamaAutoscaler | None = None
        """Scaling on pending requests, when the leaf enables autoscaling."""
        if leaf.autoscaling.enabled:
            self.autoscaler = self._autoscaler(labels)
        self.auth_proxy: ApiKeyProxy | None = None
        """The API-key check in front of the server, when the exposed leaf asks for `apiKey`."""
        self.exposure: GatewayExposure | None = None
        """The public exposure, when the leaf enables ingress."""
        if leaf.ingress.enabled and leaf.ingress.host:
            self._expose(labels)
        self.network_policies = self._network_policies(labels, self.platform)
        """The NetworkPolicies of the server (and of the auth proxy)."""

    def to_json(self) -> list[Any]:
        """The chart's manifests, each with its ArgoCD sync wave (see :mod:`ollama_constructs._argocd`).

        Raises:
            DuplicateObjectError: when two constructs of the chart define the same object.
        """
        manifests = super().to_json()
        _scope.check_unique_objects(self, manifests)
        return _argocd.with_sync_waves(manifests)

    def _interceptor(self) -> Interceptor:
        a = self.platform.autoscaling
        return Interceptor(namespace=a.interceptor_namespace, service=a.interceptor_service, port=a.interceptor_port)

    def _autoscaler(self, labels: dict[str, str]) -> OllamaAutoscaler:
        leaf = self.leaf
        scaling = leaf.autoscaling
        return OllamaAutoscaler(
            self,
            "Autoscaler",
            OllamaAutoscalerProps(
                name=leaf.service_name,
                min_replicas=scaling.min_replicas,
                max_replicas=scaling.max_replicas,
                target_pending_requests=scaling.target_pending_requests or leaf.ollama.num_parallel or 1,
                hosts=(leaf.ingress.host,) if leaf.ingress.enabled and leaf.ingress.host else (),
                # A replica started from zero may first have to pull its models, then load the primary.
                cold_start_timeout_seconds=self.timeouts.cold_start_seconds,
                response_timeout_seconds=self.timeouts.response_header_seconds,
                interceptor=self._interceptor(),
                labels=labels,
            ),
            workload=self.server.workload,
            service=self.server.service,
        )

    def _expose(self, labels: dict[str, str]) -> None:
        leaf = self.leaf
        ingress = leaf.ingress
        assert ingress.host is not None and ingress.auth is not None  # checked, and defaulted by the platform
        # With an autoscaler, requests pass its interceptor, which counts them and wakes the server.
        backend = self.autoscaler.interceptor_service if self.autoscaler else self.server.service
        route_backend = None
        if ingress.auth.mode == "apiKey":
            assert ingress.auth.secret_name is not None
            self.auth_proxy = ApiKeyProxy(
                self,
                "Auth",
                ApiKeyProxyProps(
                    name=leaf.service_name,
                    secret_name=ingress.auth.secret_name,
                    timeout_seconds=self.timeouts.request_seconds,
                    drain_seconds=self.timeouts.drain_seconds,
                    labels=labels,
                ),
                upstream=backend,
            )
            backend = self.auth_proxy.service
        elif self.autoscaler is not None:
            interceptor = self._interceptor()
            route_backend = BackendService(name=interceptor.service, namespace=interceptor.namespace, port=interceptor.port)
        issuer = ingress.tls.issuer_ref
        assert issuer is not None  # platform defaults
        certificates = certificate_setup(self.leaf_as_written, self.platform)
        assert certificates is not None  # exposed
        acme = self.platform.ingress.acme
        parent = ingress.gateway.parent_ref
        self.exposure = GatewayExposure(
            self,
            "Exposure",
            GatewayExposureProps(
                name=leaf.service_name,
                host=ingress.host,
                gateway_class_name=ingress.gateway.class_name or "eg",
                parent=None
                if parent is None
                else ParentGateway(name=parent.name, namespace=parent.namespace, section_name=parent.section_name),
                issuer_kind=issuer.kind,
                issuer_name=issuer.name,
                acme_http01=AcmeHttp01(server=str(acme.server), email=acme.email)
                if certificates.setup == "acmeHttp01"
                else None,
                timeout_seconds=self.timeouts.request_seconds,
                backend=route_backend,
                labels=labels,
            ),
            service=None if route_backend else backend,
        )

    def _network_policies(self, labels: dict[str, str], platform: PlatformDefaults) -> list[OllamaNetworkPolicy]:
        leaf = self.leaf
        name = leaf.service_name
        callers = [leaf.namespace]
        # Where the Gateway's proxies run (None: Cilium's reserved:ingress, which no namespace selector matches).
        data_plane = gateway_data_plane(leaf, platform)
        gateway_namespace = data_plane.namespace if data_plane else None
        interceptor = self._interceptor().namespace if self.autoscaler else None
        if self.exposure is not None and self.auth_proxy is None and not interceptor and gateway_namespace:
            if gateway_namespace not in callers:
                callers.append(gateway_namespace)
        if interceptor and interceptor not in callers:
            callers.append(interceptor)
        dns = ClusterDns(
            namespace=platform.dns.namespace,
            pod_labels=platform.dns.pod_labels,
            addresses=platform.dns.node_local_addresses,
        )
        registry = leaf.registry
        port = 443
        in_cluster: list[tuple[str, int]] = []
        if registry is not None:
            host_port = registry.host.rpartition(":")[2] if ":" in registry.host else None
            port = int(host_port) if host_port else (80 if registry.insecure else 443)
            if registry.namespace:
                in_cluster.append((registry.namespace, port))
            if registry.blob_store.namespace:
                in_cluster += [(registry.blob_store.namespace, p) for p in registry.blob_store.ports]
        policies = [
            OllamaNetworkPolicy(
                self,
                "NetworkPolicy",
                OllamaNetworkPolicyProps(
                    name=name,
                    allow_from_namespaces=tuple(callers),
                    dns=dns,
                    registry_ports=(port,),
                    private_registry=registry is not None,
                    blob_store_ports=registry.blob_store.ports if registry is not None else (),
                    blob_store_cidrs=registry.blob_store.cidrs if registry is not None else (),
                    egress_to_namespaces=tuple(dict.fromkeys(in_cluster)),
                    labels=labels,
                ),
            )
        ]
        if self.auth_proxy is not None:
            policies.append(
                OllamaNetworkPolicy(
                    self,
                    "AuthNetworkPolicy",
                    OllamaNetworkPolicyProps(
                        name=f"{name}-auth",
                        port=PROXY_PORT,
                        allow_from_namespaces=(gateway_namespace,) if gateway_namespace else (),
                        dns=dns,
                        registry_ports=(),
                        egress_to_pods=() if interceptor else ((_labels.selector_labels(name), OLLAMA_PORT),),
                        egress_to_namespaces=((interceptor, self._interceptor().port),) if interceptor else (),
                        labels=labels,
                    ),
                )
            )
        return policies

    def _labels(self) -> dict[str, str]:
        leaf = self.leaf
        labels = {
            _labels.PART_OF: leaf.service_catalog,
            _labels.VERSION: _labels.image_version(leaf.ollama.image or ""),
            "environment": leaf.environment,
            # The Backstage Kubernetes plugin finds the service's objects by this label.
            "backstage.io/kubernetes-id": leaf.service_name,
        }
        if leaf.owner:
            labels["owner"] = leaf.owner
        return labels

    def _resources(self) -> ComputeResources:
        resources = self.leaf.container.resources
        disk = self.sizing.disk
        assert disk is not None  # leaf_sizing sizes the node disk (checked when the leaf was loaded)
        if resources is not None and resources.sets_compute:
            return ComputeResources(
                cpu_request=resources.requests.cpu,
                cpu_limit=resources.limits.cpu,
                memory_request=resources.requests.memory,
                memory_limit=resources.limits.memory,
                ephemeral_storage_request=disk.request,
                ephemeral_storage_limit=disk.limit,
            )
        sized = self.sizing.resources
        assert sized is not None  # a preset, or `auto` from known sizes (checked when the leaf was loaded)
        return ComputeResources(
            cpu_request=sized.cpu_request,
            cpu_limit=sized.cpu_limit,
            memory_request=sized.memory_request,
            memory_limit=sized.memory_limit,
            ephemeral_storage_request=disk.request,
            ephemeral_storage_limit=disk.limit,
        )

    def _gpu_props(self) -> GpuNodeSelectorProps:
        gpu = self.leaf.gpu
        min_memory = gpu.min_memory_gib
        if min_memory is None and gpu.count and gpu.vendor == "nvidia" and gpu.resource_name is None:
            min_memory = self.sizing.gpu_min_memory_gib
        amd = self.platform.gpu.amd
        return GpuNodeSelectorProps(
            count=gpu.count,
            vendor=gpu.vendor,
            resource_name=gpu.resource_name,
            product=gpu.product,
            family=gpu.family,
            min_memory_gib=min_memory,
            runtime_class_name=gpu.runtime_class_name,
            tolerations=None
            if gpu.tolerations is None
            else tuple(t.model_dump(exclude_none=True) for t in gpu.tolerations),
            # The hosts' video and render groups own the AMD device nodes (platform settings).
            supplemental_groups=tuple(sorted({*amd.video_group_ids, *amd.render_group_ids}))
            if gpu.vendor == "amd" and gpu.count
            else None,
        )

    def _more_models_than_ollama_keeps(self) -> int | None:
        """Every model may stay loaded: set `OLLAMA_MAX_LOADED_MODELS` only when the leaf serves more models
        than Ollama's own limit (3 per GPU, 3 on CPU), so adding a model below it does not roll the pods."""
        count = served_model_count(self.leaf)
        return count if count > 3 * max(self.leaf.gpu.count, 1) else None

    def _server_props(self, labels: dict[str, str]) -> OllamaServerProps:
        leaf = self.leaf
        ollama = leaf.ollama
        gpu = leaf.gpu.count > 0
        return OllamaServerProps(
            name=leaf.service_name,
            models=leaf.model_names,
            preload=leaf.preload,
            image=ollama.image,
            replicas=leaf.container.replicas,
            max_replicas=leaf.autoscaling.max_replicas if leaf.autoscaling.enabled else None,
            resources=self._resources(),
            context_length=ollama.context_length,
            keep_alive=None if ollama.keep_alive is None else str(ollama.keep_alive),
            num_parallel=ollama.num_parallel or 1,
            max_loaded_models=ollama.max_loaded_models or self._more_models_than_ollama_keeps(),
            max_queue=ollama.max_queue,
            flash_attention=ollama.flash_attention,
            kv_cache_type=ollama.kv_cache_type,
            load_timeout=None if ollama.load_timeout is None else str(ollama.load_timeout),
            env=ollama.extra_env,
            startup_timeout_seconds=preload_timeout_seconds(leaf),
            progress_deadline_seconds=self.sizing.progress_deadline_seconds,
            drain_seconds=self.timeouts.drain_seconds,
            priority_class_name=self.platform.priority_class_name,
            # A rollout on GPU nodes must not wait for a spare GPU: replace pods one at a time instead.
            max_surge=0 if gpu else 1,
            max_unavailable=1 if gpu else 0,
            labels=labels,
            model_volume=self._model_volume(),
            models_size_limit=self.sizing.disk.models_size_limit if self.sizing.disk else None,
        )

    def _model_volume(self) -> ModelVolume | None:
        persistence = self.leaf.persistence
        if not persistence.enabled:
            return None
        size = self.sizing.volume_size if persistence.size == "auto" else persistence.size
        return ModelVolume(
            size=size or "20Gi",
            storage_class=persistence.storage_class,
            access_mode=persistence.access_mode,
            existing_claim=persistence.existing_claim,
        )

    def _model_pull_props(self, labels: dict[str, str]) -> OllamaModelPullProps:
        leaf = self.leaf
        entries: list[PinnedModel] = list(leaf.pinned_models)
        for custom in leaf.custom_models:
            if custom.from_ is not None and custom.from_.name not in [e.name for e in entries]:
                entries.append(custom.from_)
        customs = [
            CustomModelfile(
                name=c.name,
                modelfile=c.modelfile
                or render_modelfile(c.from_.name, system=c.system, template=c.template, parameters=c.parameters),
            )
            for c in leaf.custom_models
            if c.modelfile is not None or c.from_ is not None
        ]
        registry = leaf.registry
        ca = registry.ca_bundle if registry else None
        # The name, image and volume sharing follow the server (server=).
        return OllamaModelPullProps(
            models=tuple(model_source(e, registry) for e in entries),
            custom_models=tuple(customs),
            remove_unlisted=leaf.remove_unlisted_models,
            ca_bundle=SecretKey(secret_name=ca.secret_name, key=ca.key) if ca else None,
            labels=labels,
        )


def model_source(model: PinnedModel, registry: Registry | None) -> ModelSource:
    """Where a leaf's model is pulled from: the internal registry (then copied to the short name clients
    use) for models of the default registry, else the reference as written."""
    ref = ModelReference.parse(model.name)
    if registry is not None and ref.host == DEFAULT_HOST:
        full = f"{registry.host}/{ref.namespace}/{ref.name}:{ref.tag}"
        return ModelSource(ref=full, digest=model.digest, alias=ref.short, insecure=registry.insecure)
    insecure = registry is not None and registry.insecure and ref.host == registry.host
    return ModelSource(ref=ref.short, digest=model.digest, insecure=insecure)


_docs.document_class(
    OllamaInferenceChart,
    "Add the chart of one leaf to `scope` (an App) under `id`; `leaf` is a LoadedLeaf, or a CatalogLeaf with "
    "its `platform` defaults (default: the built-in ones).",
)

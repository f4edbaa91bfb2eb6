"""`OllamaAutoscaler`: scale an Ollama workload on pending requests with the KEDA HTTP add-on."""

from __future__ import annotations

from collections.abc import Mapping

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import Field, model_validator

from . import _labels, _pod, _scope
from ._props import Props
from ._types import DnsLabel
from .imports.kedahttp.sh.keda import http as keda_http


CLUSTER_DOMAIN = "cluster.local"
"""The cluster's DNS domain, in the fully qualified Service names (kubelet's default `clusterDomain`)."""


class Interceptor(Props):
    """Where the KEDA HTTP add-on's interceptor proxy runs."""

    namespace: DnsLabel = "keda"
    """Namespace of the add-on. Default: `keda`."""
    service: DnsLabel = "keda-add-ons-http-interceptor-proxy"
    """The interceptor's proxy Service. Default: `keda-add-ons-http-interceptor-proxy` (the Helm chart's)."""
    port: int = Field(default=8080, ge=1, le=65535)
    """The proxy Service's port. Default: `8080`."""

    @property
    def address(self) -> str:
        """The in-cluster DNS name of the interceptor's proxy Service."""
        return f"{self.service}.{self.namespace}.svc.{CLUSTER_DOMAIN}"


class OllamaAutoscalerProps(Props):
    """Replica bounds and the queue depth that scales out."""

    name: DnsLabel = "ollama"
    """Name of the server (its workload and Service) and of the objects here. Default: `ollama`."""
    min_replicas: int = Field(default=1, ge=0)
    """Fewest replicas; `0` scales to zero when idle (the interceptor holds requests while a pod starts).
    Default: `1`."""
    max_replicas: int = Field(default=3, ge=1)
    """Most replicas. Default: `3`."""
    target_pending_requests: int = Field(default=1, ge=1)
    """Requests in flight per replica (being answered or queued) above which KEDA adds a replica; one
    replica answers `OLLAMA_NUM_PARALLEL` at a time. Default: `1`."""
    hosts: tuple[str, ...] = ()
    """Host headers the interceptor routes to this server (the public host). The namespace-qualified names
    of the `<name>-interceptor` Service are always added. Default: none besides those."""
    cold_start_timeout_seconds: int = Field(default=600, ge=1)
    """How long the interceptor holds a request while the first replica starts and loads its model.
    Default: `600`."""
    response_timeout_seconds: int = Field(default=600, ge=1)
    """How long the interceptor waits for response headers (a long non-streamed answer). Default: `600`."""
    scaledown_period_seconds: int = Field(default=300, ge=0)
    """Idle time before a replica is removed. Default: `300`."""
    interceptor: Interceptor = Interceptor()
    """The add-on's interceptor. Default: the Helm chart's names in namespace `keda`."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on every object. Default: none."""

    @model_validator(mode="after")
    def _bounds(self) -> OllamaAutoscalerProps:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) is below min_replicas ({self.min_replicas})")
        return self


@_scope.public_construct
class OllamaAutoscaler(Construct):
    """Scales an Ollama workload on its request queue, not on CPU (which says nothing about GPU inference).

    The KEDA HTTP add-on's interceptor sits in the request path, counts the requests in flight per host
    and scales the workload so that each replica has at most `target_pending_requests`; with
    `min_replicas: 0` it holds requests while a replica starts. Traffic must therefore reach the server
    through the interceptor: the Gateway route points at it (with a ReferenceGrant in its namespace), and
    in-cluster callers use the `<name>-interceptor` Service.

    The interceptor routes by the Host header alone, with its port stripped, and a host claimed by several
    HTTPScaledObjects goes to the oldest of them (KEDA HTTP add-on v0.15.0, `pkg/routing/key.go` `stripPort`,
    `pkg/routing/tablememory.go` `remember`): the hosts are therefore the public host and the
    namespace-qualified names of `<name>-interceptor` (`<name>-interceptor.<namespace>`, `.svc`,
    `.svc.cluster.local`), never the bare `<name>-interceptor` that a same-named service of another namespace
    would claim too. In-cluster callers use `http://<name>-interceptor.<namespace>.svc:<port>`.

    Synthesizes:
      * an HTTPScaledObject `<name>` (the `Resource` child) targeting the workload and its Service;
      * an ExternalName Service `<name>-interceptor` pointing at the interceptor, for in-cluster callers and
        an auth proxy;
    and removes `spec.replicas` from the workload: KEDA owns the replica count, and a value in Git would
    make ArgoCD undo every scaling decision.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: OllamaAutoscalerProps,
        *,
        workload: kplus.Deployment | kplus.StatefulSet,
        service: kplus.Service,
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        labels = _labels.object_labels(p.name, "autoscaler", p.labels)
        service_name = f"{p.name}-interceptor"
        namespace = _scope.namespace_of(scope) or "default"
        self.interceptor_hosts: tuple[str, ...] = tuple(
            f"{service_name}.{namespace}{suffix}" for suffix in ("", ".svc", f".svc.{CLUSTER_DOMAIN}")
        )
        """The in-cluster names (and Host headers) that route through the interceptor to this server."""
        self.interceptor_host: str = self.interceptor_hosts[1]
        """The in-cluster name in-cluster callers use: `<name>-interceptor.<namespace>.svc`."""
        self.interceptor_service = kplus.Service(
            self,
            "Interceptor",
            metadata=cdk8s.ApiObjectMetadata(name=service_name, labels=labels),
            type=kplus.ServiceType.EXTERNAL_NAME,
            external_name=p.interceptor.address,
            ports=[kplus.ServicePort(name="http", port=p.interceptor.port, target_port=p.interceptor.port)],
        )
        """The ExternalName Service that leads to the interceptor."""
        hosts = [*p.hosts, *self.interceptor_hosts]
        kind = "StatefulSet" if isinstance(workload, kplus.StatefulSet) else "Deployment"
        service_name, service_port = _scope.name_and_port(service)
        self.scaled_object = keda_http.HttpScaledObject(
            self,
            "Resource",
            metadata=cdk8s.ApiObjectMetadata(name=p.name, labels=labels),
            spec=keda_http.HttpScaledObjectSpec(
                hosts=hosts,
                scale_target_ref=keda_http.HttpScaledObjectSpecScaleTargetRef(
                    api_version="apps/v1", kind=kind, name=workload.name, service=service_name, port=service_port
                ),
                replicas=keda_http.HttpScaledObjectSpecReplicas(min=p.min_replicas, max=p.max_replicas),
                scaling_metric=keda_http.HttpScaledObjectSpecScalingMetric(
                    concurrency=keda_http.HttpScaledObjectSpecScalingMetricConcurrency(
                        target_value=p.target_pending_requests
                    )
                ),
                scaledown_period=p.scaledown_period_seconds,
                timeouts=keda_http.HttpScaledObjectSpecTimeouts(
                    condition_wait=f"{p.cold_start_timeout_seconds}s",
                    response_header=f"{p.response_timeout_seconds}s",
                ),
            ),
        )
        """The HTTPScaledObject."""
        _scope.api_object(workload).add_json_patch(_pod.remove_patch("/spec/replicas"))

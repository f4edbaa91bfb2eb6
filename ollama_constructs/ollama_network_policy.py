"""`OllamaNetworkPolicy`: who may call the Ollama port, and where the pods may connect to."""

from __future__ import annotations

from collections.abc import Mapping

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import Field

from . import _labels, _pod
from ._defaults import OLLAMA_PORT
from ._props import Props
from ._scope import public_construct
from ._types import DnsLabel

PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")
"""Private, carrier-grade NAT and link-local (cloud metadata) ranges, closed to pulls from a public registry."""


class OllamaNetworkPolicyProps(Props):
    """The callers of the server and the registry it pulls from."""

    name: DnsLabel = "ollama"
    """Instance name of the pods the policy selects (by name and instance), and the policy's name.
    Default: `ollama`."""
    port: int = Field(default=OLLAMA_PORT, ge=1, le=65535)
    """The port the callers may reach. Default: `11434` (Ollama)."""
    allow_from_namespaces: tuple[DnsLabel, ...] = ()
    """Namespaces whose pods may call the Ollama port (e.g. the service's own namespace, the Gateway's).
    Default: none."""
    allow_from_pods: tuple[Mapping[str, str], ...] = ()
    """Label sets of pods in the same namespace that may call the Ollama port (e.g. an auth proxy).
    Default: none."""
    registry_ports: tuple[int, ...] = (443,)
    """TCP ports the pods may connect to for model pulls; empty for pods that pull nothing. Default: `443`."""
    egress_to_pods: tuple[tuple[Mapping[str, str], int], ...] = ()
    """(labels, port) of pods in the same namespace the selected pods may call, e.g. a proxy's upstream.
    Default: none."""
    egress_to_namespaces: tuple[tuple[DnsLabel, int], ...] = ()
    """(namespace, port) the selected pods may call in other namespaces, e.g. an autoscaler's interceptor.
    Default: none."""
    private_registry: bool = False
    """The registry is inside the organisation's network: allow its ports to any address. Otherwise private
    and link-local ranges (the cloud metadata address among them) are closed. Default: `false`."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on the policy. Default: none."""


@public_construct
class OllamaNetworkPolicy(Construct):
    """A NetworkPolicy for the Ollama pods (or a proxy in front of them): default deny, then the listed
    callers, the registry and the upstream.

    Ingress: TCP `port` (11434) from the pods of `allow_from_namespaces` and from the `allow_from_pods` of the same
    namespace; nothing else (the sidecar reaches the server over loopback, which policies do not affect).
    Egress: DNS (UDP and TCP 53) anywhere, and `registry_ports` to the registry. A NetworkPolicy selects
    addresses, not host names, so the registry rule is a port rule: to any public address for
    registry.ollama.ai and its CDN, or to any address for a `private_registry`.

    Synthesizes a NetworkPolicy `<name>` (the `Resource` child).
    """

    def __init__(self, scope: Construct, id: str, props: OllamaNetworkPolicyProps | None = None) -> None:
        super().__init__(scope, id)
        self.props = props or OllamaNetworkPolicyProps()
        p = self.props
        ollama_port = [_pod.tcp(p.port)]
        ingress = [
            kplus.NetworkPolicyRule(peer=kplus.Namespaces.select(self, f"Namespace{i}", names=[ns]), ports=ollama_port)
            for i, ns in enumerate(p.allow_from_namespaces)
        ]
        ingress += [
            kplus.NetworkPolicyRule(peer=kplus.Pods.select(self, f"Pods{i}", labels=dict(labels)), ports=ollama_port)
            for i, labels in enumerate(p.allow_from_pods)
        ]
        registry = (
            kplus.NetworkPolicyIpBlock.any_ipv4(self, "Registry")
            if p.private_registry
            else kplus.NetworkPolicyIpBlock.ipv4(self, "Registry", "0.0.0.0/0", except_=list(PRIVATE_NETWORKS))
        )
        egress = [
            kplus.NetworkPolicyRule(
                peer=kplus.NetworkPolicyIpBlock.any_ipv4(self, "Dns"),
                ports=[_pod.udp(53), _pod.tcp(53)],
            )
        ]
        if p.registry_ports:
            egress.append(
                kplus.NetworkPolicyRule(peer=registry, ports=[_pod.tcp(x) for x in p.registry_ports])
            )
        egress += [
            kplus.NetworkPolicyRule(
                peer=kplus.Pods.select(self, f"Upstream{i}", labels=dict(labels)), ports=[_pod.tcp(port)]
            )
            for i, (labels, port) in enumerate(p.egress_to_pods)
        ]
        egress += [
            kplus.NetworkPolicyRule(
                peer=kplus.Namespaces.select(self, f"UpstreamNamespace{i}", names=[namespace]),
                ports=[_pod.tcp(port)],
            )
            for i, (namespace, port) in enumerate(p.egress_to_namespaces)
        ]
        self.policy = kplus.NetworkPolicy(
            self,
            "Resource",
            metadata=cdk8s.ApiObjectMetadata(name=p.name, labels=_labels.object_labels(p.name, "network-policy", p.labels)),
            selector=kplus.Pods.select(self, "Server", labels=_labels.selector_labels(p.name)),
            ingress=kplus.NetworkPolicyTraffic(default=kplus.NetworkPolicyTrafficDefault.DENY, rules=ingress),
            egress=kplus.NetworkPolicyTraffic(default=kplus.NetworkPolicyTrafficDefault.DENY, rules=egress),
        )
        """The NetworkPolicy."""

"""`OllamaNetworkPolicy`: who may call the Ollama port, and where the pods may connect to."""

from __future__ import annotations

from collections.abc import Mapping

import cdk8s
import cdk8s_plus_28 as kplus
from cdk8s_plus_28 import k8s
from constructs import Construct
from pydantic import Field

from . import _jsii_host, _labels, _net, _pod, _scope
from ._defaults import OLLAMA_PORT
from ._net import Cidr, IpAddress
from ._props import Props
from ._scope import public_construct
from ._types import DnsLabel

PRIVATE_NETWORKS = _net.PRIVATE_IPV4
"""Non-public IPv4 ranges (private, carrier-grade NAT, link-local with the cloud metadata address, ...),
closed to pulls from a public registry; :data:`PRIVATE_NETWORKS_V6` are their IPv6 counterparts."""
PRIVATE_NETWORKS_V6 = _net.PRIVATE_IPV6
"""Non-public IPv6 ranges (unique local, link-local, the NAT64 translations of the IPv4 ones)."""


class ClusterDns(Props):
    """The cluster's DNS servers, which every selected pod may query on UDP and TCP port 53.

    They are selected by namespace and pod labels, not by address: Cilium never matches pod addresses
    with an `ipBlock` (cilium/cilium issue 19601; argoproj/argo-cd issue 11321 is this very rule breaking
    DNS), and a Service's cluster IP is translated to a pod address before any policy sees it. DNS servers
    that are not pods (NodeLocal DNSCache on the host network, GKE Cloud DNS's metadata server) are
    allowed by address, on port 53 only.
    """

    namespace: DnsLabel = "kube-system"
    """Namespace of the DNS pods. Default: `kube-system`."""
    pod_labels: tuple[Mapping[str, str], ...] = ({"k8s-app": "kube-dns"},)
    """Label sets of the DNS pods. Default: `k8s-app: kube-dns` (CoreDNS and kube-dns)."""
    addresses: tuple[IpAddress, ...] = ("169.254.20.10", "169.254.169.254")
    """DNS servers outside any pod, by address (IPv4 or IPv6). Default: NodeLocal DNSCache's
    `169.254.20.10` and GKE Cloud DNS's `169.254.169.254`."""


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
    dns: ClusterDns = ClusterDns()
    """The cluster DNS the pods may query. Default: `k8s-app: kube-dns` pods in `kube-system`, and the
    node-local addresses of :class:`ClusterDns`."""
    registry_ports: tuple[int, ...] = (443,)
    """TCP ports the pods may connect to for model pulls; empty for pods that pull nothing. Default: `443`."""
    private_registry: bool = False
    """The registry is inside the organisation's network: allow its ports to any address. Otherwise the
    non-public ranges (:data:`PRIVATE_NETWORKS`, :data:`PRIVATE_NETWORKS_V6`: private, link-local and the
    cloud metadata addresses among them) are closed. Default: `false`."""
    blob_store_ports: tuple[int, ...] = ()
    """TCP ports of the store an internal registry redirects blob downloads to (S3, MinIO). Default: none."""
    blob_store_cidrs: tuple[Cidr, ...] = ()
    """Addresses of that store, IPv4 or IPv6. Default: any address (when `blob_store_ports` are given)."""
    egress_to_pods: tuple[tuple[Mapping[str, str], int], ...] = ()
    """(labels, port) of pods in the same namespace the selected pods may call, e.g. a proxy's upstream.
    Default: none."""
    egress_to_namespaces: tuple[tuple[DnsLabel, int], ...] = ()
    """(namespace, port) the selected pods may call in other namespaces, e.g. an autoscaler's interceptor or
    a registry running in the cluster. Default: none."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on the policy. Default: none."""


Peer = tuple[str, ...]
"""A peer as hashable data: `("namespace", name)`, `("pods", namespace or "", k1, v1, k2, v2, ...)` or
`("block", cidr, *except)`."""
Rule = tuple[tuple[tuple[str, int], ...], tuple[Peer, ...]]
"""A rule as hashable data: ((protocol, port), ...), (peer, ...)."""


@public_construct
class OllamaNetworkPolicy(Construct):
    """A NetworkPolicy for the Ollama pods (or a proxy in front of them): default deny, then the listed
    callers, the cluster DNS, the registry and the upstream.

    Ingress: TCP `port` (11434) from the pods of `allow_from_namespaces` and from the `allow_from_pods` of the same
    namespace; nothing else (the sidecar reaches the server over loopback, which policies do not affect).
    Egress, IPv4 and IPv6 alike:

    * DNS (UDP and TCP 53) to the cluster DNS pods, by namespace and labels, and to `dns.addresses`;
    * `registry_ports` to the registry. A NetworkPolicy selects addresses, not host names, so this is a
      port rule: to any public address for registry.ollama.ai and its CDN, or to any address for a
      `private_registry`;
    * `blob_store_ports` to `blob_store_cidrs` (or anywhere): an internal registry answers blob GETs with a
      redirect to another host, which Ollama requires;
    * the `egress_to_pods` and `egress_to_namespaces`.

    The policy is cdk8s-plus's (default deny, the pod selector); its rules are written with the `k8s`
    structs, because a cdk8s-plus rule holds one peer where a rule may hold several (the DNS servers,
    the IPv4 and IPv6 ranges of one port), and a rule made of data costs no call into cdk8s's Node
    process per peer.

    Synthesizes a NetworkPolicy `<name>` (the `Resource` child).
    """

    def __init__(self, scope: Construct, id: str, props: OllamaNetworkPolicyProps | None = None) -> None:
        super().__init__(scope, id)
        self.props = props or OllamaNetworkPolicyProps()
        p = self.props
        self.ingress_rules: tuple[Rule, ...] = self._ingress()
        """The ingress rules, as data."""
        self.egress_rules: tuple[Rule, ...] = self._egress()
        """The egress rules, as data."""
        deny = _deny()
        self.policy = kplus.NetworkPolicy(
            self,
            "Resource",
            metadata=cdk8s.ApiObjectMetadata(name=p.name, labels=_labels.object_labels(p.name, "network-policy", p.labels)),
            selector=kplus.Pods.select(self, "Server", labels=_labels.selector_labels(p.name)),
            ingress=deny,
            egress=deny,
        )
        """The NetworkPolicy."""
        _scope.api_object(self.policy).add_json_patch(
            _rules_patch("/spec/ingress", self.ingress_rules), _rules_patch("/spec/egress", self.egress_rules)
        )

    def _ingress(self) -> tuple[Rule, ...]:
        p = self.props
        peers: list[Peer] = [("namespace", ns) for ns in p.allow_from_namespaces]
        peers += [_pods("", labels) for labels in p.allow_from_pods]
        return ((((("TCP", p.port),), tuple(peers)),) if peers else ())

    def _egress(self) -> tuple[Rule, ...]:
        p = self.props
        dns = p.dns
        dns_peers = [_pods(dns.namespace, labels) for labels in dns.pod_labels]
        dns_peers += [("block", _net.host_cidr(address)) for address in dns.addresses]
        rules: list[Rule] = [((("UDP", 53), ("TCP", 53)), tuple(dns_peers))] if dns_peers else []
        if p.registry_ports:
            if p.private_registry:
                registry: tuple[Peer, ...] = (("block", "0.0.0.0/0"), ("block", "::/0"))
            else:
                registry = (("block", "0.0.0.0/0", *PRIVATE_NETWORKS), ("block", "::/0", *PRIVATE_NETWORKS_V6))
            rules.append((tuple(("TCP", port) for port in p.registry_ports), registry))
        if p.blob_store_ports:
            blocks = p.blob_store_cidrs or ("0.0.0.0/0", "::/0")
            rules.append((tuple(("TCP", port) for port in p.blob_store_ports), tuple(("block", c) for c in blocks)))
        rules += [((("TCP", port),), (_pods("", labels),)) for labels, port in p.egress_to_pods]
        rules += [((("TCP", port),), (("namespace", namespace),)) for namespace, port in p.egress_to_namespaces]
        return tuple(rules)


def _pods(namespace: str, labels: Mapping[str, str]) -> Peer:
    return ("pods", namespace, *(x for item in sorted(labels.items()) for x in item))


@_jsii_host.shared(maxsize=1)
def _deny() -> kplus.NetworkPolicyTraffic:
    """Deny by default, no rule (the rules come as data, see :func:`_rules_patch`); made once."""
    return kplus.NetworkPolicyTraffic(default=kplus.NetworkPolicyTrafficDefault.DENY, rules=[])


def _selector(labels: Mapping[str, str]) -> k8s.LabelSelector:
    return k8s.LabelSelector(match_labels=dict(labels))


def _peer(peer: Peer) -> k8s.NetworkPolicyPeer:
    kind, *rest = peer
    if kind == "namespace":
        return k8s.NetworkPolicyPeer(
            namespace_selector=_selector({"kubernetes.io/metadata.name": rest[0]}), pod_selector=k8s.LabelSelector()
        )
    if kind == "pods":
        namespace, *flat = rest
        labels = dict(zip(flat[::2], flat[1::2]))
        return k8s.NetworkPolicyPeer(
            namespace_selector=_selector({"kubernetes.io/metadata.name": namespace}) if namespace else None,
            pod_selector=_selector(labels),
        )
    cidr, *excepted = rest
    return k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=cidr, except_=excepted or None))


@_jsii_host.shared(maxsize=4096)
def _rules_patch(path: str, rules: tuple[Rule, ...]) -> cdk8s.JsonPatch:
    """The JSON patch that adds `rules` (ingress or egress, by `path`) to a policy, shared between
    policies with the same rules."""
    ingress = path.endswith("ingress")
    built = []
    for ports, peers in rules:
        policy_ports = [k8s.NetworkPolicyPort(port=_pod.int_or_string(port), protocol=protocol) for protocol, port in ports]
        peer_list = [_peer(peer) for peer in peers]
        built.append(
            k8s.NetworkPolicyIngressRule(ports=policy_ports, from_=peer_list)
            if ingress
            else k8s.NetworkPolicyEgressRule(ports=policy_ports, to=peer_list)
        )
    return cdk8s.JsonPatch.add(path, built)

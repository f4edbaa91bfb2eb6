"""Platform defaults: what a platform team sets once for every leaf of its catalog.

They come from an optional `platform-defaults.yaml` in the catalog directory (or a file named on the
command line); what the file leaves out, and the whole file when it is absent, takes the built-in
defaults below. A field that a leaf sets wins over the platform default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from .. import _gpu_labels
from .._defaults import DEFAULT_OLLAMA_IMAGE
from .._net import IpAddress
from .._types import DnsLabel, DnsSubdomain, EmailAddress, HttpsUrl, LabelKey, LabelValue
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


class PlatformAcme(LeafModel):
    """The ACME server and contact of the per-leaf HTTP-01 Issuers."""

    server: HttpsUrl = "https://acme-v02.api.letsencrypt.org/directory"
    """The ACME directory. Default: Let's Encrypt production (`https://acme-v02.api.letsencrypt.org/directory`)."""
    email: EmailAddress | None = None
    """Contact address of the ACME accounts (expiry notices). Default: none."""


class PlatformDns(LeafModel):
    """The cluster DNS every pod may query (UDP and TCP port 53), selected by namespace and labels: Cilium
    never matches pod addresses with an address rule (cilium issue 19601), so an `ipBlock` cannot allow it."""

    namespace: DnsLabel = "kube-system"
    """Namespace of the cluster DNS pods. Default: `kube-system`."""
    pod_labels: tuple[dict[LabelKey, LabelValue], ...] = ({"k8s-app": "kube-dns"},)
    """Label sets of the DNS pods (each set selects pods having all its labels). Default: `k8s-app: kube-dns`
    (CoreDNS and kube-dns alike). Add `k8s-app: node-local-dns` where Cilium's Local Redirect Policy sends
    DNS to NodeLocal DNSCache pods."""
    node_local_addresses: tuple[IpAddress, ...] = ("169.254.20.10", "169.254.169.254")
    """DNS servers that are not pods, allowed by address on port 53 only: NodeLocal DNSCache's link-local
    address (`169.254.20.10`, host network) and GKE Cloud DNS's metadata server (`169.254.169.254`, which
    kubelet names in every pod's resolv.conf there). Default: both (nothing answers there on other clusters)."""


class PlatformAmdGpu(LeafModel):
    """Groups of the AMD GPU device nodes on the nodes (`/dev/kfd`, `/dev/dri/*`), which a non-root pod must
    belong to: containerd keeps the host's group of a device node."""

    video_group_ids: tuple[Annotated[int, Field(ge=1, le=2**31 - 1)], ...] = _gpu_labels.AMD_VIDEO_GROUP_IDS
    """GIDs of the hosts' `video` group (`/dev/dri/card*`). Default: `[44]` (Debian and Ubuntu; 39 on Fedora
    and RHEL)."""
    render_group_ids: tuple[Annotated[int, Field(ge=1, le=2**31 - 1)], ...] = _gpu_labels.AMD_RENDER_GROUP_IDS
    """GIDs of the hosts' `render` group (`/dev/kfd`, `/dev/dri/renderD*`), dynamically allocated by each
    distribution. Default: `[109, 110, 992]` (Ubuntu 20.04, 22.04 and 24.04); check with `getent group render`."""


class PlatformGpu(LeafModel):
    """Facts about the GPU nodes."""

    amd: PlatformAmdGpu = PlatformAmdGpu()
    """AMD GPU nodes. Default: see the fields."""


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
    """Where the Gateway's data plane (the proxy pods) runs, for the NetworkPolicies: the namespace they
    admit Gateway traffic from. Default: known from the gateway class (see :data:`GATEWAY_IMPLEMENTATIONS`:
    `envoy-gateway-system` for Envoy Gateway's `eg`, `traefik` for Traefik, the Gateway's own namespace for
    Istio, NGINX Gateway Fabric and kgateway), else the Gateway's own namespace."""
    certificates: Literal["issuer", "acmeHttp01"] = "issuer"
    """How a dedicated Gateway's certificate is issued. `issuer`: by `issuerRef`, which must prove the host
    without this leaf's Gateway (a DNS-01 ACME issuer, or a CA or Vault issuer); an HTTP-01 issuer cannot,
    since its Gateway solver attaches to the fixed `parentRefs` written in the issuer. `acmeHttp01`: each
    leaf gets an ACME Issuer `<serviceName>-acme` whose HTTP-01 solver attaches to the leaf's own Gateway
    (its `http` listener), registering with `acme`. A leaf's own `ingress.tls.issuerRef` always wins, and
    a shared Gateway (`parentRef`) holds its own certificate (typically a DNS-01 wildcard). Default: `issuer`."""
    acme: PlatformAcme = PlatformAcme()
    """The ACME account of the per-leaf Issuers (`certificates: acmeHttp01`). Default: Let's Encrypt production."""


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
    dns: PlatformDns = PlatformDns()
    """The cluster DNS the NetworkPolicies allow. Default: see the fields."""
    gpu: PlatformGpu = PlatformGpu()
    """GPU node facts (the AMD device groups). Default: see the fields."""


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
    explicit = leaf.container.resources is not None and leaf.container.resources.sets_compute
    preset = leaf.preset or (None if explicit else "auto")
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


GATEWAY_NAMESPACE = "<the Gateway's namespace>"
"""Marks an implementation that runs each Gateway's proxies in the Gateway's own namespace."""
CILIUM_INGRESS = "<reserved:ingress>"
"""Marks Cilium: its Envoy forwards Gateway traffic with the identity `reserved:ingress`, from no pod."""


@dataclass(frozen=True, slots=True)
class GatewayImplementation:
    """Where an implementation's Gateway proxies run, as its documentation or source says."""

    name: str
    """The implementation."""
    data_plane: str
    """A namespace, :data:`GATEWAY_NAMESPACE` or :data:`CILIUM_INGRESS`."""
    source: str
    """Where this is stated."""
    route_timeouts: str | None = None
    """None when the implementation applies HTTPRoute `timeouts`; else what it does instead and where that
    is stated (its conformance report for Gateway API v1.6.1 leaves `HTTPRouteRequestTimeout` out)."""


GATEWAY_IMPLEMENTATIONS: dict[str, GatewayImplementation] = {
    "eg": GatewayImplementation(
        "Envoy Gateway",
        "envoy-gateway-system",
        "gateway.envoyproxy.io, tasks/operations/gateway-namespace-mode: in the default mode 'Envoy Gateway creates "
        "all data plane resources in the controller namespace (typically envoy-gateway-system)'; `eg` is the class "
        "of its quickstart",
    ),
    "istio": GatewayImplementation(
        "Istio",
        GATEWAY_NAMESPACE,
        "istio.io, tasks/traffic-management/ingress/gateway-api: the automated deployment creates the gateway "
        "Deployment and Service beside the Gateway",
    ),
    "nginx": GatewayImplementation(
        "NGINX Gateway Fabric",
        GATEWAY_NAMESPACE,
        "docs.nginx.com, nginx-gateway-fabric/install/deploy-data-plane: a Gateway 'creates a Service and an NGINX "
        "deployment in the same namespace as the Gateway' (2.x; provisioner/objects.go uses the Gateway's namespace)",
        "ignored: NGINX Gateway Fabric accepts the route but marks `timeouts` unsupported (internal/controller/state/"
        "graph/httproute.go, checkForUnsupportedHTTPFields, v2.6.7), so its nginx keeps its own defaults (60 s "
        "between two reads of an answer); set the read timeout with its own policy for the route",
    ),
    "cilium": GatewayImplementation(
        "Cilium",
        CILIUM_INGRESS,
        "docs.cilium.io, policy language 'Entities': the `ingress` entity is the Cilium Envoy that handles ingress "
        "L7 traffic (cilium PR 24826: also for in-cluster traffic through a Gateway)",
    ),
    "traefik": GatewayImplementation(
        "Traefik",
        "traefik",
        "traefik-helm-chart values.yaml: Traefik is itself the data plane and runs where its chart is installed "
        "(conventionally `traefik`; k3s installs it in kube-system)",
        "ignored: Traefik's Gateway API provider does not apply HTTPRoute `timeouts` (not in its conformance "
        "report for Gateway API v1.6.1); its entry point's own transport timeouts apply (respondingTimeouts, "
        "serversTransport forwardingTimeouts)",
    ),
    "kgateway": GatewayImplementation(
        "kgateway",
        GATEWAY_NAMESPACE,
        "kgateway.dev, setup/default: a Gateway of class `kgateway` gets its own Envoy proxy Deployment and "
        "Service, beside the Gateway",
    ),
}
"""The gateway classes a platform is most likely to run, by their usual GatewayClass names."""


@dataclass(frozen=True, slots=True)
class GatewayDataPlane:
    """Where a leaf's Gateway traffic comes from, for the NetworkPolicies and the `plan`."""

    namespace: str | None
    """The namespace of the proxy pods, admitted by a namespace selector; None when no NetworkPolicy
    namespace selector can match the traffic (Cilium's reserved:ingress identity)."""
    reason: str
    """Why, in words."""

    @property
    def cilium_ingress(self) -> bool:
        """Whether the traffic arrives with Cilium's reserved:ingress identity."""
        return self.namespace is None


def gateway_data_plane(leaf: CatalogLeaf, platform: PlatformDefaults) -> GatewayDataPlane | None:
    """Where the Gateway proxies of `leaf` (with the platform defaults applied) run; None when not exposed.

    The platform's `ingress.gatewayNamespace` wins; otherwise the class of the leaf's dedicated Gateway, or
    for a shared Gateway the platform's `ingress.gatewayClassName` (the class of the platform's Gateways),
    decides by :data:`GATEWAY_IMPLEMENTATIONS`; an unknown class means the Gateway's own namespace.
    """
    ingress = leaf.ingress
    if not (ingress.enabled and ingress.host):
        return None
    parent = ingress.gateway.parent_ref
    gateway_namespace = parent.namespace if parent else leaf.namespace
    if platform.ingress.gateway_namespace:
        return GatewayDataPlane(platform.ingress.gateway_namespace, "the platform's ingress.gatewayNamespace")
    class_name = ingress.gateway.class_name or platform.ingress.gateway_class_name
    known = GATEWAY_IMPLEMENTATIONS.get(class_name)
    which = f"shared Gateway {parent.namespace}/{parent.name}, class {class_name} (the platform's)" if parent else f"class {class_name}"
    if known is None:
        return GatewayDataPlane(
            gateway_namespace,
            f"{which} is not a class the library knows, so the Gateway's own namespace is assumed; set the "
            "platform's ingress.gatewayNamespace where its proxies run",
        )
    if known.data_plane == CILIUM_INGRESS:
        return GatewayDataPlane(None, f"{which}: {known.name} forwards with the reserved:ingress identity")
    if known.data_plane == GATEWAY_NAMESPACE:
        return GatewayDataPlane(gateway_namespace, f"{which}: {known.name} runs the proxies beside the Gateway")
    return GatewayDataPlane(known.data_plane, f"{which}: {known.name} runs the proxies in {known.data_plane}")


@dataclass(frozen=True, slots=True)
class CertificateSetup:
    """How the certificate of a leaf's host is issued (one of the supported setups), for the chart and `plan`."""

    setup: Literal["issuer", "acmeHttp01", "sharedGateway"]
    """`issuer`: a Certificate from an issuer that proves the host without this Gateway (DNS-01, CA);
    `acmeHttp01`: a Certificate from an ACME Issuer made for the leaf, solving HTTP-01 through its Gateway;
    `sharedGateway`: no Certificate, the shared Gateway's listener holds one."""
    issuer_kind: str | None
    """The issuer's kind (`Issuer`, `ClusterIssuer`); None for a shared Gateway."""
    issuer_name: str | None
    """The issuer's name; None for a shared Gateway."""
    description: str
    """The setup in words."""


def certificate_setup(leaf: CatalogLeaf, platform: PlatformDefaults) -> CertificateSetup | None:
    """The certificate setup of `leaf` (as written; the platform defaults are applied here); None when the
    leaf is not exposed.

    A leaf's own `ingress.tls.issuerRef` wins; a shared Gateway holds its own certificate; otherwise the
    platform's `ingress.certificates` decides.
    """
    resolved = apply_platform_defaults(leaf, platform)
    ingress = resolved.ingress
    if not (ingress.enabled and ingress.host):
        return None
    parent = ingress.gateway.parent_ref
    if parent is not None:
        return CertificateSetup(
            "sharedGateway",
            None,
            None,
            f"no Certificate: the listener of the shared Gateway {parent.namespace}/{parent.name} holds the "
            "certificate (typically a wildcard issued by DNS-01) and must admit this namespace's routes",
        )
    name = resolved.service_name
    own = leaf.ingress.tls.issuer_ref
    if own is None and platform.ingress.certificates == "acmeHttp01":
        return CertificateSetup(
            "acmeHttp01",
            "Issuer",
            f"{name}-acme",
            f"Certificate {name}-tls from the ACME Issuer {name}-acme made for this leaf "
            f"({platform.ingress.acme.server}), solving HTTP-01 through this leaf's Gateway {name} (listener http)",
        )
    issuer = ingress.tls.issuer_ref
    assert issuer is not None  # the platform's issuerRef was applied
    whose = "the leaf's" if own is not None else "the platform's"
    return CertificateSetup(
        "issuer",
        issuer.kind,
        issuer.name,
        f"Certificate {name}-tls from {issuer.kind} {issuer.name} ({whose}), which must prove the host without "
        f"this Gateway: DNS-01, a CA or Vault issuer, or an HTTP-01 solver whose parentRefs name the Gateway "
        f"{name} (an HTTP-01 ClusterIssuer solves only through the Gateway it names)",
    )


CILIUM_INGRESS_POLICY = """apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: ollama-from-cilium-gateways
spec:
  description: Cilium's Envoy (identity reserved:ingress) may reach the Ollama auth proxies
  endpointSelector:
    matchLabels:
      app.kubernetes.io/name: ollama
      app.kubernetes.io/component: auth-proxy
  ingress:
  - fromEntities: [ingress]
    toPorts:
    - ports:
      - {port: "8080", protocol: TCP}
"""
"""What a platform on Cilium applies once, so that its Gateways reach the leaves' auth proxies (documented,
not emitted: the library's NetworkPolicies are Kubernetes ones, and Cilium ORs them with its own)."""


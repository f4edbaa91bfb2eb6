"""`GatewayExposure`: a Service published on a host over HTTPS through the Gateway API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import Field, model_validator

from . import _labels, _scope
from ._props import Props
from ._types import DnsLabel, EmailAddress, HostName, HttpsUrl
from .imports.certmanager.io import cert_manager as cm
from .imports.gatewayapi.io.k8s.networking import gateway as gw


LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory"
"""Let's Encrypt's production ACME directory."""

INFERENCE_PATHS: tuple[tuple[Literal["PathPrefix", "Exact"], str], ...] = (
    ("PathPrefix", "/v1"),
    ("Exact", "/api/chat"),
    ("Exact", "/api/generate"),
    ("Exact", "/api/embed"),
    ("Exact", "/api/embeddings"),
    ("Exact", "/api/tags"),
    ("Exact", "/api/show"),
    ("Exact", "/api/ps"),
    ("Exact", "/api/version"),
)
"""What the route exposes: the OpenAI-compatible API and Ollama's inference and read-only endpoints.
The management endpoints (`/api/pull`, `/api/push`, `/api/create`, `/api/copy`, `/api/delete`,
`/api/blobs/...`) match no rule, so the Gateway answers 404 and never forwards them."""


_PATH_TYPES = {
    "PathPrefix": gw.HttpRouteSpecRulesMatchesPathType.PATH_PREFIX,
    "Exact": gw.HttpRouteSpecRulesMatchesPathType.EXACT,
}


class ParentGateway(Props):
    """A shared Gateway, owned by the platform, that the route attaches to."""

    name: DnsLabel
    """The Gateway's name."""
    namespace: DnsLabel
    """The Gateway's namespace."""
    section_name: DnsLabel | None = None
    """The listener to attach to (its HTTPS listener for the host). Default: every listener that admits
    the route."""


class AcmeHttp01(Props):
    """An ACME account whose HTTP-01 challenges are answered through the dedicated Gateway."""

    server: HttpsUrl = LETSENCRYPT_PRODUCTION
    """The ACME directory URL. Default: Let's Encrypt production."""
    email: EmailAddress | None = None
    """Contact address of the account (expiry notices). Default: none."""


class BackendService(Props):
    """A Service the route sends traffic to, possibly in another namespace."""

    name: DnsLabel
    """The Service's name."""
    namespace: DnsLabel | None = None
    """Its namespace; another namespace gets a ReferenceGrant there. Default: the route's namespace."""
    port: int = Field(ge=1, le=65535)
    """The Service's port."""


class GatewayExposureProps(Props):
    """The public host, the Gateway, and how the certificate is issued."""

    host: HostName
    """The public DNS name, e.g. `llm.example.com`."""
    name: DnsLabel = "ollama"
    """Base name of the Gateway, the routes and the certificate. Default: `ollama`."""
    gateway_class_name: DnsLabel = "eg"
    """GatewayClass of the dedicated Gateway (ignored with `parent`). Default: `eg`."""
    parent: ParentGateway | None = None
    """Attach to this shared Gateway instead of creating one. Its listeners own TLS and the HTTP redirect,
    so no Gateway, Certificate or redirect route is created. Default: a dedicated Gateway."""
    issuer_kind: Literal["Issuer", "ClusterIssuer"] = "ClusterIssuer"
    """Kind of the cert-manager issuer. Default: `ClusterIssuer`."""
    issuer_name: DnsLabel = "letsencrypt-prod"
    """Name of the cert-manager issuer. It must prove the host without this Gateway (a DNS-01 ACME issuer,
    a CA or Vault issuer), or be an Issuer whose HTTP-01 solver names this Gateway: cert-manager's Gateway
    solver attaches its challenge route to the `parentRefs` written in the issuer. Default: `letsencrypt-prod`."""
    acme_http01: AcmeHttp01 | None = None
    """Issue the certificate from an ACME Issuer `<name>-acme` made here, whose HTTP-01 solver attaches
    its challenge route to this Gateway's `http` listener; `issuer_kind` and `issuer_name` are then not
    used. Not with `parent`. Default: none (the issuer `issuer_kind`/`issuer_name`)."""
    timeout_seconds: int = Field(default=600, ge=1, le=86_400)
    """Request timeout of the route, long enough for streamed answers. Default: `600`."""
    backend: BackendService | None = None
    """Where the route sends traffic when it is not the `service` given to the construct (e.g. an
    autoscaler's interceptor in its own namespace). Default: the `service`."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on every object. Default: none."""

    @model_validator(mode="after")
    def _acme_needs_own_gateway(self) -> GatewayExposureProps:
        if self.acme_http01 is not None and self.parent is not None:
            raise ValueError("acme_http01 solves through a dedicated Gateway; a shared Gateway (parent) holds its own certificate")
        return self


@_scope.public_construct
class GatewayExposure(Construct):
    """Publishes a Service on `https://<host>` through the Gateway API, inference endpoints only.

    Dedicated mode (default) synthesizes:
      * a Gateway `<name>` (the `Resource` child) of class `gateway_class_name` with an HTTPS listener
        `https` for the host, terminating TLS with the certificate's Secret, and an HTTP listener `http`;
      * an HTTPRoute `<name>` on the `https` listener: the host, the :data:`INFERENCE_PATHS`, to the
        Service's port, with request and backend timeouts of `timeout_seconds`;
      * an HTTPRoute `<name>-redirect` on the `http` listener answering 301 to the HTTPS URL;
      * a cert-manager Certificate `<name>-tls` for the host, stored in the Secret `<name>-tls`: the
        certificate lives beside the Gateway that serves it;
      * with `acme_http01`, an ACME Issuer `<name>-acme` (account key in the Secret `<name>-acme-account`,
        made by cert-manager) whose HTTP-01 solver attaches to this Gateway's `http` listener: cert-manager
        creates the challenge HTTPRoute with the solver's `parentRefs` (cert-manager
        `pkg/issuer/acme/http/httproute.go`), so only an issuer naming this Gateway can solve for it. Its
        exact-path route wins over the redirect route on the same listener.

    Shared mode (`parent`) synthesizes only the HTTPRoute `<name>` (the `Resource` child), attached to the
    platform's Gateway; that Gateway's listener holds the certificate (typically a wildcard the platform
    manages) and redirects HTTP, and must admit routes from this namespace (`allowedRoutes`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: GatewayExposureProps,
        *,
        service: kplus.Service | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        labels = _labels.object_labels(p.name, "gateway", p.labels)
        self.tls_secret_name: str = f"{p.name}-tls"
        """The Secret that cert-manager writes and the HTTPS listener serves."""
        if (service is None) == (p.backend is None):
            raise ValueError("GatewayExposure needs exactly one backend: `service=` or props.backend")
        if p.backend is not None:
            backend = p.backend
        else:
            name, port = _scope.name_and_port(service)  # type: ignore[arg-type]
            backend = BackendService(name=name, port=port)
        namespace = _scope.namespace_of(scope)
        self.reference_grant: gw.ReferenceGrant | None = None
        """Lets the route reach a backend in another namespace (created in that namespace)."""
        if backend.namespace and backend.namespace != namespace:
            self.reference_grant = gw.ReferenceGrant(
                self,
                "ReferenceGrant",
                metadata=cdk8s.ApiObjectMetadata(
                    name=f"{namespace}-{p.name}"[:253], namespace=backend.namespace, labels=labels
                ),
                spec=gw.ReferenceGrantSpec(
                    from_=[gw.ReferenceGrantSpecFrom(group="gateway.networking.k8s.io", kind="HTTPRoute", namespace=namespace or "default")],
                    to=[gw.ReferenceGrantSpecTo(group="", kind="Service", name=backend.name)],
                ),
            )

        self.certificate: cm.Certificate | None = None
        """The host's certificate (dedicated mode)."""
        self.issuer: cm.Issuer | None = None
        """The per-Gateway ACME Issuer (dedicated mode with `acme_http01`)."""
        self.gateway: gw.Gateway | None = None
        """The dedicated Gateway (dedicated mode)."""
        self.redirect_route: gw.HttpRoute | None = None
        """The HTTP to HTTPS redirect (dedicated mode)."""
        if p.parent is None:
            self._dedicated(labels)
            parent_refs = [gw.HttpRouteSpecParentRefs(name=p.name, section_name="https")]
        else:
            parent_refs = [
                gw.HttpRouteSpecParentRefs(
                    name=p.parent.name, namespace=p.parent.namespace, section_name=p.parent.section_name
                )
            ]
        timeout = f"{p.timeout_seconds}s"
        self.route = gw.HttpRoute(
            self,
            "Route" if p.parent is None else "Resource",
            metadata=cdk8s.ApiObjectMetadata(name=p.name, labels=labels),
            spec=gw.HttpRouteSpec(
                parent_refs=parent_refs,
                hostnames=[p.host],
                rules=[
                    gw.HttpRouteSpecRules(
                        matches=[
                            gw.HttpRouteSpecRulesMatches(
                                path=gw.HttpRouteSpecRulesMatchesPath(type=_PATH_TYPES[kind], value=value)
                            )
                            for kind, value in INFERENCE_PATHS
                        ],
                        backend_refs=[
                            gw.HttpRouteSpecRulesBackendRefs(
                                name=backend.name,
                                port=backend.port,
                                namespace=backend.namespace if backend.namespace != namespace else None,
                            )
                        ],
                        timeouts=gw.HttpRouteSpecRulesTimeouts(request=timeout, backend_request=timeout),
                    )
                ],
            ),
        )
        """The route to the Service."""
        self.url: str = f"https://{p.host}"
        """The public URL of the API."""

    def _dedicated(self, labels: dict[str, str]) -> None:
        p = self.props
        issuer_kind, issuer_name = p.issuer_kind, p.issuer_name
        if p.acme_http01 is not None:
            self.issuer = self._acme_issuer(p.acme_http01, labels)
            issuer_kind, issuer_name = "Issuer", self.issuer.name
        self.certificate = cm.Certificate(
            self,
            "Certificate",
            metadata=cdk8s.ApiObjectMetadata(name=self.tls_secret_name, labels=labels),
            spec=cm.CertificateSpec(
                secret_name=self.tls_secret_name,
                dns_names=[p.host],
                issuer_ref=cm.CertificateSpecIssuerRef(name=issuer_name, kind=issuer_kind, group="cert-manager.io"),
            ),
        )
        self.gateway = gw.Gateway(
            self,
            "Resource",
            metadata=cdk8s.ApiObjectMetadata(name=p.name, labels=labels),
            spec=gw.GatewaySpec(
                gateway_class_name=p.gateway_class_name,
                listeners=[
                    gw.GatewaySpecListeners(name="http", protocol="HTTP", port=80, hostname=p.host),
                    gw.GatewaySpecListeners(
                        name="https",
                        protocol="HTTPS",
                        port=443,
                        hostname=p.host,
                        tls=gw.GatewaySpecListenersTls(
                            mode=gw.GatewaySpecListenersTlsMode.TERMINATE,
                            certificate_refs=[
                                gw.GatewaySpecListenersTlsCertificateRefs(
                                    kind="Secret", group="", name=self.tls_secret_name
                                )
                            ],
                        ),
                    ),
                ],
            ),
        )
        self.redirect_route = gw.HttpRoute(
            self,
            "Redirect",
            metadata=cdk8s.ApiObjectMetadata(name=f"{p.name}-redirect", labels=labels),
            spec=gw.HttpRouteSpec(
                parent_refs=[gw.HttpRouteSpecParentRefs(name=p.name, section_name="http")],
                hostnames=[p.host],
                rules=[
                    gw.HttpRouteSpecRules(
                        filters=[
                            gw.HttpRouteSpecRulesFilters(
                                type=gw.HttpRouteSpecRulesFiltersType.REQUEST_REDIRECT,
                                request_redirect=gw.HttpRouteSpecRulesFiltersRequestRedirect(
                                    scheme=gw.HttpRouteSpecRulesFiltersRequestRedirectScheme.HTTPS,
                                    status_code=gw.HttpRouteSpecRulesFiltersRequestRedirectStatusCode.VALUE_301,
                                ),
                            )
                        ]
                    )
                ],
            ),
        )

    def _acme_issuer(self, acme: AcmeHttp01, labels: dict[str, str]) -> cm.Issuer:
        name = self.props.name
        return cm.Issuer(
            self,
            "Issuer",
            metadata=cdk8s.ApiObjectMetadata(name=f"{name}-acme", labels=labels),
            spec=cm.IssuerSpec(
                acme=cm.IssuerSpecAcme(
                    server=acme.server,
                    email=acme.email,
                    private_key_secret_ref=cm.IssuerSpecAcmePrivateKeySecretRef(name=f"{name}-acme-account"),
                    solvers=[
                        cm.IssuerSpecAcmeSolvers(
                            http01=cm.IssuerSpecAcmeSolversHttp01(
                                gateway_http_route=cm.IssuerSpecAcmeSolversHttp01GatewayHttpRoute(
                                    parent_refs=[
                                        cm.IssuerSpecAcmeSolversHttp01GatewayHttpRouteParentRefs(
                                            name=name, section_name="http", kind="Gateway", group="gateway.networking.k8s.io"
                                        )
                                    ]
                                )
                            )
                        )
                    ],
                )
            ),
        )

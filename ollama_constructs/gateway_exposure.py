"""`GatewayExposure`: a Service published on a host over HTTPS through the Gateway API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct
from pydantic import Field

from . import _labels
from ._props import Props
from ._types import DnsLabel, HostName
from .imports.certmanager.io import cert_manager as cm
from .imports.gatewayapi.io.k8s.networking import gateway as gw


class GatewayExposureProps(Props):
    """The public host and how its TLS certificate is issued."""

    host: HostName
    """The public DNS name, e.g. `llm.example.com`."""
    name: DnsLabel = "ollama"
    """Base name of the Gateway, the routes and the certificate. Default: `ollama`."""
    gateway_class_name: DnsLabel = "eg"
    """GatewayClass of the dedicated Gateway. Default: `eg`."""
    issuer_kind: Literal["Issuer", "ClusterIssuer"] = "ClusterIssuer"
    """Kind of the cert-manager issuer. Default: `ClusterIssuer`."""
    issuer_name: DnsLabel = "letsencrypt-prod"
    """Name of the cert-manager issuer. Default: `letsencrypt-prod`."""
    timeout_seconds: int = Field(default=600, ge=1, le=86_400)
    """Request timeout of the route, long enough for streamed answers. Default: `600`."""
    labels: Mapping[str, str] = Field(default_factory=dict)
    """Extra labels on every object. Default: none."""


class GatewayExposure(Construct):
    """Publishes a Service on `https://<host>` with a certificate from cert-manager.

    Synthesizes:
      * a Gateway `<name>` (the `Resource` child) of class `gateway_class_name` with an HTTPS listener
        `https` for the host, terminating TLS with the certificate's Secret, and an HTTP listener `http`;
      * an HTTPRoute `<name>` on the `https` listener: the host, all paths, to the Service's port, with
        request and backend timeouts of `timeout_seconds`;
      * an HTTPRoute `<name>-redirect` on the `http` listener answering 301 to the HTTPS URL;
      * a cert-manager Certificate `<name>-tls` for the host, stored in the Secret `<name>-tls`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: GatewayExposureProps,
        *,
        service: kplus.Service,
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        labels = _labels.object_labels(p.name, "gateway", p.labels)
        self.tls_secret_name: str = f"{p.name}-tls"
        """The Secret that cert-manager writes and the HTTPS listener serves."""
        port = service.port

        self.certificate = cm.Certificate(
            self,
            "Certificate",
            metadata=cdk8s.ApiObjectMetadata(name=self.tls_secret_name, labels=labels),
            spec=cm.CertificateSpec(
                secret_name=self.tls_secret_name,
                dns_names=[p.host],
                issuer_ref=cm.CertificateSpecIssuerRef(name=p.issuer_name, kind=p.issuer_kind, group="cert-manager.io"),
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
        timeout = f"{p.timeout_seconds}s"
        self.route = gw.HttpRoute(
            self,
            "Route",
            metadata=cdk8s.ApiObjectMetadata(name=p.name, labels=labels),
            spec=gw.HttpRouteSpec(
                parent_refs=[gw.HttpRouteSpecParentRefs(name=p.name, section_name="https")],
                hostnames=[p.host],
                rules=[
                    gw.HttpRouteSpecRules(
                        matches=[
                            gw.HttpRouteSpecRulesMatches(
                                path=gw.HttpRouteSpecRulesMatchesPath(
                                    type=gw.HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value="/"
                                )
                            )
                        ],
                        backend_refs=[gw.HttpRouteSpecRulesBackendRefs(name=service.name, port=port)],
                        timeouts=gw.HttpRouteSpecRulesTimeouts(request=timeout, backend_request=timeout),
                    )
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
        self.url: str = f"https://{p.host}"
        """The public URL of the API."""

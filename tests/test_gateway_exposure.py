"""GatewayExposure: Gateway with HTTPS + redirect, HTTPRoute with timeouts, cert-manager Certificate."""

from __future__ import annotations

import cdk8s
import cdk8s_plus_28 as kplus
import pytest
from pydantic import ValidationError

from ollama_constructs import GatewayExposure, GatewayExposureProps
from tests.conftest import find


def synth_exposure(**props) -> tuple[GatewayExposure, list[dict]]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="team")
    service = kplus.Service(
        chart, "Svc", metadata=cdk8s.ApiObjectMetadata(name="chat"), ports=[kplus.ServicePort(port=80, target_port=11434)]
    )
    exposure = GatewayExposure(
        chart, "Public", GatewayExposureProps(**{"name": "chat", "host": "llm.example.com", **props}), service=service
    )
    return exposure, cdk8s.Testing.synth(chart)


def test_gateway_terminates_tls_with_the_certificates_secret() -> None:
    exposure, manifests = synth_exposure()
    gateway = find(manifests, "Gateway", "chat")
    assert cdk8s.ApiObject.of(exposure).kind == "Gateway"
    listeners = {l["name"]: l for l in gateway["spec"]["listeners"]}
    assert listeners["https"]["protocol"] == "HTTPS"
    assert listeners["https"]["port"] == 443
    assert listeners["https"]["hostname"] == "llm.example.com"
    assert listeners["https"]["tls"]["mode"] == "Terminate"
    certificate = find(manifests, "Certificate", "chat-tls")
    assert listeners["https"]["tls"]["certificateRefs"] == [
        {"group": "", "kind": "Secret", "name": certificate["spec"]["secretName"]}
    ]
    assert listeners["http"]["protocol"] == "HTTP"
    assert gateway["spec"]["gatewayClassName"] == "eg"
    assert exposure.url == "https://llm.example.com"
    assert exposure.tls_secret_name == "chat-tls"


def test_certificate_for_the_host_from_the_issuer() -> None:
    _, manifests = synth_exposure(issuer_kind="Issuer", issuer_name="internal-ca")
    spec = find(manifests, "Certificate", "chat-tls")["spec"]
    assert spec["dnsNames"] == ["llm.example.com"]
    assert spec["issuerRef"] == {"group": "cert-manager.io", "kind": "Issuer", "name": "internal-ca"}


def test_route_sends_the_host_to_the_service_with_long_timeouts() -> None:
    _, manifests = synth_exposure(timeout_seconds=1800)
    spec = find(manifests, "HTTPRoute", "chat")["spec"]
    assert spec["parentRefs"] == [{"name": "chat", "sectionName": "https"}]
    assert spec["hostnames"] == ["llm.example.com"]
    (rule,) = spec["rules"]
    assert rule["backendRefs"] == [{"name": "chat", "port": 80}]
    assert rule["timeouts"] == {"request": "1800s", "backendRequest": "1800s"}


def test_http_is_redirected_to_https() -> None:
    _, manifests = synth_exposure()
    spec = find(manifests, "HTTPRoute", "chat-redirect")["spec"]
    assert spec["parentRefs"] == [{"name": "chat", "sectionName": "http"}]
    (rule,) = spec["rules"]
    assert "backendRefs" not in rule
    assert rule["filters"] == [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]


def test_class_name_and_labels() -> None:
    _, manifests = synth_exposure(gateway_class_name="istio", labels={"team": "ml"})
    assert find(manifests, "Gateway")["spec"]["gatewayClassName"] == "istio"
    for m in manifests:
        if m["kind"] != "Service":
            assert m["metadata"]["labels"]["team"] == "ml"
            assert m["metadata"]["labels"]["app.kubernetes.io/component"] == "gateway"


@pytest.mark.parametrize("host", ["localhost", "under_score.example.com", "UPPER.example.com", ""])
def test_bad_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValidationError):
        GatewayExposureProps(host=host)


def test_acme_http01_makes_an_issuer_that_solves_through_this_gateway(validator) -> None:
    from ollama_constructs import AcmeHttp01

    exposure, manifests = synth_exposure(acme_http01=AcmeHttp01(server="https://acme.example.com/directory"))
    issuer = find(manifests, "Issuer", "chat-acme")
    assert exposure.issuer is not None and issuer["metadata"]["namespace"] == "team"
    solver = issuer["spec"]["acme"]["solvers"][0]["http01"]["gatewayHTTPRoute"]
    assert solver["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "chat", "sectionName": "http"}]
    assert "email" not in issuer["spec"]["acme"]
    assert find(manifests, "Certificate")["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": "Issuer", "name": "chat-acme"}
    assert validator.validate(manifests) == []
    with pytest.raises(ValidationError, match="solves through a dedicated Gateway"):
        GatewayExposureProps(host="a.example.com", acme_http01=AcmeHttp01(), parent={"name": "g", "namespace": "gw"})
    _, plain = synth_exposure()
    assert not [m for m in plain if m["kind"] == "Issuer"]

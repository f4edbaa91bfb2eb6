"""Exposure and security: gateway modes, inference endpoints only, API keys, NetworkPolicies, prod policy."""

from __future__ import annotations

import pytest
import yaml

from ollama_constructs.catalog import CatalogError, load_catalog
from ollama_constructs.gateway_exposure import INFERENCE_PATHS
from tests.conftest import find, leaf_data
from tests.support.pod_security import restricted_violations

MANAGEMENT = ("/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/blobs")
SHARED = {
    "enabled": True,
    "host": "chat.example.com",
    "gateway": {"parentRef": {"name": "shared", "namespace": "gateway-system", "sectionName": "https"}},
}


def route_matches(manifests) -> list[tuple[str, str]]:
    (rule,) = find(manifests, "HTTPRoute", "ollama-phi")["spec"]["rules"]
    return [(m["path"]["type"], m["path"]["value"]) for m in rule["matches"]]


def exposed(path: str, matches: list[tuple[str, str]]) -> bool:
    """Gateway API path matching: Exact, or PathPrefix on whole path elements."""
    return any(
        path == value if kind == "Exact" else path == value or path.startswith(value.rstrip("/") + "/")
        for kind, value in matches
    )


# --- only inference endpoints -----------------------------------------------------------------------


def test_only_inference_and_read_only_endpoints_are_routed(synth) -> None:
    matches = route_matches(synth())
    assert matches == list(INFERENCE_PATHS)
    for path in ("/v1/chat/completions", "/v1/models", "/v1/embeddings", "/api/chat", "/api/generate",
                 "/api/embed", "/api/embeddings", "/api/tags", "/api/show", "/api/ps", "/api/version"):
        assert exposed(path, matches), path
    for path in (*MANAGEMENT, "/api/blobs/sha256:00", "/", "/api/pullx", "/v10/x"):
        assert not exposed(path, matches), path


# --- gateway modes and TLS --------------------------------------------------------------------------


def test_dedicated_gateway_holds_the_certificate(synth) -> None:
    manifests = synth()
    gateway = find(manifests, "Gateway", "ollama-phi")
    https = next(l for l in gateway["spec"]["listeners"] if l["name"] == "https")
    assert https["tls"]["certificateRefs"][0]["name"] == find(manifests, "Certificate")["spec"]["secretName"]
    assert find(manifests, "HTTPRoute", "ollama-phi-redirect")


def test_shared_gateway_mode_creates_only_the_route(synth) -> None:
    manifests = synth(ingress=SHARED)
    kinds = {m["kind"] for m in manifests}
    assert "Gateway" not in kinds and "Certificate" not in kinds
    route = find(manifests, "HTTPRoute", "ollama-phi")
    assert route["spec"]["parentRefs"] == [{"name": "shared", "namespace": "gateway-system", "sectionName": "https"}]
    assert [m["metadata"]["name"] for m in manifests if m["kind"] == "HTTPRoute"] == ["ollama-phi"]


def test_platform_shared_gateway_applies_unless_the_leaf_names_a_class(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(leaf_data()))
    (tmp_path / "b.yaml").write_text(
        yaml.safe_dump(leaf_data(serviceName="own", ingress={"enabled": True, "host": "own.example.com", "gateway": {"className": "istio"}}))
    )
    (tmp_path / "platform-defaults.yaml").write_text(
        "ingress:\n  parentRef: {name: shared, namespace: gateway-system}\n  issuerRef: {kind: Issuer, name: corp}\n"
    )
    leaves = {l.leaf.service_name: l.resolved for l in load_catalog(tmp_path).leaves}
    assert leaves["ollama-phi"].ingress.gateway.parent_ref is not None
    assert leaves["own"].ingress.gateway.class_name == "istio" and leaves["own"].ingress.gateway.parent_ref is None
    assert leaves["own"].ingress.tls.issuer_ref.name == "corp"


def test_issuer_redirect_and_timeouts(synth) -> None:
    manifests = synth(
        ingress={"enabled": True, "host": "a.example.com", "timeoutSeconds": 1800, "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"}}}
    )
    assert find(manifests, "Certificate")["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": "Issuer", "name": "ca"}
    (rule,) = find(manifests, "HTTPRoute", "ollama-phi")["spec"]["rules"]
    assert rule["timeouts"] == {"request": "1800s", "backendRequest": "1800s"}
    assert "timeout_seconds 1800" not in find(manifests, "ConfigMap", "ollama-phi-auth")["data"]["nginx.conf"]
    assert "proxy_read_timeout 1800s;" in find(manifests, "ConfigMap", "ollama-phi-auth")["data"]["nginx.conf"]


# --- authentication ---------------------------------------------------------------------------------


def test_api_keys_are_the_default_and_the_route_goes_through_the_proxy(synth) -> None:
    manifests = synth()
    (rule,) = find(manifests, "HTTPRoute", "ollama-phi")["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": "ollama-phi-auth", "port": 80}]
    proxy = find(manifests, "Deployment", "ollama-phi-auth")
    volumes = {v["name"]: v for v in proxy["spec"]["template"]["spec"]["volumes"]}
    assert any(v.get("secret", {}).get("secretName") == "ollama-phi-api-keys" for v in volumes.values())
    assert "server ollama-phi:80;" in find(manifests, "ConfigMap", "ollama-phi-auth")["data"]["nginx.conf"]


def test_named_secret_and_explicit_none(synth) -> None:
    manifests = synth(ingress={"enabled": True, "host": "a.example.com", "auth": {"mode": "apiKey", "secretName": "keys"}})
    proxy = find(manifests, "Deployment", "ollama-phi-auth")
    assert any(v.get("secret", {}).get("secretName") == "keys" for v in proxy["spec"]["template"]["spec"]["volumes"])
    open_manifests = synth(ingress={"enabled": True, "host": "a.example.com", "auth": {"mode": "none"}})
    assert not [m for m in open_manifests if m["metadata"]["name"].endswith("-auth")]
    (rule,) = find(open_manifests, "HTTPRoute", "ollama-phi")["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": "ollama-phi", "port": 80}]


# --- NetworkPolicies --------------------------------------------------------------------------------


def sources(policy) -> list[dict]:
    return [p for rule in policy["spec"]["ingress"] for p in rule["from"]]


def test_ollama_port_only_from_its_namespace_behind_an_auth_proxy(synth) -> None:
    manifests = synth()
    policy = find(manifests, "NetworkPolicy", "ollama-phi")
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "ollama", "app.kubernetes.io/instance": "ollama-phi"
    }
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert sources(policy) == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ml-workloads"}}, "podSelector": {}}]
    assert all(p == {"port": 11434, "protocol": "TCP"} for r in policy["spec"]["ingress"] for p in r["ports"])
    proxy = find(manifests, "NetworkPolicy", "ollama-phi-auth")
    # Class eg: Envoy Gateway runs its proxies in its controller namespace by default.
    assert sources(proxy) == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}}, "podSelector": {}}]
    assert {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "ollama-phi", "app.kubernetes.io/name": "ollama"}}}],
            "ports": [{"port": 11434, "protocol": "TCP"}]} in proxy["spec"]["egress"]


def test_without_auth_the_gateway_namespace_may_call(tmp_path) -> None:
    from ollama_constructs import _render

    (tmp_path / "a.yaml").write_text(yaml.safe_dump(leaf_data(ingress={"enabled": True, "host": "a.example.com", "auth": {"mode": "none"}})))
    (tmp_path / "platform-defaults.yaml").write_text("ingress:\n  gatewayNamespace: envoy-gateway-system\n")
    (text,) = _render.render_manifests(_render.build_app(load_catalog(tmp_path))).values()
    policy = next(d for d in yaml.safe_load_all(text) if d["kind"] == "NetworkPolicy")
    names = [p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in sources(policy)]
    assert names == ["ml-workloads", "envoy-gateway-system"]


def test_egress_is_dns_and_the_registry_only(synth) -> None:
    egress = find(synth(), "NetworkPolicy", "ollama-phi")["spec"]["egress"]
    assert [sorted((p["protocol"], p["port"]) for p in rule["ports"]) for rule in egress] == [
        [("TCP", 53), ("UDP", 53)],  # the cluster DNS pods, NodeLocal DNSCache, GKE Cloud DNS
        [("TCP", 443)],  # registry.ollama.ai, IPv4 and IPv6
    ]
    public, public_v6 = (p["ipBlock"] for p in egress[1]["to"])
    assert public["cidr"] == "0.0.0.0/0" and "169.254.0.0/16" in public["except"] and "10.0.0.0/8" in public["except"]
    assert public_v6["cidr"] == "::/0" and "fc00::/7" in public_v6["except"] and "fe80::/10" in public_v6["except"]
    internal = find(synth(registry={"host": "models.corp:5000", "insecure": True}), "NetworkPolicy", "ollama-phi")
    assert internal["spec"]["egress"][1] == {
        "ports": [{"port": 5000, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
    }


# --- pod security and prod policy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{}, {"gpu": {"count": 0}}, {"persistence": {"enabled": True}, "container": {"replicas": 3}}, {"ingress": SHARED}],
)
def test_every_pod_meets_the_restricted_standard(synth, changes) -> None:
    workloads = [m for m in synth(**changes) if m["kind"] in ("Deployment", "StatefulSet")]
    assert len(workloads) >= 1
    for workload in workloads:
        assert restricted_violations(workload) == []


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"ingress": {"enabled": True, "host": "a.example.com", "auth": {"mode": "none"}}}, "ingress.auth.mode", "prod/auth-required"),
        ({"ollama": {"image": "ollama/ollama:latest"}}, "ollama.image", "prod/pinned-image"),
        ({}, "model", "prod/pinned-models"),
    ],
)
def test_prod_rules_name_rule_and_field(tmp_path, changes, field, rule) -> None:
    data = leaf_data(environment="prod", model="phi@sha256:" + "1" * 64)
    data.update(changes)
    if rule == "prod/pinned-models":
        data["model"] = "phi"
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    errors = [e for e in info.value.errors if e.field == field]
    assert errors and all(f"(rule {rule})" in e.message for e in errors), [str(e) for e in info.value.errors]


def test_auth_refusals(tmp_path) -> None:
    for auth, words in (({"mode": "none", "secretName": "x"}, "secretName goes with mode apiKey"), ({"mode": "basic"}, "'apiKey' or 'none'")):
        (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(ingress={"enabled": True, "host": "a.example.com", "auth": auth})))
        with pytest.raises(CatalogError) as info:
            load_catalog(tmp_path)
        assert any(e.field.startswith("ingress.auth") and words in e.message for e in info.value.errors), str(info.value)

"""What the output must do on real clusters: CNIs, Gateway implementations, registries with blob stores,
IPv6, ArgoCD sync waves, the KEDA interceptor's routing, AMD device groups, certificates.

Each test reads the synthesized objects field by field; the facts they encode are cited where the code
states them (ollama_constructs/_net.py, catalog/platform.py, _argocd.py, ollama_autoscaler.py).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml

from ollama_constructs import _argocd, _net, _render, cli
from ollama_constructs.catalog import CatalogError, load_catalog
from ollama_constructs.catalog.platform import CILIUM_INGRESS_POLICY, GATEWAY_IMPLEMENTATIONS
from tests.conftest import REPO, find, leaf_data, pod_spec

GOLDEN_LEAVES = sorted((REPO / "tests" / "fixtures" / "leaves").glob("*.yaml"))
NO_AUTH = {"enabled": True, "host": "chat.example.com", "auth": {"mode": "none"}}


def render(tmp_path: Path, platform: str = "", **changes: Any) -> list[dict[str, Any]]:
    """One leaf (the seed with `changes`) rendered as `synth` does, with a platform-defaults file."""
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(**changes)))
    if platform:
        (tmp_path / "platform-defaults.yaml").write_text(platform)
    (text,) = _render.render_manifests(_render.build_app(load_catalog(tmp_path))).values()
    return [d for d in yaml.safe_load_all(text) if d]


def refused(tmp_path: Path, platform: str = "", **changes: Any) -> list[str]:
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(**changes)))
    if platform:
        (tmp_path / "platform-defaults.yaml").write_text(platform)
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    return [str(e) for e in info.value.errors]


def peers(rule: dict) -> list[dict]:
    return rule.get("to") or rule.get("from") or []


def ports(rule: dict) -> list[tuple[str, int]]:
    return sorted((p["protocol"], p["port"]) for p in rule["ports"])


def namespaces_admitted(policy: dict) -> list[str]:
    return [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["spec"].get("ingress", [])
        for p in peers(rule)
        if "namespaceSelector" in p
    ]


def policies(manifests: list[dict]) -> list[dict]:
    return [m for m in manifests if m["kind"] == "NetworkPolicy"]


# --- 1. DNS by selector -------------------------------------------------------------------------------


def test_dns_is_allowed_to_the_cluster_dns_pods_by_selector_never_by_a_catch_all_ipblock(synth) -> None:
    for policy in policies(synth()):
        dns = [r for r in policy["spec"]["egress"] if ("UDP", 53) in ports(r)]
        assert dns, policy["metadata"]["name"]
        assert all(ports(r) == [("TCP", 53), ("UDP", 53)] for r in dns)
        selectors = [p for r in dns for p in peers(r) if "podSelector" in p]
        assert selectors == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ], "one peer: pods of kube-system labelled k8s-app=kube-dns (namespace AND labels)"
        blocks = sorted(p["ipBlock"]["cidr"] for r in dns for p in peers(r) if "ipBlock" in p)
        assert blocks == ["169.254.169.254/32", "169.254.20.10/32"], "node-local DNS only, one address each"


def test_dns_servers_come_from_the_platform(tmp_path) -> None:
    platform = (
        "dns:\n  namespace: dns-system\n  podLabels: [{app: coredns}, {k8s-app: node-local-dns}]\n"
        "  nodeLocalAddresses: ['fd00::a']\n"
    )
    for policy in policies(render(tmp_path, platform)):
        dns = [r for r in policy["spec"]["egress"] if ("UDP", 53) in ports(r)]
        found = [p for r in dns for p in peers(r)]
        namespace = {"matchLabels": {"kubernetes.io/metadata.name": "dns-system"}}
        assert found == [
            {"namespaceSelector": namespace, "podSelector": {"matchLabels": {"app": "coredns"}}},
            {"namespaceSelector": namespace, "podSelector": {"matchLabels": {"k8s-app": "node-local-dns"}}},
            {"ipBlock": {"cidr": "fd00::a/128"}},
        ]


@pytest.mark.parametrize(
    ("platform", "field", "words"),
    [
        ("dns:\n  nodeLocalAddresses: [169.254.20.10/32]\n", "dns.nodeLocalAddresses[0]", "not an IPv4 or IPv6 address"),
        ("dns:\n  nodeLocalAddresses: ['::ffff:169.254.20.10']\n", "dns.nodeLocalAddresses[0]", "IPv4-mapped"),
        ("dns:\n  podLabels: [{'bad key!': x}]\n", "dns.podLabels[0].bad key!", "must be a label key"),
    ],
)
def test_bad_dns_settings_name_the_file_and_the_field(tmp_path, platform, field, words) -> None:
    errors = refused(tmp_path, platform)
    assert any(f"platform-defaults.yaml: {field}" in e and words in e for e in errors), errors


# --- 2. Gateway data plane by class ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("class_name", "admitted"),
    [
        ("eg", ["envoy-gateway-system"]),
        ("istio", ["ml-workloads"]),
        ("nginx", ["ml-workloads"]),
        ("kgateway", ["ml-workloads"]),
        ("traefik", ["traefik"]),
        ("cilium", []),
        ("some-other-class", ["ml-workloads"]),
    ],
)
def test_the_proxy_admits_where_the_gateway_class_runs_its_proxies(synth, class_name, admitted) -> None:
    ingress = {"enabled": True, "host": "text.hypermedia.au", "gateway": {"className": class_name}}
    manifests = synth(ingress=ingress)
    assert namespaces_admitted(find(manifests, "NetworkPolicy", "ollama-phi-auth")) == admitted
    assert find(manifests, "Gateway")["spec"]["gatewayClassName"] == class_name
    # Without an auth proxy the server itself admits the data plane (besides its own namespace).
    direct = synth(ingress={**ingress, "auth": {"mode": "none"}})
    assert namespaces_admitted(find(direct, "NetworkPolicy", "ollama-phi")) == list(dict.fromkeys(["ml-workloads", *admitted]))


def test_the_platform_setting_overrides_the_class_and_a_shared_gateway_follows_the_platform_class(tmp_path) -> None:
    policy = find(render(tmp_path, "ingress:\n  gatewayNamespace: edge\n"), "NetworkPolicy", "ollama-phi-auth")
    assert namespaces_admitted(policy) == ["edge"]
    shared = {"enabled": True, "host": "text.hypermedia.au", "gateway": {"parentRef": {"name": "web", "namespace": "gateways"}}}
    (tmp_path / "platform-defaults.yaml").unlink()
    assert namespaces_admitted(find(render(tmp_path, ingress=shared), "NetworkPolicy", "ollama-phi-auth")) == ["envoy-gateway-system"]
    istio = render(tmp_path, "ingress:\n  gatewayClassName: istio\n", ingress=shared)
    assert namespaces_admitted(find(istio, "NetworkPolicy", "ollama-phi-auth")) == ["gateways"], "beside the shared Gateway"


def test_every_known_class_cites_where_its_proxies_run() -> None:
    assert set(GATEWAY_IMPLEMENTATIONS) == {"eg", "istio", "nginx", "cilium", "traefik", "kgateway"}
    assert all(i.source and i.name for i in GATEWAY_IMPLEMENTATIONS.values())


def test_plan_says_what_cilium_needs(tmp_path, capsys) -> None:
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(ingress={"enabled": True, "host": "a.example.com", "gateway": {"className": "cilium"}})))
    assert cli.main(["plan", "--catalog", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "gateway traffic: class cilium: Cilium forwards with the reserved:ingress identity, which no NetworkPolicy namespace selector matches" in out
    assert "CiliumNetworkPolicy fromEntities [ingress]" in out and "ollama-phi-auth (port 8080)" in out


def test_the_documented_cilium_policy_selects_every_auth_proxy_on_its_port(synth) -> None:
    policy = yaml.safe_load(CILIUM_INGRESS_POLICY)
    assert policy["apiVersion"] == "cilium.io/v2" and policy["kind"] == "CiliumClusterwideNetworkPolicy"
    (rule,) = policy["spec"]["ingress"]
    assert rule["fromEntities"] == ["ingress"]
    assert rule["toPorts"] == [{"ports": [{"port": "8080", "protocol": "TCP"}]}]
    proxy = find(synth(), "Deployment", "ollama-phi-auth")
    labels = proxy["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["endpointSelector"]["matchLabels"].items() <= labels.items()
    server = find(synth(), "Deployment", "ollama-phi")["spec"]["template"]["metadata"]["labels"]
    assert not policy["spec"]["endpointSelector"]["matchLabels"].items() <= server.items(), "not the server itself"
    readme = (REPO / "README.md").read_text()
    assert CILIUM_INGRESS_POLICY.strip() in readme, "the README shows the same policy"


# --- 3. the registry's blob store -----------------------------------------------------------------------


def test_an_internal_registry_gets_its_blob_store_ports_by_default(synth) -> None:
    egress = find(synth(registry={"host": "models.corp:5000"}), "NetworkPolicy", "ollama-phi")["spec"]["egress"]
    blob = [r for r in egress if ports(r) == [("TCP", 443), ("TCP", 9000)]]
    assert [p["ipBlock"] for r in blob for p in peers(r)] == [{"cidr": "0.0.0.0/0"}, {"cidr": "::/0"}]
    registry = [r for r in egress if ports(r) == [("TCP", 5000)]]
    assert [p["ipBlock"] for r in registry for p in peers(r)] == [{"cidr": "0.0.0.0/0"}, {"cidr": "::/0"}]


def test_blob_store_addresses_ports_and_in_cluster_namespaces(synth) -> None:
    registry = {
        "host": "zot.registry.svc.cluster.local:5000",
        "namespace": "registry",
        "blobStore": {"ports": [9000], "cidrs": ["10.20.0.0/24", "fd00:20::/64"], "namespace": "minio"},
    }
    egress = find(synth(registry=registry), "NetworkPolicy", "ollama-phi")["spec"]["egress"]
    blob = [r for r in egress if ports(r) == [("TCP", 9000)] and "ipBlock" in peers(r)[0]]
    assert [p["ipBlock"] for r in blob for p in peers(r)] == [{"cidr": "10.20.0.0/24"}, {"cidr": "fd00:20::/64"}]
    by_namespace = [
        (peers(r)[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], ports(r))
        for r in egress
        if "namespaceSelector" in peers(r)[0] and peers(r)[0]["podSelector"] == {}
    ]
    assert by_namespace == [("registry", [("TCP", 5000)]), ("minio", [("TCP", 9000)])], "Cilium matches pods only so"


def test_a_public_registry_leaf_opens_no_blob_store_port(synth) -> None:
    egress = find(synth(), "NetworkPolicy", "ollama-phi")["spec"]["egress"]
    assert {p for r in egress for p in ports(r)} == {("TCP", 53), ("UDP", 53), ("TCP", 443)}


@pytest.mark.parametrize(
    ("cidr", "words"),
    [("10.20.0.1/24", "has host bits set"), ("::ffff:10.0.0.0/104", "IPv4-mapped"), ("fd00:20:0::/64", "canonical form; write fd00:20::/64")],
)
def test_bad_blob_store_addresses_name_the_file_and_field(tmp_path, cidr, words) -> None:
    errors = refused(tmp_path, registry={"host": "models.corp", "blobStore": {"cidrs": [cidr]}})
    assert any("leaf.yaml: registry.blobStore.cidrs[0]:" in e and words in e for e in errors), errors


# --- 4. IPv6 ------------------------------------------------------------------------------------------


def public_rule(egress: list[dict], family: int) -> dict:
    (block,) = [
        p["ipBlock"]
        for r in egress
        for p in peers(r)
        if "ipBlock" in p and ipaddress.ip_network(p["ipBlock"]["cidr"]).version == family and ports(r) == [("TCP", 443)]
    ]
    return block


def allowed(block: dict, address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip in ipaddress.ip_network(block["cidr"]) and not any(ip in ipaddress.ip_network(e) for e in block.get("except", []))


@pytest.mark.parametrize(
    ("address", "open_"),
    [
        ("104.18.32.47", True),  # a Cloudflare (registry.ollama.ai) address
        ("2606:4700::6812:202f", True),  # and an IPv6 one
        ("64:ff9b::6812:202f", True),  # a public IPv4 host through NAT64
        ("10.1.2.3", False),
        ("172.20.0.1", False),
        ("192.168.1.1", False),
        ("100.100.100.200", False),  # Alibaba metadata (carrier-grade NAT range)
        ("169.254.169.254", False),  # the cloud metadata address
        ("240.0.0.10", False),  # class E (GKE pod ranges)
        ("fd00:ec2::254", False),  # AWS's IPv6 metadata address
        ("fd20:ce::254", False),  # GCP's
        ("fe80::1", False),
        ("fec0::1", False),
        ("64:ff9b::a9fe:a9fe", False),  # 169.254.169.254 through NAT64
        ("64:ff9b::a00:1", False),  # 10.0.0.1 through NAT64
        ("64:ff9b:1::a00:1", False),  # the local-use NAT64 prefix
    ],
)
def test_egress_to_public_registries_is_the_same_in_ipv4_and_ipv6(synth, address, open_) -> None:
    egress = find(synth(), "NetworkPolicy", "ollama-phi")["spec"]["egress"]
    family = ipaddress.ip_address(address).version
    assert allowed(public_rule(egress, family), address) is open_


def test_every_private_ipv4_range_is_closed_through_nat64_too() -> None:
    v6 = [ipaddress.ip_network(c) for c in _net.PRIVATE_IPV6]
    for cidr in _net.PRIVATE_IPV4:
        network = ipaddress.ip_network(cidr)
        for host in (network.network_address, network.broadcast_address):
            mapped = ipaddress.ip_address(f"64:ff9b::{host}")
            assert any(mapped in n for n in v6), f"{host} through NAT64 is open"


def test_every_cidr_is_one_strict_validation_accepts(synth) -> None:
    """KEP-4858 (StrictIPCIDRValidation): no host bits, no IPv4-mapped IPv6, canonical text."""
    manifests = synth(registry={"host": "models.corp", "blobStore": {"cidrs": ["fd00:20::/64"]}})
    cidrs = [
        c
        for policy in policies(manifests) + policies(synth())
        for rule in policy["spec"]["egress"]
        for p in peers(rule)
        if "ipBlock" in p
        for c in (p["ipBlock"]["cidr"], *p["ipBlock"].get("except", []))
    ]
    assert len(cidrs) > 20
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr, strict=True)
        assert str(network) == cidr
        assert not (network.version == 6 and network.network_address.ipv4_mapped), cidr


# --- 5. ArgoCD waves ----------------------------------------------------------------------------------


@pytest.mark.parametrize("leaf_file", GOLDEN_LEAVES, ids=[p.stem for p in GOLDEN_LEAVES])
def test_no_object_waits_for_a_later_wave(tmp_path, leaf_file) -> None:
    (tmp_path / leaf_file.name).write_text(leaf_file.read_text())
    (text,) = _render.render_manifests(_render.build_app(load_catalog(tmp_path))).values()
    assert _argocd.wave_problems([d for d in yaml.safe_load_all(text) if d]) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"persistence": {"enabled": True}},
        {"persistence": {"enabled": True}, "autoscaling": {"enabled": True, "minReplicas": 0, "maxReplicas": 1}},
        {"ingress": NO_AUTH, "autoscaling": {"enabled": True, "maxReplicas": 2}},
        {"persistence": {"enabled": True, "existingClaim": "models"}},
    ],
)
def test_no_object_waits_for_a_later_wave_in_other_shapes(tmp_path, changes) -> None:
    assert _argocd.wave_problems(render(tmp_path, **changes)) == []
    assert _argocd.wave_problems(render(tmp_path, "ingress:\n  certificates: acmeHttp01\n", **changes)) == []


def test_a_claim_before_its_workload_is_found(synth) -> None:
    manifests = synth(persistence={"enabled": True})
    claim = find(manifests, "PersistentVolumeClaim")
    assert claim["metadata"]["annotations"][_argocd.SYNC_WAVE] == find(manifests, "Deployment", "ollama-phi")["metadata"]["annotations"][_argocd.SYNC_WAVE]
    claim["metadata"]["annotations"][_argocd.SYNC_WAVE] = "-1"
    assert _argocd.wave_problems(manifests) == ["PersistentVolumeClaim (wave -1) waits for Deployment, which is in wave 0"]
    gateway = find(manifests, "Gateway")
    gateway["metadata"]["annotations"][_argocd.SYNC_WAVE] = "0"
    assert "Certificate (wave 1) waits for" not in " ".join(_argocd.wave_problems(manifests))
    assert "Gateway (wave 0) waits for Certificate, which is in wave 1" in _argocd.wave_problems(manifests)


# --- 6. the interceptor's hosts -------------------------------------------------------------------------


def test_same_named_services_of_two_namespaces_claim_disjoint_hosts(synth) -> None:
    scaled = {"enabled": True, "maxReplicas": 2}
    a = find(synth(autoscaling=scaled), "HTTPScaledObject")["spec"]["hosts"]
    b = find(synth(autoscaling=scaled, namespace="ml-staging", ingress={"enabled": True, "host": "staging.example.com"}), "HTTPScaledObject")["spec"]["hosts"]
    assert not set(a) & set(b)
    assert all(":" not in h for h in a + b), "the interceptor strips the port before matching"
    assert "ollama-phi-interceptor" not in a, "a bare name would be shared by both"


def test_hosts_of_a_catalog_are_unique(tmp_path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.yaml").write_text(yaml.safe_dump(leaf_data()))
    (catalog / "b.yaml").write_text(yaml.safe_dump(leaf_data(serviceName="other", namespace="elsewhere")))
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog)
    (error,) = info.value.errors
    assert (error.file.endswith("b.yaml"), error.field) == (True, "ingress.host")
    assert "'text.hypermedia.au' is already claimed by" in error.message and "a.yaml" in error.message


# --- 7. AMD device groups from the platform ----------------------------------------------------------


def test_amd_device_groups_come_from_the_platform(tmp_path) -> None:
    amd = {"count": 1, "vendor": "amd", "family": "AI"}
    default = pod_spec(render(tmp_path, gpu=amd))
    assert default["securityContext"]["supplementalGroups"] == [44, 109, 110, 992]
    fedora = pod_spec(render(tmp_path, "gpu:\n  amd:\n    videoGroupIds: [39]\n    renderGroupIds: [105]\n", gpu=amd))
    assert fedora["securityContext"]["supplementalGroups"] == [39, 105]
    nvidia = pod_spec(render(tmp_path, "gpu:\n  amd:\n    renderGroupIds: [105]\n"))
    assert "supplementalGroups" not in nvidia["securityContext"]


# --- 9. certificates ------------------------------------------------------------------------------------


def test_acme_http01_gives_each_leaf_an_issuer_that_solves_through_its_gateway(tmp_path, validator) -> None:
    manifests = render(tmp_path, "ingress:\n  certificates: acmeHttp01\n  acme:\n    email: ops@example.com\n")
    issuer = find(manifests, "Issuer", "ollama-phi-acme")
    acme = issuer["spec"]["acme"]
    assert acme["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert acme["email"] == "ops@example.com"
    assert acme["privateKeySecretRef"] == {"name": "ollama-phi-acme-account"}
    assert acme["solvers"] == [
        {
            "http01": {
                "gatewayHTTPRoute": {
                    "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "ollama-phi", "sectionName": "http"}]
                }
            }
        }
    ]
    gateway = find(manifests, "Gateway", "ollama-phi")
    assert {"name": "http", "protocol": "HTTP", "port": 80, "hostname": "text.hypermedia.au"} in gateway["spec"]["listeners"]
    certificate = find(manifests, "Certificate", "ollama-phi-tls")
    assert certificate["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": "Issuer", "name": "ollama-phi-acme"}
    assert issuer["metadata"]["annotations"][_argocd.SYNC_WAVE] == certificate["metadata"]["annotations"][_argocd.SYNC_WAVE]
    assert validator.validate(manifests) == [], "the Issuer against cert-manager's CRD schema"


def test_a_leafs_own_issuer_wins_over_the_per_leaf_issuer(tmp_path) -> None:
    tls = {"issuerRef": {"kind": "ClusterIssuer", "name": "dns01"}}
    manifests = render(tmp_path, "ingress:\n  certificates: acmeHttp01\n", ingress={"enabled": True, "host": "a.example.com", "tls": tls})
    assert not [m for m in manifests if m["kind"] == "Issuer"]
    assert find(manifests, "Certificate")["spec"]["issuerRef"]["name"] == "dns01"


def test_a_shared_gateway_gets_no_certificate_or_issuer(tmp_path) -> None:
    shared = {"enabled": True, "host": "a.example.com", "gateway": {"parentRef": {"name": "web", "namespace": "gateways"}}}
    manifests = render(tmp_path, "ingress:\n  certificates: acmeHttp01\n", ingress=shared)
    assert not [m for m in manifests if m["kind"] in ("Issuer", "Certificate", "Gateway")]


@pytest.mark.parametrize(
    ("platform", "ingress", "words"),
    [
        ("", {}, "certificate: Certificate ollama-phi-tls from ClusterIssuer letsencrypt-prod (the platform's), which must prove the host without this Gateway: DNS-01"),
        ("ingress:\n  certificates: acmeHttp01\n", {}, "certificate: Certificate ollama-phi-tls from the ACME Issuer ollama-phi-acme made for this leaf (https://acme-v02.api.letsencrypt.org/directory), solving HTTP-01 through this leaf's Gateway ollama-phi (listener http)"),
        ("", {"gateway": {"parentRef": {"name": "web", "namespace": "gateways"}}}, "certificate: no Certificate: the listener of the shared Gateway gateways/web holds the certificate"),
    ],
)
def test_plan_says_which_certificate_setup_a_leaf_uses(tmp_path, capsys, platform, ingress, words) -> None:
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(ingress={"enabled": True, "host": "text.hypermedia.au", **ingress})))
    if platform:
        (tmp_path / "platform-defaults.yaml").write_text(platform)
    assert cli.main(["plan", "--catalog", str(tmp_path)]) == 0
    assert words in capsys.readouterr().out


def test_the_acme_account_is_checked_when_the_platform_is_loaded(tmp_path) -> None:
    errors = refused(tmp_path, "ingress:\n  certificates: acmeHttp01\n  acme:\n    server: http://acme.example.com/directory\n")
    assert any("platform-defaults.yaml: ingress.acme.server: must be an https:// URL" in e for e in errors), errors
    errors = refused(tmp_path, "ingress:\n  certificates: http01\n")
    assert any("platform-defaults.yaml: ingress.certificates: Input should be 'issuer' or 'acmeHttp01'" in e for e in errors), errors

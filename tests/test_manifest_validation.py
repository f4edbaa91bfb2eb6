"""Tests of the manifest validator itself (tests/support/manifest_validation.py and cel_rules.py).

Valid objects must pass; each invalid object must be rejected with a message naming the offending field.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import kubernetes_validate
import pytest

from tests.support.cel_rules import cel_view, escape_property_name
from tests.support.manifest_validation import (
    CRD_DIR_ENV_VAR,
    NEWEST,
    OLDEST,
    ManifestValidator,
    SCHEMA_DIR,
    upstream_crd_dir,
    format_path,
)

NS = "ai"
GATEWAY_API = "gateway.networking.k8s.io"


@pytest.fixture(scope="module")
def validator() -> ManifestValidator:
    return ManifestValidator()


# --------------------------------------------------------------------------- valid objects


def meta(name: str, **extra) -> dict:
    return {"name": name, "namespace": NS, "labels": {"app.kubernetes.io/name": "ollama"}, **extra}


def deployment() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("ollama"),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "ollama"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "ollama"}},
                "spec": {
                    "containers": [
                        {
                            "name": "ollama",
                            "image": "ollama/ollama:0.6.5",
                            "imagePullPolicy": "IfNotPresent",
                            "ports": [{"name": "http", "containerPort": 11434, "protocol": "TCP"}],
                            "envFrom": [{"configMapRef": {"name": "ollama-config"}}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                            "resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "8Gi"}},
                            "volumeMounts": [{"name": "models", "mountPath": "/root/.ollama"}],
                        }
                    ],
                    "volumes": [{"name": "models", "emptyDir": {}}],
                },
            },
        },
    }


def service() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("ollama"),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": "ollama"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def config_map() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta("ollama-config"),
        "data": {"OLLAMA_HOST": "0.0.0.0:11434", "OLLAMA_KEEP_ALIVE": "24h"},
    }


def gateway(api_version: str = f"{GATEWAY_API}/v1") -> dict:
    return {
        "apiVersion": api_version,
        "kind": "Gateway",
        "metadata": meta("ollama"),
        "spec": {
            "gatewayClassName": "cilium",
            "listeners": [
                {"name": "http", "port": 80, "protocol": "HTTP", "hostname": "ollama.example.com"},
                {
                    "name": "https",
                    "port": 443,
                    "protocol": "HTTPS",
                    "hostname": "ollama.example.com",
                    "tls": {"mode": "Terminate", "certificateRefs": [{"name": "ollama-tls"}]},
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                },
            ],
        },
    }


def http_route(api_version: str = f"{GATEWAY_API}/v1") -> dict:
    return {
        "apiVersion": api_version,
        "kind": "HTTPRoute",
        "metadata": meta("ollama"),
        "spec": {
            "parentRefs": [{"name": "ollama", "sectionName": "https"}],
            "hostnames": ["ollama.example.com"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": "ollama", "port": 80}],
                    "timeouts": {"request": "600s"},
                }
            ],
        },
    }


def redirect_route(api_version: str = f"{GATEWAY_API}/v1") -> dict:
    return {
        "apiVersion": api_version,
        "kind": "HTTPRoute",
        "metadata": meta("ollama-redirect"),
        "spec": {
            "parentRefs": [{"name": "ollama", "sectionName": "http"}],
            "hostnames": ["ollama.example.com"],
            "rules": [
                {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
            ],
        },
    }


def route_with_parents_in_two_namespaces() -> dict:
    """Needs ``namespace`` escaped to ``__namespace__``: otherwise both refs look like the same parent."""
    route = http_route()
    route["spec"]["parentRefs"] = [
        {"name": "shared", "namespace": "team-a", "sectionName": "https"},
        {"name": "shared", "namespace": "team-b"},
    ]
    return route


def certificate() -> dict:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": meta("ollama-tls"),
        "spec": {
            "secretName": "ollama-tls",
            "dnsNames": ["ollama.example.com"],
            "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"},
            "duration": "2160h",
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        },
    }


def scaled_object() -> dict:
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": meta("ollama"),
        "spec": {
            "scaleTargetRef": {"name": "ollama"},
            "minReplicaCount": 0,
            "maxReplicaCount": 2,
            "cooldownPeriod": 300,
            "triggers": [
                {
                    "type": "cron",
                    "metadata": {
                        "timezone": "Europe/Berlin",
                        "start": "0 8 * * 1-5",
                        "end": "0 18 * * 1-5",
                        "desiredReplicas": "1",
                    },
                }
            ],
        },
    }


def http_scaled_object() -> dict:
    return {
        "apiVersion": "http.keda.sh/v1alpha1",
        "kind": "HTTPScaledObject",
        "metadata": meta("ollama"),
        "spec": {
            "hosts": ["ollama.example.com"],
            "scaleTargetRef": {
                "name": "ollama",
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "service": "ollama",
                "port": 80,
            },
            "replicas": {"min": 0, "max": 2},
            "scaledownPeriod": 600,
        },
    }


def network_policy() -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta("ollama"),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ollama"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}}],
                    "ports": [{"port": 11434, "protocol": "TCP"}],
                }
            ],
        },
    }


def pod_disruption_budget() -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta("ollama"),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "ollama"}}},
    }


def horizontal_pod_autoscaler() -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("ollama"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ollama"},
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                }
            ],
        },
    }


def argocd_application() -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "ollama", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://git.example.com/ollama.git", "path": "dist", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": NS},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
        },
    }


def service_monitor() -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": meta("ollama"),
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "ollama"}},
            "endpoints": [{"port": "http", "path": "/metrics"}],
        },
    }


VALID: dict[str, Callable[[], dict]] = {
    "deployment": deployment,
    "service": service,
    "config_map": config_map,
    "gateway_http_and_https": gateway,
    "http_route": http_route,
    "http_route_redirect_to_https": redirect_route,
    "http_route_parents_in_two_namespaces": route_with_parents_in_two_namespaces,
    "certificate": certificate,
    "scaled_object": scaled_object,
    "http_scaled_object": http_scaled_object,
    "network_policy": network_policy,
    "pod_disruption_budget": pod_disruption_budget,
    "horizontal_pod_autoscaler": horizontal_pod_autoscaler,
    "argocd_application": argocd_application,
    "service_monitor": service_monitor,
}


@pytest.mark.parametrize("name", VALID)
def test_valid_object_passes(validator: ManifestValidator, name: str) -> None:
    assert validator.validate([VALID[name]()]) == []


@pytest.mark.parametrize("make", [gateway, http_route, redirect_route], ids=["gateway", "http_route", "redirect"])
@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_gateway_api_objects_valid_in_both_served_versions(validator: ManifestValidator, make, version: str) -> None:
    assert validator.validate([make(f"{GATEWAY_API}/{version}")]) == []


def test_validating_a_whole_dist_at_once(validator: ManifestValidator) -> None:
    """20 objects in one call: the shape of a synthesized dist (run over every object, so it must stay fast)."""
    objects = [make() for make in VALID.values()] + [deployment(), service(), gateway(), http_route(), certificate()]
    assert len(objects) == 20
    assert validator.validate(objects) == []


def test_valid_core_objects_also_pass_kubernetes_validate(validator: ManifestValidator) -> None:
    """The core path reads kubernetes-validate's own schema files; its verdict must agree."""
    for make in (deployment, service, config_map, network_policy, pod_disruption_budget, horizontal_pod_autoscaler):
        for version in validator.k8s_versions:
            kubernetes_validate.validate(make(), version, strict=True)


# --------------------------------------------------------------------------- invalid objects


def with_change(make: Callable[[], dict], change: Callable[[dict], object]) -> Callable[[], dict]:
    """A builder for ``make()`` with ``change`` applied to it."""

    def build() -> dict:
        obj = make()
        change(obj)
        return obj

    return build


def container(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]["containers"][0]


def rule(obj: dict) -> dict:
    return obj["spec"]["rules"][0]


def listener(obj: dict, index: int) -> dict:
    return obj["spec"]["listeners"][index]


# (builder, a fragment the message must contain: "Kind/ns/name: field.path: message")
INVALID: dict[str, tuple[Callable[[], dict], str]] = {
    "unknown_field_in_deployment_container": (
        with_change(deployment, lambda d: container(d).update(imagePullPolicyy="Always")),
        "Deployment/ai/ollama: spec.template.spec.containers[0].imagePullPolicyy: unknown field",
    ),
    "wrong_type_in_core_kind": (
        with_change(service, lambda s: s["spec"]["ports"][0].update(port="80")),
        "Service/ai/ollama: spec.ports[0].port: '80' is not of type 'integer'",
    ),
    "unknown_field_in_gateway_listener": (
        with_change(gateway, lambda g: listener(g, 1).update(tlss={"mode": "Terminate"})),
        "Gateway/ai/ollama: spec.listeners[1].tlss: unknown field",
    ),
    "http_route_path_type_glob": (
        with_change(http_route, lambda r: rule(r)["matches"][0]["path"].update(type="Glob")),
        "HTTPRoute/ai/ollama: spec.rules[0].matches[0].path.type: 'Glob' is not one of",
    ),
    "http_route_path_without_leading_slash": (
        with_change(http_route, lambda r: rule(r)["matches"][0]["path"].update(value="api")),
        "HTTPRoute/ai/ollama: spec.rules[0].matches[0].path: value must be an absolute path and start with '/'",
    ),
    "redirect_filter_with_backend_refs": (
        with_change(redirect_route, lambda r: rule(r).update(backendRefs=[{"name": "ollama", "port": 80}])),
        "ollama-redirect: spec.rules[0]: RequestRedirect filter must not be used together with backendRefs",
    ),
    "backend_request_timeout_longer_than_request": (
        with_change(http_route, lambda r: rule(r)["timeouts"].update(backendRequest="601s")),
        "HTTPRoute/ai/ollama: spec.rules[0].timeouts: backendRequest timeout cannot be longer than request timeout",
    ),
    "duplicate_gateway_listener_names": (
        with_change(gateway, lambda g: listener(g, 1).update(name="http")),
        "Gateway/ai/ollama: spec.listeners: Listener name must be unique within the Gateway",
    ),
    "tls_on_http_listener": (
        with_change(
            gateway, lambda g: listener(g, 0).update(tls={"mode": "Terminate", "certificateRefs": [{"name": "x"}]})
        ),
        "Gateway/ai/ollama: spec.listeners: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
    ),
    "https_listener_with_empty_tls": (
        with_change(gateway, lambda g: listener(g, 1).update(tls={})),
        "evaluating rule: certificateRefs or options must be specified when mode is Terminate",
    ),
    "scaled_object_min_above_max": (
        with_change(scaled_object, lambda s: s["spec"].update(minReplicaCount=3)),
        "ScaledObject/ai/ollama: spec: minReplicaCount must be less than or equal to maxReplicaCount",
    ),
    "http_scaled_object_without_port_or_port_name": (
        with_change(http_scaled_object, lambda s: s["spec"]["scaleTargetRef"].pop("port")),
        "HTTPScaledObject/ai/ollama: spec.scaleTargetRef: must define either the 'portName' or the 'port'",
    ),
    "certificate_missing_issuer_ref": (
        with_change(certificate, lambda c: c["spec"].pop("issuerRef")),
        "Certificate/ai/ollama-tls: spec.issuerRef: required field is missing",
    ),
    "kind_without_schema": (
        lambda: {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta("w")},
        "Widget/ai/w: no schema for example.com/v1 Widget",
    ),
    "gateway_api_version_not_served_by_the_crds": (
        lambda: {**http_route(), "apiVersion": f"{GATEWAY_API}/v1alpha2"},
        "no schema for gateway.networking.k8s.io/v1alpha2 HTTPRoute",
    ),
    "valid_on_newest_but_not_on_1_28": (
        with_change(service, lambda s: s["spec"].update(trafficDistribution="PreferClose")),
        f"Service/ai/ollama: spec.trafficDistribution: unknown field (Kubernetes {OLDEST})",
    ),
    # Beyond the brief: typical construct bugs the API server (or kubectl --validate=strict) rejects.
    "unknown_field_in_http_route_rule": (
        with_change(http_route, lambda r: rule(r).update(backendRef=[{"name": "ollama", "port": 80}])),
        "HTTPRoute/ai/ollama: spec.rules[0].backendRef: unknown field",
    ),
    "service_backend_ref_without_port": (  # needs defaulting: kind defaults to Service
        with_change(http_route, lambda r: rule(r)["backendRefs"][0].pop("port")),
        "HTTPRoute/ai/ollama: spec.rules[0].backendRefs[0]: Must have port for Service reference",
    ),
    "same_parent_twice_without_section_name": (
        with_change(http_route, lambda r: r["spec"]["parentRefs"].append({"name": "ollama"})),
        "spec.parentRefs: sectionName must be specified when parentRefs includes 2 or more references to the same",
    ),
    "duplicate_listener_is_a_duplicate_list_map_key": (
        with_change(gateway, lambda g: listener(g, 1).update(name="http")),
        'Gateway/ai/ollama: spec.listeners[1]: Duplicate value: {"name": "http"}',
    ),
    "custom_resource_name_not_dns_subdomain": (
        with_change(certificate, lambda c: c["metadata"].update(name="Ollama_TLS")),
        "Certificate/ai/Ollama_TLS: metadata.name: 'Ollama_TLS' must be a lowercase RFC 1123 subdomain",
    ),
    "custom_resource_label_not_a_string": (
        with_change(scaled_object, lambda s: s["metadata"]["labels"].update(replicas=2)),
        "ScaledObject/ai/ollama: metadata.labels.replicas: 2 is not of type 'string', 'null'",
    ),
    "custom_resource_unknown_metadata_field": (
        with_change(gateway, lambda g: g["metadata"].update(label={"a": "b"})),
        "Gateway/ai/ollama: metadata.label: unknown field",
    ),
    "service_name_not_dns_1035_label": (
        with_change(service, lambda s: s["metadata"].update(name="1ollama")),
        "Service/ai/1ollama: metadata.name: '1ollama' must be a lowercase RFC 1035 label",
    ),
    "label_value_too_long": (
        with_change(config_map, lambda c: c["metadata"]["labels"].update(version="v" * 64)),
        "ConfigMap/ai/ollama-config: metadata.labels.version: invalid label value",
    ),
    "annotation_key_with_two_slashes": (
        with_change(config_map, lambda c: c["metadata"].update(annotations={"a/b/c": "x"})),
        "ConfigMap/ai/ollama-config: metadata.annotations[a/b/c]: invalid annotation key",
    ),
    "not_a_kubernetes_object": (
        lambda: {"kind": "Deployment", "metadata": {"name": "x"}},
        "Deployment/x: not a Kubernetes object: apiVersion and kind must be strings",
    ),
}


@pytest.mark.parametrize("name", INVALID)
def test_invalid_object_is_rejected_naming_the_field(validator: ManifestValidator, name: str) -> None:
    make, expected = INVALID[name]
    messages = validator.validate([make()])
    assert any(expected in message for message in messages), "\n".join(messages)


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
@pytest.mark.parametrize(
    "name",
    [
        "http_route_path_without_leading_slash",
        "redirect_filter_with_backend_refs",
        "backend_request_timeout_longer_than_request",
        "duplicate_gateway_listener_names",
        "tls_on_http_listener",
        "https_listener_with_empty_tls",
    ],
)
def test_gateway_api_rules_fire_in_both_served_versions(validator: ManifestValidator, name: str, version: str) -> None:
    make, expected = INVALID[name]
    obj = make()
    obj["apiVersion"] = f"{GATEWAY_API}/{version}"
    messages = validator.validate([obj])
    assert any(expected in message for message in messages), "\n".join(messages)


def test_every_error_is_reported_not_only_the_first(validator: ManifestValidator) -> None:
    obj = deployment()
    container(obj).update(imagePullPolicyy="Always", cmd=["serve"])
    obj["spec"]["replicas"] = "1"
    messages = validator.validate([obj])
    assert len(messages) == 3, messages
    assert any("containers[0].imagePullPolicyy: unknown field" in m for m in messages)
    assert any("containers[0].cmd: unknown field" in m for m in messages)
    assert any("spec.replicas: '1' is not of type 'integer', 'null'" in m for m in messages)


def test_errors_in_all_versions_are_reported_once_without_a_version_tag(validator: ManifestValidator) -> None:
    make, _ = INVALID["unknown_field_in_deployment_container"]
    assert validator.validate([make()]) == [
        "Deployment/ai/ollama: spec.template.spec.containers[0].imagePullPolicyy: unknown field"
    ]


def test_newer_field_passes_when_only_newest_is_checked() -> None:
    make, _ = INVALID["valid_on_newest_but_not_on_1_28"]
    assert ManifestValidator(k8s_versions=(NEWEST,)).validate([make()]) == []


def test_invalid_core_objects_are_also_rejected_by_kubernetes_validate(validator: ManifestValidator) -> None:
    for name in ("unknown_field_in_deployment_container", "wrong_type_in_core_kind"):
        make, _ = INVALID[name]
        for version in validator.k8s_versions:
            with pytest.raises(kubernetes_validate.ValidationError):
                kubernetes_validate.validate(make(), version, strict=True)


def test_cel_rules_are_skipped_after_blocking_schema_errors(validator: ManifestValidator) -> None:
    """Like the API server: after a type/enum/required error CEL is not run, so no follow-up noise."""
    make, _ = INVALID["http_route_path_type_glob"]
    messages = validator.validate([make()])
    assert any("some validation rules were not checked" in m for m in messages)
    assert not any("evaluating rule" in m for m in messages)


def test_validation_does_not_modify_the_objects(validator: ManifestValidator) -> None:
    objects = [gateway(), http_route(), deployment()]
    before = copy.deepcopy(objects)
    validator.validate(objects)
    assert objects == before


def test_every_cel_rule_in_the_crd_dir_compiles(validator: ManifestValidator) -> None:
    assert validator.rule_compile_errors() == []


# --------------------------------------------------------------------------- configuration


def test_newest_is_the_newest_version_kubernetes_validate_bundles() -> None:
    assert kubernetes_validate.utils.latest_version() == NEWEST
    assert OLDEST == "1.28.0"


def test_unsupported_kubernetes_version_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"no schemas for Kubernetes 1\.99\.0"):
        ManifestValidator(k8s_versions=("1.99.0",))


def test_the_validator_reads_the_committed_schemas_by_default() -> None:
    assert ManifestValidator().crd_dir == SCHEMA_DIR
    assert {crd.source for crd in ManifestValidator().crds.values()} == {p.name for p in SCHEMA_DIR.glob("*.json")}


def test_upstream_crd_dir_comes_from_the_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(CRD_DIR_ENV_VAR, str(tmp_path))
    assert upstream_crd_dir()[0] == tmp_path


def test_missing_upstream_crd_dir_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(CRD_DIR_ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=CRD_DIR_ENV_VAR):
        upstream_crd_dir()


def test_upstream_crd_files_validate_like_the_derived_schemas(tmp_path) -> None:
    """A directory of CRD YAML files is read too; its schemas give the same verdicts as the derived ones."""
    (tmp_path / "crd.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: example.com\n"
        "  names: {kind: Thing}\n  versions:\n  - name: v1\n    served: true\n    schema:\n"
        "      openAPIV3Schema:\n        type: object\n        properties:\n          apiVersion: {type: string}\n"
        "          kind: {type: string}\n          metadata: {type: object}\n          spec:\n"
        "            type: object\n            properties: {size: {type: integer}}\n"
    )
    thing = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "a"}, "spec": {"size": "x"}}
    problems = ManifestValidator(crd_dir=tmp_path).validate([thing])
    assert problems[0] == "Thing/a: spec.size: 'x' is not of type 'integer'"
    assert ManifestValidator(crd_dir=tmp_path).validate([{**thing, "spec": {"size": 3}}]) == []


def test_empty_crd_dir_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no CustomResourceDefinition"):
        ManifestValidator(crd_dir=tmp_path).validate([service()])


# --------------------------------------------------------------------------- building blocks


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("name", "name"),
        ("namespace", "__namespace__"),
        ("x-y", "x__dash__y"),
        ("a.b/c", "a__dot__b__slash__c"),
        ("a__b", "a__underscores__b"),
        ("1abc", None),
        ("a b", None),
    ],
)
def test_escape_property_name(name: str, escaped: str | None) -> None:
    assert escape_property_name(name) == escaped


def test_cel_view_prunes_escapes_and_types_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "metadata": {"type": "object"},
            "namespace": {"type": "string"},
            "weight": {"type": "number"},
            "data": {"type": "string", "format": "byte"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    obj = {
        "metadata": {"name": "n", "namespace": "ns", "labels": {"a": "b"}},
        "namespace": "ns",
        "weight": 1,
        "data": "aGk=",
        "labels": {"app.kubernetes.io/name": "x"},
        "unknown": True,
    }
    assert cel_view(obj, schema, at_root=True) == {
        "metadata": {"name": "n"},
        "__namespace__": "ns",
        "weight": 1.0,
        "data": b"hi",
        "labels": {"app.kubernetes.io/name": "x"},
    }


def test_format_path() -> None:
    assert format_path(("spec", "rules", 0, "matches")) == "spec.rules[0].matches"
    assert format_path(("metadata", "labels", "app.kubernetes.io/name")) == "metadata.labels[app.kubernetes.io/name]"
    assert format_path(()) == ""

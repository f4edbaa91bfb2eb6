"""OllamaInferenceChart: the seed leaf end to end, labels and names across every object."""

from __future__ import annotations

import pytest

from tests.conftest import container, env_of, find, pod_spec

STANDARD = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
)


# --- the seed leaf: targeted assertions -----------------------------------------------------------


def test_seed_deployment_in_its_namespace(seed_manifests) -> None:
    deployment = find(seed_manifests, "Deployment", "ollama-phi")
    assert deployment["metadata"]["namespace"] == "ml-workloads"
    assert deployment["spec"]["replicas"] == 1


def test_seed_service_80_to_11434(seed_manifests) -> None:
    service = find(seed_manifests, "Service", "ollama-phi")
    assert service["metadata"]["namespace"] == "ml-workloads"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 11434}]


def test_seed_init_pull_of_phi_latest(seed_manifests) -> None:
    pull = container(seed_manifests, "model-pull")
    assert env_of(pull)["OLLAMA_PULL_MODELS"] == "phi:latest"
    assert pull["command"][-1].endswith("/model-pull.sh")


def test_seed_one_gpu_with_toleration_and_no_void(seed_manifests) -> None:
    server = container(seed_manifests)
    assert server["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "NVIDIA_VISIBLE_DEVICES" not in env_of(server)
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod_spec(seed_manifests)[
        "tolerations"
    ]
    # A GPU rollout replaces the pod instead of waiting for a second GPU.
    assert find(seed_manifests, "Deployment")["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": 0,
        "maxUnavailable": 1,
    }


def test_seed_host_on_gateway_route_and_certificate(seed_manifests) -> None:
    gateway = find(seed_manifests, "Gateway", "ollama-phi")
    assert {l["hostname"] for l in gateway["spec"]["listeners"]} == {"text.hypermedia.au"}
    assert find(seed_manifests, "HTTPRoute", "ollama-phi")["spec"]["hostnames"] == ["text.hypermedia.au"]
    assert find(seed_manifests, "HTTPRoute", "ollama-phi-redirect")["spec"]["hostnames"] == ["text.hypermedia.au"]
    assert find(seed_manifests, "Certificate", "ollama-phi-tls")["spec"]["dnsNames"] == ["text.hypermedia.au"]


def test_seed_resources_are_the_leafs(seed_manifests) -> None:
    assert container(seed_manifests)["resources"] == {
        "requests": {"cpu": "500m", "memory": "2Gi"},
        "limits": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": 1},
    }


def test_seed_readiness_means_phi_is_loaded(seed_manifests) -> None:
    probe = container(seed_manifests)["readinessProbe"]["exec"]["command"]
    assert probe[-2:] == ["phi:latest", "loaded"]
    assert env_of(container(seed_manifests))["OLLAMA_KEEP_ALIVE"] == "-1"


def test_seed_object_inventory(seed_manifests) -> None:
    assert sorted((m["kind"], m["metadata"]["name"]) for m in seed_manifests) == [
        ("Certificate", "ollama-phi-tls"),
        ("ConfigMap", "ollama-phi-model-pull"),
        ("ConfigMap", "ollama-phi-server"),
        ("Deployment", "ollama-phi"),
        ("Gateway", "ollama-phi"),
        ("HTTPRoute", "ollama-phi"),
        ("HTTPRoute", "ollama-phi-redirect"),
        ("Service", "ollama-phi"),
    ]


# --- every leaf: names, namespaces, labels ---------------------------------------------------------

VARIANTS = {
    "seed": {},
    "cpu-only": {"gpu": {"count": 0}, "ingress": None},
    "models": {"model": None, "models": ["llama3.2:3b", "phi"], "owner": "ml-team"},
}


@pytest.fixture(params=sorted(VARIANTS))
def manifests(request, synth):
    return synth(**VARIANTS[request.param])


def test_every_object_is_namespaced_and_named_from_the_service_name(manifests) -> None:
    for m in manifests:
        assert m["metadata"]["namespace"] == "ml-workloads"
        assert m["metadata"]["name"].startswith("ollama-phi"), m["metadata"]["name"]
        assert len(m["metadata"]["name"]) <= 63


def test_standard_labels_on_every_object_and_pod_template(manifests) -> None:
    label_sets = [m["metadata"]["labels"] for m in manifests]
    label_sets.append(find(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"])
    for labels in label_sets:
        assert all(key in labels for key in STANDARD), labels
        assert labels["app.kubernetes.io/name"] == "ollama"
        assert labels["app.kubernetes.io/instance"] == "ollama-phi"
        assert labels["app.kubernetes.io/part-of"] == "ml-inference"
        assert labels["app.kubernetes.io/managed-by"] == "cdk8s"
        assert labels["app.kubernetes.io/version"] == "0.32.15"
        assert labels["environment"] == "dev"


def test_selectors_use_only_name_and_instance(manifests) -> None:
    expected = {"app.kubernetes.io/name": "ollama", "app.kubernetes.io/instance": "ollama-phi"}
    assert find(manifests, "Deployment")["spec"]["selector"]["matchLabels"] == expected
    assert find(manifests, "Service")["spec"]["selector"] == expected


def test_owner_becomes_a_label(synth) -> None:
    for m in synth(owner="ml-team"):
        assert m["metadata"]["labels"]["owner"] == "ml-team"


def test_several_models_pulled_primary_first(synth) -> None:
    manifests = synth(model=None, models=["llama3.2:3b", "phi"])
    assert env_of(container(manifests, "model-pull"))["OLLAMA_PULL_MODELS"].splitlines() == [
        "llama3.2:3b",
        "phi:latest",
    ]
    assert container(manifests)["readinessProbe"]["exec"]["command"][2] == "llama3.2:3b"


def test_cpu_only_leaf_sees_no_gpu(synth) -> None:
    manifests = synth(gpu={"count": 0})
    for c in pod_spec(manifests)["containers"] + pod_spec(manifests)["initContainers"]:
        assert env_of(c)["NVIDIA_VISIBLE_DEVICES"] == "void"
        assert "nvidia.com/gpu" not in c["resources"]["limits"]
    assert "tolerations" not in pod_spec(manifests)


def test_ingress_disabled_means_no_gateway_objects(synth) -> None:
    kinds = {m["kind"] for m in synth(ingress={"enabled": False})}
    assert kinds == {"ConfigMap", "Deployment", "Service"}


def test_leaf_image_and_context_length(synth) -> None:
    manifests = synth(ollama={"image": "registry.corp/ollama/ollama:0.32.15", "contextLength": 8192})
    server = container(manifests)
    assert server["image"] == container(manifests, "model-pull")["image"] == "registry.corp/ollama/ollama:0.32.15"
    assert env_of(server)["OLLAMA_CONTEXT_LENGTH"] == "8192"


def test_zero_replicas(synth) -> None:
    assert find(synth(container={"replicas": 0}), "Deployment")["spec"]["replicas"] == 0

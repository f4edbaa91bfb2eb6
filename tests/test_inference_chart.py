"""OllamaInferenceChart: the seed leaf end to end, labels and names across every object."""

from __future__ import annotations

import pytest

from tests.conftest import server, container, env_of, find, pod_spec

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
    deployment = server(seed_manifests)
    assert deployment["metadata"]["namespace"] == "ml-workloads"
    assert deployment["spec"]["replicas"] == 1


def test_seed_service_80_to_11434(seed_manifests) -> None:
    service = find(seed_manifests, "Service", "ollama-phi")
    assert service["metadata"]["namespace"] == "ml-workloads"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 11434}]


def models_list(manifests) -> list[str]:
    text = find(manifests, "ConfigMap", "ollama-phi-models")["data"]["models.list"]
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_seed_init_pull_of_phi_latest(seed_manifests) -> None:
    pull = container(seed_manifests, "model-pull")
    assert models_list(seed_manifests) == ["pull phi:latest"]
    assert pull["command"][-1].endswith("/model-pull.sh")


def test_seed_one_gpu_with_toleration_and_no_void(seed_manifests) -> None:
    ollama = container(seed_manifests)
    assert ollama["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "NVIDIA_VISIBLE_DEVICES" not in env_of(ollama)
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod_spec(seed_manifests)[
        "tolerations"
    ]
    # A GPU rollout replaces the pod instead of waiting for a second GPU.
    assert server(seed_manifests)["spec"]["strategy"]["rollingUpdate"] == {
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
    # CPU and memory as the leaf says; node disk sized from phi (a 5Gi emptyDir, plus /tmp and logs).
    assert container(seed_manifests)["resources"] == {
        "requests": {"cpu": "500m", "memory": "2Gi", "ephemeral-storage": "6Gi"},
        "limits": {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "7Gi", "nvidia.com/gpu": 1},
    }


def test_seed_readiness_means_phi_is_warmed_up_and_the_keeper_keeps_it_loaded(seed_manifests) -> None:
    probe = container(seed_manifests)["readinessProbe"]["exec"]["command"]
    assert probe[-2:] == ["phi:latest", "warm"]
    assert env_of(container(seed_manifests))["OLLAMA_KEEP_ALIVE"] == "-1"
    assert container(seed_manifests, "model-keeper")["command"][-1] == "phi:latest"


def test_seed_object_inventory(seed_manifests) -> None:
    assert sorted((m["kind"], m["metadata"]["name"]) for m in seed_manifests) == [
        ("Certificate", "ollama-phi-tls"),
        ("ConfigMap", "ollama-phi-auth"),
        ("ConfigMap", "ollama-phi-models"),
        ("ConfigMap", "ollama-phi-scripts"),
        ("Deployment", "ollama-phi"),
        ("Deployment", "ollama-phi-auth"),
        ("Gateway", "ollama-phi"),
        ("HTTPRoute", "ollama-phi"),
        ("HTTPRoute", "ollama-phi-redirect"),
        ("NetworkPolicy", "ollama-phi"),
        ("NetworkPolicy", "ollama-phi-auth"),
        ("Service", "ollama-phi"),
        ("Service", "ollama-phi-auth"),
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
    label_sets.append(server(manifests)["spec"]["template"]["metadata"]["labels"])
    for labels in label_sets:
        assert all(key in labels for key in STANDARD), labels
        assert labels["app.kubernetes.io/name"] == "ollama"
        # The auth proxy is an instance of its own (`<serviceName>-auth`), so selectors never mix the two.
        assert labels["app.kubernetes.io/instance"] in ("ollama-phi", "ollama-phi-auth")
        assert labels["app.kubernetes.io/part-of"] == "ml-inference"
        assert labels["app.kubernetes.io/managed-by"] == "cdk8s"
        # The version of the component's own image: Ollama's, or nginx's for the auth proxy.
        assert labels["app.kubernetes.io/version"] in ("0.32.15", "1.30.5-alpine")
        assert labels["environment"] == "dev"


def test_selectors_use_only_name_and_instance(manifests) -> None:
    expected = {"app.kubernetes.io/name": "ollama", "app.kubernetes.io/instance": "ollama-phi"}
    assert server(manifests)["spec"]["selector"]["matchLabels"] == expected
    assert find(manifests, "Service", "ollama-phi")["spec"]["selector"] == expected
    for m in manifests:
        selector = m["spec"].get("selector") if m["kind"] in ("Service", "Deployment", "StatefulSet") else None
        if selector is not None:
            keys = set(selector.get("matchLabels", selector))
            assert keys == {"app.kubernetes.io/name", "app.kubernetes.io/instance"}, (m["metadata"]["name"], keys)


def test_owner_becomes_a_label(synth) -> None:
    for m in synth(owner="ml-team"):
        assert m["metadata"]["labels"]["owner"] == "ml-team"


def test_several_models_pulled_primary_first(synth) -> None:
    manifests = synth(model=None, models=["llama3.2:3b", "phi"])
    assert models_list(manifests) == ["pull llama3.2:3b", "pull phi:latest"]
    assert container(manifests)["readinessProbe"]["exec"]["command"][2] == "llama3.2:3b"


def test_cpu_only_leaf_sees_no_gpu(synth) -> None:
    manifests = synth(gpu={"count": 0})
    for c in pod_spec(manifests)["containers"] + pod_spec(manifests)["initContainers"]:
        assert env_of(c)["NVIDIA_VISIBLE_DEVICES"] == "void"
        assert "nvidia.com/gpu" not in c["resources"]["limits"]
    assert "tolerations" not in pod_spec(manifests)


def test_ingress_disabled_means_no_gateway_objects(synth) -> None:
    kinds = {m["kind"] for m in synth(ingress={"enabled": False})}
    assert kinds == {"ConfigMap", "Deployment", "Service", "NetworkPolicy"}


def test_leaf_image_and_context_length(synth) -> None:
    manifests = synth(ollama={"image": "registry.corp/ollama/ollama:0.32.15", "contextLength": 8192})
    server = container(manifests)
    assert server["image"] == container(manifests, "model-pull")["image"] == "registry.corp/ollama/ollama:0.32.15"
    assert env_of(server)["OLLAMA_CONTEXT_LENGTH"] == "8192"


def test_zero_replicas(synth) -> None:
    assert server(synth(container={"replicas": 0}))["spec"]["replicas"] == 0


# --- lifecycle hooks and scripts, for every fixture leaf -------------------------------------------------


def fixture_leaves() -> list:
    import yaml as _yaml

    from tests.conftest import REPO, seed_leaf_data

    return [seed_leaf_data()] + [
        _yaml.safe_load(p.read_text()) for p in sorted((REPO / "tests" / "fixtures" / "leaves").glob("*.yaml"))
    ]


@pytest.mark.parametrize("index", range(9))
def test_no_long_running_lifecycle_hook_and_each_script_shipped_once(index: int) -> None:
    from ollama_constructs import _scripts
    from tests.conftest import synth_leaf

    leaves = fixture_leaves()
    assert len(leaves) == 9
    manifests = synth_leaf(leaves[index])
    for m in manifests:
        if m["kind"] not in ("Deployment", "StatefulSet"):
            continue
        pod = m["spec"]["template"]["spec"]
        for c in pod["containers"] + pod.get("initContainers", []):
            hooks = c.get("lifecycle", {})
            assert "postStart" not in hooks, f"{c['name']}: a postStart hook holds the container back"
            if "preStop" in hooks:
                command = hooks["preStop"]["exec"]["command"]
                assert command in (["bash", "/opt/ollama-constructs/scripts/drain.sh", "11434"], ["sleep", "5"]), command
    texts = [text for m in manifests if m["kind"] == "ConfigMap" for text in m.get("data", {}).values()]
    for name in ("lib.sh", *_scripts.SERVER_SCRIPTS, *_scripts.PULL_SCRIPTS):
        assert texts.count(_scripts.script_text(name)) == 1, f"{name} is shipped {texts.count(_scripts.script_text(name))} times"

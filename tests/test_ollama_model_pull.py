"""OllamaModelPull on its own: the init container, its script, its environment."""

from __future__ import annotations

import cdk8s
import cdk8s_plus_28 as kplus
import pytest
from pydantic import ValidationError

from ollama_constructs import OllamaModelPull, OllamaModelPullProps, OllamaServer, OllamaServerProps
from tests.conftest import env_of, find


def synth_pull(**props) -> tuple[OllamaModelPull, list[dict]]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="team")
    server = OllamaServer(chart, "Server", OllamaServerProps(name="chat", models=("phi",)))
    pull = OllamaModelPull(
        chart,
        "Pull",
        OllamaModelPullProps(**{"name": "chat", "models": ("phi", "llama3.2:3b"), **props}),
        workload=server.deployment,
        models_volume=server.models_volume,
    )
    return pull, cdk8s.Testing.synth(chart)


def init_container(manifests: list[dict]) -> dict:
    (c,) = find(manifests, "Deployment")["spec"]["template"]["spec"]["initContainers"]
    return c


def test_init_container_runs_the_packaged_pull_script() -> None:
    pull, manifests = synth_pull()
    c = init_container(manifests)
    assert c["name"] == "model-pull"
    assert c["command"] == ["bash", "/opt/ollama-constructs/pull/model-pull.sh"]
    config = find(manifests, "ConfigMap", "chat-model-pull")
    assert sorted(config["data"]) == ["lib.sh", "model-pull.sh"]
    assert "ollama serve" in config["data"]["model-pull.sh"]
    assert cdk8s.ApiObject.of(pull).kind == "ConfigMap"


def test_models_are_normalized_and_passed_in_order() -> None:
    _, manifests = synth_pull()
    env = env_of(init_container(manifests))
    assert env["OLLAMA_PULL_MODELS"].splitlines() == ["phi:latest", "llama3.2:3b"]


def test_temporary_server_is_local_sees_no_gpu_and_keeps_partial_downloads() -> None:
    _, manifests = synth_pull(server_start_timeout_seconds=60, attempts=5, retry_delay_seconds=2)
    env = env_of(init_container(manifests))
    assert env["OLLAMA_HOST"] == "127.0.0.1:11434"
    assert env["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert env["OLLAMA_NOPRUNE"] == "1"
    assert env["OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS"] == "60"
    assert env["OLLAMA_PULL_ATTEMPTS"] == "5"
    assert env["OLLAMA_PULL_RETRY_DELAY_SECONDS"] == "2"
    assert env["OLLAMA_PULL_REFRESH"] == "0"


def test_models_land_on_the_servers_volume() -> None:
    _, manifests = synth_pull()
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    init_mounts = {m["mountPath"]: m["name"] for m in init_container(manifests)["volumeMounts"]}
    (server,) = pod["containers"]
    server_mounts = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}
    assert init_mounts["/var/lib/ollama"] == server_mounts["/var/lib/ollama"]
    assert env_of(init_container(manifests))["OLLAMA_MODELS"] == env_of(server)["OLLAMA_MODELS"]


def test_init_container_is_restricted_and_sized() -> None:
    _, manifests = synth_pull()
    c = init_container(manifests)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert c["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    assert c["image"] == "docker.io/ollama/ollama:0.32.15"


def test_changed_script_rolls_the_pods() -> None:
    _, manifests = synth_pull()
    annotations = find(manifests, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert len(annotations["checksum.ollama-constructs.dev/model-pull"]) == 64


def test_works_with_any_cdk8s_plus_workload() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    job = kplus.Job(chart, "Warm")
    job.add_container(image="busybox:1.36", name="main")
    volume = kplus.Volume.from_empty_dir(chart, "Store", "store")
    OllamaModelPull(chart, "Pull", OllamaModelPullProps(models=("phi",)), workload=job, models_volume=volume)
    job_manifest = find(cdk8s.Testing.synth(chart), "Job")
    (c,) = job_manifest["spec"]["template"]["spec"]["initContainers"]
    assert c["name"] == "model-pull"


@pytest.mark.parametrize(
    ("props", "words"),
    [({"models": ()}, "at least 1 item"), ({"models": ("a@sha256:00",)}, "digest"), ({"attempts": 0}, "greater")],
)
def test_invalid_props(props: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        OllamaModelPullProps(**props)

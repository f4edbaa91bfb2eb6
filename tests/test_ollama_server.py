"""OllamaServer on its own: what each prop drives, probes, security, labels, the Service."""

from __future__ import annotations

import cdk8s
import pytest
from pydantic import ValidationError

from ollama_constructs import ComputeResources, OllamaServer, OllamaServerProps
from tests.conftest import env_of, find


def synth_server(namespace: str | None = "team", **props) -> tuple[OllamaServer, list[dict]]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace=namespace)
    server = OllamaServer(chart, "Ollama", OllamaServerProps(**props))
    return server, cdk8s.Testing.synth(chart)


def ollama_container(manifests: list[dict]) -> dict:
    (c,) = [c for c in find(manifests, "Deployment")["spec"]["template"]["spec"]["containers"] if c["name"] == "ollama"]
    return c


def keeper_container(manifests: list[dict]) -> dict | None:
    found = [c for c in find(manifests, "Deployment")["spec"]["template"]["spec"]["containers"] if c["name"] == "model-keeper"]
    return found[0] if found else None


def test_defaults_give_a_deployment_service_and_probe_scripts() -> None:
    server, manifests = synth_server()
    assert sorted((m["kind"], m["metadata"]["name"]) for m in manifests) == [
        ("ConfigMap", "ollama-scripts"),
        ("Deployment", "ollama"),
        ("Service", "ollama"),
    ]
    assert cdk8s.ApiObject.of(server).kind == "Deployment"
    assert server.service_name == "ollama"
    assert server.url == "http://ollama.team.svc"
    assert server.port == 80


def test_service_port_80_to_11434_selecting_name_and_instance() -> None:
    _, manifests = synth_server(name="chat")
    spec = find(manifests, "Service", "chat")["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [{"name": "http", "port": 80, "targetPort": 11434}]
    assert spec["selector"] == {"app.kubernetes.io/name": "ollama", "app.kubernetes.io/instance": "chat"}
    deployment = find(manifests, "Deployment", "chat")
    assert deployment["spec"]["selector"] == {"matchLabels": spec["selector"]}
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert spec["selector"].items() <= template_labels.items()
    assert not any(k.startswith("cdk8s.io") for k in template_labels)


def test_container_runs_ollama_serve_on_11434_with_pinned_settings() -> None:
    _, manifests = synth_server(models=("phi",), context_length=8192)
    c = ollama_container(manifests)
    assert "command" not in c and "args" not in c, "the image's own `ollama serve` entrypoint is used"
    assert c["image"] == "docker.io/ollama/ollama:0.32.15"
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["ports"] == [{"containerPort": 11434, "name": "http"}]
    env = env_of(c)
    assert env["OLLAMA_HOST"] == "0.0.0.0:11434"
    assert env["OLLAMA_MODELS"] == "/var/lib/ollama/models"
    assert env["HOME"] == "/var/lib/ollama"
    assert env["OLLAMA_KEEP_ALIVE"] == "-1"
    assert env["OLLAMA_CONTEXT_LENGTH"] == "8192"
    assert env["OLLAMA_NO_CLOUD"] == "1"


def test_image_is_blackwell_capable_and_pinned() -> None:
    image = OllamaServerProps().image
    repository, tag = image.rsplit(":", 1)
    assert repository == "docker.io/ollama/ollama"
    assert tuple(int(x) for x in tag.split(".")) >= (0, 5, 13), "0.5.13 is the first release with sm_120"


def test_startup_and_liveness_probe_http_root_readiness_never_waits_on_the_scheduler() -> None:
    _, manifests = synth_server(models=("phi", "llama3.2:3b"), startup_timeout_seconds=900)
    c = ollama_container(manifests)
    assert c["startupProbe"]["httpGet"] == {"path": "/", "port": 11434, "scheme": "HTTP"}
    assert c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"] >= 900
    assert c["livenessProbe"]["httpGet"]["path"] == "/"
    # Ready = the model is on disk, its first warm-up finished, the server answers: never `ollama ps`.
    assert c["readinessProbe"]["exec"]["command"] == [
        "bash",
        "/opt/ollama-constructs/scripts/model-ready.sh",
        "phi:latest",
        "warm",
    ]
    # The probe's one CLI call is bounded well inside the probe's timeout.
    assert int(env_of(c)["OLLAMA_CLI_TIMEOUT_SECONDS"]) * 2 <= c["readinessProbe"]["timeoutSeconds"]
    assert env_of(c)["OLLAMA_WARM_MARKER"] == "/run/ollama-constructs/warm/primary"
    assert set(c["lifecycle"]) == {"preStop"}, "no postStart: the warm-up runs in the model-keeper"


def test_preload_warms_up_in_the_model_keeper_within_the_startup_budget() -> None:
    _, manifests = synth_server(models=("phi", "llama3.2:3b"), startup_timeout_seconds=900, keeper_interval_seconds=20)
    keeper = keeper_container(manifests)
    assert keeper is not None
    assert keeper["command"] == ["bash", "/opt/ollama-constructs/scripts/model-keeper.sh", "phi:latest"]
    assert "lifecycle" not in keeper and "readinessProbe" not in keeper
    env = env_of(keeper)
    assert env["OLLAMA_WARMUP_TIMEOUT_SECONDS"] == "900"
    assert env["OLLAMA_KEEPER_INTERVAL_SECONDS"] == "20"
    assert env["OLLAMA_HOST"] == "127.0.0.1:11434"
    assert env["OLLAMA_WARM_MARKER"] == env_of(ollama_container(manifests))["OLLAMA_WARM_MARKER"]
    assert env["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert keeper["terminationMessagePolicy"] == "FallbackToLogsOnError"
    mounts = {m["mountPath"]: m for m in keeper["volumeMounts"]}
    assert mounts["/var/lib/ollama"]["readOnly"] is True, "the keeper never writes the store (it never pulls)"
    assert "readOnly" not in mounts["/run/ollama-constructs/warm"]
    ollama_mounts = {m["mountPath"]: m for m in ollama_container(manifests)["volumeMounts"]}
    assert ollama_mounts["/run/ollama-constructs/warm"]["readOnly"] is True
    volumes = {v["name"]: v for v in find(manifests, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mounts["/run/ollama-constructs/warm"]["name"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Mi"}


def test_without_preload_readiness_means_present_and_keep_alive_is_finite() -> None:
    _, manifests = synth_server(models=("phi",), preload=False)
    c = ollama_container(manifests)
    assert c["readinessProbe"]["exec"]["command"][-2:] == ["phi:latest", "present"]
    assert set(c["lifecycle"]) == {"preStop"}
    assert keeper_container(manifests) is None
    assert "OLLAMA_WARM_MARKER" not in env_of(c)
    assert env_of(c)["OLLAMA_KEEP_ALIVE"] == "5m"


def test_without_models_readiness_is_the_http_root() -> None:
    _, manifests = synth_server()
    c = ollama_container(manifests)
    assert c["readinessProbe"]["httpGet"]["path"] == "/"
    assert keeper_container(manifests) is None
    assert c["lifecycle"]["preStop"]["exec"]["command"] == ["bash", "/opt/ollama-constructs/scripts/drain.sh", "11434"]


def test_shutdown_drains_before_sigterm_within_the_grace_period() -> None:
    _, manifests = synth_server(models=("phi",), drain_seconds=300, drain_delay_seconds=7)
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    c = ollama_container(manifests)
    assert c["lifecycle"]["preStop"]["exec"]["command"] == ["bash", "/opt/ollama-constructs/scripts/drain.sh", "11434"]
    env = env_of(c)
    assert (env["OLLAMA_DRAIN_DELAY_SECONDS"], env["OLLAMA_DRAIN_TIMEOUT_SECONDS"]) == ("7", "300")
    # The kubelet counts the preStop hook against the grace period: the pause, the drain and a margin.
    assert pod["terminationGracePeriodSeconds"] == 7 + 300 + 15
    _, defaults = synth_server()
    assert find(defaults, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 5 + 600 + 15


def test_probe_scripts_are_mounted_from_the_configmap_and_roll_the_pods() -> None:
    from ollama_constructs import _scripts

    _, manifests = synth_server(models=("phi",))
    config = find(manifests, "ConfigMap", "ollama-scripts")
    assert sorted(config["data"]) == ["drain.sh", "lib.sh", "model-keeper.sh", "model-ready.sh"]
    assert config["data"]["model-ready.sh"].startswith("#!/usr/bin/env bash")
    pod = find(manifests, "Deployment")["spec"]["template"]
    assert pod["metadata"]["annotations"]["checksum.ollama-constructs.dev/scripts"] == _scripts.checksum(config["data"])
    for c in pod["spec"]["containers"]:
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        assert mounts["/opt/ollama-constructs/scripts"]["readOnly"] is True
    mounts = {m["mountPath"]: m for m in ollama_container(manifests)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes[mounts["/opt/ollama-constructs/scripts"]["name"]]["configMap"]["name"] == "ollama-scripts"


def test_security_context_is_restricted() -> None:
    _, manifests = synth_server()
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 10000
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    sc = ollama_container(manifests)["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}


def test_writable_home_models_and_tmp_on_volumes() -> None:
    _, manifests = synth_server()
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in ollama_container(manifests)["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/var/lib/ollama"]]
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_resources_replicas_and_rollout() -> None:
    resources = ComputeResources(cpu_request="1", cpu_limit="4", memory_request="6Gi", memory_limit="8Gi")
    _, manifests = synth_server(resources=resources, replicas=3, max_surge=0, max_unavailable=1)
    deployment = find(manifests, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
    }
    assert ollama_container(manifests)["resources"] == {
        "requests": {"cpu": "1", "memory": "6Gi"},
        "limits": {"cpu": "4", "memory": "8Gi"},
    }


def test_extra_env_and_labels() -> None:
    _, manifests = synth_server(env={"OLLAMA_DEBUG": "1"}, labels={"team": "ml"})
    assert env_of(ollama_container(manifests))["OLLAMA_DEBUG"] == "1"
    for m in manifests:
        assert m["metadata"]["labels"]["team"] == "ml"
    assert find(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]["team"] == "ml"


@pytest.mark.parametrize(
    ("props", "words"),
    [
        ({"env": {"OLLAMA_HOST": "0.0.0.0:8080"}}, "env cannot set OLLAMA_HOST"),
        ({"labels": {"app.kubernetes.io/instance": "x"}}, "set by the library"),
        ({"max_surge": 0, "max_unavailable": 0}, "cannot both be 0"),
        ({"models": ("bad name",)}, "white space"),
        ({"replicas": -1}, "greater than or equal to 0"),
        ({"name": "Bad"}, "must be a DNS label"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_props_are_refused(props: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        OllamaServerProps(**props)


def test_props_are_frozen() -> None:
    props = OllamaServerProps()
    with pytest.raises(ValidationError):
        props.replicas = 2  # type: ignore[misc]

"""Leaf → sizing and typed Ollama settings: presets, auto resources, budgets, env, availability, `plan`."""

from __future__ import annotations

import pytest
import yaml

from ollama_constructs import cli
from ollama_constructs.catalog import CatalogError, load_catalog
from tests.conftest import server, container, env_of, find, leaf_data, pod_spec

NO_RESOURCES = {"container": {"replicas": 1}}


def load_errors(tmp_path, **changes) -> list[str]:
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(**changes)))
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    return [f"{e.field}: {e.message}" for e in info.value.errors]


# --- presets and auto resources ---------------------------------------------------------------------


def test_auto_is_the_default_without_resources_and_covers_the_model(synth) -> None:
    resources = container(synth(**NO_RESOURCES))["resources"]
    # phi: 3.1 GiB estimate -> 4Gi; node disk: 5Gi emptyDir (2 x 1.6 GB, at least 5Gi) + 1Gi
    assert resources["requests"] == {"cpu": "1", "memory": "4Gi", "ephemeral-storage": "6Gi"}
    assert resources["limits"]["memory"] == "6Gi"
    assert resources["limits"]["nvidia.com/gpu"] == 1


def test_auto_grows_with_the_model_and_the_context(synth) -> None:
    small = container(synth(container={"replicas": 1}, model="llama3.1:8b"))["resources"]["requests"]["memory"]
    large = container(
        synth(container={"replicas": 1}, model="llama3.1:8b", ollama={"contextLength": 32768})
    )["resources"]["requests"]["memory"]
    assert (small, large) == ("7Gi", "10Gi")
    halved = container(
        synth(container={"replicas": 1}, model="llama3.1:8b", ollama={"contextLength": 32768, "kvCacheType": "q8_0"})
    )["resources"]["requests"]["memory"]
    assert halved == "8Gi"


@pytest.mark.parametrize(
    ("preset", "requests", "limits"),
    [
        ("small", {"cpu": "1", "memory": "4Gi"}, {"cpu": "4", "memory": "6Gi"}),
        ("medium", {"cpu": "2", "memory": "8Gi"}, {"cpu": "8", "memory": "12Gi"}),
        ("large", {"cpu": "8", "memory": "48Gi"}, {"cpu": "16", "memory": "64Gi"}),
    ],
)
def test_fixed_presets(synth, preset, requests, limits) -> None:
    resources = container(synth(preset=preset, gpu={"count": 0}, **NO_RESOURCES))["resources"]
    disk = {"requests": {"ephemeral-storage": "6Gi"}, "limits": {"ephemeral-storage": "7Gi"}}
    assert resources == {"requests": {**requests, **disk["requests"]}, "limits": {**limits, **disk["limits"]}}


def test_explicit_resources_always_win(synth) -> None:
    assert container(synth())["resources"]["requests"] == {"cpu": "500m", "memory": "2Gi", "ephemeral-storage": "6Gi"}


def test_preset_and_resources_together_are_refused(tmp_path) -> None:
    assert any("either 'preset' or 'container.resources'" in e for e in load_errors(tmp_path, preset="small"))


def test_unknown_model_with_auto_says_what_to_add(tmp_path) -> None:
    errors = load_errors(tmp_path, model="acme/coder:v2", **NO_RESOURCES)
    assert any(
        e.startswith("preset: auto: model 'acme/coder:v2' has no known size; set container.resources") for e in errors
    ), errors


def test_unknown_model_with_a_fixed_preset_is_fine_given_its_disk(synth) -> None:
    disk = {"replicas": 1, "resources": {"limits": {"ephemeralStorage": "40Gi"}}}
    resources = container(synth(model="acme/coder:v2", preset="medium", container=disk))["resources"]
    assert resources["requests"] == {"cpu": "2", "memory": "8Gi", "ephemeral-storage": "38Gi"}
    assert resources["limits"]["ephemeral-storage"] == "40Gi"
    models = [v for v in pod_spec(synth(model="acme/coder:v2", preset="medium", container=disk))["volumes"] if v["name"] == "models"]
    assert models == [{"name": "models", "emptyDir": {"sizeLimit": f"{38 * 1024}Mi"}}]


# --- node disk ---------------------------------------------------------------------------------------


def models_volume(manifests) -> dict:
    (volume,) = [v for v in pod_spec(manifests)["volumes"] if v["name"] == "models"]
    return volume


def test_the_models_emptydir_and_the_node_disk_are_sized_from_the_models_as_claims_are(synth) -> None:
    # llama3.1:8b downloads 4.9 GB: twice that is 9.13 GiB -> 10Gi, the size `persistence.size: auto` asks.
    manifests = synth(model="llama3.1:8b", **NO_RESOURCES)
    assert models_volume(manifests) == {"name": "models", "emptyDir": {"sizeLimit": f"{10 * 1024}Mi"}}
    resources = container(manifests)["resources"]
    assert (resources["requests"]["ephemeral-storage"], resources["limits"]["ephemeral-storage"]) == ("11Gi", "12Gi")
    claim = find(synth(model="llama3.1:8b", persistence={"enabled": True}, **NO_RESOURCES), "PersistentVolumeClaim")
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    # several models add up; the init container writes into the same emptyDir, under the pod's limit
    two = synth(model=None, models=["llama3.1:8b", "qwen2.5:7b"], **NO_RESOURCES)
    assert models_volume(two)["emptyDir"]["sizeLimit"] == f"{18 * 1024}Mi"  # 2 x (4.9 + 4.68) GB = 17.9 GiB
    assert container(two, "model-pull").get("resources", {}).get("limits", {}).get("ephemeral-storage") is None


def test_explicit_node_disk_wins_and_cpu_memory_stay_auto(synth) -> None:
    manifests = synth(container={"replicas": 1, "resources": {"requests": {"ephemeralStorage": "30Gi"}, "limits": {"ephemeralStorage": "50Gi"}}})
    resources = container(manifests)["resources"]
    assert resources["requests"] == {"cpu": "1", "memory": "4Gi", "ephemeral-storage": "30Gi"}, "preset auto for cpu/memory"
    assert resources["limits"]["ephemeral-storage"] == "50Gi"
    assert models_volume(manifests)["emptyDir"]["sizeLimit"] == f"{48 * 1024}Mi", "the limit less 2Gi for /tmp and logs"


def test_with_a_claim_only_scratch_disk_is_asked(synth) -> None:
    manifests = synth(persistence={"enabled": True, "size": "50Gi"}, **NO_RESOURCES)
    resources = container(manifests)["resources"]
    assert (resources["requests"]["ephemeral-storage"], resources["limits"]["ephemeral-storage"]) == ("1Gi", "2Gi")
    assert "emptyDir" not in models_volume(manifests)


def test_gpu_memory_the_node_must_have_comes_from_the_models(synth) -> None:
    pod = pod_spec(synth(model="llama3.1:8b", **NO_RESOURCES))
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    expressions = [e for t in terms for e in t["matchExpressions"]]
    assert {"key": "nvidia.com/gpu.memory", "operator": "Gt", "values": [str(7 * 1024 - 1)]} in expressions


def test_time_budgets_follow_the_download_size(synth) -> None:
    small = server(synth())
    large = server(synth(model="llama3.1:70b", gpu={"count": 2}, **NO_RESOURCES))
    assert small["spec"]["progressDeadlineSeconds"] == 720
    assert large["spec"]["progressDeadlineSeconds"] == 2640
    probe = lambda d: d["spec"]["template"]["spec"]["containers"][0]["startupProbe"]  # noqa: E731
    assert probe(small)["failureThreshold"] * probe(small)["periodSeconds"] == 300
    assert probe(large)["failureThreshold"] * probe(large)["periodSeconds"] == 600


# --- typed Ollama settings --------------------------------------------------------------------------


def test_typed_settings_become_environment_variables(synth) -> None:
    env = env_of(
        container(
            synth(
                preload=False,
                ollama={
                    "keepAlive": "10m",
                    "numParallel": 4,
                    "maxLoadedModels": 2,
                    "maxQueue": 64,
                    "flashAttention": True,
                    "kvCacheType": "q8_0",
                    "loadTimeout": "15m",
                    "extraEnv": {"OLLAMA_DEBUG": "1", "OLLAMA_GPU_OVERHEAD": "536870912"},
                },
            )
        )
    )
    assert env.items() >= {
        "OLLAMA_KEEP_ALIVE": "10m",
        "OLLAMA_NUM_PARALLEL": "4",
        "OLLAMA_MAX_LOADED_MODELS": "2",
        "OLLAMA_MAX_QUEUE": "64",
        "OLLAMA_FLASH_ATTENTION": "1",
        "OLLAMA_KV_CACHE_TYPE": "q8_0",
        "OLLAMA_LOAD_TIMEOUT": "15m",
        "OLLAMA_DEBUG": "1",
        "OLLAMA_GPU_OVERHEAD": "536870912",
    }.items()


def test_defaults_pin_parallelism_and_keep_every_model_loadable(synth) -> None:
    env = env_of(container(synth(model=None, models=["phi", "llama3.2:3b"], customModels=[{"name": "bot", "from": "phi"}])))
    assert env["OLLAMA_NUM_PARALLEL"] == "1"
    assert "OLLAMA_MAX_LOADED_MODELS" not in env, "three models fit Ollama's own limit (3 per GPU)"
    assert "OLLAMA_FLASH_ATTENTION" not in env and "OLLAMA_KV_CACHE_TYPE" not in env
    four = env_of(container(synth(model=None, models=["phi", "llama3.2:3b", "qwen2.5", "mistral"])))
    assert four["OLLAMA_MAX_LOADED_MODELS"] == "4", "more models than Ollama keeps: raise the limit"


@pytest.mark.parametrize(
    ("ollama", "words"),
    [
        ({"extraEnv": {"OLLAMA_KEEP_ALIVE": "1h"}}, "OLLAMA_KEEP_ALIVE: set it with ollama.keepAlive"),
        ({"extraEnv": {"OLLAMA_HOST": "0.0.0.0:1"}}, "OLLAMA_HOST: set by the library"),
        ({"extraEnv": {"OLLAMA_MAX_VRAM": "1"}}, "OLLAMA_MAX_VRAM: removed in Ollama 0.6.9"),
        ({"extraEnv": {"OLLAMA_PORT": "8080"}}, "never read by Ollama"),
        ({"extraEnv": {"bad-name": "1"}}, "not a valid environment variable name"),
        ({"keepAlive": "forever"}, "not a duration"),
        ({"loadTimeout": "5 minutes"}, "not a duration"),
        ({"kvCacheType": "q2"}, "'f16', 'q8_0' or 'q4_0'"),
        ({"kvCacheType": "q4_0", "flashAttention": False}, "needs flash attention"),
        ({"numParallel": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(tmp_path, ollama, words) -> None:
    errors = load_errors(tmp_path, ollama=ollama)
    assert any(e.startswith("ollama") and words in e for e in errors), errors


def test_preload_with_a_finite_keep_alive_is_refused(tmp_path) -> None:
    errors = load_errors(tmp_path, ollama={"keepAlive": "5m"})
    assert any("would unload the preloaded primary model" in e for e in errors), errors


# --- availability -----------------------------------------------------------------------------------


def test_one_replica_has_no_disruption_budget(synth) -> None:
    manifests = synth()
    assert not [m for m in manifests if m["kind"] == "PodDisruptionBudget"]
    assert "topologySpreadConstraints" not in pod_spec(manifests)


def test_several_replicas_get_a_budget_and_spread(synth) -> None:
    manifests = synth(container={"replicas": 3, "resources": leaf_data()["container"]["resources"]})
    pdb = find(manifests, "PodDisruptionBudget", "ollama-phi")
    selector = {"app.kubernetes.io/name": "ollama", "app.kubernetes.io/instance": "ollama-phi"}
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    spread = pod_spec(manifests)["topologySpreadConstraints"]
    assert [s["topologyKey"] for s in spread] == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    assert all(s["labelSelector"] == {"matchLabels": selector} and s["maxSkew"] == 1 for s in spread)


def test_termination_grace_period_lets_streams_finish(synth) -> None:
    """The drain defaults to the request timeout (no answer outlives it); `container.drainSeconds` sets it."""
    from tests.conftest import container, env_of

    def drain_of(manifests) -> tuple[int, str, int]:
        proxy = find(manifests, "Deployment", "ollama-phi-auth")["spec"]["template"]["spec"]
        return (
            pod_spec(manifests)["terminationGracePeriodSeconds"],
            env_of(container(manifests))["OLLAMA_DRAIN_TIMEOUT_SECONDS"],
            proxy["terminationGracePeriodSeconds"],
        )

    assert drain_of(synth()) == (620, "600", 620)
    ingress = {**leaf_data()["ingress"], "timeoutSeconds": 1200}
    assert drain_of(synth(ingress=ingress)) == (1220, "1200", 1220)
    resources = leaf_data()["container"]["resources"]
    assert drain_of(synth(container={"replicas": 1, "resources": resources, "drainSeconds": 90})) == (110, "90", 110)


def test_a_negative_drain_is_refused_naming_the_field(tmp_path) -> None:
    errors = load_errors(tmp_path, container={"replicas": 1, "drainSeconds": -5})
    assert any("container.drainSeconds" in e for e in errors), errors


# --- compatibility rules ----------------------------------------------------------------------------


def test_blackwell_needs_a_recent_image(tmp_path) -> None:
    errors = load_errors(tmp_path, ollama={"image": "ollama/ollama:0.5.12"}, gpu={"count": 1, "family": "blackwell"})
    assert any("no Blackwell (sm_120) kernels" in e and "rule gpu/blackwell-image" in e for e in errors), errors
    errors = load_errors(
        tmp_path, ollama={"image": "ollama/ollama:0.5.7"}, gpu={"count": 1, "product": "NVIDIA-GeForce-RTX-5070-Ti"}
    )
    assert any("no Blackwell" in e for e in errors), errors


def test_amd_gets_the_rocm_variant_of_the_platform_image(synth) -> None:
    assert container(synth(gpu={"count": 1, "vendor": "amd"}))["image"] == "docker.io/ollama/ollama:0.32.15-rocm"
    assert container(synth(gpu={"count": 0, "vendor": "amd"}))["image"] == "docker.io/ollama/ollama:0.32.15"


def test_amd_with_a_plain_image_is_refused(tmp_path) -> None:
    errors = load_errors(tmp_path, gpu={"count": 1, "vendor": "amd"}, ollama={"image": "ollama/ollama:0.32.15"})
    assert any("need the -rocm variant" in e for e in errors), errors


@pytest.mark.parametrize(
    ("gpu", "words"),
    [
        ({"count": 2, "resourceName": "nvidia.com/mig-1g.10gb"}, "one CUDA process"),
        ({"count": 1, "vendor": "amd", "resourceName": "nvidia.com/mig-1g.10gb"}, "NVIDIA resource"),
        ({"count": 1, "resourceName": "amd.com/gpu"}, "set vendor: amd"),
        ({"count": 1, "vendor": "amd", "minMemoryGiB": 16}, "not numeric"),
        ({"count": 0, "product": "Tesla-T4"}, "CPU only"),
        ({"count": 1, "family": "kepler"}, "not a GPU Feature Discovery family"),
    ],
)
def test_gpu_combinations_that_cannot_work(tmp_path, gpu, words) -> None:
    errors = load_errors(tmp_path, gpu=gpu)
    assert any(e.startswith("gpu") and words in e for e in errors), errors


# --- plan -------------------------------------------------------------------------------------------


def test_plan_prints_what_each_leaf_resolves_to(tmp_path, capsys) -> None:
    (tmp_path / "leaf.yaml").write_text(
        yaml.safe_dump(leaf_data(model="llama3.1:8b", persistence={"enabled": True}, **NO_RESOURCES))
    )
    assert cli.main(["plan", "--catalog", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for words in (
        "ml-workloads/ollama-phi (dev)",
        "primary llama3.1:8b: 4.9 GB download",
        "resources: auto, as no container.resources are given: CPU request 2, limit 8; memory request 7Gi, limit 9Gi",
        "GPU: 1 × nvidia.com/gpu per replica, on nodes whose GPUs have at least 7 GiB (what the models need)",
        "model volume: the claim ollama-phi-models of 10Gi (twice the models' download size), ReadWriteOnce",
        "time budgets: a rollout may take",
        "image: docker.io/ollama/ollama:0.32.15 (platform default)",
    ):
        assert words in out, (words, out)


def test_platform_priority_class(tmp_path) -> None:
    from ollama_constructs import _render

    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data()))
    (tmp_path / "platform-defaults.yaml").write_text("priorityClassName: gpu-inference\n")
    (text,) = _render.render_manifests(_render.build_app(load_catalog(tmp_path))).values()
    server = next(d for d in yaml.safe_load_all(text) if d["kind"] == "Deployment" and d["metadata"]["name"] == "ollama-phi")
    assert server["spec"]["template"]["spec"]["priorityClassName"] == "gpu-inference"

"""OllamaModelPull: the init container, its script, its environment; attached to a server (`server=`) or to any
workload."""

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


def manager_container(manifests: list[dict]) -> dict:
    containers = find(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    (c,) = [c for c in containers if c["name"] == "model-manager"]
    return c


def models_list(manifests: list[dict], name: str = "chat-models") -> list[str]:
    text = find(manifests, "ConfigMap", name)["data"]["models.list"]
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_init_container_runs_the_packaged_pull_script() -> None:
    pull, manifests = synth_pull()
    c = init_container(manifests)
    assert c["name"] == "model-pull"
    assert c["command"] == ["bash", "/opt/ollama-constructs/scripts/model-pull.sh"]
    config = find(manifests, "ConfigMap", "chat-model-pull")
    assert sorted(config["data"]) == ["lib.sh", "model-manager.sh", "model-pull.sh"]
    assert "ollama serve" in config["data"]["model-pull.sh"]
    assert cdk8s.ApiObject.of(pull).kind == "ConfigMap"
    assert cdk8s.ApiObject.of(pull).name == "chat-models"


def test_models_are_normalized_and_listed_in_order() -> None:
    _, manifests = synth_pull()
    assert models_list(manifests) == ["pull phi:latest", "pull llama3.2:3b"]
    env = env_of(init_container(manifests))
    assert env["OLLAMA_MODELS_SPEC_DIR"] == "/etc/ollama-constructs/models"
    mounts = {m["mountPath"]: m for m in init_container(manifests)["volumeMounts"]}
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/etc/ollama-constructs/models"]["name"]]["configMap"]["name"] == "chat-models"


def test_pins_aliases_registries_and_modelfiles_in_the_list() -> None:
    digest = "sha256:" + "a" * 64
    _, manifests = synth_pull(
        models=(
            {"ref": "models.corp:5000/library/phi:latest", "digest": digest, "alias": "phi", "insecure": True},
            "llama3.2:3b",
        ),
        custom_models=({"name": "bot", "modelfile": "FROM phi:latest\nSYSTEM hi\n"},),
    )
    assert models_list(manifests) == [
        f"pull models.corp:5000/library/phi:latest digest={digest} alias=phi:latest insecure",
        "pull llama3.2:3b",
        "create bot:latest modelfile=custom-0.Modelfile",
    ]
    assert find(manifests, "ConfigMap", "chat-models")["data"]["custom-0.Modelfile"] == "FROM phi:latest\nSYSTEM hi\n"


def test_hot_swap_sidecar_reads_the_same_list_and_the_list_does_not_roll_pods() -> None:
    _, manifests = synth_pull(remove_unlisted=True, manager_interval_seconds=15)
    c = manager_container(manifests)
    assert c["command"] == ["bash", "/opt/ollama-constructs/scripts/model-manager.sh"]
    env = env_of(c)
    assert env["OLLAMA_HOST"] == "127.0.0.1:11434", "it drives the pod's own server"
    assert env["OLLAMA_MANAGER_REMOVE_UNLISTED"] == "1"
    assert env["OLLAMA_MANAGER_INTERVAL_SECONDS"] == "15"
    assert env["NVIDIA_VISIBLE_DEVICES"] == "void"
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/var/lib/ollama"]["readOnly"] is True
    assert mounts["/etc/ollama-constructs/models"]["readOnly"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    annotations = find(manifests, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert "checksum.ollama-constructs.dev/models" not in annotations


def test_without_hot_swap_a_changed_list_rolls_the_pods() -> None:
    _, first = synth_pull(hot_swap=False)
    _, second = synth_pull(hot_swap=False, models=("phi",))
    names = [c["name"] for c in find(first, "Deployment")["spec"]["template"]["spec"]["containers"]]
    assert "model-manager" not in names
    key = "checksum.ollama-constructs.dev/models"
    a = find(first, "Deployment")["spec"]["template"]["metadata"]["annotations"][key]
    b = find(second, "Deployment")["spec"]["template"]["metadata"]["annotations"][key]
    assert a != b


def test_a_changed_modelfile_rolls_the_pods() -> None:
    key = "checksum.ollama-constructs.dev/modelfiles"
    values = []
    for system in ("a", "b"):
        _, manifests = synth_pull(custom_models=({"name": "bot", "modelfile": f"FROM phi\nSYSTEM {system}\n"},))
        values.append(find(manifests, "Deployment")["spec"]["template"]["metadata"]["annotations"][key])
    assert values[0] != values[1]


def test_shared_volume_takes_a_lock() -> None:
    _, manifests = synth_pull(shared_volume=True)
    assert env_of(init_container(manifests))["OLLAMA_PULL_LOCK"] == "/var/lib/ollama/.model-pull.lock"
    _, manifests = synth_pull()
    assert "OLLAMA_PULL_LOCK" not in env_of(init_container(manifests))


def test_registry_ca_bundle_for_the_pull_and_the_server() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="team")
    server = OllamaServer(chart, "Server", OllamaServerProps(name="chat", models=("phi",)))
    OllamaModelPull(
        chart,
        "Pull",
        OllamaModelPullProps(name="chat", models=("phi",), ca_bundle={"secret_name": "corp-ca", "key": "bundle.pem"}),
        workload=server.workload,
        models_volume=server.models_volume,
        server_container=server.container,
    )
    pod = find(cdk8s.Testing.synth(chart), "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for c in [pod["initContainers"][0], next(c for c in pod["containers"] if c["name"] == "ollama")]:
        assert env_of(c)["SSL_CERT_FILE"] == "/etc/ollama-constructs/ca/bundle.pem"
        mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/etc/ollama-constructs/ca")
        assert volumes[mount["name"]]["secret"]["secretName"] == "corp-ca"


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
    server = next(c for c in pod["containers"] if c["name"] == "ollama")
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
    [
        ({"models": ("a@sha256:00",)}, "digest"),
        ({"models": ({"ref": "phi", "digest": "sha256:12"},)}, "not a manifest digest"),
        ({"models": ("phi", "phi:latest")}, "listed twice"),
        ({"models": ("phi",), "attempts": 0}, "greater"),
    ],
)
def test_invalid_props(props: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        OllamaModelPullProps(**props)


def test_on_a_shared_volume_the_sidecar_takes_the_same_lock() -> None:
    _, manifests = synth_pull(shared_volume=True)
    manager = manager_container(manifests)
    assert env_of(manager)["OLLAMA_PULL_LOCK"] == env_of(init_container(manifests))["OLLAMA_PULL_LOCK"]
    mount = next(m for m in manager["volumeMounts"] if m["mountPath"] == "/var/lib/ollama")
    assert mount.get("readOnly") is not True, "the lock is a directory on the model volume"


def test_sidecar_probe_checks_are_skipped_with_a_reason() -> None:
    _, manifests = synth_pull()
    annotations = find(manifests, "Deployment")["metadata"]["annotations"]
    skips = {v.split("=", 1)[0]: v.split("=", 1)[1] for k, v in annotations.items() if k.startswith("checkov.io/skip")}
    assert {"CKV_K8S_8", "CKV_K8S_9"} <= set(skips)
    assert "ollama container" in skips["CKV_K8S_9"]


# --------------------------------------------------------------------------- server=


def synth_with_server(server_props: dict | None = None, props: OllamaModelPullProps | None = None, **refs):
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="team")
    server = OllamaServer(chart, "Server", OllamaServerProps(**{"name": "chat", "models": ("phi", "llama3.2:3b"), **(server_props or {})}))
    pull = OllamaModelPull(chart, "Pull", props, server=server, **refs)
    return server, pull, cdk8s.Testing.synth(chart)


def test_with_a_server_the_pull_follows_its_models_name_image_and_volume() -> None:
    _, pull, manifests = synth_with_server({"image": "registry.corp/ollama/ollama:0.32.15"})
    assert models_list(manifests) == ["pull phi:latest", "pull llama3.2:3b"]
    assert pull.props.name == "chat"
    assert init_container(manifests)["image"] == manager_container(manifests)["image"] == "registry.corp/ollama/ollama:0.32.15"
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    init_mounts = {m["mountPath"]: m["name"] for m in init_container(manifests)["volumeMounts"]}
    server_mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert init_mounts["/var/lib/ollama"] == server_mounts["/var/lib/ollama"]
    _, _, shared = synth_with_server({"model_volume": {"access_mode": "ReadWriteMany"}, "max_surge": 1})
    assert env_of(init_container(shared))["OLLAMA_PULL_LOCK"] == "/var/lib/ollama/.model-pull.lock"


def test_with_a_server_each_script_ships_once_and_its_checksum_covers_them_all() -> None:
    from ollama_constructs import _scripts

    _, pull, manifests = synth_with_server()
    config_maps = [m for m in manifests if m["kind"] == "ConfigMap"]
    assert sorted(m["metadata"]["name"] for m in config_maps) == ["chat-models", "chat-scripts"]
    scripts = find(manifests, "ConfigMap", "chat-scripts")["data"]
    assert sorted(scripts) == ["drain.sh", "lib.sh", "model-keeper.sh", "model-manager.sh", "model-pull.sh", "model-ready.sh"]
    texts = [text for m in config_maps for text in m["data"].values()]
    assert texts.count(scripts["lib.sh"]) == 1, "lib.sh travels once per pod"
    template = find(manifests, "Deployment")["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["checksum.ollama-constructs.dev/scripts"] == _scripts.checksum(scripts)
    assert "checksum.ollama-constructs.dev/model-pull" not in annotations
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    for c in [*template["spec"]["initContainers"], *template["spec"]["containers"]]:
        mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/opt/ollama-constructs/scripts")
        assert volumes[mount["name"]]["configMap"]["name"] == "chat-scripts"
    assert pull.config_map is not None


def test_with_a_server_props_add_pins_and_aliases_for_the_same_models() -> None:
    digest = "sha256:" + "b" * 64
    props = OllamaModelPullProps(
        models=({"ref": "models.corp:5000/library/phi:latest", "digest": digest, "alias": "PHI"}, "llama3.2:3b"),
        manager_interval_seconds=60,
    )
    _, _, manifests = synth_with_server(props=props)
    assert models_list(manifests) == [
        f"pull models.corp:5000/library/phi:latest digest={digest} alias=PHI:latest", "pull llama3.2:3b"
    ]
    assert env_of(manager_container(manifests))["OLLAMA_MANAGER_INTERVAL_SECONDS"] == "60"


@pytest.mark.parametrize(
    ("props", "refs", "words"),
    [
        ({"models": ("llama3.2:3b", "phi3")}, {}, "serves phi:latest (its primary model"),
        ({"models": ("phi",)}, {}, "serves llama3.2:3b, which these models do not pull"),
        ({"image": "docker.io/ollama/ollama:0.6.0"}, {}, "image 'docker.io/ollama/ollama:0.6.0' differs from the server's"),
        ({"name": "other"}, {}, "name 'other' differs from the server's"),
        ({"shared_volume": True}, {}, "shared_volume True differs"),
        ({}, {"workload": "given"}, "give either server= or workload="),
    ],
)
def test_inconsistent_wiring_is_refused_naming_the_construct(props: dict, refs: dict, words: str) -> None:
    if refs:
        chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
        refs = {"workload": kplus.Deployment(chart, "Other", containers=[{"image": "busybox"}])}
    with pytest.raises(ValueError, match=r"^test/Pull: .*" + words.replace("(", r"\(").replace(".", r"\.")):
        synth_with_server(props=OllamaModelPullProps(**props), **refs)


def test_without_a_server_the_workload_and_models_are_required() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    with pytest.raises(ValueError, match=r"^test/Pull: OllamaModelPull needs server="):
        OllamaModelPull(chart, "Pull", OllamaModelPullProps(models=("phi",)))
    job = kplus.Job(chart, "Warm", containers=[{"image": "busybox"}])
    volume = kplus.Volume.from_empty_dir(chart, "Store", "store")
    with pytest.raises(ValueError, match=r"^test/Empty: no models to pull"):
        OllamaModelPull(chart, "Empty", OllamaModelPullProps(), workload=job, models_volume=volume)


def test_names_that_differ_only_in_case_are_the_same_model() -> None:
    props = OllamaModelPullProps(models=("PHI", "Llama3.2:3B"))
    _, _, manifests = synth_with_server(props=props)
    assert models_list(manifests) == ["pull PHI:latest", "pull Llama3.2:3B"]

"""Leaf → model lifecycle: persistence shapes, pins, internal registries, Modelfiles, hot-swap."""

from __future__ import annotations

import pytest

from ollama_constructs.catalog import CatalogError, parse_leaf
from ollama_constructs.catalog.loader import load_catalog
from tests.conftest import container, env_of, find, leaf_data, pod_spec, server

DIGEST = "sha256:" + "0123456789abcdef" * 4
OTHER = "sha256:" + "f" * 64


def models_list(manifests) -> list[str]:
    text = find(manifests, "ConfigMap", "ollama-phi-models")["data"]["models.list"]
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def workload(manifests) -> dict:
    return server(manifests)


# --- persistence: one shape per case ------------------------------------------------------------


def test_no_persistence_is_an_emptydir_deployment(synth) -> None:
    manifests = synth()
    assert workload(manifests)["kind"] == "Deployment"
    volumes = {v["name"]: v for v in pod_spec(manifests)["volumes"]}
    assert "emptyDir" in volumes["models"]
    assert not [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]


def test_one_replica_on_a_readwriteonce_claim_is_recreated_never_rolled(synth) -> None:
    manifests = synth(persistence={"enabled": True, "size": "30Gi", "storageClass": "fast-ssd"})
    deployment = workload(manifests)
    assert deployment["kind"] == "Deployment"
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claim = find(manifests, "PersistentVolumeClaim", "ollama-phi-models")
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "30Gi"}},
        "storageClassName": "fast-ssd",
    }
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == "ollama-phi-models"
    assert claim["metadata"]["labels"]["app.kubernetes.io/instance"] == "ollama-phi"


def test_several_replicas_on_readwriteonce_get_a_claim_each(synth) -> None:
    manifests = synth(persistence={"enabled": True, "size": "30Gi"}, container={"replicas": 3})
    sts = workload(manifests)
    assert sts["kind"] == "StatefulSet"
    assert sts["metadata"]["name"] == "ollama-phi"
    assert sts["spec"]["replicas"] == 3
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    (template,) = sts["spec"]["volumeClaimTemplates"]
    assert template["metadata"]["name"] == "models"
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert template["spec"]["resources"]["requests"]["storage"] == "30Gi"
    pod = sts["spec"]["template"]["spec"]
    assert "models" not in [v["name"] for v in pod["volumes"]], "the claim template provides the volume"
    mounts = [m for c in pod["containers"] + pod["initContainers"] for m in c["volumeMounts"] if m["name"] == "models"]
    assert len(mounts) == 4, "server, init container and both sidecars all mount the claim"
    headless = find(manifests, "Service", "ollama-phi-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert sts["spec"]["serviceName"] == "ollama-phi-headless"
    assert headless["spec"]["selector"] == find(manifests, "Service", "ollama-phi")["spec"]["selector"]
    assert not [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]


def test_readwritemany_is_shared_with_rolling_updates_and_no_pruning(synth) -> None:
    manifests = synth(
        persistence={"enabled": True, "size": "50Gi", "accessMode": "ReadWriteMany"}, container={"replicas": 3}
    )
    deployment = workload(manifests)
    assert deployment["kind"] == "Deployment"
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert find(manifests, "PersistentVolumeClaim")["spec"]["accessModes"] == ["ReadWriteMany"]
    assert env_of(container(manifests))["OLLAMA_NOPRUNE"] == "1"
    assert env_of(container(manifests, "model-pull"))["OLLAMA_PULL_LOCK"].startswith("/var/lib/ollama/")


def test_existing_claim_is_mounted_and_not_created(synth) -> None:
    manifests = synth(persistence={"enabled": True, "existingClaim": "shared-models", "accessMode": "ReadWriteMany"})
    assert not [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]
    volumes = {v["name"]: v for v in pod_spec(manifests)["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == "shared-models"


def test_auto_size_is_twice_the_models_with_a_floor(synth) -> None:
    manifests = synth(persistence={"enabled": True}, model=None, models=["llama3.1:8b", "qwen2.5:7b"])
    size = find(manifests, "PersistentVolumeClaim")["spec"]["resources"]["requests"]["storage"]
    assert size == "18Gi"  # 2 x (4.9 + 4.7 GB) = 19.2 GB = 17.9 GiB, rounded up
    small = synth(persistence={"enabled": True, "size": "auto"})
    assert find(small, "PersistentVolumeClaim")["spec"]["resources"]["requests"]["storage"] == "5Gi"


# --- pins, registries, Modelfiles ----------------------------------------------------------------


def test_both_pin_forms_reach_the_model_list(synth) -> None:
    manifests = synth(model=None, models=[f"phi:latest@{DIGEST}", {"name": "llama3.2:3b", "digest": OTHER}, "qwen2.5"])
    assert models_list(manifests) == [
        f"pull phi:latest digest={DIGEST}",
        f"pull llama3.2:3b digest={OTHER}",
        "pull qwen2.5:latest",
    ]


def test_internal_registry_pulls_fully_qualified_and_copies_to_the_short_name(synth) -> None:
    manifests = synth(
        model=None,
        models=[f"phi@{DIGEST}", "acme/coder:v2", "other.host/ml/x:1"],
        registry={"host": "models.corp:5000", "insecure": True, "caBundle": {"secretName": "corp-ca"}},
        container={"replicas": 1, "resources": {"limits": {"cpu": "2", "memory": "4Gi", "ephemeralStorage": "60Gi"}}},
    )
    assert models_list(manifests) == [
        f"pull models.corp:5000/library/phi:latest digest={DIGEST} alias=phi:latest insecure",
        "pull models.corp:5000/acme/coder:v2 alias=acme/coder:v2 insecure",
        "pull other.host/ml/x:1",
    ]
    assert container(manifests)["readinessProbe"]["exec"]["command"][2] == "phi:latest", "clients use short names"
    for name in ("ollama", "model-pull"):
        assert env_of(container(manifests, name))["SSL_CERT_FILE"] == "/etc/ollama-constructs/ca/ca.crt"


def test_platform_registry_applies_unless_the_leaf_names_one(tmp_path) -> None:
    import yaml

    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data()))
    (tmp_path / "platform-defaults.yaml").write_text("registry:\n  host: mirror.corp\n")
    loaded = load_catalog(tmp_path).leaves[0]
    assert loaded.resolved.registry is not None and loaded.resolved.registry.host == "mirror.corp"


def test_custom_models_from_a_base_and_literal(synth) -> None:
    manifests = synth(
        customModels=[
            {"name": "support-bot", "from": f"llama3.2:3b@{DIGEST}", "system": "You help.", "parameters": {"temperature": 0.2, "stop": ["<|end|>", "User:"]}},
            {"name": "raw", "modelfile": "FROM phi:latest\nPARAMETER num_ctx 2048\n"},
        ]
    )
    assert models_list(manifests) == [
        "pull phi:latest",
        f"pull llama3.2:3b digest={DIGEST}",
        "create support-bot:latest modelfile=custom-0.Modelfile",
        "create raw:latest modelfile=custom-1.Modelfile",
    ]
    data = find(manifests, "ConfigMap", "ollama-phi-models")["data"]
    assert data["custom-0.Modelfile"] == (
        "FROM llama3.2:3b\n"
        'PARAMETER stop "<|end|>"\n'
        'PARAMETER stop "User:"\n'
        "PARAMETER temperature 0.2\n"
        'SYSTEM """You help."""\n'
    )
    assert data["custom-1.Modelfile"] == "FROM phi:latest\nPARAMETER num_ctx 2048\n"
    annotations = workload(manifests)["spec"]["template"]["metadata"]["annotations"]
    assert "checksum.ollama-constructs.dev/modelfiles" in annotations


def test_hot_swap_sidecar_and_opt_in_removal(synth) -> None:
    env = env_of(container(synth(), "model-manager"))
    assert env["OLLAMA_MANAGER_REMOVE_UNLISTED"] == "0"
    env = env_of(container(synth(removeUnlistedModels=True), "model-manager"))
    assert env["OLLAMA_MANAGER_REMOVE_UNLISTED"] == "1"


def test_changing_the_model_list_alone_does_not_change_the_pod_template(synth) -> None:
    """With resources (node disk included) and GPU memory given, adding a model changes the list only: the
    sidecar pulls it.

    (Sizes derived from the models, `auto` resources, node disk and GPU memory, do change the pods: a model
    that needs more memory or disk must get it, or the kubelet would evict the pod during the pull.)"""
    gpu = {"count": 1, "minMemoryGiB": 16}
    resources = {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "4Gi", "ephemeralStorage": "40Gi"}}
    container = {"replicas": 1, "resources": resources}
    one = workload(synth(gpu=gpu, container=container))["spec"]["template"]
    two = workload(synth(gpu=gpu, container=container, model=None, models=["phi", "llama3.2:3b"]))["spec"]["template"]
    assert one == two
    auto_disk = workload(synth(gpu=gpu))["spec"]["template"]
    grown = workload(synth(gpu=gpu, model=None, models=["phi", "llama3.1:70b"]))["spec"]["template"]
    assert auto_disk != grown, "a 43 GB model needs a larger emptyDir and ephemeral-storage request"


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"persistence": {"enabled": True}, "model": "acme/coder:v2"}, "persistence.size", "has no known size"),
        ({"model": "phi@sha256:1234"}, "model", "not a manifest digest"),
        ({"model": {"name": "phi", "digest": "md5:00"}}, "model.digest", "not a manifest digest"),
        ({"environment": "prod"}, "model", "not pinned"),
        ({"environment": "prod", "model": None, "models": [f"phi@{DIGEST}", "llama3.2"]}, "models[1]", "not pinned"),
        ({"persistence": {"enabled": True, "existingClaim": "x", "size": "10Gi"}}, "persistence", "cannot be given with 'existingClaim'"),
        ({"persistence": {"enabled": True, "existingClaim": "x"}, "container": {"replicas": 2}}, "", "cannot be shared"),
        ({"persistence": {"enabled": True, "accessMode": "ReadWriteSome"}}, "persistence.accessMode", "ReadWriteOnce"),
        ({"persistence": {"enabled": True, "size": "lots"}}, "persistence.size", "auto"),
        ({"customModels": [{"name": "x", "from": "phi", "modelfile": "FROM phi"}]}, "customModels[0]", "either 'from'"),
        ({"customModels": [{"name": "x"}]}, "customModels[0]", "either 'from'"),
        ({"customModels": [{"name": "x", "modelfile": "SYSTEM hi"}]}, "customModels[0]", "FROM line"),
        ({"customModels": [{"name": "phi", "from": "llama3.2"}]}, "", "listed twice"),
        ({"customModels": [{"name": "x", "from": "phi", "system": 'a """ b'}]}, "customModels[0]", "cannot contain"),
        ({"registry": {"host": "https://models.corp"}}, "registry.host", "must be a host name or address"),
        ({"registry": {"host": "models.corp", "caBundle": {"key": "ca.crt"}}}, "registry.caBundle.secretName", "required"),
    ],
)
def test_lifecycle_refusals_name_the_field(tmp_path, changes, field, words) -> None:
    import yaml

    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(**changes)))
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    errors = [e for e in info.value.errors if e.field == field or (field and e.field.startswith(field))]
    assert errors, [str(e) for e in info.value.errors]
    assert any(words in e.message for e in errors), [str(e) for e in info.value.errors]


def test_prod_refusals_name_the_rule(tmp_path) -> None:
    import yaml

    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(environment="prod", ollama={"image": "ollama/ollama"})))
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    text = str(info.value)
    assert "model: 'phi:latest' is not pinned" in text and "(rule prod/pinned-models)" in text
    assert "ollama.image: 'ollama/ollama' is not pinned" in text and "(rule prod/pinned-image)" in text


def test_pinned_prod_leaf_is_accepted() -> None:
    leaf = parse_leaf("x.yaml", leaf_data(environment="prod", model=f"phi@{DIGEST}"))
    assert leaf.pinned_models[0].digest == DIGEST

"""The library as a Python user meets it: `help()` and signatures, loading one leaf, what the chart takes,
duplicate objects refused, strict numbers in props, and main.py on the public API alone."""

from __future__ import annotations

import ast
import inspect
import pydoc
import re
import shutil
from pathlib import Path

import cdk8s
import pytest
from constructs import Construct
from pydantic import BaseModel, ValidationError

import ollama_constructs as oc
from ollama_constructs import CatalogError, DuplicateObjectError, LoadedLeaf, OllamaInferenceChart, load_leaf
from tests.conftest import REPO, SEED_LEAF_FILE

PUBLIC = {name: getattr(oc, name) for name in oc.__all__}
CONSTRUCTS = sorted(n for n, v in PUBLIC.items() if isinstance(v, type) and issubclass(v, Construct))
MODELS = sorted(n for n, v in PUBLIC.items() if isinstance(v, type) and issubclass(v, BaseModel))


def _help(obj: object) -> str:
    return pydoc.render_doc(obj, renderer=pydoc.plaintext)


# --------------------------------------------------------------------------- help()


def test_every_public_construct_is_listed() -> None:
    assert set(CONSTRUCTS) >= {
        "ApiKeyProxy", "GatewayExposure", "GpuNodeSelector", "OllamaAutoscaler", "OllamaInferenceChart",
        "OllamaModelPull", "OllamaNetworkPolicy", "OllamaServer",
    }
    assert len(MODELS) >= 15


@pytest.mark.parametrize("name", CONSTRUCTS)
def test_help_of_a_construct_shows_its_real_signature(name: str) -> None:
    cls = PUBLIC[name]
    signature = str(inspect.signature(cls))
    assert signature.startswith("(scope: Construct, id: str, "), signature
    assert "*args" not in signature and "~M" not in signature
    text = _help(cls)
    assert f"{name}{signature}" in text
    assert "Creates a new construct node" not in text


@pytest.mark.parametrize("name", MODELS)
def test_help_of_a_props_class_shows_each_field_with_its_default(name: str) -> None:
    model = PUBLIC[name]
    signature = str(inspect.signature(model))
    for noise in ("StringConstraints", "Annotated", "FieldInfo", "BeforeValidator", "AfterValidator", "<factory>"):
        assert noise not in signature, (noise, signature)
    assert signature.startswith("(*, ")
    text = _help(model)
    assert "Fields:" in text
    aliases = model.model_config.get("alias_generator") is not None
    for field_name, field in model.model_fields.items():
        key = field.alias if aliases and field.alias else field_name
        line = next((line for line in text.splitlines() if line.strip(" |").startswith(f"{key}: ")), None)
        assert line is not None, f"{key} not listed in help({name})"
        assert "(required)" in line if field.is_required() else "(default " in line, line


def test_props_annotations_say_what_they_accept() -> None:
    """OllamaModelPullProps takes plain strings for models (and turns them into ModelSource)."""
    assert "models: tuple[ModelSource | str, ...]" in str(inspect.signature(oc.OllamaModelPullProps))
    props = oc.OllamaModelPullProps(models=("phi", oc.ModelSource(ref="llama3.2:3b")))
    assert [type(m).__name__ for m in props.models] == ["ModelSource", "ModelSource"]
    assert props.models[0].ref == "phi:latest"


# --------------------------------------------------------------------------- strict numbers in props


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"replicas": True}, "replicas\n  must be a whole number, not true or false"),
        ({"replicas": 2.0}, "replicas\n  must be a whole number"),
        ({"replicas": 2**31}, "must be at most 2147483647"),
        ({"preload": 1}, "preload\n  must be true or false"),
        ({"name": "Bad_Name"}, "must be a DNS label: lower-case letters, digits and '-'"),
    ],
)
def test_props_refuse_booleans_for_numbers_and_say_why(changes: dict, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        oc.OllamaServerProps(**changes)
    assert words in str(caught.value)
    assert "pattern" not in str(caught.value)


# --------------------------------------------------------------------------- load_leaf and the chart


def test_load_leaf_gives_what_the_chart_takes() -> None:
    loaded = load_leaf(SEED_LEAF_FILE)
    assert isinstance(loaded, LoadedLeaf)
    assert loaded.leaf.service_name == "ollama-phi" and loaded.platform == oc.PlatformDefaults()
    assert loaded.resolved.ingress.gateway.class_name == "eg"
    from_loaded = cdk8s.Testing.synth(OllamaInferenceChart(cdk8s.Testing.app(), "c", loaded))
    from_leaf = cdk8s.Testing.synth(
        OllamaInferenceChart(cdk8s.Testing.app(), "c", loaded.leaf, platform=loaded.platform)
    )
    assert from_loaded == from_leaf


def test_a_loaded_leaf_carries_its_platform(tmp_path: Path) -> None:
    shutil.copy(SEED_LEAF_FILE, tmp_path / "leaf.yaml")
    (tmp_path / "platform-defaults.yaml").write_text("ingress: {gatewayClassName: istio}\n")
    loaded = load_leaf(tmp_path / "leaf.yaml")
    assert loaded.platform.ingress.gateway_class_name == "istio"
    manifests = cdk8s.Testing.synth(OllamaInferenceChart(cdk8s.Testing.app(), "c", loaded))
    assert next(m for m in manifests if m["kind"] == "Gateway")["spec"]["gatewayClassName"] == "istio"
    other = tmp_path / "other.yaml"
    other.write_text("ingress: {gatewayClassName: cilium}\n")
    assert load_leaf(tmp_path / "leaf.yaml", other).platform.ingress.gateway_class_name == "cilium"
    with pytest.raises(TypeError, match="a LoadedLeaf carries the platform defaults"):
        OllamaInferenceChart(cdk8s.Testing.app(), "c", loaded, platform=loaded.platform)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (None, "leaf file not found"),
        ("workloadType: OTHER\n", "workloadType: is OTHER; this library reads 'OLLAMA_INFERENCE_LOAD' leaves"),
        (SEED_LEAF_FILE.read_text().replace("namespace: ml-workloads", "namespace: ML"), "namespace: must be a DNS label"),
    ],
    ids=["missing", "other-workload", "invalid"],
)
def test_load_leaf_refuses_with_file_and_field(tmp_path: Path, text: str | None, words: str) -> None:
    path = tmp_path / "leaf.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(CatalogError) as caught:
        load_leaf(path)
    assert str(path) in str(caught.value) and words in str(caught.value)


# --------------------------------------------------------------------------- one object per name


def _servers(chart: cdk8s.Chart, *ids_and_names: tuple[str, str]) -> None:
    for construct_id, name in ids_and_names:
        oc.OllamaServer(chart, construct_id, oc.OllamaServerProps(name=name, models=("phi",)))


def test_two_servers_of_one_name_in_a_chart_are_refused_naming_both_paths() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "assistant", namespace="ai")
    _servers(chart, ("Ollama", "assistant"), ("Again", "assistant"))
    with pytest.raises(RuntimeError) as caught:
        chart.to_json()
    message = str(caught.value)
    assert "assistant/Again/Resource and assistant/Ollama/Resource both define Deployment ai/assistant (apps)" in message
    assert "assistant/Again/Service" in message and "Service ai/assistant" in message


def test_one_name_for_objects_of_different_kinds_or_charts_is_fine() -> None:
    app = cdk8s.Testing.app()
    _servers(cdk8s.Chart(app, "a", namespace="ai"), ("Ollama", "assistant"))
    _servers(cdk8s.Chart(app, "b", namespace="other"), ("Ollama", "assistant"))
    for chart in app.charts:
        kinds = [m["kind"] for m in chart.to_json() if m["metadata"]["name"] == "assistant"]
        assert sorted(kinds) == ["Deployment", "Service"]


def test_a_duplicate_added_to_an_inference_chart_is_refused() -> None:
    chart = OllamaInferenceChart(cdk8s.Testing.app(), "c", load_leaf(SEED_LEAF_FILE))
    _servers(chart, ("Extra", "ollama-phi"))
    with pytest.raises(DuplicateObjectError, match=r"c/Extra/Resource and c/Server/Resource both define Deployment ml-workloads/ollama-phi \(apps\)"):
        chart.to_json()


# --------------------------------------------------------------------------- main.py


def test_main_py_uses_only_the_public_api() -> None:
    tree = ast.parse((REPO / "main.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ollama_constructs"):
            assert not any(part.startswith("_") for part in node.module.split(".")), node.module
            for alias in node.names:
                assert alias.name in oc.__all__ or (node.module, alias.name) == ("ollama_constructs.cli", "main"), alias.name
        if isinstance(node, ast.Attribute):
            assert not re.match(r"_[a-z]", node.attr), node.attr

"""The model reference grammar (Ollama's `types/model/name.go` rules)."""

from __future__ import annotations

import pytest

from ollama_constructs import ModelReference, ModelReferenceError
from ollama_constructs.model_reference import normalize_model_name


@pytest.mark.parametrize(
    ("text", "short", "manifest"),
    [
        ("phi", "phi:latest", "manifests/registry.ollama.ai/library/phi/latest"),
        ("phi:latest", "phi:latest", "manifests/registry.ollama.ai/library/phi/latest"),
        ("llama3.2:3b", "llama3.2:3b", "manifests/registry.ollama.ai/library/llama3.2/3b"),
        ("library/phi:2.7b", "phi:2.7b", "manifests/registry.ollama.ai/library/phi/2.7b"),
        ("acme/coder:v1", "acme/coder:v1", "manifests/registry.ollama.ai/acme/coder/v1"),
        (
            "registry.local:5000/library/llama3.2",
            "registry.local:5000/library/llama3.2:latest",
            "manifests/registry.local:5000/library/llama3.2/latest",
        ),
        ("models.corp/ml/qwen2.5:7b", "models.corp/ml/qwen2.5:7b", "manifests/models.corp/ml/qwen2.5/7b"),
    ],
)
def test_valid_references(text: str, short: str, manifest: str) -> None:
    ref = ModelReference.parse(text)
    assert ref.short == short == normalize_model_name(text)
    assert ref.manifest_path == manifest


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "non-empty"),
        ("phi latest", "white space"),
        ("phi@sha256:" + "0" * 64, "digest"),
        ("http://reg/ns/m", "without a scheme"),
        ("a/b/c/d", "expected name"),
        ("/phi", "expected name"),
        ("-phi", "model name"),
        ("phi:-x", "tag"),
        ("ns.with.dot/phi", "namespace"),
        ("gpt-oss:cloud", "cloud"),
        ("qwen3:480b-cloud", "cloud"),
        ("p" * 81, "model name"),
    ],
)
def test_invalid_references(text: str, words: str) -> None:
    with pytest.raises(ModelReferenceError, match=words):
        ModelReference.parse(text)

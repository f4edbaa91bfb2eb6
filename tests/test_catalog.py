"""The catalog layer: leaf models, platform defaults, loading (no cdk8s involved)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ollama_constructs.catalog import (
    CatalogError,
    PlatformDefaults,
    apply_platform_defaults,
    load_catalog,
    parse_leaf,
)
from tests.conftest import REPO, leaf_data, seed_leaf_data


def test_seed_leaf_validates_unchanged() -> None:
    leaf = parse_leaf("seed.yaml", seed_leaf_data())
    assert leaf.service_name == "ollama-phi"
    assert leaf.model_names == ("phi:latest",)
    assert leaf.gpu.count == 1
    assert leaf.container.resources is not None
    assert leaf.container.resources.limits.memory == "4Gi"
    assert leaf.ingress.host == "text.hypermedia.au"


def test_models_list_keeps_order_and_normalizes() -> None:
    leaf = parse_leaf("x.yaml", leaf_data(model=None, models=["llama3.2:3b", "phi"]))
    assert leaf.model_names == ("llama3.2:3b", "phi:latest")


def test_defaults_of_an_open_leaf() -> None:
    data = leaf_data(gpu=None, container=None, ingress=None)
    leaf = apply_platform_defaults(parse_leaf("x.yaml", data), PlatformDefaults())
    assert leaf.gpu.count == 0
    assert leaf.container.replicas == 1
    assert leaf.container.resources is None
    assert leaf.preset == "auto", "resources are sized from the models when the leaf gives none"
    assert leaf.ingress.enabled is False
    assert leaf.preload is True
    assert leaf.ollama.image == "docker.io/ollama/ollama:0.32.15"
    assert leaf.ollama.context_length == 4096


def test_platform_defaults_apply_and_leaf_values_win() -> None:
    platform = PlatformDefaults.model_validate(
        {
            "ollama": {"image": "registry.corp/ollama/ollama:0.32.15"},
            "ingress": {"gatewayClassName": "istio", "issuerRef": {"kind": "Issuer", "name": "corp-ca"}},
        }
    )
    leaf = apply_platform_defaults(parse_leaf("x.yaml", seed_leaf_data()), platform)
    assert leaf.ollama.image == "registry.corp/ollama/ollama:0.32.15"
    assert leaf.ingress.gateway.class_name == "istio"
    assert leaf.ingress.tls.issuer_ref is not None and leaf.ingress.tls.issuer_ref.name == "corp-ca"
    own = leaf_data(ingress={"enabled": True, "host": "a.example.com", "gateway": {"className": "cilium"}})
    assert apply_platform_defaults(parse_leaf("x.yaml", own), platform).ingress.gateway.class_name == "cilium"


def test_platform_defaults_file_beside_the_leaves(tmp_path: Path) -> None:
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(seed_leaf_data()))
    (tmp_path / "platform-defaults.yaml").write_text("ingress:\n  timeoutSeconds: 1200\n")
    catalog = load_catalog(tmp_path)
    assert len(catalog.leaves) == 1, "the platform file is not a leaf"
    assert catalog.leaves[0].resolved.ingress.timeout_seconds == 1200
    assert catalog.leaves[0].leaf.ingress.timeout_seconds is None


def test_explicit_platform_file_must_exist(tmp_path: Path) -> None:
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(seed_leaf_data()))
    with pytest.raises(CatalogError, match="platform-defaults file not found"):
        load_catalog(tmp_path, tmp_path / "missing.yaml")


def test_leaves_are_found_recursively_in_a_stable_order(tmp_path: Path) -> None:
    for sub, name in (("b", "two"), ("a", "one"), ("a/deep", "three")):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
        ingress = {"enabled": True, "host": f"{name}.hypermedia.au"}
        (tmp_path / sub / f"{name}.yml").write_text(yaml.safe_dump(leaf_data(serviceName=name, ingress=ingress)))
    (tmp_path / "notes.txt").write_text("not a leaf")
    names = [loaded.leaf.service_name for loaded in load_catalog(tmp_path).leaves]
    assert names == ["three", "one", "two"]


def test_repository_catalog_is_the_seed_leaf_verbatim() -> None:
    text = (REPO / "catalog" / "ollama-phi.yaml").read_text()
    assert 'model: "phi:latest"' in text and "host: text.hypermedia.au" in text
    assert load_catalog(REPO / "catalog").leaves[0].leaf.service_name == "ollama-phi"


def test_leaf_is_immutable() -> None:
    leaf = parse_leaf("x.yaml", seed_leaf_data())
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="frozen"):
        leaf.namespace = "other"  # type: ignore[misc]


def test_snake_case_keys_are_not_the_contract() -> None:
    data = leaf_data(serviceName=None)
    data["service_name"] = "ollama-phi"
    with pytest.raises(CatalogError) as info:
        parse_leaf("x.yaml", data)
    fields = {e.field for e in info.value.errors}
    assert {"service_name", "serviceName"} <= fields

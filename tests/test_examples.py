"""The downstream app in examples/platform-app runs against the installed wheel and synthesizes valid manifests."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.conftest import REPO
from tests.support.downstream import Downstream

APP = REPO / "examples" / "platform-app"


def test_the_platform_app_synthesizes_valid_manifests(downstream: Downstream, tmp_path: Path, validator) -> None:
    app = tmp_path / "platform-app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns("dist"))
    result = downstream.run(["python", "main.py"], cwd=app)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""  # no Node banner, no warning
    assert result.stdout.split() == [
        "synthesized", "search.search-assistant", "synthesized", "team-chat.team-chat", "synthesized", "platform.embeddings",
    ]
    files = sorted((app / "dist").glob("*.k8s.yaml"))
    assert len(files) == 3
    manifests = [d for f in files for d in yaml.safe_load_all(f.read_text()) if d]
    assert validator.validate(manifests) == []
    embeddings = [m for m in manifests if m["metadata"].get("namespace") == "platform"]
    kinds = sorted({m["kind"] for m in embeddings})
    assert kinds == ["ConfigMap", "Deployment", "HTTPRoute", "NetworkPolicy", "PodDisruptionBudget", "Service"]
    route = next(m for m in embeddings if m["kind"] == "HTTPRoute")
    assert route["spec"]["parentRefs"] == [{"name": "shared", "namespace": "gateway-system", "sectionName": "https"}]
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "embeddings-auth"

"""Where `synth` writes: the manifests into --outdir, the Backstage entities and ArgoCD Applications beside it
unless told otherwise, and never into the current directory by default; the rule is in --help."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ollama_constructs import cli
from tests.conftest import SEED_LEAF_FILE

ARGOCD_PLATFORM = "argocd: {repoURL: https://git.example.com/platform/catalog.git}\n"


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A catalog (with ArgoCD configured) and an empty current directory elsewhere."""
    catalog, cwd = tmp_path / "catalog", tmp_path / "cwd"
    catalog.mkdir()
    cwd.mkdir()
    shutil.copy(SEED_LEAF_FILE, catalog / "ollama-phi.yaml")
    (catalog / "platform-defaults.yaml").write_text(ARGOCD_PLATFORM)
    monkeypatch.chdir(cwd)
    return catalog, cwd


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_outputs_go_beside_the_outdir_and_nothing_into_the_current_directory(places: tuple[Path, Path]) -> None:
    catalog, cwd = places
    out = cwd.parent / "elsewhere" / "dist"
    assert cli.main(["synth", "--catalog", str(catalog), "--outdir", str(out)]) == 0
    assert _files(cwd) == []
    assert _files(out.parent) == [
        "argocd/ml-workloads/ollama-phi.yaml",
        "backstage/ml-workloads/ollama-phi.catalog-info.yaml",
        "dist/ml-workloads/ollama-phi/manifests.k8s.yaml",
    ]


def test_explicit_places_and_none(places: tuple[Path, Path]) -> None:
    catalog, cwd = places
    out, entities = cwd.parent / "a" / "dist", cwd.parent / "b" / "entities"
    argv = ["synth", "--catalog", str(catalog), "--outdir", str(out), "--backstage-outdir", str(entities), "--argocd-outdir", "-"]
    assert cli.main(argv) == 0
    assert _files(out.parent) == ["dist/ml-workloads/ollama-phi/manifests.k8s.yaml"]
    assert _files(entities) == ["ml-workloads/ollama-phi.catalog-info.yaml"]
    assert _files(cwd) == []


def test_without_outdir_the_outputs_are_dist_backstage_and_argocd_here(places: tuple[Path, Path]) -> None:
    catalog, cwd = places
    assert cli.main(["synth", "--catalog", str(catalog)]) == 0
    assert {p.split("/")[0] for p in _files(cwd)} == {"argocd", "backstage", "dist"}


def test_the_rule_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["synth", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default to the directories 'backstage' and 'argocd' beside --outdir" in text
    assert "Nothing is written anywhere else." in text
    assert "(default: backstage beside --outdir); '-' writes none" in text

"""Reviewed golden files: the whole output of representative leaves, byte for byte.

A golden file is only ever rewritten on request: `make golden` (OLLAMA_CONSTRUCTS_UPDATE_GOLDEN=1).
A missing golden file is a failure, never created on the fly.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s
import pytest
import yaml

from tests.conftest import REPO, SEED_LEAF_FILE, synth_leaf

GOLDEN_DIR = REPO / "tests" / "golden"
LEAVES = {"seed": SEED_LEAF_FILE} | {p.stem: p for p in sorted((REPO / "tests" / "fixtures" / "leaves").glob("*.yaml"))}
UPDATE = os.environ.get("OLLAMA_CONSTRUCTS_UPDATE_GOLDEN") == "1"


def rendered(leaf_file: Path) -> str:
    return cdk8s.Yaml.stringify(*synth_leaf(yaml.safe_load(leaf_file.read_text())))


@pytest.mark.parametrize("case", sorted(LEAVES))
def test_output_matches_the_golden_file(case: str) -> None:
    golden = GOLDEN_DIR / f"{case}.k8s.yaml"
    text = rendered(LEAVES[case])
    if UPDATE:
        golden.write_text(text)
    assert golden.exists(), f"{golden} is missing: create it with `make golden` and review it"
    assert text == golden.read_text(), f"{case}: output differs from {golden.name}; review, then `make golden`"


def test_every_golden_file_has_a_leaf() -> None:
    assert sorted(p.name.removesuffix(".k8s.yaml") for p in GOLDEN_DIR.glob("*.k8s.yaml")) == sorted(LEAVES)

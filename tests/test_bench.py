"""The synth benchmark (`bench/`) runs and measures what it says: generated leaves that the library accepts
and that mix the features, the library's synth and the plain-dict baseline side by side, and their ratio.
Its figures are not asserted here (no timed tests); that it produces them is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

import leafgen  # noqa: E402


def test_generated_leaves_are_valid_and_mix_the_features(tmp_path: Path) -> None:
    files = leafgen.generate(tmp_path, 100)
    assert len(files) == 100
    assert leafgen.check_catalog(tmp_path) == 100
    tags: set[str] = set()
    for file in files:
        tags |= leafgen.features(yaml.safe_load(file.read_text()))
    assert {
        "cpu", "gpu-nvidia", "gpu-amd", "mig", "several-models", "pinned", "modelfile-literal", "modelfile-from",
        "rwo", "rwx", "statefulset", "ingress-apiKey", "ingress-none", "shared-gateway", "registry", "autoscaling",
    } <= tags


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = [p.read_text() for p in leafgen.generate(tmp_path / "a", 20)]
    second = [p.read_text() for p in leafgen.generate(tmp_path / "b", 20)]
    assert first == second


@pytest.mark.slow
def test_the_benchmark_reports_synth_and_baseline_for_the_same_manifests(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(BENCH / "synth_bench.py"), "--sizes", "4", "--no-cdk8s", "--json", str(report)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| N " in result.stdout and "ratio" in result.stdout
    (row,) = json.loads(report.read_text())["results"]
    assert row["n"] == 4
    assert row["synth"]["files"] == 4
    assert row["synth"]["wall_s"] > 0 and row["synth"]["peak_mib"] > 0
    assert row["baseline"]["wall_s"] > 0 and row["baseline"]["peak_mib"] > 0
    assert row["equality"]["compared"] == 4
    assert row["equality"]["parsed_equal"] == 4 and row["equality"]["differing"] == []

"""The committed artifacts and the synth paths: dist/ and the leaf schema current, cdk8s-cli and the
library CLI agreeing, two synths byte-identical, main.py importable without side effects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ollama_constructs import cli
from ollama_constructs.catalog import leaf_json_schema, leaf_json_schema_text
from tests.conftest import REPO

DIST = REPO / "dist"
SCHEMA_FILE = REPO / "schema" / "catalog-leaf.schema.json"
CDK8S = REPO / "node_modules" / ".bin" / "cdk8s"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(args, cwd=REPO, env=environment, capture_output=True, text=True, check=False, timeout=300)


def test_dist_is_current(tmp_path: Path) -> None:
    assert tree(DIST), "dist/ is empty: run `make synth` and commit it"
    args = ["--outdir", str(tmp_path / "out"), "--backstage-outdir", str(tmp_path / "backstage")]
    assert cli.main(["synth", "--catalog", str(REPO / "catalog"), *args]) == 0
    assert tree(tmp_path / "out") == tree(DIST), "dist/ is stale: run `make synth` and commit the result"
    assert tree(tmp_path / "backstage") == tree(REPO / "backstage"), "backstage/ is stale: run `make synth`"


def test_dist_layout_is_one_file_per_leaf() -> None:
    assert sorted(tree(DIST)) == ["ml-workloads/ollama-phi/manifests.k8s.yaml"]


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text() == leaf_json_schema_text(), "schema drifted: run `make schema` and commit it"


def test_schema_rejects_unknown_keys_and_names_the_contract_fields() -> None:
    schema = leaf_json_schema()
    assert schema["additionalProperties"] is False
    for field in ("workloadType", "serviceName", "serviceCatalog", "namespace", "environment", "model", "models"):
        assert field in schema["properties"], field
    assert set(schema["required"]) == {"workloadType", "serviceName", "serviceCatalog", "namespace", "environment"}
    assert all(d.get("additionalProperties") is False for d in schema["$defs"].values() if d.get("type") == "object")
    assert "Default" in schema["properties"]["preload"]["description"]


def test_schema_command_prints_the_schema(capsys) -> None:
    assert cli.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == leaf_json_schema()


def test_two_synths_are_byte_identical(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        result = run(
            [sys.executable, "-m", "ollama_constructs", "synth", "--outdir", str(out), "--backstage-outdir", "-"],
            PYTHONHASHSEED=seed,
        )
        assert result.returncode == 0, result.stderr
        outputs.append(tree(out))
    assert outputs[0] == outputs[1]
    assert outputs[0] == tree(DIST)


def test_cdk8s_cli_synth_writes_the_same_dist(tmp_path: Path) -> None:
    assert CDK8S.exists(), "cdk8s-cli is not installed: run `make setup`"
    out, staging = tmp_path / "dist", tmp_path / "staging"
    result = run(
        [str(CDK8S), "synth", "--no-check-upgrade", "--output", str(staging)], OLLAMA_CONSTRUCTS_OUTPUT_ROOT=str(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert tree(out) == tree(DIST)
    assert tree(staging) == tree(DIST), "the CLI's own output directory gets the same files"
    assert "manifests.k8s.yaml" in result.stdout


def test_cdk8s_cli_synth_with_a_bad_leaf_writes_nothing(tmp_path: Path) -> None:
    catalog, out = tmp_path / "catalog", tmp_path / "dist"
    catalog.mkdir()
    (catalog / "bad.yaml").write_text((REPO / "catalog" / "ollama-phi.yaml").read_text().replace("count: 1", "count: -1"))
    out.mkdir()
    (out / "keep.k8s.yaml").write_text("kind: Earlier\n")
    result = run(
        [str(CDK8S), "synth", "--no-check-upgrade", "--output", str(tmp_path / "staging")],
        OLLAMA_CONSTRUCTS_OUTPUT_ROOT=str(tmp_path),
        OLLAMA_CONSTRUCTS_CATALOG=str(catalog),
    )
    assert result.returncode != 0
    assert "gpu.count" in result.stderr
    assert tree(out) == {"keep.k8s.yaml": b"kind: Earlier\n"}


def test_main_is_importable_without_synthesizing(tmp_path: Path) -> None:
    result = run([sys.executable, "-c", "import main, cdk8s; app = main.build_app(); print(len(app.charts))"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


@pytest.mark.parametrize("entry", [["-m", "ollama_constructs", "--help"], ["main.py", "--help"]])
def test_entry_points_start(entry: list[str], tmp_path: Path) -> None:
    # main.py ignores arguments and synthesizes; point it at a scratch directory.
    result = run([sys.executable, *entry], OLLAMA_CONSTRUCTS_OUTPUT_ROOT=str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    if entry[0] == "main.py":
        assert tree(tmp_path / "out" / "dist") == tree(DIST)
        assert tree(tmp_path / "out" / "backstage") == tree(REPO / "backstage")
    else:
        assert "validate" in result.stdout and "synth" in result.stdout


def test_a_large_catalog_synthesized_by_workers_equals_one_process(tmp_path: Path) -> None:
    """Above PARALLEL_MIN_LEAVES the CLI splits the catalog over worker processes: same bytes."""
    from ollama_constructs import _synth

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    seed = (REPO / "catalog" / "ollama-phi.yaml").read_text()
    for i in range(_synth.PARALLEL_MIN_LEAVES + 3):
        text = seed.replace("serviceName: ollama-phi", f"serviceName: svc{i:02d}").replace("host: text.", f"host: svc{i:02d}.")
        if i % 3 == 0:
            text = text.replace("count: 1", "count: 0")
        (catalog / f"leaf{i:02d}.yaml").write_text(text)
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        result = run(
            [sys.executable, "-m", "ollama_constructs", "synth", "--catalog", str(catalog), "--outdir", str(out),
             "--backstage-outdir", "-", "--jobs", jobs]
        )
        assert result.returncode == 0, result.stderr
        outputs[jobs] = tree(out)
    assert len(outputs["1"]) == _synth.PARALLEL_MIN_LEAVES + 3
    assert outputs["1"] == outputs["2"]

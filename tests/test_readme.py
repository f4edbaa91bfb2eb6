"""The README: its construct example runs, and its two commands are the ones CI uses."""

from __future__ import annotations

import contextlib
import io
import re

import cdk8s

from tests.conftest import REPO

README = (REPO / "README.md").read_text()


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

"""The tuned jsii kernel (`ollama_constructs._jsii_host`): no relay process, each leaf's objects forgotten
once it is rendered, values shared between leaves kept, and output byte-identical to jsii's own kernel."""

from __future__ import annotations

import base64
import json
import os
import shutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ollama_constructs import _jsii_host, _synth
from tests.conftest import REPO

FIXTURE_LEAVES = REPO / "tests" / "fixtures" / "leaves"
HOST_SCRIPT = REPO / "ollama_constructs" / "node" / "jsii-kernel-host.js"


def _environment(**env: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _catalog(directory: Path, copies: int) -> Path:
    """The fixture leaves and the seed, each `copies` times under other service names."""
    directory.mkdir()
    sources = [*sorted(FIXTURE_LEAVES.glob("*.yaml")), REPO / "catalog" / "ollama-phi.yaml"]
    for copy in range(copies):
        for source in sources:
            text = source.read_text()
            name = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("serviceName:"))
            renamed = f"{name[:40]}-{copy}"
            text = text.replace(f"serviceName: {name}", f"serviceName: {renamed}")
            # Each copy on a host of its own: two leaves of one catalog cannot share a host.
            text = re.sub(r"(?m)^(  host: )([a-z0-9-]+)\.", rf"\g<1>\g<2>-{copy}.", text)
            (directory / f"{source.stem}-{copy}.yaml").write_text(text)
    return directory


@pytest.mark.slow
@pytest.mark.parametrize("copies", [1, 5], ids=["in-process", "workers"])
def test_tuned_and_untuned_kernels_write_the_same_bytes(tmp_path: Path, copies: int) -> None:
    catalog = _catalog(tmp_path / "catalog", copies)
    leaves = len(list(catalog.glob("*.yaml")))
    assert (leaves >= _synth.PARALLEL_MIN_LEAVES) == (copies > 1)
    outputs = {}
    for tuning in ("0", "1"):
        out = tmp_path / f"tuning{tuning}"
        result = subprocess.run(
            [sys.executable, "-m", "ollama_constructs", "synth", "--catalog", str(catalog), "--outdir", str(out / "dist"),
             "--backstage-outdir", str(out / "backstage"), "--jobs", "2"],
            cwd=tmp_path, env=_environment(OLLAMA_CONSTRUCTS_JSII_TUNING=tuning), capture_output=True, text=True,
            timeout=300, check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs[tuning] = _tree(out)
    assert len([p for p in outputs["1"] if p.endswith("manifests.k8s.yaml")]) == leaves
    assert outputs["0"] == outputs["1"]


_PROBE = textwrap.dedent(
    """
    import json, os, sys
    from ollama_constructs import _jsii_host
    started = _jsii_host.start()
    import jsii
    from jsii import _reference_map
    from ollama_constructs import _pod, _render
    from ollama_constructs.catalog import load_catalog
    from ollama_constructs.ollama_inference_chart import OllamaInferenceChart
    import cdk8s

    catalog = load_catalog(sys.argv[1])
    def processes():
        found = []
        for task in os.listdir(f"/proc/{os.getpid()}/task"):
            for child in open(f"/proc/{os.getpid()}/task/{task}/children").read().split():
                found.append(open(f"/proc/{child}/cmdline").read().replace("\\0", " "))
        return found
    first = [_render.render_leaf(leaf, catalog.platform) for leaf in catalog.leaves]
    refs_after_first = len(_reference_map._refs._refs)
    second = [_render.render_leaf(leaf, catalog.platform) for leaf in catalog.leaves]
    refs_after_second = len(_reference_map._refs._refs)
    with _jsii_host.released_objects():
        chart = OllamaInferenceChart(cdk8s.App(), "probe", catalog.leaves[0].leaf, platform=catalog.platform)
        chart_namespace = chart.namespace
        shared = _pod.seconds(12345)
    try:
        chart.namespace
        released_error = None
    except Exception as error:
        released_error = str(error)
    try:
        with _jsii_host.released_objects():
            cdk8s.App()
            raise ValueError("the block's own error")
    except ValueError as error:
        block_error = str(error)
    same_after_error = _render.render_leaf(catalog.leaves[0], catalog.platform) == first[0]
    print(json.dumps({
        "block_error": block_error,
        "same_after_error": same_after_error,
        "started": started,
        "active": _jsii_host.active(),
        "processes": processes(),
        "same_output": first == second,
        "refs_after_first": refs_after_first,
        "refs_after_second": refs_after_second,
        "chart_namespace": chart_namespace,
        "released_error": released_error,
        "shared_still_usable": shared.to_seconds(),
    }))
    """
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict:
    catalog = _catalog(tmp_path_factory.mktemp("probe") / "catalog", 1)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(catalog)], cwd=REPO, env=_environment(), capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_kernel_runs_in_the_one_node_process_jsii_starts(probe: dict) -> None:
    assert probe["started"] and probe["active"]
    assert len(probe["processes"]) == 1, probe["processes"]
    (command,) = probe["processes"]
    assert "jsii-kernel-host.js" in command and "jsii-runtime.js" not in command
    assert "--max-old-space-size" in command


@pytest.mark.slow
def test_leaves_rendered_again_in_the_same_process_are_identical(probe: dict) -> None:
    assert probe["same_output"] is True


@pytest.mark.slow
def test_python_keeps_no_reference_to_rendered_leaves(probe: dict) -> None:
    """Without release, every construct of every leaf stays in jsii's reference map."""
    assert probe["refs_after_second"] == probe["refs_after_first"]


@pytest.mark.slow
def test_a_released_object_is_gone_from_the_kernel(probe: dict) -> None:
    assert probe["chart_namespace"] == "ml-amd"  # the first fixture leaf, amd-rocm.yaml
    assert probe["released_error"] is not None and "not found" in probe["released_error"]


@pytest.mark.slow
def test_values_made_by_shared_functions_outlive_the_release(probe: dict) -> None:
    assert probe["shared_still_usable"] == 12345


@pytest.mark.slow
def test_an_error_in_a_block_is_raised_and_the_kernel_stays_usable(probe: dict) -> None:
    assert probe["block_error"] == "the block's own error"
    assert probe["same_after_error"] is True


def test_start_does_nothing_once_cdk8s_is_loaded() -> None:
    import cdk8s  # noqa: F401  (as every test process of this suite has)

    assert "constructs" in sys.modules
    if not _jsii_host.active():
        assert _jsii_host.start() is False
    with _jsii_host.released_objects():
        pass
    assert not _jsii_host.active()


def test_other_jsii_versions_and_the_switch_turn_tuning_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _jsii_host.supported()
    monkeypatch.setenv(_jsii_host.TUNING_ENV, "0")
    assert not _jsii_host.supported()
    monkeypatch.delenv(_jsii_host.TUNING_ENV)
    monkeypatch.setattr(_jsii_host, "JSII_VERSION", "0.0.1")
    assert not _jsii_host.supported()


def test_the_pinned_jsii_is_the_one_the_tuning_knows() -> None:
    import tomllib

    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"jsii=={_jsii_host.JSII_VERSION}" in dependencies


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_host_script_keeps_library_output_off_the_protocol(tmp_path: Path) -> None:
    """A stand-in kernel that prints, then echoes one protocol line on descriptor 3 as the real one reads
    and writes it: the protocol alone is on stdout, the prints go to stderr as jsii's relay sends them."""
    program = tmp_path / "program.js"
    program.write_text(
        textwrap.dedent(
            """
            const fs = require('fs');
            console.log('library output');
            process.stderr.write('library warning\\n');
            const buffer = Buffer.alloc(64);
            const length = fs.readSync(3, buffer, 0, buffer.length, null);
            fs.writeSync(3, buffer.subarray(0, length));
            """
        )
    )
    result = subprocess.run(
        ["node", str(HOST_SCRIPT)], input=b'{"hello":"line"}\n', env=_environment(OLLAMA_CONSTRUCTS_JSII_PROGRAM=str(program)),
        capture_output=True, timeout=30, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b'{"hello":"line"}\n'
    relayed = [json.loads(line) for line in result.stderr.splitlines()]
    assert {"stdout": base64.b64encode(b"library output\n").decode()} in relayed
    assert {"stderr": base64.b64encode(b"library warning\n").decode()} in relayed


def test_host_script_without_a_program_fails_clearly(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("needs node")
    env = _environment()
    env.pop(_jsii_host.PROGRAM_ENV, None)
    result = subprocess.run(["node", str(HOST_SCRIPT)], input=b"", env=env, capture_output=True, timeout=30, check=False)
    assert result.returncode == 2
    assert b"OLLAMA_CONSTRUCTS_JSII_PROGRAM is not set" in result.stderr

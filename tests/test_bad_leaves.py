"""Bad leaves: exit 1, every error names the file and the field, and the output directory is untouched."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ollama_constructs import cli
from tests.conftest import SEED_LEAF_FILE

SEED = SEED_LEAF_FILE.read_text()


def _seed_with(old: str, new: str) -> str:
    assert old in SEED, old
    return SEED.replace(old, new)


# name -> (leaf text, [(field path, expected words in the message)])
BAD_LEAVES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "unknown-top-level-key": (SEED + "gpus:\n  count: 1\n", [("gpus", "unknown field (did you mean 'gpu'?)")]),
    "unknown-nested-key": (_seed_with("  count: 1", "  count: 1\n  cout: 2"), [("gpu.cout", "unknown field")]),
    "count-not-a-number": (_seed_with("  count: 1", '  count: "one"'), [("gpu.count", "must be a whole number (got 'one')")]),
    "negative-gpu-count": (_seed_with("  count: 1", "  count: -1"), [("gpu.count", "greater than or equal to 0")]),
    "negative-replicas": (_seed_with("replicas: 1", "replicas: -2"), [("container.replicas", "greater than or equal to 0")]),
    "service-name-not-dns": (_seed_with("serviceName: ollama-phi", "serviceName: Ollama_Phi"), [("serviceName", "must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit (got 'Ollama_Phi')")]),
    "service-name-too-long": (
        _seed_with("serviceName: ollama-phi", "serviceName: " + "a" * 48),
        [("serviceName", "at most 47 characters")],
    ),
    "namespace-not-dns": (_seed_with("namespace: ml-workloads", "namespace: ML.Workloads"), [("namespace", "must be a DNS label")]),
    "bad-memory-quantity": (
        _seed_with('memory: "4Gi"', 'memory: "4 GB"'),
        [("container.resources.limits.memory", "not a Kubernetes quantity")],
    ),
    "request-above-limit": (
        _seed_with('cpu: "500m"', 'cpu: "3"'),
        [("container.resources", "requests.cpu (3) is larger than limits.cpu (2)")],
    ),
    "amd-family-not-a-labeller-value": (
        _seed_with("  count: 1", "  count: 1\n  vendor: amd\n  family: RDNA3"),
        [("gpu", "family 'RDNA3' is not a value the ROCm node labeller writes to amd.com/gpu.family (no node would match); for RDNA3 use GC_11_0_0")],
    ),
    "nvidia-family-for-amd": (
        _seed_with("  count: 1", "  count: 1\n  vendor: amd\n  family: hopper"),
        [("gpu", "the values are SI, CI, KV, VI, CZ, AI, RV, NV")],
    ),
    "disk-limit-below-the-models": (
        _seed_with('memory: "4Gi"', 'memory: "4Gi"\n      ephemeralStorage: 3Gi'),
        [("container.resources.limits.ephemeralStorage", "less than they download (1.6 GB): the kubelet would evict the pod")],
    ),
    "disk-request-above-limit": (
        _seed_with('memory: "4Gi"', 'memory: "4Gi"\n      ephemeralStorage: 10Gi').replace('memory: "2Gi"', 'memory: "2Gi"\n      ephemeralStorage: 20Gi'),
        [("container.resources", "requests.ephemeralStorage (20Gi) is larger than limits.ephemeralStorage (10Gi)")],
    ),
    "disk-of-unknown-models-in-an-emptydir": (
        _seed_with('model: "phi:latest"', 'model: "acme/coder:v2"'),
        [("container.resources.limits.ephemeralStorage", "model 'acme/coder:v2' has no known size; set container.resources.limits.ephemeralStorage")],
    ),
    "ingress-without-host": (_seed_with("  host: text.hypermedia.au\n", ""), [("ingress", "host is required")]),
    "bad-host": (_seed_with("host: text.hypermedia.au", "host: text_hypermedia"), [("ingress.host", "not a fully qualified DNS name")]),
    "model-and-models": (SEED + "models:\n  - llama3.2\n", [("", "give either 'model' or 'models', not both")]),
    "empty-model": (_seed_with('model: "phi:latest"', 'model: ""'), [("model", "non-empty string")]),
    "empty-models-list": (_seed_with('model: "phi:latest"', "models: []"), [("models", "at least 1 item")]),
    "no-model": (_seed_with('model: "phi:latest"\n', ""), [("", "one of 'model' or 'models' is required")]),
    "bad-model-name": (_seed_with('model: "phi:latest"', 'model: "phi:lat:est"'), [("model", "model name 'phi:lat' must be")]),
    "duplicate-models": (
        _seed_with('model: "phi:latest"', "models: [phi, 'phi:latest']"),
        [("", "models are listed twice: phi:latest")],
    ),
    "unknown-environment": (
        _seed_with("environment: dev", "environment: production"),
        [("environment", "'dev', 'test', 'staging' or 'prod'")],
    ),
    "missing-service-name": (_seed_with("serviceName: ollama-phi\n", ""), [("serviceName", "Field required")]),
    "broken-yaml": ("workloadType: OLLAMA_INFERENCE_LOAD\nserviceName: [unclosed\n", [("", "not valid YAML at line")]),
    "not-a-mapping": ("- workloadType: OLLAMA_INFERENCE_LOAD\n", [("", "must be a YAML mapping")]),
    "missing-workload-type": (_seed_with("workloadType: OLLAMA_INFERENCE_LOAD\n", ""), [("workloadType", "required")]),
    # A key given twice: refused with its line and the first one's (PyYAML alone keeps the last silently).
    "key-given-twice": (
        SEED + "gpu:\n  count: 2\n",
        [("", f"line {SEED.count(chr(10)) + 1}: key 'gpu' is given twice (first on line 7); a key may appear once")],
    ),
    "nested-key-given-twice": (
        _seed_with("  count: 1", "  count: 1\n  vendor: nvidia\n  count: 2"),
        [("", "line 10: key 'count' is given twice (first on line 8)")],
    ),
    "flow-key-given-twice": (
        _seed_with('    limits:\n      cpu: "2"\n      memory: "4Gi"', '    limits: {cpu: "2", memory: "4Gi", cpu: "3"}'),
        [("", "key 'cpu' is given twice")],
    ),
    # Booleans are not numbers, numbers are not booleans, integers are whole and fit Kubernetes' int32.
    "count-is-a-boolean": (_seed_with("  count: 1", "  count: true"), [("gpu.count", "must be a whole number, not true or false (got true)")]),
    "replicas-is-a-decimal": (_seed_with("replicas: 1", "replicas: 2.0"), [("container.replicas", "must be a whole number (got 2.0)")]),
    "replicas-beyond-int32": (
        _seed_with("replicas: 1", "replicas: 99999999999999999999"),
        [("container.replicas", "must be at most 2147483647 (Kubernetes keeps it as a 32-bit integer)")],
    ),
    "enabled-is-a-number": (_seed_with("enabled: true", "enabled: 1"), [("ingress.enabled", "must be true or false (got 1)")]),
    "enabled-is-text": (_seed_with("enabled: true", 'enabled: "yes"'), [("ingress.enabled", "must be true or false (got 'yes')")]),
    "timeout-is-text": (SEED.replace("  host: text.hypermedia.au", "  host: text.hypermedia.au\n  timeoutSeconds: '600'"), [("ingress.timeoutSeconds", "must be a whole number (got '600')")]),
}


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def synth(catalog: Path, out: Path) -> int:
    """`ollama-constructs synth` into `out`, with the Backstage entities beside it (never in the repo)."""
    return cli.main(["synth", "--catalog", str(catalog), "--outdir", str(out), "--backstage-outdir", str(out.parent / "backstage")])


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path]:
    """A catalog holding the valid seed leaf, and an output directory with earlier content."""
    catalog, out = tmp_path / "catalog", tmp_path / "dist"
    catalog.mkdir()
    (catalog / "ollama-phi.yaml").write_text(SEED)
    (out / "old").mkdir(parents=True)
    (out / "old" / "manifests.k8s.yaml").write_text("earlier output\n")
    return catalog, out


@pytest.mark.parametrize("case", sorted(BAD_LEAVES))
def test_bad_leaf_is_refused_with_file_and_field(case: str, workspace, capsys) -> None:
    catalog, out = workspace
    text, expected = BAD_LEAVES[case]
    bad = catalog / f"{case}.yaml"
    bad.write_text(text)
    before = _tree_digest(out)

    assert synth(catalog, out) == 1

    stderr = capsys.readouterr().err
    for field, words in expected:
        prefix = f"{bad}: {field}: " if field else f"{bad}: "
        lines = [line for line in stderr.splitlines() if line.startswith(f"error: {prefix}")]
        assert lines, f"no error for {prefix!r} in:\n{stderr}"
        assert any(words in line for line in lines), f"{words!r} not in {lines}"
    assert "nothing was written" in stderr
    assert _tree_digest(out) == before
    assert not (out.parent / "backstage").exists(), "no other output was written either"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "staging directory left behind"


def test_no_message_shows_a_regular_expression(workspace, capsys) -> None:
    """Every constrained field says in words what it allows; none of the messages quotes a pattern."""
    catalog, out = workspace
    bad = {
        "serviceName": "Ollama_Phi", "namespace": "ML", "owner": "team a", "serviceCatalog": "a b",
        "registry": {"host": "https://x", "caBundle": {"secretName": "Bad_Name", "key": "a/b"}},
        "gpu": {"count": 1, "resourceName": "gpu", "runtimeClassName": "Nvidia"},
        "ingress": {"enabled": True, "host": "a.example.com", "tls": {"issuerRef": {"name": "Le_Prod"}},
                    "gateway": {"parentRef": {"name": "G", "namespace": "n"}}},
        "persistence": {"enabled": True, "storageClass": "Fast_SSD"},
    }
    import yaml

    leaf = yaml.safe_load(SEED)
    leaf.update(bad)
    (catalog / "bad.yaml").write_text(yaml.safe_dump(leaf))
    assert cli.main(["validate", "--catalog", str(catalog)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(errors) >= 11, errors
    for line in errors:
        assert "pattern" not in line and "^" not in line and "[a-z" not in line and "$'" not in line, line
        assert " must be " in line, line


def test_every_error_of_a_leaf_is_reported_together(workspace, capsys) -> None:
    catalog, out = workspace
    bad = catalog / "many.yaml"
    text = _seed_with("  count: 1", "  count: -1").replace("replicas: 1", "replicas: x").replace("environment: dev", "environment: qa")
    bad.write_text(text)
    assert cli.main(["validate", "--catalog", str(catalog)]) == 1
    stderr = capsys.readouterr().err
    for field in ("gpu.count", "container.replicas", "environment"):
        assert f"error: {bad}: {field}: " in stderr


def test_errors_of_several_leaves_are_reported_together(workspace, capsys) -> None:
    catalog, out = workspace
    (catalog / "a.yaml").write_text(_seed_with("  count: 1", "  count: -1").replace("ollama-phi", "a"))
    (catalog / "b.yaml").write_text(_seed_with("replicas: 1", "replicas: -1").replace("ollama-phi", "b"))
    before = _tree_digest(out)
    assert synth(catalog, out) == 1
    stderr = capsys.readouterr().err
    assert f"{catalog / 'a.yaml'}: gpu.count" in stderr
    assert f"{catalog / 'b.yaml'}: container.replicas" in stderr
    assert _tree_digest(out) == before


def test_two_leaves_with_the_same_name_collide(workspace, capsys) -> None:
    catalog, out = workspace
    twin = catalog / "twin.yaml"
    twin.write_text(SEED.replace("host: text.hypermedia.au", "host: other.hypermedia.au"))
    before = _tree_digest(out)
    assert synth(catalog, out) == 1
    stderr = capsys.readouterr().err
    assert f"{twin}: serviceName: 'ollama-phi' in namespace 'ml-workloads' is already defined by" in stderr
    assert _tree_digest(out) == before


def test_two_leaves_claiming_one_host_collide_with_both_files_named(workspace, capsys) -> None:
    catalog, out = workspace
    twin = catalog / "twin.yaml"
    # Another service in another namespace, on the seed's host: the Gateways would both serve it, and the
    # autoscaler's interceptor would send it to one of the two only.
    twin.write_text(SEED.replace("namespace: ml-workloads", "namespace: ml-staging").replace("serviceName: ollama-phi", "serviceName: phi-two"))
    before = _tree_digest(out)
    assert synth(catalog, out) == 1
    stderr = capsys.readouterr().err
    seed = next(p for p in catalog.iterdir() if p.name != "twin.yaml")
    assert f"{twin}: ingress.host: 'text.hypermedia.au' is already claimed by {seed}; two leaves cannot share a host" in stderr
    assert _tree_digest(out) == before


def test_same_name_in_another_namespace_is_fine(workspace, capsys) -> None:
    catalog, out = workspace
    (catalog / "twin.yaml").write_text(
        SEED.replace("namespace: ml-workloads", "namespace: ml-staging").replace("host: text.hypermedia.au", "host: staging.hypermedia.au")
    )
    assert synth(catalog, out) == 0
    assert (out / "ml-staging" / "ollama-phi" / "manifests.k8s.yaml").is_file()
    assert not (out / "old").exists(), "the output directory is replaced, not merged"


def test_other_workload_types_are_skipped_and_said_so(workspace, capsys) -> None:
    catalog, out = workspace
    other = catalog / "tgi.yaml"
    other.write_text("workloadType: ML_INFERENCE_LOAD\nserviceName: x\nwhatever: true\n")
    assert synth(catalog, out) == 0
    captured = capsys.readouterr()
    assert f"skipped: {other}: workloadType ML_INFERENCE_LOAD belongs to another chart" in captured.err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml")) == ["ml-workloads/ollama-phi/manifests.k8s.yaml"]


def test_invalid_platform_defaults_are_reported(workspace, capsys) -> None:
    catalog, out = workspace
    platform = catalog / "platform-defaults.yaml"
    platform.write_text("ingress:\n  gatewayClass: eg\n")
    before = _tree_digest(out)
    assert synth(catalog, out) == 1
    stderr = capsys.readouterr().err
    assert f"error: {platform}: ingress.gatewayClass: unknown field (did you mean 'gatewayClassName'?)" in stderr
    assert _tree_digest(out) == before


def test_missing_catalog_directory(tmp_path: Path, capsys) -> None:
    assert cli.main(["validate", "--catalog", str(tmp_path / "nope")]) == 1
    assert "catalog directory not found" in capsys.readouterr().err


def test_console_script_exit_code_and_message(workspace) -> None:
    """The installed `ollama-constructs` command, as a user runs it."""
    catalog, out = workspace
    (catalog / "bad.yaml").write_text(_seed_with("  count: 1", "  count: -1"))
    script = Path(sys.executable).parent / "ollama-constructs"
    result = subprocess.run(
        [str(script), "synth", "--catalog", str(catalog), "--outdir", str(out), "--backstage-outdir", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert f"{catalog / 'bad.yaml'}: gpu.count: " in result.stderr
    assert result.stdout == ""


def test_validate_reports_each_valid_leaf(workspace, capsys) -> None:
    catalog, _ = workspace
    assert cli.main(["validate", "--catalog", str(catalog)]) == 0
    assert f"ok: {catalog / 'ollama-phi.yaml'} (ml-workloads/ollama-phi)" in capsys.readouterr().out


def test_messages_are_readable_for_a_relative_path(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("catalog").mkdir()
    Path("catalog/ollama-phi.yaml").write_text(_seed_with("  count: 1", "  count: -1"))
    assert cli.main(["validate"]) == 1
    assert "error: catalog/ollama-phi.yaml: gpu.count: Input should be greater than or equal to 0 (got -1)" in (
        capsys.readouterr().err
    )


def test_leaf_text_is_dedented_helper_sanity() -> None:
    # The cases above are built from the real seed leaf; make sure the seed itself is valid.
    assert cli.main(["validate", "--catalog", str(SEED_LEAF_FILE.parent)]) == 0
    assert textwrap.dedent(SEED) == SEED


def test_a_bad_leaf_in_a_catalog_big_enough_for_workers_writes_nothing(workspace) -> None:
    """Workers start while such a catalog loads; a bad leaf still stops everything before any write."""
    from ollama_constructs import _synth

    catalog, out = workspace
    for i in range(_synth.PARALLEL_MIN_LEAVES):
        (catalog / f"leaf{i:02d}.yaml").write_text(SEED.replace("serviceName: ollama-phi", f"serviceName: svc{i:02d}"))
    bad = catalog / "bad.yaml"
    bad.write_text(_seed_with("  count: 1", "  count: -1").replace("serviceName: ollama-phi", "serviceName: bad"))
    before = _tree_digest(out)
    result = subprocess.run(
        [sys.executable, "-m", "ollama_constructs", "synth", "--catalog", str(catalog), "--outdir", str(out),
         "--backstage-outdir", str(out.parent / "backstage"), "--jobs", "2"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 1, result.stderr
    assert f"error: {bad}: gpu.count: " in result.stderr
    assert "nothing was written" in result.stderr
    assert _tree_digest(out) == before
    assert not (out.parent / "backstage").exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "staging directory left behind"

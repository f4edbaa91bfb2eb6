"""A downstream app's environment: the library's wheel built from the repository and installed, with its
dependencies, into a fresh venv (no editable install, no repository on its path)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_MACHINE_NOTICE = re.compile(r"^WARNING: Location '[^']+' is ignored: it is neither a file nor a directory\.$")


def machine_notices(line: str) -> bool:
    """pip's notices about this machine's own pip configuration (an index directory it names that does not
    exist), which any package's install prints here; they say nothing about the package."""
    return bool(_MACHINE_NOTICE.match(line.strip()))


@dataclass(frozen=True)
class Downstream:
    """The built wheel and a venv it is installed in."""

    wheel: Path
    version: str
    venv: Path
    build_output: str
    install_output: str

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(self, command: list[str], cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run `command` with the venv's tools first on PATH (after the pinned Node, as the tests have it)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
        return subprocess.run(
            command, cwd=cwd or self.venv, env=env, capture_output=True, text=True, check=False, timeout=timeout
        )


def _clean_source(repo: Path, work: Path) -> Path:
    """A copy of the repository's files (tracked, and new ones git does not ignore) under `work`: a wheel built
    in the working tree would reuse setuptools' `build/` directory and could carry files since removed."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=repo, capture_output=True, check=True, timeout=60,
    ).stdout.decode().split("\0")
    source = work / "source"
    for name in filter(None, listed):
        path = repo / name
        if path.is_file():
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return source


def build_and_install(repo: Path, work: Path) -> Downstream:
    """`pip wheel` a clean copy of the repository and `pip install` the wheel into a new venv under `work`."""
    dist = work / "dist"
    source = _clean_source(repo, work)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", str(dist), str(source)],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("ollama_constructs-*.whl")
    version = wheel.name.split("-")[1]
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", str(wheel)],
        capture_output=True, text=True, check=False, timeout=900,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return Downstream(wheel, version, venv, build.stdout + build.stderr, install.stdout + install.stderr)

"""The external programs the tests run for real, and where they come from.

nginx (with njs) and promtool come from the test root that `scripts/install-test-root.sh` builds (a minimal
Debian sid tree, `$OLLAMA_CONSTRUCTS_TEST_ROOT`, default `/var/cache/ollama-constructs/test-root`, which the unprivileged
user the tests run nginx as can read): sid's
nginx 1.30 and njs 1.0 are the versions closest to the pinned proxy image (nginx-unprivileged
1.30.5-alpine, njs 1.0.x). Without a tool a test is skipped, except under CI (`CI` set), where it fails:
`make test` installs them, so CI must run every test.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

NGINX_MIN = (1, 30)
"""The oldest nginx the proxy's configuration is tested with (the pinned image's minor version)."""
NJS_MIN = (1, 0)
"""The oldest njs (the pinned image ships njs 1.0.x)."""


def ci() -> bool:
    """Whether the tests run under CI, where a missing tool is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(message: str) -> None:
    """Skip the test (fail it under CI) because a tool is missing."""
    message = f"{message}; run `make test-tools` (scripts/install-test-tools.sh, scripts/install-test-root.sh)"
    if ci():
        pytest.fail(f"{message}: CI must run these tests")
    pytest.skip(message)


def test_root() -> Path:
    """The directory `scripts/install-test-root.sh` installs into."""
    configured = os.environ.get("OLLAMA_CONSTRUCTS_TEST_ROOT")
    return Path(configured) if configured else Path("/var/cache/ollama-constructs/test-root")


def versions() -> dict[str, tuple[int, ...]]:
    """The versions the test root holds (`nginx`, `njs`, `promtool`), from its VERSIONS file."""
    try:
        text = (test_root() / "VERSIONS").read_text()
    except OSError:
        return {}
    found = {}
    for name, pattern in (("nginx", r"nginx/(\d+)\.(\d+)\.(\d+)"), ("njs", r"njs (\d+)\.(\d+)\.(\d+)"),
                          ("promtool", r"promtool, version (\d+)\.(\d+)\.(\d+)")):
        match = re.search(pattern, text)
        if match:
            found[name] = tuple(int(part) for part in match.groups())
    return found


def nginx() -> str:
    """The test root's nginx wrapper (chrooted sid nginx with njs); skips or fails when it is missing."""
    wrapper = test_root() / "bin" / "nginx"
    if not os.access(wrapper, os.X_OK):
        missing(f"nginx with njs is not installed in the test root {test_root()}")
    found = versions()
    if found.get("nginx", (0,)) < NGINX_MIN or found.get("njs", (0,)) < NJS_MIN:
        missing(f"the test root holds nginx {found.get('nginx')} and njs {found.get('njs')}; the tests need "
                f"nginx {'.'.join(map(str, NGINX_MIN))}+ and njs {'.'.join(map(str, NJS_MIN))}+")
    return str(wrapper)


def promtool() -> str:
    """The test root's promtool; skips or fails when it is missing."""
    tool = test_root() / "bin" / "promtool"
    if not os.access(tool, os.X_OK):
        missing(f"promtool is not installed in the test root {test_root()}")
    return str(tool)


def host_tool(name: str, why: str) -> str:
    """A program of this machine (PATH, then /usr/sbin and /sbin); skips or fails when it is missing."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if not found:
        missing(f"{name} is not installed ({why})")
    return str(found)

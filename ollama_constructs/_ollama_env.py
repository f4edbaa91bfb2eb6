"""Ollama's environment variables as the library sees them: who owns which, and which are gone.

Pure Python; shared by the server props and the catalog layer (`ollama.extraEnv`).
"""

from __future__ import annotations

import re

TYPED = {
    "OLLAMA_KEEP_ALIVE": "ollama.keepAlive",
    "OLLAMA_CONTEXT_LENGTH": "ollama.contextLength",
    "OLLAMA_NUM_PARALLEL": "ollama.numParallel",
    "OLLAMA_MAX_LOADED_MODELS": "ollama.maxLoadedModels",
    "OLLAMA_MAX_QUEUE": "ollama.maxQueue",
    "OLLAMA_FLASH_ATTENTION": "ollama.flashAttention",
    "OLLAMA_KV_CACHE_TYPE": "ollama.kvCacheType",
    "OLLAMA_LOAD_TIMEOUT": "ollama.loadTimeout",
}
"""Variables set from typed settings, and the leaf field that owns each."""

LIBRARY = frozenset(
    {
        "HOME",
        "OLLAMA_HOST",
        "OLLAMA_MODELS",
        "OLLAMA_NO_CLOUD",
        "OLLAMA_NOPRUNE",
        "OLLAMA_CLI_TIMEOUT_SECONDS",
        "OLLAMA_WARM_MARKER",
        "OLLAMA_DRAIN_DELAY_SECONDS",
        "OLLAMA_DRAIN_TIMEOUT_SECONDS",
        "NVIDIA_VISIBLE_DEVICES",
        "SSL_CERT_FILE",
    }
)
"""Variables the library sets itself (paths, bind address, GPU visibility, CA bundle)."""

REMOVED = {
    "OLLAMA_MAX_VRAM": "removed in Ollama 0.6.9",
    "OLLAMA_RUNNERS_DIR": "removed in Ollama 0.3.11",
    "OLLAMA_TMPDIR": "removed in Ollama 0.5.2",
    "OLLAMA_INTEL_GPU": "removed in Ollama 0.12.11",
    "OLLAMA_NEW_ENGINE": "removed in Ollama 0.30.0",
    "OLLAMA_MULTIUSER_CACHE": "removed in Ollama 0.30.0",
    "OLLAMA_NEW_ESTIMATES": "the default since Ollama 0.11.11; no longer read",
    "OLLAMA_PORT": "never read by Ollama; the port is part of OLLAMA_HOST",
    "PORT": "never read by Ollama; the port is part of OLLAMA_HOST",
}
"""Variables Ollama no longer (or never) reads, with the reason."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_problems(env: dict[str, str] | object) -> list[str]:
    """Why each name of an `extraEnv` mapping cannot be used (empty when all can)."""
    problems = []
    for name in sorted(env):  # type: ignore[call-overload]
        if not _ENV_NAME.match(name):
            problems.append(f"{name}: not a valid environment variable name")
        elif name in TYPED:
            problems.append(f"{name}: set it with {TYPED[name]}")
        elif name in LIBRARY:
            problems.append(f"{name}: set by the library")
        elif name in REMOVED:
            problems.append(f"{name}: {REMOVED[name]}")
    return problems


_DURATION = re.compile(r"^-?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")


def check_duration(value: str) -> str:
    """`value` when Ollama reads it as a duration: a Go duration (`5m`, `1h30m`, `-1m`) or whole seconds.

    Raises:
        ValueError: otherwise.
    """
    text = str(value).strip()
    if re.match(r"^-?[0-9]+$", text) or _DURATION.match(text):
        return text
    raise ValueError(f"{value!r} is not a duration: use a Go duration such as 30s, 5m, 1h30m, or -1 for forever")

"""The shell scripts shipped in `ollama_constructs/scripts/`, and how they reach a pod."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from importlib import resources

SCRIPTS_ROOT = "/opt/ollama-constructs"
"""Where the library's ConfigMaps are mounted in the containers (one subdirectory each)."""

SCRIPTS_DIR = f"{SCRIPTS_ROOT}/scripts"
"""Where the pod's one scripts ConfigMap is mounted, in every container that runs a script."""

SERVER_SCRIPTS = ("model-ready.sh", "model-keeper.sh", "drain.sh")
"""The scripts of :class:`OllamaServer`'s containers (besides `lib.sh`)."""

PULL_SCRIPTS = ("model-pull.sh", "model-manager.sh")
"""The scripts of :class:`OllamaModelPull`'s containers (besides `lib.sh`)."""

CHECKSUM_ANNOTATION_PREFIX = "checksum.ollama-constructs.dev/"
"""Pod-template annotation prefix: a changed script changes the annotation and rolls the pods."""

CHECKSUM_ANNOTATION = f"{CHECKSUM_ANNOTATION_PREFIX}scripts"
"""The pod-template annotation holding the checksum of the scripts ConfigMap's data."""


@functools.lru_cache(maxsize=None)
def script_text(name: str) -> str:
    """The text of the packaged script `name` (e.g. `model-pull.sh`)."""
    return resources.files("ollama_constructs").joinpath("scripts", name).read_text(encoding="utf-8")


def scripts_data(*names: str) -> dict[str, str]:
    """ConfigMap data holding `lib.sh` and the scripts `names`, keyed by file name (each once)."""
    return {name: script_text(name) for name in ("lib.sh", *names)}


def checksum(data: Mapping[str, str]) -> str:
    """A stable sha256 of ConfigMap data (keys sorted)."""
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(key.encode() + b"\0" + data[key].encode() + b"\0")
    return digest.hexdigest()

"""The shell scripts shipped in `ollama_constructs/scripts/`, and how they reach a pod."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from importlib import resources

SCRIPTS_ROOT = "/opt/ollama-constructs"
"""Where script ConfigMaps are mounted in the containers (one subdirectory each)."""

CHECKSUM_ANNOTATION_PREFIX = "checksum.ollama-constructs.dev/"
"""Pod-template annotation prefix: a changed script changes the annotation and rolls the pods."""


@functools.lru_cache(maxsize=None)
def script_text(name: str) -> str:
    """The text of the packaged script `name` (e.g. `model-pull.sh`)."""
    return resources.files("ollama_constructs").joinpath("scripts", name).read_text(encoding="utf-8")


def scripts_data(*names: str) -> dict[str, str]:
    """ConfigMap data holding `lib.sh` and the scripts `names`, keyed by file name."""
    return {name: script_text(name) for name in ("lib.sh", *names)}


def checksum(data: Mapping[str, str]) -> str:
    """A stable sha256 of ConfigMap data (keys sorted)."""
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(key.encode() + b"\0" + data[key].encode() + b"\0")
    return digest.hexdigest()

"""Ollama model references: `[host[:port]/][namespace/]name[:tag]`, parsed and normalized.

The grammar follows Ollama's own (`types/model/name.go`): the default host is `registry.ollama.ai`, the
default namespace `library` and the default tag `latest`. With two parts the first is a namespace, so a
model on another registry needs all three: `registry.internal:5000/library/llama3.2:3b`.

Pure Python: used by the catalog layer and by the constructs alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_PART = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}"
_NAME = re.compile(rf"^{_PART}$")
_TAG = re.compile(rf"^{_PART}$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,79}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?(:[0-9]{1,5})?$")


class ModelReferenceError(ValueError):
    """A model reference that Ollama would not accept."""


@dataclass(frozen=True, slots=True)
class ModelReference:
    """One Ollama model, as `ollama pull` names it."""

    name: str
    """The model's name, e.g. `llama3.2`."""
    tag: str = DEFAULT_TAG
    """The tag, e.g. `3b`. Default: `latest`."""
    namespace: str = DEFAULT_NAMESPACE
    """The registry namespace. Default: `library`."""
    host: str = DEFAULT_HOST
    """The registry host, with an optional port. Default: `registry.ollama.ai`."""

    @classmethod
    def parse(cls, text: str) -> ModelReference:
        """Parse `text`; a missing tag means `latest`.

        Raises:
            ModelReferenceError: with a message saying what is wrong and what is allowed.
        """
        if not isinstance(text, str) or not text.strip():
            raise ModelReferenceError("a model reference must be a non-empty string such as 'phi:latest'")
        if text != text.strip() or any(c.isspace() for c in text):
            raise ModelReferenceError(f"{text!r}: a model reference contains no white space")
        if "@" in text:
            raise ModelReferenceError(
                f"{text!r}: '@' is not allowed in a model name (Ollama cannot pull by digest)"
            )
        if "://" in text:
            raise ModelReferenceError(
                f"{text!r}: give the registry host without a scheme (host[:port]/namespace/name:tag)"
            )
        path, tag = text, DEFAULT_TAG
        last_slash = text.rfind("/")
        colon = text.rfind(":")
        if colon > last_slash:
            path, tag = text[:colon], text[colon + 1 :]
        parts = path.split("/")
        if len(parts) > 3 or "" in parts:
            raise ModelReferenceError(
                f"{text!r}: expected name[:tag], namespace/name[:tag] or host[:port]/namespace/name[:tag]"
            )
        name = parts[-1]
        namespace = parts[-2] if len(parts) >= 2 else DEFAULT_NAMESPACE
        host = parts[0] if len(parts) == 3 else DEFAULT_HOST
        ref = cls(name=name, tag=tag, namespace=namespace, host=host)
        ref._check(text)
        return ref

    def _check(self, text: str) -> None:
        if not _NAME.match(self.name):
            raise ModelReferenceError(
                f"{text!r}: model name {self.name!r} must be 1-80 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-'"
            )
        if not _TAG.match(self.tag):
            raise ModelReferenceError(
                f"{text!r}: tag {self.tag!r} must be 1-80 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-'"
            )
        if self.tag in ("cloud", "local") or self.tag.endswith("-cloud"):
            raise ModelReferenceError(
                f"{text!r}: tag {self.tag!r} names an Ollama cloud model, which does not run on this server"
            )
        if not _NAMESPACE.match(self.namespace):
            raise ModelReferenceError(
                f"{text!r}: namespace {self.namespace!r} must be letters, digits, '_' or '-'"
            )
        if not _HOST.match(self.host):
            raise ModelReferenceError(f"{text!r}: registry host {self.host!r} is not a host[:port]")

    @property
    def short(self) -> str:
        """The name clients use and `ollama ps` prints: `phi:latest`, `ns/model:tag` or `host/ns/model:tag`."""
        if self.host != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.name}:{self.tag}"
        if self.namespace != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.name}:{self.tag}"
        return f"{self.name}:{self.tag}"

    @property
    def manifest_path(self) -> str:
        """Where Ollama keeps the manifest, relative to `$OLLAMA_MODELS`."""
        return f"manifests/{self.host}/{self.namespace}/{self.name}/{self.tag}"

    def __str__(self) -> str:
        return self.short


def normalize_model_name(text: str) -> str:
    """`text` in the form `ollama ps` prints (`phi` -> `phi:latest`).

    Raises:
        ModelReferenceError: when `text` is not a valid reference.
    """
    return ModelReference.parse(text).short


_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_digest(digest: str) -> str:
    """`digest` when it is a manifest digest `sha256:<64 lower-case hex>`.

    Raises:
        ModelReferenceError: otherwise, saying the expected form.
    """
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ModelReferenceError(
            f"{digest!r} is not a manifest digest: expected 'sha256:' and 64 lower-case hex characters "
            "(the full digest `ollama list` abbreviates to 12)"
        )
    return digest


def split_pinned(text: str) -> tuple[ModelReference, str | None]:
    """Parse `name[:tag][@sha256:<hex>]` into the reference and its pinned digest (or None).

    Raises:
        ModelReferenceError: when either part is invalid.
    """
    if isinstance(text, str) and "@" in text:
        ref, _, digest = text.partition("@")
        return ModelReference.parse(ref), check_digest(digest)
    return ModelReference.parse(text), None


ModelName = Annotated[str, AfterValidator(normalize_model_name)]
"""A props field holding a model name, normalized as `ollama ps` prints it (`phi` -> `phi:latest`)."""

ManifestDigest = Annotated[str, AfterValidator(check_digest)]
"""A props field holding a manifest digest, `sha256:<64 lower-case hex>`."""

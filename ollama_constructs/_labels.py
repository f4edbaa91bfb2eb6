"""The label convention, in one place.

Every object and every pod template carries the recommended `app.kubernetes.io/*` labels; selectors use
only `name` and `instance`, which never change over the life of a service.
"""

from __future__ import annotations

from collections.abc import Mapping

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
COMPONENT = "app.kubernetes.io/component"
VERSION = "app.kubernetes.io/version"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"

APP_NAME = "ollama"
"""Value of `app.kubernetes.io/name` on every object."""

_OWNED = (NAME, INSTANCE, COMPONENT, MANAGED_BY)


def selector_labels(instance: str) -> dict[str, str]:
    """The labels a selector matches: name and instance only."""
    return {NAME: APP_NAME, INSTANCE: instance}


def object_labels(instance: str, component: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Metadata labels of an object of `instance`: the extra labels, then the standard ones.

    Raises:
        ValueError: when `extra` tries to set a label the library owns (name, instance, component,
            managed-by): changing those would break selectors or ownership.
    """
    extra = dict(extra or {})
    clashes = sorted(k for k in extra if k in _OWNED)
    if clashes:
        raise ValueError(f"labels {', '.join(clashes)} are set by the library and cannot be given")
    return {**extra, **selector_labels(instance), COMPONENT: component, MANAGED_BY: "cdk8s"}


def image_version(image: str) -> str:
    """The version label of an image: its tag (`docker.io/ollama/ollama:0.32.15` -> `0.32.15`).

    An image pinned only by digest gives `sha256-<first 12 hex>`; an image without either gives `latest`.
    """
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.split(":", 1)[1][:63]
    if digest:
        return digest.replace(":", "-")[:19]
    return "latest"

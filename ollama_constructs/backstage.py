"""A Backstage `catalog-info.yaml` entity for each catalog leaf.

Each leaf becomes one Backstage `Component` (`apiVersion: backstage.io/v1alpha1`) that the Backstage
Kubernetes plugin can tie to the objects the chart synthesizes. Pure Python: no cdk8s import.

Mapping (leaf -> entity):

* `metadata.name` is the `serviceName`, `metadata.namespace` is always `default`. The Backstage name is
  unique per kind and namespace, so two leaves with the same `serviceName` in different Kubernetes
  namespaces would become the same entity.
* `metadata.title` is `<serviceName> (<environment>)`; `metadata.description` names the models (and the
  custom models, and the GPUs per replica).
* `metadata.tags` are `ollama`, `llm`, `inference` and the environment (all valid Backstage tags).
* `metadata.links` holds the public `https://<host>` URL when ingress is enabled (none for a wildcard
  host, which is no address one can open).
* `metadata.annotations` are what the Kubernetes plugin reads: `backstage.io/kubernetes-id`,
  `backstage.io/kubernetes-namespace` and `backstage.io/kubernetes-label-selector`
  (`app.kubernetes.io/part-of=<serviceCatalog>,backstage.io/kubernetes-id=<serviceName>`; the plugin uses
  the selector when present, so the chart must put both labels on every object).
* `spec.type` is `service`. `spec.lifecycle` uses Backstage's recommended values: `dev` and `test` map to
  `experimental`, `staging` and `prod` to `production` (staging runs what is meant for production).
* `spec.owner` is the leaf's `owner` as `group:default/<owner>` (kept as written when it already names a
  kind, `kind:[namespace/]name`); without an owner, the group named like the `serviceCatalog`
  (`group:default/<serviceCatalog>`). `spec.system` is the `serviceCatalog`.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from ._labels import PART_OF
from .catalog.leaf import CatalogLeaf

API_VERSION = "backstage.io/v1alpha1"
KIND = "Component"
ENTITY_NAMESPACE = "default"
"""The Backstage namespace of every entity (Backstage's default namespace)."""

KUBERNETES_ID = "backstage.io/kubernetes-id"
"""The annotation naming the service for the Kubernetes plugin, and the label the chart puts on every object."""
KUBERNETES_NAMESPACE = "backstage.io/kubernetes-namespace"
KUBERNETES_LABEL_SELECTOR = "backstage.io/kubernetes-label-selector"

LIFECYCLES = {"dev": "experimental", "test": "experimental", "staging": "production", "prod": "production"}
"""`spec.lifecycle` of each environment (Backstage recommends experimental, production, deprecated)."""

BASE_TAGS = ("ollama", "llm", "inference")
LINK_ICON = "kind:api"
"""A Backstage app icon that every app ships (`AppIcons`)."""


def kubernetes_label_selector(leaf: CatalogLeaf) -> str:
    """The label selector the Kubernetes plugin uses to find the objects of `leaf`."""
    return f"{PART_OF}={leaf.service_catalog},{KUBERNETES_ID}={leaf.service_name}"


def owner_ref(leaf: CatalogLeaf) -> str:
    """`spec.owner`: the leaf's owner, else the group named like its `serviceCatalog`.

    Raises:
        ValueError: when the leaf has neither an owner nor a `serviceCatalog` (both may be empty label
            values), since a Backstage Component must have an owner.
    """
    owner = leaf.owner or leaf.service_catalog
    if not owner:
        raise ValueError(
            f"{leaf.service_name}: a Backstage Component needs an owner; set 'owner' or 'serviceCatalog'"
        )
    colon, slash = owner.find(":"), owner.find("/")
    if colon > 0 and (slash == -1 or colon < slash):
        return owner  # already `kind:[namespace/]name`
    return f"group:{owner}" if slash > 0 else f"group:{ENTITY_NAMESPACE}/{owner}"


def _description(leaf: CatalogLeaf) -> str:
    text = f"Ollama inference service serving {_enumerate(leaf.model_names)}"
    if leaf.custom_models:
        customs = tuple(c.name for c in leaf.custom_models)
        text += f"; custom model{'s' if len(customs) > 1 else ''} {_enumerate(customs)}"
    gpu = leaf.gpu
    if gpu.count:
        vendor = {"nvidia": "NVIDIA", "amd": "AMD"}[gpu.vendor]
        text += f"; {gpu.count} {vendor} GPU{'s' if gpu.count > 1 else ''} per replica"
    else:
        text += "; CPU only"
    return f"{text} ({leaf.environment}, namespace {leaf.namespace})."


def _enumerate(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _links(leaf: CatalogLeaf) -> list[dict[str, str]]:
    host = leaf.ingress.host
    if not leaf.ingress.enabled or not host or host.startswith("*."):
        return []
    return [{"url": f"https://{host}", "title": "Ollama API", "icon": LINK_ICON, "type": "api"}]


def catalog_info(leaf: CatalogLeaf) -> dict[str, Any]:
    """The Backstage Component entity of `leaf` (keys in a fixed order; see the module docstring).

    Raises:
        ValueError: when the leaf has neither an owner nor a `serviceCatalog`.
    """
    metadata: dict[str, Any] = {
        "name": leaf.service_name,
        "namespace": ENTITY_NAMESPACE,
        "title": f"{leaf.service_name} ({leaf.environment})",
        "description": _description(leaf),
        "tags": [*BASE_TAGS, leaf.environment],
    }
    links = _links(leaf)
    if links:
        metadata["links"] = links
    metadata["annotations"] = {
        KUBERNETES_ID: leaf.service_name,
        KUBERNETES_NAMESPACE: leaf.namespace,
        KUBERNETES_LABEL_SELECTOR: kubernetes_label_selector(leaf),
    }
    spec: dict[str, Any] = {
        "type": "service",
        "lifecycle": LIFECYCLES[leaf.environment],
        "owner": owner_ref(leaf),
    }
    if leaf.service_catalog:
        spec["system"] = leaf.service_catalog
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}


_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's safe dumper where PyYAML has it: the same text as the pure-Python one, several times faster."""


def catalog_info_text(leaf: CatalogLeaf, source: str | os.PathLike[str] | None = None) -> str:
    """:func:`catalog_info` as the text of a `catalog-info.yaml` (the same bytes for the same leaf).

    With `source` (the leaf's file, as it should be shown), the text starts with the comment
    `# Generated by ollama-constructs from <source>; do not edit.`

    Raises:
        ValueError: when the leaf has neither an owner nor a `serviceCatalog`, or `source` holds a line break.
    """
    body = yaml.dump(
        catalog_info(leaf), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096
    )
    if source is None:
        return body
    name = os.fspath(source)
    if "\n" in name or "\r" in name:
        raise ValueError(f"the source file name {name!r} cannot go in a one-line comment")
    return f"# Generated by ollama-constructs from {name}; do not edit.\n{body}"


__all__ = [
    "KUBERNETES_ID",
    "KUBERNETES_LABEL_SELECTOR",
    "KUBERNETES_NAMESPACE",
    "LIFECYCLES",
    "catalog_info",
    "catalog_info_text",
    "kubernetes_label_selector",
    "owner_ref",
]

"""The catalog layer: leaf models, platform defaults, loading and errors. It does not use cdk8s."""

from __future__ import annotations

import json
from typing import Any

from .leaf import WORKLOAD_TYPE, CatalogLeaf
from .loader import Catalog, CatalogError, LeafError, LoadedLeaf, SkippedLeaf, load_catalog, load_leaf, parse_leaf
from .platform import DEFAULT_OLLAMA_IMAGE, PLATFORM_DEFAULTS_FILE, PlatformDefaults, apply_platform_defaults

SCHEMA_ID = "https://ollama-constructs.dev/schemas/catalog-leaf.schema.json"


def leaf_json_schema() -> dict[str, Any]:
    """The JSON Schema of a catalog leaf (camelCase keys, unknown keys rejected)."""
    schema = CatalogLeaf.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def leaf_json_schema_text() -> str:
    """:func:`leaf_json_schema` as the text of the committed schema file (stable key order)."""
    return json.dumps(leaf_json_schema(), indent=2, sort_keys=True) + "\n"


__all__ = [
    "DEFAULT_OLLAMA_IMAGE",
    "PLATFORM_DEFAULTS_FILE",
    "WORKLOAD_TYPE",
    "Catalog",
    "CatalogError",
    "CatalogLeaf",
    "LeafError",
    "LoadedLeaf",
    "PlatformDefaults",
    "SkippedLeaf",
    "apply_platform_defaults",
    "leaf_json_schema",
    "leaf_json_schema_text",
    "load_catalog",
    "load_leaf",
    "parse_leaf",
]

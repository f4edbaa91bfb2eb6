"""Multi-document YAML of synthesized manifests, written by libyaml (no call into cdk8s's Node process)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _ManifestDumper(_Dumper):  # type: ignore[misc, valid-type]
    """Keys in the order cdk8s gives them; multi-line strings (scripts, configs) as literal blocks."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_ManifestDumper.add_representer(str, _string)


def dump_all(documents: Iterable[Any]) -> str:
    """The documents as one YAML stream, `---` between them, stable for the same input."""
    return yaml.dump_all(
        documents, Dumper=_ManifestDumper, sort_keys=False, default_flow_style=False, width=2**16, allow_unicode=True
    )

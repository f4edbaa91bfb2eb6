"""Multi-document YAML of synthesized manifests, as PyYAML writes them (no call into cdk8s's Node process).

The format is PyYAML's block style with keys in the order cdk8s gives them and multi-line strings (scripts,
configs) as literal blocks. Writing a leaf's manifests with PyYAML costs more than building them: its
representer and resolver look at every scalar, character by character for the big scripts, every time.
So the structure (mappings, sequences, indentation) is written here, and each distinct scalar is written
by PyYAML once per process and remembered: how a scalar is quoted never depends on where it stands in a
block mapping or sequence. Anything this writer does not handle (a nested sequence, a key PyYAML would
write as a complex key) makes it hand the whole document to PyYAML. Tests compare both writers on every
synthesized manifest and on scalars chosen to need every quoting style.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import yaml

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_OPTIONS: dict[str, Any] = {
    "sort_keys": False,
    "default_flow_style": False,
    "width": 2**16,
    "allow_unicode": True,
}


class _ManifestDumper(_Dumper):  # type: ignore[misc, valid-type]
    """Keys in the order cdk8s gives them; multi-line strings (scripts, configs) as literal blocks."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_ManifestDumper.add_representer(str, _string)


def pyyaml_dump_all(documents: Iterable[Any]) -> str:
    """The documents as PyYAML writes them with the manifest style (what :func:`dump_all` reproduces)."""
    return yaml.dump_all(documents, Dumper=_ManifestDumper, **_OPTIONS)


def dump_all(documents: Iterable[Any]) -> str:
    """The documents as one YAML stream, `---` between them, stable for the same input."""
    parts = []
    open_ended = False
    for document in documents:
        try:
            lines: list[str] = []
            if not isinstance(document, dict) or not document:
                raise _Unsupported
            _mapping(lines, document, 0, None)
            open_ended = _OPEN_ENDED in lines
            text = "".join(line for line in lines if line is not _OPEN_ENDED)
        except _Unsupported:
            text = pyyaml_dump_all([document])
            open_ended = text.endswith("\n" + _OPEN_ENDED)
            if open_ended:
                text = text[: -len(_OPEN_ENDED)]
        parts.append(text)
    # libyaml closes the stream with "..." when its last document holds a literal block kept with all its
    # trailing line breaks (`|+`); "---" closes the others.
    return "---\n".join(parts) + (_OPEN_ENDED if open_ended else "")


class _Unsupported(Exception):
    """A shape this writer leaves to PyYAML."""


_SCALARS = (str, int, float, bool, type(None))
_OPEN_ENDED = "...\n"
"""Marks a literal block kept with all its trailing line breaks (`|+`): when it is in the last document,
libyaml ends the stream with `...`."""


@functools.lru_cache(maxsize=16384, typed=True)
def _scalar(value: Any) -> tuple[str, tuple[str, ...], bool]:
    """How PyYAML writes `value` after `key: ` (or `- `): its first line, the lines after it (indented
    relative to the column of the key or dash), and whether it leaves the document open-ended."""
    text = pyyaml_dump_all([{"k": value}])
    open_ended = text.endswith("\n" + _OPEN_ENDED)
    if open_ended:
        text = text[: -len(_OPEN_ENDED)]
    if not text.startswith("k: ") or not text.endswith("\n"):
        raise _Unsupported
    first, *rest = text[3:-1].split("\n")
    return first, tuple(rest), open_ended


@functools.lru_cache(maxsize=16384, typed=True)
def _key(key: Any) -> str:
    """How PyYAML writes `key` as a simple mapping key."""
    text = pyyaml_dump_all([{key: 0}])
    if not text.endswith(": 0\n") or "\n" in text[:-1]:
        raise _Unsupported
    return text[: -len(": 0\n")]


def _mapping(lines: list[str], mapping: dict[Any, Any], indent: int, lead: str | None) -> None:
    """A block mapping whose keys start at column `indent`; `lead` replaces the first key's indentation
    (the `- ` of a sequence item)."""
    for index, (key, value) in enumerate(mapping.items()):
        if not isinstance(key, _SCALARS):
            raise _Unsupported
        prefix = lead if index == 0 and lead is not None else " " * indent
        _value(lines, f"{prefix}{_key(key)}:", value, indent, in_mapping=True)


def _sequence(lines: list[str], sequence: list[Any], indent: int) -> None:
    """A block sequence whose dashes are at column `indent`."""
    dash = " " * indent + "-"
    for item in sequence:
        if isinstance(item, dict) and item:
            _mapping(lines, item, indent + 2, dash + " ")
        elif isinstance(item, list) and item:
            raise _Unsupported
        else:
            _value(lines, dash, item, indent, in_mapping=False)


def _value(lines: list[str], head: str, value: Any, indent: int, *, in_mapping: bool) -> None:
    """`value` after `head` (a key and its colon, or a dash) standing at column `indent`."""
    if isinstance(value, (dict, list)):
        if not value:
            lines.append(f"{head} {{}}\n" if isinstance(value, dict) else f"{head} []\n")
            return
        if not in_mapping:
            raise _Unsupported
        lines.append(f"{head}\n")
        if isinstance(value, dict):
            _mapping(lines, value, indent + 2, None)
        else:
            _sequence(lines, value, indent)  # PyYAML does not indent a sequence inside a mapping
    elif isinstance(value, _SCALARS):
        # Floats are not remembered: -0.0 equals 0.0 (and NaN no float) as a cache key.
        first, rest, open_ended = _scalar.__wrapped__(value) if isinstance(value, float) else _scalar(value)
        lines.append(f"{head} {first}\n")
        margin = " " * indent
        for line in rest:
            lines.append(f"{margin}{line}\n" if line else "\n")
        if open_ended:
            lines.append(_OPEN_ENDED)
    else:
        raise _Unsupported

"""The manifest YAML writer (`ollama_constructs._yaml`) writes exactly what PyYAML writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ollama_constructs import _render, _yaml
from ollama_constructs.catalog import load_catalog
from tests.conftest import REPO

TRICKY_SCALARS = [
    "", " ", "plain", "with: colon", "#hash", "a #comment", "- dash", "? question", "*star", "&amp", "!bang",
    "%percent", "@at", "`tick", "'single'", '"double"', "yes", "no", "on", "off", "true", "False", "null", "~",
    "1", "0777", "0x1F", "1e3", "1.0", ".inf", "-.5", "2026-11-27", "12:30:45", "0.32.15", "v1.2",
    " leading space", "trailing space ", "tab\there", "back\\slash", "unicode é ü 漢字", "emoji 🦙",
    "control\x07bell", "line\nbreak", "ends with newline\n", "two trailing newlines\n\n", "\nleading newline",
    "  indented\nblock\n", "trailing spaces \nin block\n", "crlf\r\nline", "{flow}", "[list]", "a, b",
    "x" * 300, "-", "--- document", "...", "=equals", "|pipe", ">folded", "key: value\nnext: line\n",
    True, False, None, 0, -1, 10**20, 1.5, -0.0, 3.0,
]


def _same(documents: list) -> None:
    assert _yaml.dump_all(documents) == _yaml.pyyaml_dump_all(documents)


@pytest.mark.parametrize("value", TRICKY_SCALARS, ids=[repr(v)[:30] for v in TRICKY_SCALARS])
def test_scalars_in_every_position(value) -> None:
    _same(
        [
            {
                "top": value,
                "nested": {"deeper": {"value": value}},
                "list": [value, {"item": value, "other": [value]}],
                "objects": [{"first": value, "second": {"third": value}}],
                "empty": {},
                "none": [],
            }
        ]
    )


@pytest.mark.parametrize("key", ["plain", "app.kubernetes.io/name", "with space", "1", "true", "", "x" * 200, 7])
def test_keys(key) -> None:
    _same([{key: "value", "nested": {key: [1, {key: 2}]}}])


@pytest.mark.parametrize(
    "documents",
    [
        [{"a": [[1, 2], [3]]}],  # a sequence in a sequence
        [[1, 2, 3]],  # a document that is not a mapping
        [{}],
        [{"a": 1}, {"b": [{"c": {}}]}, {"d": "x\ny"}],
        [{"a": {"b": [[{"c": 1}]]}}],
        [{"kept": "x\n\n", "after": 1}, {"b": 2}, {"c": ["y\n\n"]}],  # "|+" blocks end their document with "..."
    ],
)
def test_shapes_left_to_pyyaml_come_out_the_same(documents) -> None:
    _same(documents)


def _synthesized_documents() -> list[list]:
    catalog = load_catalog(REPO / "tests" / "fixtures" / "leaves")
    seed = load_catalog(REPO / "catalog")
    documents = []
    for loaded in (*catalog.leaves, *seed.leaves):
        documents.append(list(yaml.safe_load_all(_render.render_leaf(loaded, catalog.platform))))
    return documents


def test_every_synthesized_manifest_comes_out_the_same() -> None:
    documents = _synthesized_documents()
    assert len(documents) >= 9
    for leaf_documents in documents:
        _same(leaf_documents)


def test_dist_is_written_by_this_writer() -> None:
    for path in Path(REPO / "dist").rglob("*.yaml"):
        documents = list(yaml.safe_load_all(path.read_text()))
        assert _yaml.dump_all(documents) == path.read_text()

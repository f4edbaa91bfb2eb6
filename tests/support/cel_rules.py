"""Offline evaluation of CRD ``x-kubernetes-validations`` CEL rules, the way the API server runs them.

The API server evaluates each rule at its schema node with ``self`` bound to that node's value, *after*
structural defaulting (done by the caller) and on a view of the object in which

* unknown fields are pruned (CEL never sees them),
* schema-declared property names are escaped (``namespace`` -> ``__namespace__``, ``-`` -> ``__dash__`` ...),
* integers in ``type: number`` fields are doubles, and ``format: byte`` strings are bytes,
* at the root, ``metadata`` holds only ``name`` and ``generateName``.

A rule that returns false is reported with its ``message``; a rule whose evaluation errors out (for example
``no such key``) is a rejection too, reported as ``<error> evaluating rule: <message>``. Transition rules
(those that use ``oldSelf``) need the previous object and are skipped.

Known differences from the API server: ``self`` is declared ``dyn`` (no schema-typed compile check, no cost
budget), ``messageExpression``/``fieldPath``/``reason`` are not used (no rule in the CRDs here sets them), and
``date``/``date-time``/``duration`` strings stay strings (cel-expr-python cannot receive timestamp values; no
rule here reads such a field).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

PathParts = tuple[str | int, ...]

# Identifiers that Kubernetes escapes as __<word>__ because they are CEL reserved words.
CEL_RESERVED_WORDS = frozenset(
    "true false null in as break const continue else for function if import let loop package "
    "namespace return var void while".split()
)
_ESCAPED_SEQUENCES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
_NEEDS_ESCAPING = re.compile(r"__|[^a-zA-Z0-9_]")
_TRANSITION_RULE = re.compile(r"\boldSelf\b")
_ROOT_METADATA_FIELDS = ("name", "generateName")


class CelCompileError(Exception):
    """A rule that cel-expr-python cannot compile: a gap in this validator, not in the object."""


@dataclass(frozen=True)
class RuleFailure:
    """A rule that rejected the object at ``path`` (a tuple of keys and list indexes)."""

    path: PathParts
    message: str


# --------------------------------------------------------------------------- schema walking


def subschema(schema: dict, key: str | int) -> dict | None:
    """The structural schema of child ``key`` (a property name, map key or list index), or None if unknown."""
    if isinstance(key, int):
        items = schema.get("items")
        return items if isinstance(items, dict) else None
    properties = schema.get("properties") or {}
    if key in properties:
        return properties[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def iter_schema_nodes(
    value: Any,
    schema: dict,
    path: PathParts = (),
    descend: Callable[[dict], bool] = lambda schema: True,
) -> Iterator[tuple[Any, dict, PathParts]]:
    """Yield ``(value, schema, path)`` for ``value`` and every descendant its structural schema describes.

    Children are visited only when ``descend(child_schema)`` is true; unknown fields are never visited.
    """
    yield value, schema, path
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return
    for key, child in children:
        child_schema = subschema(schema, key)
        if child_schema is not None and descend(child_schema):
            yield from iter_schema_nodes(child, child_schema, (*path, key), descend)


def iter_schema_rules(schema: dict, path: PathParts = ()) -> Iterator[tuple[PathParts, dict]]:
    """Yield ``(schema_path, rule)`` for every ``x-kubernetes-validations`` entry in a structural schema."""
    for rule in schema.get("x-kubernetes-validations") or ():
        yield path, rule
    for name, child in (schema.get("properties") or {}).items():
        yield from iter_schema_rules(child, (*path, name))
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from iter_schema_rules(schema[key], (*path, "*"))


def is_transition_rule(rule: dict) -> bool:
    """Whether the rule compares against ``oldSelf`` (only checkable on update, so skipped offline)."""
    return bool(_TRANSITION_RULE.search(rule["rule"]))


# --------------------------------------------------------------------------- the CEL view of a value


def escape_property_name(name: str) -> str | None:
    """The CEL identifier Kubernetes gives a schema property, or None when the property is not accessible."""
    if not name or name[0].isdigit():
        return None
    if name in CEL_RESERVED_WORDS:
        return f"__{name}__"
    unsupported = False

    def replace(match: re.Match) -> str:
        nonlocal unsupported
        escaped = _ESCAPED_SEQUENCES.get(match.group())
        unsupported = unsupported or escaped is None
        return escaped or ""

    escaped = _NEEDS_ESCAPING.sub(replace, name)
    return None if unsupported else escaped


def cel_view(value: Any, schema: dict, *, at_root: bool = False) -> Any:
    """``value`` as CEL rules see it: pruned, escaped and typed according to ``schema``."""
    if isinstance(value, dict):
        return _object_view(value, schema, at_root)
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [cel_view(item, items) for item in value]
    return _scalar_view(value, schema)


def _object_view(value: dict, schema: dict, at_root: bool) -> dict:
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    keep_unknown = bool(schema.get("x-kubernetes-preserve-unknown-fields")) or extra is True
    view: dict = {}
    for key, child in value.items():
        if at_root and key == "metadata" and isinstance(child, dict):
            view[key] = {name: child[name] for name in _ROOT_METADATA_FIELDS if name in child}
        elif key in properties:
            name = escape_property_name(key)
            if name is not None:
                view[name] = cel_view(child, properties[key])
        elif isinstance(extra, dict):
            view[key] = cel_view(child, extra)
        elif keep_unknown:
            view[key] = child
        # Anything else is an unknown field: the API server prunes it before CEL runs.
    return view


def _scalar_view(value: Any, schema: dict) -> Any:
    declared = schema.get("type")
    if declared == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if declared == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if declared == "string" and schema.get("format") == "byte" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            return value  # the schema's format check reports it
    return value


# --------------------------------------------------------------------------- evaluation


class CelRuleEvaluator:
    """Compiles rules once (cached by rule text) and evaluates them over objects and their schemas."""

    def __init__(self) -> None:
        self._env = cel.NewEnv(
            variables={"self": cel.Type.DYN},
            extensions=[ext_strings.ExtStrings()],  # split() and friends, as Kubernetes enables them
        )
        self._programs: dict[str, cel.Expression | CelCompileError] = {}
        self._subtree_has_rules: dict[int, tuple[dict, bool]] = {}

    def compile(self, rule_text: str) -> cel.Expression:
        """The compiled program for ``rule_text``; raises CelCompileError (also cached) if it cannot compile."""
        if rule_text not in self._programs:
            try:
                self._programs[rule_text] = self._env.compile(rule_text)
            except RuntimeError as error:
                self._programs[rule_text] = CelCompileError(str(error))
        program = self._programs[rule_text]
        if isinstance(program, CelCompileError):
            raise program
        return program

    def check(self, obj: dict, schema: dict) -> list[RuleFailure]:
        """Evaluate every non-transition rule in ``schema`` against the (already defaulted) ``obj``."""
        failures: list[RuleFailure] = []
        for value, node, path in iter_schema_nodes(obj, schema, descend=self._has_rules):
            rules = [rule for rule in node.get("x-kubernetes-validations") or () if not is_transition_rule(rule)]
            if rules and value is not None:
                failures.extend(self._check_node(value, node, path, rules))
        return failures

    def _check_node(self, value: Any, schema: dict, path: PathParts, rules: list[dict]) -> Iterator[RuleFailure]:
        activation = self._env.Activation(data={"self": cel_view(value, schema, at_root=not path)})
        for rule in rules:
            message = rule.get("message") or f"failed rule: {rule['rule']}"
            try:
                result = self.compile(rule["rule"]).eval(activation)
            except CelCompileError as error:
                yield RuleFailure(path, f"validator cannot compile rule {rule['rule']!r}: {error}")
                continue
            if result.type() == cel.Type.ERROR:
                yield RuleFailure(path, f"{result.value()} evaluating rule: {message}")
            elif result.type() != cel.Type.BOOL:
                yield RuleFailure(path, f"rule did not evaluate to a bool ({result.type().name()}): {message}")
            elif not result.value():
                yield RuleFailure(path, message)

    def _has_rules(self, schema: dict) -> bool:
        """Whether ``schema`` or anything below it carries rules (cached per schema node)."""
        cached = self._subtree_has_rules.get(id(schema))
        if cached is None:
            cached = (schema, any(True for _ in iter_schema_rules(schema)))
            self._subtree_has_rules[id(schema)] = cached  # keeps schema alive so its id stays unique
        return cached[1]

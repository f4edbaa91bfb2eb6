"""Validate synthesized Kubernetes manifests offline, as close to an API server as the schemas allow.

* Built-in kinds are checked against kubernetes-validate's bundled *strict* JSON schemas (unknown fields are
  errors, like ``kubectl apply --validate=strict``) for each Kubernetes version asked for.
* Custom kinds are checked against the CRD schemas committed in ``crds/schemas/`` (derived from the pinned
  upstream CRDs of ``crds/lock.json`` by ``scripts/crds.py``; a directory of CRD YAML files works too):
  structural defaults are applied first, then the ``openAPIV3Schema`` (made strict), ``x-kubernetes-list-type`` uniqueness and the CEL rules
  (``x-kubernetes-validations``, see ``cel_rules``).
* ``metadata`` of every object is checked the way the API server does: name syntax per kind, namespace,
  label and annotation syntax, and (for custom kinds, whose CRDs only say ``type: object``) the ObjectMeta schema.

An object with no built-in schema and no CRD is an error, never skipped. Webhook-only rules (cert-manager,
KEDA admission webhooks) and anything a controller checks later are out of reach.

Usage::

    validator = ManifestValidator()
    assert validator.validate(objects) == []
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import importlib.resources
import ipaddress
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from .cel_rules import (
    CelCompileError,
    CelRuleEvaluator,
    PathParts,
    is_transition_rule,
    iter_schema_nodes,
    iter_schema_rules,
    subschema,
)

CRD_DIR_ENV_VAR = "OLLAMA_CONSTRUCTS_CRD_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "crds" / "schemas"
"""The committed CRD schemas the validator uses by default (`make crd-schemas` writes them)."""

_BUNDLED_SCHEMAS = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
_STRICT_DIR = re.compile(r"^v(\d+\.\d+\.\d+)-local-strict$")
_OBJECT_META_REF = "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for ``1.28.0`` / ``v1.28``: the numeric parts."""
    return tuple(int(part) for part in version.removeprefix("v").split("."))


def bundled_kubernetes_versions() -> list[str]:
    """Kubernetes versions whose strict schemas kubernetes-validate bundles, oldest first."""
    versions = (_STRICT_DIR.match(entry.name) for entry in _BUNDLED_SCHEMAS.iterdir())
    return sorted((match.group(1) for match in versions if match), key=version_key)


OLDEST = "1.28.0"
NEWEST = bundled_kubernetes_versions()[-1]
OLDEST_BUNDLED = bundled_kubernetes_versions()[0]


def upstream_crd_dir() -> tuple[Path | None, str]:
    """The directory of upstream CRD files, if one is at hand, and where it came from (or why there is none).

    ``$OLLAMA_CONSTRUCTS_CRD_DIR`` if set (it must exist), else ``../shared/crds`` beside the repository when
    it exists, else the ``.crds`` cache that ``make crds`` fills when it has been filled; otherwise None.
    """
    configured = os.environ.get(CRD_DIR_ENV_VAR)
    if configured:
        crd_dir = Path(configured)
        if not crd_dir.is_dir():
            raise FileNotFoundError(
                f"CRD directory {crd_dir} (from ${CRD_DIR_ENV_VAR}) does not exist; "
                f"set {CRD_DIR_ENV_VAR} to a directory of the CRD files named in crds/lock.json"
            )
        return crd_dir, f"${CRD_DIR_ENV_VAR}"
    for candidate in (REPO_ROOT.parent / "shared" / "crds", REPO_ROOT / ".crds"):
        if any(candidate.glob("*.yaml")):
            return candidate.resolve(), str(candidate)
    return None, (
        f"no upstream CRD files at hand (neither ${CRD_DIR_ENV_VAR}, ../shared/crds nor .crds); "
        "`make crds` downloads them"
    )


@dataclass(frozen=True)
class Problem:
    """One validation failure at a field path (a tuple of keys and list indexes; empty for the whole object)."""

    path: PathParts
    message: str


# --------------------------------------------------------------------------- formatting

_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_MAX_MESSAGE = 300


def format_path(path: PathParts) -> str:
    """Kubernetes-style field path: ``spec.rules[0].matches``; keys that are not identifiers go in brackets."""
    text = ""
    for part in path:
        if isinstance(part, int) or not _PLAIN_KEY.match(part):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def object_identity(obj: Any) -> str:
    """``Kind/namespace/name`` (``Kind/name`` without a namespace) for messages."""
    if not isinstance(obj, dict):
        return f"<{type(obj).__name__} instead of an object>"
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    parts = [obj.get("kind") or "<no kind>", metadata.get("namespace"), metadata.get("name") or "<no name>"]
    return "/".join(str(part) for part in parts if part)


def _shorten(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."


def schema_problems(errors: Iterable[jsonschema.ValidationError], prefix: PathParts = ()) -> Iterator[Problem]:
    """Readable problems for jsonschema errors: one per unknown field and per missing required field."""
    for error in errors:
        path = prefix + tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties") or {}
            for field in error.instance:
                if field not in known:
                    yield Problem((*path, field), "unknown field")
        elif error.validator == "required" and isinstance(error.instance, dict):
            for field in error.validator_value:
                if field not in error.instance:
                    yield Problem((*path, field), "required field is missing")
        else:
            yield Problem(path, _shorten(error.message))


# --------------------------------------------------------------------------- built-in kinds


class CoreSchemas:
    """Strict schemas for built-in kinds bundled by kubernetes-validate, for one Kubernetes version.

    Same files and the same version resolution as ``kubernetes_validate.validate(obj, version, strict=True)``
    (the newest bundled minor not newer than the one asked for), but every error is reported and the
    1.4 MB definitions file is parsed once per version instead of once per object.
    """

    def __init__(self, version: str) -> None:
        self.version = version
        self.schema_version = _resolve_bundled_version(version)
        self._dir = _BUNDLED_SCHEMAS / f"v{self.schema_version}-local-strict"
        self._validators: dict[tuple[str, str], jsonschema.Validator | None] = {}

    def validator_for(self, api_version: str, kind: str) -> jsonschema.Validator | None:
        """The validator for a built-in ``(apiVersion, kind)``, or None if this version has no such kind."""
        key = (api_version, kind)
        if key not in self._validators:
            schema_file = self._dir / _core_schema_file_name(api_version, kind)
            self._validators[key] = (
                self._validator(json.loads(schema_file.read_text())) if schema_file.is_file() else None
            )
        return self._validators[key]

    @functools.cached_property
    def object_meta(self) -> jsonschema.Validator:
        """Validator for ``metadata`` (strict ObjectMeta), used for custom kinds."""
        return self._validator({"$id": "https://kubernetes.io/api/objectmeta", "$ref": _OBJECT_META_REF})

    @functools.cached_property
    def _registry(self) -> Registry:
        definitions = json.loads((self._dir / "_definitions.json").read_text())
        return Registry().with_resource(definitions["$id"], Resource.from_contents(definitions))

    def _validator(self, schema: dict) -> jsonschema.Validator:
        return jsonschema.Draft202012Validator(schema, registry=self._registry)


def _resolve_bundled_version(version: str) -> str:
    """The newest bundled schema version whose minor is not newer than ``version``'s (as kubernetes-validate does)."""
    wanted = version_key(version)[:2]
    candidates = [bundled for bundled in bundled_kubernetes_versions() if version_key(bundled)[:2] <= wanted]
    if not candidates or wanted > version_key(NEWEST)[:2]:
        raise ValueError(
            f"kubernetes-validate has no schemas for Kubernetes {version} (bundled: {OLDEST_BUNDLED}..{NEWEST})"
        )
    return candidates[-1]


def _core_schema_file_name(api_version: str, kind: str) -> str:
    """kubernetes-validate's file name, e.g. ``networkpolicy-networking-v1.json`` for ``networking.k8s.io/v1``."""
    group, _, version = api_version.rpartition("/")
    group_prefix = group.split(".")[0]
    return f"{kind.lower()}-{group_prefix}-{version}.json" if group_prefix else f"{kind.lower()}-{version}.json"


# --------------------------------------------------------------------------- custom kinds


def _structural_nodes(schema: dict) -> Iterator[dict]:
    """Every schema node reachable through properties / items / additionalProperties."""
    yield schema
    children = list((schema.get("properties") or {}).values())
    children += [schema[key] for key in ("items", "additionalProperties") if isinstance(schema.get(key), dict)]
    for child in children:
        yield from _structural_nodes(child)


def strict_schema(schema: dict) -> dict:
    """A copy of a CRD schema that rejects unknown fields (instead of pruning them) and honours ``nullable``."""
    strict = copy.deepcopy(schema)
    for node in _structural_nodes(strict):
        if (
            node.get("type") == "object"
            and "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        if node.get("nullable") and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
    return strict


def apply_defaults(value: Any, schema: dict) -> None:
    """Structural defaulting in place, like the API server: drop non-nullable nulls without a default,
    fill absent (or null) fields that have a ``default``, then recurse, also into defaulted values."""
    if isinstance(value, dict):
        for name, prop in (schema.get("properties") or {}).items():
            if value.get(name) is None and not prop.get("nullable"):
                if "default" in prop:
                    value[name] = copy.deepcopy(prop["default"])
                elif name in value:
                    del value[name]
        children: Iterable = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return
    for key, child in list(children):
        child_schema = subschema(schema, key)
        if child_schema is not None:
            apply_defaults(child, child_schema)


def list_type_problems(obj: dict, schema: dict) -> Iterator[Problem]:
    """Duplicates in ``x-kubernetes-list-type: set`` lists and duplicate keys in ``map`` lists."""
    for value, node, path in iter_schema_nodes(obj, schema):
        list_type = node.get("x-kubernetes-list-type")
        if not isinstance(value, list) or list_type not in ("set", "map"):
            continue
        map_keys = node.get("x-kubernetes-list-map-keys") or []
        seen: set[str] = set()
        for index, item in enumerate(value):
            if list_type == "map" and not isinstance(item, dict):
                continue  # the schema reports the wrong type
            identity = item if list_type == "set" else {key: item.get(key) for key in map_keys}
            encoded = json.dumps(identity, sort_keys=True)
            if encoded in seen:
                yield Problem((*path, index), f"Duplicate value: {encoded}")
            seen.add(encoded)


_FORMATS = jsonschema.FormatChecker(formats=())
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@_FORMATS.checks("ipv4", raises=ValueError)
def _is_ipv4(value: object) -> bool:
    if isinstance(value, str):
        ipaddress.IPv4Address(value)
    return True


@_FORMATS.checks("ipv6", raises=ValueError)
def _is_ipv6(value: object) -> bool:
    if isinstance(value, str):
        ipaddress.IPv6Address(value)
    return True


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time, e.g. ``2024-05-01T12:00:00Z``."""
    if isinstance(value, str):
        if not _RFC3339.match(value):
            return False
        datetime.fromisoformat(value.upper())  # range checks: month 13, hour 25 ...
    return True


@_FORMATS.checks("byte", raises=binascii.Error)
def _is_base64(value: object) -> bool:
    if isinstance(value, str):
        base64.b64decode(value, validate=True)
    return True


# Schema errors after which the API server does not run CEL rules (its hasBlockingErr).
_CEL_BLOCKING_ERRORS = frozenset({"type", "enum", "required", "maxLength", "maxItems", "maxProperties"})
_CEL_SKIPPED = (
    "some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)


@dataclass
class CrdVersion:
    """One served version of a CustomResourceDefinition."""

    api_version: str
    kind: str
    schema: dict
    source: str

    @functools.cached_property
    def validator(self) -> jsonschema.Validator:
        return jsonschema.Draft7Validator(strict_schema(self.schema), format_checker=_FORMATS)


def _crd_definitions(path: Path) -> Iterator[tuple[str, str, list[dict]]]:
    """``(group, kind, served versions)`` of each CRD in a derived schema file or an upstream CRD file."""
    if path.suffix == ".json":
        for crd in json.loads(path.read_text())["crds"]:
            yield crd["group"], crd["kind"], [
                {"name": v["name"], "schema": v["openAPIV3Schema"]} for v in crd["versions"]
            ]
        return
    for document in yaml.load_all(path.read_text(), Loader=_YAML_LOADER):
        if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
            continue
        spec = document["spec"]
        versions = [
            {"name": v["name"], "schema": v["schema"]["openAPIV3Schema"]}
            for v in spec["versions"]
            if v.get("served", True)
        ]
        yield spec["group"], spec["names"]["kind"], versions


def load_crds(crd_dir: Path) -> dict[tuple[str, str], CrdVersion]:
    """Index every served CRD version in ``crd_dir`` by ``(apiVersion, kind)``: derived schema files
    (``*.json``, see ``scripts/crds.py``) or upstream CRD files (``*.yaml``/``*.yml``)."""
    index: dict[tuple[str, str], CrdVersion] = {}
    files = sorted([*crd_dir.glob("*.json"), *crd_dir.glob("*.yaml"), *crd_dir.glob("*.yml")])
    for path in files:
        for group, kind, versions in _crd_definitions(path):
            for version in versions:
                crd = CrdVersion(
                    api_version=f"{group}/{version['name']}", kind=kind, schema=version["schema"], source=path.name
                )
                key = (crd.api_version, crd.kind)
                if key in index:
                    raise ValueError(
                        f"{crd.api_version} {crd.kind} is defined in both {index[key].source} and {path.name}"
                    )
                index[key] = crd
    if not index:
        raise FileNotFoundError(f"no CustomResourceDefinition found in {crd_dir}")
    return index


# --------------------------------------------------------------------------- metadata


_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_MAX_ANNOTATIONS_BYTES = 256 * 1024


def dns1123_subdomain_error(value: str) -> str | None:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        return "must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.'; at most 253 characters)"
    return None


def dns1123_label_error(value: str) -> str | None:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        return "must be a lowercase RFC 1123 label (a-z, 0-9, '-'; at most 63 characters)"
    return None


def dns1035_label_error(value: str) -> str | None:
    if len(value) > 63 or not _DNS1035_LABEL.match(value):
        return "must be a lowercase RFC 1035 label (start with a letter; a-z, 0-9, '-'; at most 63 characters)"
    return None


def path_segment_error(value: str) -> str | None:
    if value in (".", "..") or "/" in value or "%" in value:
        return "may not be '.' or '..' and may not contain '/' or '%'"
    return None


def qualified_name_error(key: str) -> str | None:
    """Syntax of a label or annotation key: an optional DNS-subdomain prefix and '/', then a name (<= 63 chars)."""
    parts = key.split("/")
    if len(parts) > 2 or (len(parts) == 2 and (not parts[0] or dns1123_subdomain_error(parts[0]))):
        return "prefix must be a DNS subdomain, followed by a single '/'"
    name = parts[-1]
    if len(name) > 63 or not _QUALIFIED_NAME_PART.match(name):
        return (
            "name part must be at most 63 characters: alphanumerics, '-', '_' or '.', "
            "starting and ending with an alphanumeric"
        )
    return None


# Built-in kinds whose names follow a rule other than "DNS subdomain" (all custom resources use DNS subdomain).
_NAME_RULES = {
    "Service": dns1035_label_error,
    "Namespace": dns1123_label_error,
    "Role": path_segment_error,
    "ClusterRole": path_segment_error,
    "RoleBinding": path_segment_error,
    "ClusterRoleBinding": path_segment_error,
}


def metadata_problems(obj: dict, custom_kind: bool) -> Iterator[Problem]:
    """Name, namespace, label and annotation syntax, as the API server's ObjectMeta validation checks it."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        yield Problem(("metadata",), "required object is missing")
        return
    name = metadata.get("name")
    if not name and not metadata.get("generateName"):
        yield Problem(("metadata", "name"), "name or generateName is required")
    elif isinstance(name, str) and name:
        name_rule = (
            dns1123_subdomain_error if custom_kind else _NAME_RULES.get(obj.get("kind"), dns1123_subdomain_error)
        )
        if error := name_rule(name):
            yield Problem(("metadata", "name"), f"{name!r} {error}")
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and namespace and (error := dns1123_label_error(namespace)):
        yield Problem(("metadata", "namespace"), f"{namespace!r} {error}")
    yield from _label_problems(metadata.get("labels"))
    yield from _annotation_problems(metadata.get("annotations"))


def _label_problems(labels: Any) -> Iterator[Problem]:
    if not isinstance(labels, dict):
        return  # absent, or a type error the schema reports
    for key, value in labels.items():
        path = ("metadata", "labels", key)
        if isinstance(key, str) and (error := qualified_name_error(key)):
            yield Problem(path, f"invalid label key: {error}")
        if isinstance(value, str) and (len(value) > 63 or not _LABEL_VALUE.match(value)):
            yield Problem(path, f"invalid label value {value!r}: at most 63 characters, alphanumerics, '-', '_' or '.'")


def _annotation_problems(annotations: Any) -> Iterator[Problem]:
    if not isinstance(annotations, dict):
        return
    for key in annotations:
        if isinstance(key, str) and (error := qualified_name_error(key.lower())):
            yield Problem(("metadata", "annotations", key), f"invalid annotation key: {error}")
    size = sum(len(str(key).encode()) + len(str(value).encode()) for key, value in annotations.items())
    if size > _MAX_ANNOTATIONS_BYTES:
        yield Problem(
            ("metadata", "annotations"), f"annotations total {size} bytes, more than {_MAX_ANNOTATIONS_BYTES}"
        )


# --------------------------------------------------------------------------- the validator


class ManifestValidator:
    """Validates manifests (plain dicts) against built-in schemas and the CRDs in ``crd_dir`` (default: the
    committed schemas, ``crds/schemas/``).

    Schemas, CRDs and CEL programs are loaded lazily and cached, so make one validator per test session.
    """

    def __init__(self, crd_dir: Path | None = None, k8s_versions: tuple[str, ...] = (OLDEST, NEWEST)) -> None:
        if not k8s_versions:
            raise ValueError("k8s_versions must name at least one Kubernetes version")
        self.crd_dir = Path(crd_dir) if crd_dir is not None else SCHEMA_DIR
        self.k8s_versions = tuple(k8s_versions)
        self._core = {version: CoreSchemas(version) for version in self.k8s_versions}
        self._cel = CelRuleEvaluator()

    @functools.cached_property
    def crds(self) -> dict[tuple[str, str], CrdVersion]:
        """Every served CRD version in the CRD directory, by ``(apiVersion, kind)``."""
        return load_crds(self.crd_dir)

    def validate(self, objects: Iterable[dict]) -> list[str]:
        """All problems as ``Kind/namespace/name: field.path: message``; an empty list when every object is valid."""
        return [message for obj in objects for message in self.validate_object(obj)]

    def validate_object(self, obj: dict) -> list[str]:
        """Problems of one object (see ``validate``)."""
        identity = object_identity(obj)
        messages = []
        for problem in dict.fromkeys(self._problems(obj)):  # de-duplicated, in order
            path = format_path(problem.path)
            messages.append(f"{identity}: {path}: {problem.message}" if path else f"{identity}: {problem.message}")
        return messages

    def rule_compile_errors(self) -> list[str]:
        """Compile every non-transition CEL rule of every CRD; the failures (a validator gap) as messages."""
        failures = []
        for crd in self.crds.values():
            for path, rule in iter_schema_rules(crd.schema):
                if is_transition_rule(rule):
                    continue
                try:
                    self._cel.compile(rule["rule"])
                except CelCompileError as error:
                    failures.append(f"{crd.source} {crd.api_version} {crd.kind} {format_path(path)}: {error}")
        return failures

    def _problems(self, obj: Any) -> Iterator[Problem]:
        if (
            not isinstance(obj, dict)
            or not isinstance(obj.get("apiVersion"), str)
            or not isinstance(obj.get("kind"), str)
        ):
            yield Problem((), "not a Kubernetes object: apiVersion and kind must be strings")
            return
        crd = self.crds.get((obj["apiVersion"], obj["kind"]))
        if crd is not None:
            yield from self._custom_resource_problems(obj, crd)
        else:
            yield from self._core_problems(obj)
        yield from metadata_problems(obj, custom_kind=crd is not None)

    def _core_problems(self, obj: dict) -> Iterator[Problem]:
        """Strict schema errors for each Kubernetes version; tagged with the versions when not all of them agree."""
        found_in: dict[Problem, list[str]] = {}
        missing_in = []
        for version, schemas in self._core.items():
            validator = schemas.validator_for(obj["apiVersion"], obj["kind"])
            if validator is None:
                missing_in.append(version)
                continue
            for problem in schema_problems(validator.iter_errors(obj)):
                found_in.setdefault(problem, []).append(version)
        if len(missing_in) == len(self._core):
            yield Problem((), self._no_schema_message(obj))
            return
        for version in missing_in:
            yield Problem(("apiVersion",), f"{obj['apiVersion']} {obj['kind']} is not served by Kubernetes {version}")
        for problem, versions in found_in.items():
            if len(versions) < len(self._core):
                problem = Problem(problem.path, f"{problem.message} (Kubernetes {', '.join(versions)})")
            yield problem

    def _no_schema_message(self, obj: dict) -> str:
        group = obj["apiVersion"].rpartition("/")[0]
        other_versions = sorted(
            api for api, kind in self.crds if kind == obj["kind"] and api.rpartition("/")[0] == group
        )
        hint = f"; the CRDs serve {', '.join(other_versions)}" if other_versions else ""
        return (
            f"no schema for {obj['apiVersion']} {obj['kind']}: not a built-in kind of Kubernetes "
            f"{', '.join(self.k8s_versions)} and no CRD in {self.crd_dir}{hint}"
        )

    def _custom_resource_problems(self, obj: dict, crd: CrdVersion) -> Iterator[Problem]:
        """Defaulting, strict schema, ObjectMeta, list-type and CEL checks for a custom resource."""
        defaulted = copy.deepcopy(obj)
        apply_defaults(defaulted, crd.schema)
        errors = list(crd.validator.iter_errors(defaulted))
        yield from schema_problems(errors)
        if isinstance(defaulted.get("metadata"), dict):
            newest = max(self.k8s_versions, key=version_key)
            object_meta = self._core[newest].object_meta
            yield from schema_problems(object_meta.iter_errors(defaulted["metadata"]), prefix=("metadata",))
        yield from list_type_problems(defaulted, crd.schema)
        if any(error.validator in _CEL_BLOCKING_ERRORS for error in errors):
            yield Problem((), _CEL_SKIPPED)
            return
        for failure in self._cel.check(defaulted, crd.schema):
            yield Problem(failure.path, failure.message)

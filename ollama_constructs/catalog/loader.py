"""Loading a catalog directory: every leaf parsed and checked, every error collected.

A catalog is a directory of YAML files, one leaf each, searched recursively in a stable order. A leaf
whose `workloadType` is not ours is skipped (and reported as skipped). Errors name the file and the
field path, and all errors of all leaves are raised together in one :class:`CatalogError`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .leaf import WORKLOAD_TYPE, CatalogLeaf
from .platform import PLATFORM_DEFAULTS_FILE, PlatformDefaults, apply_platform_defaults
from .policy import policy_violations
from .sizing import SizingError

_LEAF_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class LeafError:
    """One problem in one file, at one field."""

    file: str
    """The file, as the user named it (relative to the working directory when possible)."""
    field: str
    """The field path, e.g. `gpu.count` or `models[1]`; empty for a problem with the whole file."""
    message: str
    """What is wrong and what is allowed."""

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}" if self.field else f"{self.file}: {self.message}"


class CatalogError(Exception):
    """A catalog with at least one invalid leaf; :attr:`errors` holds every problem found."""

    def __init__(self, errors: Sequence[LeafError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True, slots=True)
class LoadedLeaf:
    """A valid leaf as :func:`load_leaf` and :func:`load_catalog` give it: what to hand
    :class:`~ollama_constructs.OllamaInferenceChart` (`OllamaInferenceChart(app, "id", loaded)`).

    It holds the leaf as written and the platform defaults it was checked with; `resolved` is the two
    combined, which is what the chart synthesizes and what `plan` prints.
    """

    file: str
    """The file the leaf came from."""
    leaf: CatalogLeaf
    """The leaf as written."""
    resolved: CatalogLeaf
    """The leaf with every field it leaves open filled from the platform defaults."""
    platform: PlatformDefaults = PlatformDefaults()
    """The platform defaults the leaf was resolved and checked with."""


@dataclass(frozen=True, slots=True)
class SkippedLeaf:
    """A file that belongs to another chart of the catalog."""

    file: str
    workload_type: str


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every valid leaf of a catalog, in file order, and the files that were skipped."""

    leaves: tuple[LoadedLeaf, ...]
    skipped: tuple[SkippedLeaf, ...]
    platform: PlatformDefaults


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _field_path(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at `loc` (for listing the allowed keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {f.alias or name: f for name, f in current.model_fields.items()}
        if part not in fields:
            return None
        current = _first_model(fields[part].annotation)
        if current is None:
            return None
    return current


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _message(model: type[BaseModel], error: dict[str, Any]) -> str:
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        allowed = sorted(f.alias or n for n, f in owner.model_fields.items()) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown field{hint}; allowed here: {', '.join(allowed)}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] not in ("missing", "value_error") and "input" in error:
        message += f" (got {_shown(error['input'])})"
    return message


def _shown(value: Any) -> str:
    """A value as the YAML had it: `true`, `null`, `'text'`, `2.5`, `{a: 1}`."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=str)
        return text if len(text) <= 80 else text[:77] + "..."
    return str(value)


def validation_errors(file: str, model: type[BaseModel], exc: ValidationError) -> list[LeafError]:
    """One :class:`LeafError` per pydantic error, with YAML field paths and readable messages."""
    errors = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        errors.append(LeafError(file, _field_path(loc), _message(model, {**error, "loc": loc})))
    return errors


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it (about ten times faster than the pure-Python one)."""


class DuplicateKeyError(yaml.YAMLError):
    """A mapping of a YAML file that gives the same key twice."""

    def __init__(self, key: Any, first: yaml.Mark, again: yaml.Mark) -> None:
        self.key, self.first, self.again = key, first, again
        super().__init__(f"{key!r} given twice")


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader (libyaml's parser where there is one) refusing a key given twice in one mapping:
    YAML says keys are unique, and PyYAML would silently keep the last value. Merge keys (`<<`) still work."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            if first is not key_node.start_mark:
                raise DuplicateKeyError(key, first, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]



def _read_yaml(path: Path) -> tuple[Any, LeafError | None]:
    try:
        documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader))
    except DuplicateKeyError as exc:
        return None, LeafError(
            _display(path),
            "",
            f"line {exc.again.line + 1}: key {_shown(exc.key)} is given twice (first on line {exc.first.line + 1}); "
            "a key may appear once in a mapping",
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, LeafError(_display(path), "", f"not valid YAML{where}: {problem}")
    except (OSError, UnicodeDecodeError) as exc:
        return None, LeafError(_display(path), "", f"cannot be read: {exc}")
    documents = [d for d in documents if d is not None]
    if len(documents) != 1:
        return None, LeafError(_display(path), "", f"must hold exactly one YAML document, found {len(documents)}")
    if not isinstance(documents[0], dict):
        return None, LeafError(_display(path), "", "must be a YAML mapping of leaf fields")
    return documents[0], None


def load_platform_defaults(path: Path | None) -> PlatformDefaults:
    """The platform defaults from `path`, or the built-in defaults when `path` is None or absent.

    Raises:
        CatalogError: when the file exists but is invalid.
    """
    if path is None or not path.exists():
        return PlatformDefaults()
    data, error = _read_yaml(path)
    if error:
        raise CatalogError([error])
    try:
        return PlatformDefaults.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(validation_errors(_display(path), PlatformDefaults, exc)) from None


def parse_leaf(file: str, data: dict[str, Any]) -> CatalogLeaf:
    """Validate one leaf's data.

    Raises:
        CatalogError: with every error of the leaf.
    """
    try:
        return CatalogLeaf.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(validation_errors(file, CatalogLeaf, exc)) from None


def leaf_files(catalog_dir: Path) -> list[Path]:
    """The leaf files of a catalog directory, recursively, in a stable order."""
    return sorted(
        p
        for p in catalog_dir.rglob("*")
        if p.is_file() and p.suffix in _LEAF_SUFFIXES and p.name != PLATFORM_DEFAULTS_FILE
    )


def load_catalog(catalog_dir: Path | str, platform_file: Path | str | None = None) -> Catalog:
    """Load and check every leaf of `catalog_dir`.

    Args:
        catalog_dir: the directory of leaves.
        platform_file: the platform-defaults file. Defaults to `platform-defaults.yaml` in `catalog_dir`,
            and to the built-in defaults when that file does not exist.

    Raises:
        CatalogError: with every error of every leaf, when any leaf (or the platform file) is invalid.
    """
    catalog_dir = Path(catalog_dir)
    if not catalog_dir.is_dir():
        raise CatalogError([LeafError(_display(catalog_dir), "", "catalog directory not found")])
    errors: list[LeafError] = []
    explicit_platform = platform_file is not None
    platform_path = Path(platform_file) if explicit_platform else catalog_dir / PLATFORM_DEFAULTS_FILE
    if explicit_platform and not platform_path.is_file():
        errors.append(LeafError(_display(platform_path), "", "platform-defaults file not found"))
    platform = PlatformDefaults()
    try:
        platform = load_platform_defaults(platform_path)
    except CatalogError as exc:
        errors.extend(exc.errors)

    leaves: list[LoadedLeaf] = []
    skipped: list[SkippedLeaf] = []
    for path in leaf_files(catalog_dir):
        found = _load_file(path, platform)
        if isinstance(found, LoadedLeaf):
            leaves.append(found)
        elif isinstance(found, SkippedLeaf):
            skipped.append(found)
        else:
            errors.extend(found)

    errors.extend(_collisions(leaves))
    if errors:
        raise CatalogError(errors)
    return Catalog(tuple(leaves), tuple(skipped), platform)


def _load_file(path: Path, platform: PlatformDefaults) -> LoadedLeaf | SkippedLeaf | list[LeafError]:
    """One leaf file: the valid leaf, a leaf of another workload type, or its errors."""
    file = _display(path)
    data, error = _read_yaml(path)
    if error:
        return [error]
    workload_type = data.get("workloadType")
    if workload_type is None:
        return [LeafError(file, "workloadType", f"required; this library reads '{WORKLOAD_TYPE}' leaves")]
    if workload_type != WORKLOAD_TYPE:
        return SkippedLeaf(file, str(workload_type))
    try:
        leaf = parse_leaf(file, data)
    except CatalogError as exc:
        return list(exc.errors)
    resolved = apply_platform_defaults(leaf, platform)
    problems = [LeafError(file, v.field, f"{v.message} (rule {v.rule})") for v in policy_violations(resolved)]
    problems += _sizing_errors(file, resolved)
    return problems or LoadedLeaf(file, leaf, resolved, platform)


def load_leaf(path: Path | str, platform_file: Path | str | None = None) -> LoadedLeaf:
    """Load and check one leaf file, as :func:`load_catalog` checks each of its leaves.

    Args:
        path: the leaf's YAML file.
        platform_file: the platform-defaults file. Defaults to `platform-defaults.yaml` beside the leaf,
            and to the built-in defaults when there is none.

    Returns:
        The leaf, to hand to :class:`~ollama_constructs.OllamaInferenceChart`.

    Raises:
        CatalogError: with every error of the leaf (and of the platform file), or when the file is missing
            or holds a leaf of another `workloadType`.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogError([LeafError(_display(path), "", "leaf file not found")])
    explicit = platform_file is not None
    platform_path = Path(platform_file) if platform_file is not None else path.parent / PLATFORM_DEFAULTS_FILE
    if explicit and not platform_path.is_file():
        raise CatalogError([LeafError(_display(platform_path), "", "platform-defaults file not found")])
    platform = load_platform_defaults(platform_path)
    found = _load_file(path, platform)
    if isinstance(found, SkippedLeaf):
        raise CatalogError(
            [LeafError(found.file, "workloadType", f"is {found.workload_type}; this library reads '{WORKLOAD_TYPE}' leaves")]
        )
    if isinstance(found, list):
        raise CatalogError(found)
    return found


def _sizing_errors(file: str, leaf: CatalogLeaf) -> list[LeafError]:
    """Sizes the leaf leaves to the library (`auto`) must be computable from known model sizes."""
    from .plan import leaf_sizing  # plan imports this module

    try:
        leaf_sizing(leaf)
    except SizingError as exc:
        explicit = leaf.container.resources is not None and leaf.container.resources.sets_compute
        field = "preset" if not explicit and leaf.preset in (None, "auto") else "persistence.size"
        if exc.field:
            return [LeafError(file, exc.field, str(exc))]
        return [LeafError(file, field, f"auto: {exc}")]
    except ValueError as exc:
        return [LeafError(file, "ollama", str(exc))]
    return []


def _collisions(leaves: Sequence[LoadedLeaf]) -> list[LeafError]:
    """Two leaves that would produce the same objects (same namespace and serviceName), or claim the same
    public host: Gateways would serve it twice, and the KEDA HTTP interceptor routes a host claimed by
    several HTTPScaledObjects to one of them only (the oldest; http-add-on `pkg/routing/tablememory.go`)."""
    first: dict[tuple[str, str], str] = {}
    hosts: dict[str, str] = {}
    errors = []
    for loaded in leaves:
        key = (loaded.leaf.namespace, loaded.leaf.service_name)
        if key in first:
            errors.append(
                LeafError(
                    loaded.file,
                    "serviceName",
                    f"'{key[1]}' in namespace '{key[0]}' is already defined by {first[key]}; "
                    "two leaves cannot produce the same objects",
                )
            )
        else:
            first[key] = loaded.file
        ingress = loaded.resolved.ingress
        if ingress.enabled and ingress.host:
            if ingress.host in hosts:
                errors.append(
                    LeafError(
                        loaded.file,
                        "ingress.host",
                        f"'{ingress.host}' is already claimed by {hosts[ingress.host]}; two leaves cannot share a "
                        "host (the Gateway and the autoscaler's interceptor would send its requests to one of them)",
                    )
                )
            else:
                hosts[ingress.host] = loaded.file
    return errors

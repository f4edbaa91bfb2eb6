"""Facts about constructs that cost a call into cdk8s's Node process, asked once per object; and what
every public construct gets (:func:`public_construct`): its real signature, and charts that refuse two
objects of the same kind and name.

Every question to a jsii object (its chart, its namespace, its `ApiObject`) crosses to Node. These facts
never change once the object exists, so the answer is kept on the Python object that stands for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import cdk8s
import cdk8s_plus_28 as kplus
import jsii
from constructs import Construct, IValidation

from ._docs import document_class

_NAMESPACE = "_ollama_constructs_namespace"
_API_OBJECT = "_ollama_constructs_api_object"
_ADDRESS = "_ollama_constructs_address"
_CHECKED = "_ollama_constructs_unique_names"
_MISSING = object()


def _kept(owner: object, attribute: str) -> Any:
    return getattr(owner, "__dict__", {}).get(attribute, _MISSING)


def _keep(owner: object, attribute: str, value: Any) -> Any:
    if hasattr(owner, "__dict__"):
        owner.__dict__[attribute] = value
    return value


def namespace_of(scope: Construct) -> str | None:
    """The namespace of the chart `scope` is in (or is): `cdk8s.Chart.of(scope).namespace`."""
    chart = scope if isinstance(scope, cdk8s.Chart) else cdk8s.Chart.of(scope)
    namespace = _kept(chart, _NAMESPACE)
    if namespace is _MISSING:
        namespace = _keep(chart, _NAMESPACE, chart.namespace)
    return namespace  # type: ignore[no-any-return]


def api_object(construct: Construct) -> cdk8s.ApiObject:
    """`cdk8s.ApiObject.of(construct)`: the object a cdk8s-plus construct synthesizes (or `construct`
    itself when it is one)."""
    if isinstance(construct, cdk8s.ApiObject):
        return construct
    found = _kept(construct, _API_OBJECT)
    if found is _MISSING:
        found = _keep(construct, _API_OBJECT, cdk8s.ApiObject.of(construct))
    return found  # type: ignore[no-any-return]


def name_and_port(service: kplus.Service) -> tuple[str, int]:
    """A cdk8s-plus Service's `name` and (first) `port`."""
    address = _kept(service, _ADDRESS)
    if address is _MISSING:
        address = _keep(service, _ADDRESS, (service.name, service.port))
    return address  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- one name per object


ObjectKey = tuple[str, str, str, str]
"""What the API server keys an object by: (API group, kind, namespace, name)."""


def object_key(api_version: str, kind: str, namespace: str | None, name: str) -> ObjectKey:
    return api_version.rpartition("/")[0], kind, namespace or "", name


def _described(key: ObjectKey) -> str:
    group, kind, namespace, name = key
    return f"{kind} {namespace + '/' if namespace else ''}{name}" + (f" ({group})" if group else "")


def duplicate_problems(objects: Iterable[tuple[ObjectKey, str]]) -> list[str]:
    """One message per object whose key an earlier object already has: `objects` are (key, construct path)."""
    first: dict[ObjectKey, str] = {}
    problems = []
    for key, path in objects:
        if key in first:
            problems.append(
                f"{path} and {first[key]} both define {_described(key)}; "
                "give one of them another name (objects of one kind need distinct names in a namespace)"
            )
        else:
            first.setdefault(key, path)
    return problems


def _chart_objects(chart: cdk8s.Chart) -> list[tuple[ObjectKey, str]]:
    """Every API object of `chart`, with its construct path (many calls into Node: for checks only)."""
    default_namespace = chart.namespace
    found = []
    for node in chart.node.find_all():
        if isinstance(node, cdk8s.ApiObject) and cdk8s.Chart.of(node) is chart:
            key = object_key(node.api_version, node.kind, node.metadata.namespace or default_namespace, node.name)
            # A cdk8s-plus construct keeps its object as the child `Resource`: name the construct.
            owner = node.node.scope if node.node.id == "Resource" else None
            found.append((key, owner.node.path if owner is not None and owner is not chart else node.node.path))
    return found


class DuplicateObjectError(ValueError):
    """Two constructs of one chart define the same object (the same kind and name in one namespace)."""


def check_unique_objects(chart: cdk8s.Chart, manifests: list[Any]) -> None:
    """Raise :class:`DuplicateObjectError` when two of `chart`'s synthesized manifests are the same object.

    The check runs on the manifests (no call into Node); only when it fails are the objects' construct paths
    looked up, for the message.
    """
    keys = [
        object_key(m.get("apiVersion", ""), m.get("kind", ""), m["metadata"].get("namespace"), m["metadata"]["name"])
        for m in manifests
    ]
    if len(set(keys)) == len(keys):
        return
    problems = duplicate_problems(_chart_objects(chart))
    raise DuplicateObjectError("\n".join(problems) or "two manifests of the chart are the same object")


@jsii.implements(IValidation)
class _UniqueObjects:
    """The chart validation that refuses duplicate objects (cdk8s runs it in `to_json` and `synth`)."""

    def __init__(self, chart: cdk8s.Chart) -> None:
        self._chart = chart

    def validate(self) -> list[str]:
        return duplicate_problems(_chart_objects(self._chart))


def _guard_chart(scope: Construct) -> None:
    """Have the chart of `scope` refuse duplicate objects, once per chart. A chart that checks its own
    output (`checks_unique_objects`, as :class:`OllamaInferenceChart` does, for speed) is left as it is."""
    chart = scope if isinstance(scope, cdk8s.Chart) else cdk8s.Chart.of(scope)
    if getattr(chart, "checks_unique_objects", False) or _kept(chart, _CHECKED) is not _MISSING:
        return
    _keep(chart, _CHECKED, True)
    chart.node.add_validation(_UniqueObjects(chart))


_C = TypeVar("_C", bound=type)


def public_construct(cls: _C) -> _C:
    """Decorate a public construct class: `help()` and `inspect.signature` show its own `__init__`, and the
    chart it is added to refuses two objects of the same kind and name (naming both construct paths)."""
    init: Callable[..., None] = cls.__init__  # type: ignore[misc]

    @functools.wraps(init)
    def __init__(self: Construct, scope: Construct, id: str, *args: Any, **kwargs: Any) -> None:
        init(self, scope, id, *args, **kwargs)
        if not isinstance(scope, cdk8s.Chart) or not getattr(scope, "checks_unique_objects", False):
            _guard_chart(scope)

    cls.__init__ = __init__  # type: ignore[misc]
    document_class(
        cls,
        f"Add the {cls.__name__} to `scope` under `id` (unique among the children of `scope`); "
        "see the class documentation for the props and the objects it synthesizes.",
    )
    return cls

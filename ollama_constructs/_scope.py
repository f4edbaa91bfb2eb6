"""Facts about constructs that cost a call into cdk8s's Node process, asked once per object.

Every question to a jsii object (its chart, its namespace, its `ApiObject`) crosses to Node. These facts
never change once the object exists, so the answer is kept on the Python object that stands for it.
"""

from __future__ import annotations

from typing import Any

import cdk8s
import cdk8s_plus_28 as kplus
from constructs import Construct

_NAMESPACE = "_ollama_constructs_namespace"
_API_OBJECT = "_ollama_constructs_api_object"
_ADDRESS = "_ollama_constructs_address"
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

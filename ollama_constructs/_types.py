"""Constrained value types of the catalog layer and the props: DNS names, label values, Kubernetes
quantities, and the base model that keeps numbers and booleans apart.

Pure Python (no cdk8s): shared by the catalog layer and the construct props. Every constrained type says
in words what it allows: a value that does not match is refused with that description, never with the
regular expression (which stays in the JSON Schema, for editors).
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic import ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

#: Longest `serviceName`: 63 (a DNS label) less 16 characters for the suffixes the objects need
#: (`-redirect`, a StatefulSet ordinal, a pod-template hash) so that every derived name stays valid.
SERVICE_NAME_MAX_LENGTH = 47

INT32_MAX = 2**31 - 1
"""The largest integer a props or leaf field takes: most Kubernetes integer fields (replicas, ports, seconds,
counts) are int32, and a larger value would be refused by the API server only when the manifests are applied."""

_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_LABEL_VALUE = r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"


@dataclass(frozen=True, slots=True)
class Form:
    """A string's allowed form: a regular expression for the check (and the JSON Schema), and the words
    that say it in messages. Use as `Annotated[str, Form(pattern, "what it allows")]`."""

    pattern: str
    description: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        regex = re.compile(self.pattern)
        description = self.description

        def check(value: str) -> str:
            if not regex.match(value):
                raise PydanticCustomError("string_form", "must be {form}", {"form": description})
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


DNS_LABEL_WORDS = "lower-case letters, digits and '-', starting and ending with a letter or digit"


def _check_host(value: str) -> str:
    if len(value) > 253:
        raise ValueError("a DNS name has at most 253 characters")
    labels = value[2:].split(".") if value.startswith("*.") else value.split(".")
    if len(labels) < 2:
        raise ValueError(f"{value!r} is not a fully qualified DNS name (e.g. llm.example.com)")
    for label in labels:
        if len(label) > 63 or not re.match(_DNS_LABEL, label):
            raise ValueError(
                f"{value!r} is not a valid DNS name: each dot-separated part must be 1-63 {DNS_LABEL_WORDS}"
            )
    return value


DnsLabel = Annotated[
    str, StringConstraints(min_length=1, max_length=63), Form(_DNS_LABEL, f"a DNS label: {DNS_LABEL_WORDS}")
]
"""A DNS-1123 label: lower-case letters, digits and '-', 1-63 characters."""

ServiceName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SERVICE_NAME_MAX_LENGTH),
    Form(_DNS_LABEL, f"a DNS label: {DNS_LABEL_WORDS}"),
]
"""A DNS-1123 label short enough to take the suffixes of the objects derived from it."""

DnsSubdomain = Annotated[
    str,
    StringConstraints(min_length=1, max_length=253),
    Form(_DNS_SUBDOMAIN, f"a DNS name: dot-separated parts of {DNS_LABEL_WORDS}"),
]
"""A DNS-1123 subdomain (the names of most Kubernetes objects)."""

HostName = Annotated[str, AfterValidator(_check_host)]
"""A fully qualified DNS host name, optionally a wildcard (`*.example.com`)."""

LabelValue = Annotated[
    str,
    StringConstraints(max_length=63),
    Form(_LABEL_VALUE, "a label value: letters, digits, '-', '_' or '.', starting and ending with a letter or digit"),
]
"""A Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends."""

DataKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=253),
    Form(r"^[-._a-zA-Z0-9]+$", "a key of a Secret or ConfigMap: letters, digits, '-', '_' or '.'"),
]
"""A key in the data of a Secret or ConfigMap (`ca.crt`, `api-keys`)."""

ResourceName = Annotated[
    str,
    StringConstraints(max_length=253),
    Form(
        r"^[a-z0-9.-]+/[A-Za-z0-9._-]+$",
        "an extended resource name: a domain, '/', then letters, digits, '-', '_' or '.' (e.g. nvidia.com/gpu)",
    ),
]
"""An extended resource such as `nvidia.com/gpu` or `nvidia.com/mig-1g.10gb`."""

LabelKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=317),
    Form(
        r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        "a label key: an optional DNS-name prefix and '/', then at most 63 letters, digits, '-', '_' or '.', "
        "starting and ending with a letter or digit (e.g. k8s-app)",
    ),
]
"""A Kubernetes label key: `[<DNS subdomain>/]<name of at most 63 characters>`."""

HttpsUrl = Annotated[
    str,
    StringConstraints(max_length=2048),
    Form(r"^https://[^\s/]+(/\S*)?$", "an https:// URL without spaces (e.g. https://acme-v02.api.letsencrypt.org/directory)"),
]
"""An `https://` URL, such as an ACME directory."""

EmailAddress = Annotated[
    str,
    StringConstraints(max_length=254),
    Form(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "an e-mail address (name@example.com)"),
]
"""An e-mail address."""

HostPort = Annotated[
    str,
    StringConstraints(min_length=1, max_length=259),
    Form(
        r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?(:[0-9]{1,5})?$",
        "a host name or address, optionally with ':port' (e.g. models.corp:5000)",
    ),
]
"""`host[:port]` of a registry."""

_QUANTITY = re.compile(
    r"^(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def quantity_value(text: str) -> Decimal:
    """The numeric value of a Kubernetes quantity (`500m` -> 0.5, `2Gi` -> 2147483648).

    Raises:
        ValueError: when `text` is not a non-negative Kubernetes quantity.
    """
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(
            f"{text!r} is not a Kubernetes quantity (examples: 500m, 2, 1.5, 512Mi, 4Gi, 1e3)"
        )
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise ValueError(f"{text!r} is not a Kubernetes quantity") from exc
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix[:1] in ("e", "E"):
        return number * (Decimal(10) ** int(suffix[1:]))
    return number * _DECIMAL[suffix]


def _check_quantity(value: str | int | float) -> str:
    text = str(value)
    quantity_value(text)
    return text


Quantity = Annotated[str | int | float, AfterValidator(_check_quantity)]
"""A Kubernetes resource quantity such as `500m`, `2` or `4Gi`; numbers are taken as their text."""


# --------------------------------------------------------------------------- numbers and booleans


def _scalar_kind(annotation: Any) -> type | None:
    """`int` or `bool` when a field holds exactly that scalar (optionally None); else None."""
    args = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else (annotation,)
    kinds = {arg for arg in args if arg is not type(None)}
    return next(iter(kinds)) if kinds in ({int}, {bool}) else None


_SCALAR_FIELDS: dict[type, dict[str, type]] = {}


def _schema_description(schema: dict[str, Any], model: type) -> None:
    from ._docs import schema_description

    schema_description(schema, model)


class StrictModel(BaseModel):
    """A model whose integer fields take only whole numbers up to `INT32_MAX` (not `true`, `2.0` or `"2"`)
    and whose boolean fields take only `true` or `false` (not `1` or `"yes"`)."""

    model_config = ConfigDict(json_schema_extra=_schema_description)

    @classmethod
    def __pydantic_on_complete__(cls) -> None:
        """Once the fields are known (forward references resolved): the signature and field list `help()` shows."""
        super().__pydantic_on_complete__()
        from ._docs import document_model

        document_model(cls, aliases=cls.model_config.get("alias_generator") is not None)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_scalars(cls, value: Any, info: ValidationInfo) -> Any:
        fields = _SCALAR_FIELDS.get(cls)
        if fields is None:
            fields = _SCALAR_FIELDS[cls] = {
                name: kind for name, field in cls.model_fields.items() if (kind := _scalar_kind(field.annotation))
            }
        kind = fields.get(info.field_name or "")
        if kind is None or value is None:
            return value
        if kind is bool:
            if not isinstance(value, bool):
                raise PydanticCustomError("bool_strict", "must be true or false")
        elif isinstance(value, bool):
            raise PydanticCustomError("int_strict", "must be a whole number, not true or false")
        elif not isinstance(value, int):
            raise PydanticCustomError("int_strict", "must be a whole number")
        elif abs(value) > INT32_MAX:
            raise PydanticCustomError(
                "int_bounds", "must be at most {limit} (Kubernetes keeps it as a 32-bit integer)", {"limit": INT32_MAX}
            )
        return value

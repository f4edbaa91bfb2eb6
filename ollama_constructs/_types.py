"""Constrained value types of the catalog layer: DNS names, label values, Kubernetes quantities.

Pure Python (no cdk8s): shared by the catalog layer and the construct props.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

#: Longest `serviceName`: 63 (a DNS label) less 16 characters for the suffixes the objects need
#: (`-redirect`, a StatefulSet ordinal, a pod-template hash) so that every derived name stays valid.
SERVICE_NAME_MAX_LENGTH = 47

_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_LABEL_VALUE = r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"


def _check_host(value: str) -> str:
    if len(value) > 253:
        raise ValueError("a DNS name has at most 253 characters")
    labels = value[2:].split(".") if value.startswith("*.") else value.split(".")
    if len(labels) < 2:
        raise ValueError(f"{value!r} is not a fully qualified DNS name (e.g. llm.example.com)")
    for label in labels:
        if len(label) > 63 or not re.match(_DNS_LABEL, label):
            raise ValueError(
                f"{value!r} is not a valid DNS name: each dot-separated part must be 1-63 lower-case "
                "letters, digits or '-', starting and ending with a letter or digit"
            )
    return value


DnsLabel = Annotated[str, StringConstraints(pattern=_DNS_LABEL, min_length=1, max_length=63)]
"""A DNS-1123 label: lower-case letters, digits and '-', 1-63 characters."""

ServiceName = Annotated[
    str, StringConstraints(pattern=_DNS_LABEL, min_length=1, max_length=SERVICE_NAME_MAX_LENGTH)
]
"""A DNS-1123 label short enough to take the suffixes of the objects derived from it."""

DnsSubdomain = Annotated[str, StringConstraints(pattern=_DNS_SUBDOMAIN, min_length=1, max_length=253)]
"""A DNS-1123 subdomain (the names of most Kubernetes objects)."""

HostName = Annotated[str, AfterValidator(_check_host)]
"""A fully qualified DNS host name, optionally a wildcard (`*.example.com`)."""

LabelValue = Annotated[str, StringConstraints(pattern=_LABEL_VALUE, max_length=63)]
"""A Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends."""

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

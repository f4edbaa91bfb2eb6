"""The shared base of every construct's props model."""

from __future__ import annotations

from pydantic import ConfigDict

from ._types import StrictModel


class Props(StrictModel):
    """Base class of construct props: frozen, closed to unknown fields, documented by field docstrings.

    Collections in props are tuples or mappings, so a frozen model cannot be changed behind its back.
    Integers are whole numbers up to 2**31-1 and booleans are `True` or `False` (see `StrictModel`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

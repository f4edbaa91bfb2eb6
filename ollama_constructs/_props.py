"""The shared base of every construct's props model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Props(BaseModel):
    """Base class of construct props: frozen, closed to unknown fields, documented by field docstrings.

    Collections in props are tuples or mappings, so a frozen model cannot be changed behind its back.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

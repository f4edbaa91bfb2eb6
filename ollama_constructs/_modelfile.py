"""Rendering a Modelfile from a base model, a system prompt, a template and parameters."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence


def _value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def render_modelfile(
    base: str,
    *,
    system: str | None = None,
    template: str | None = None,
    parameters: Mapping[str, str | int | float | bool | Sequence[str | int | float | bool]] | None = None,
) -> str:
    """A Modelfile `FROM base` with the given SYSTEM, TEMPLATE and PARAMETER lines (sorted, stable).

    A list value gives one PARAMETER line per item (e.g. several `stop` sequences).
    """
    lines = [f"FROM {base}"]
    for name, value in sorted((parameters or {}).items()):
        for item in value if isinstance(value, (list, tuple)) else (value,):
            lines.append(f"PARAMETER {name} {_value(item)}")
    if template is not None:
        lines.append(f'TEMPLATE """{template}"""')
    if system is not None:
        lines.append(f'SYSTEM """{system}"""')
    return "\n".join(lines) + "\n"

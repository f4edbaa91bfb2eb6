"""What `help()` and `inspect.signature` show for the public classes (pure Python, no cdk8s).

jsii's metaclass makes every construct's signature `(*args, **kwargs)`, and pydantic's generated signature
of a props model spells out every `Annotated[..., StringConstraints(...)]`. Here each class gets its real
signature, with the types as a reader writes them, and a props model's docstring gets a list of its fields,
each with its default and its documentation.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

_MODULE_PREFIX = re.compile(r"\b(?:ollama_constructs|cdk8s_plus_28|cdk8s|constructs|collections\.abc|typing)\.(?:[\w]+\.)*")


def type_name(annotation: Any) -> str:
    """`annotation` as a reader writes it: `str`, `tuple[ModelSource | str, ...]`, `Mapping[str, str] | None`."""
    if annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in typing.get_args(annotation)) + "]"
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = typing.get_args(annotation)
        name = getattr(origin, "__name__", str(origin))
        shown = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
        return f"{name}[{shown}]" if args else name
    if isinstance(annotation, type):
        return annotation.__name__
    return _MODULE_PREFIX.sub("", str(annotation))


class _Shown:
    """An annotation or default that prints as given (in a signature)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _default(field: FieldInfo) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return _Shown(repr(field.default_factory()))  # type: ignore[call-arg]
    return inspect.Parameter.empty


def model_signature(model: type[BaseModel]) -> inspect.Signature:
    """Keyword-only parameters, one per field (by its Python name), with readable types and defaults."""
    parameters = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=_default(field),
            annotation=_Shown(type_name(field.annotation)),
        )
        for name, field in model.model_fields.items()
    ]
    return inspect.Signature(parameters, return_annotation=_Shown("None"))


def _field_lines(model: type[BaseModel], aliases: bool) -> list[str]:
    lines = []
    for name, field in model.model_fields.items():
        key = field.alias if aliases and field.alias else name
        default = _default(field)
        shown = "required" if default is inspect.Parameter.empty else f"default {default!r}"
        lines.append(f"{key}: {type_name(field.annotation)} ({shown})")
        for line in (field.description or "").splitlines():
            lines.append(f"    {line.strip()}")
    return lines


OWN_DOC = "__ollama_constructs_doc__"
"""Where a documented model keeps its docstring as written (its JSON Schema's description)."""


def schema_description(schema: dict[str, Any], model: type) -> None:
    """A `json_schema_extra` hook: the model's own docstring as its description, without the field list."""
    own = model.__dict__.get(OWN_DOC)
    if own:
        schema["description"] = own
    elif own == "":
        schema.pop("description", None)


def document_model(model: type[BaseModel], *, aliases: bool = False) -> None:
    """Give a (complete) pydantic model its readable signature and a `Fields:` section in its docstring.
    With `aliases`, the fields are listed by their YAML keys, as a leaf spells them."""
    model.__signature__ = model_signature(model)  # type: ignore[assignment]
    doc = inspect.cleandoc(model.__dict__.get("__doc__") or "")
    setattr(model, OWN_DOC, doc)
    if model.model_fields and "\n\nFields:\n" not in doc:
        doc += "\n\nFields:\n" + "\n".join(f"    {line}" for line in _field_lines(model, aliases))
    model.__doc__ = doc


def document_class(cls: type, describe_init: str | None = None) -> None:
    """Give a construct (or chart) class the signature of its own `__init__`, not jsii's `(*args, **kwargs)`;
    `describe_init` becomes the docstring of an `__init__` that has none (instead of the base class's)."""
    init: Callable[..., None] = cls.__init__  # type: ignore[misc]
    try:
        signature = inspect.signature(init, eval_str=True)
    except NameError:  # an annotation naming something only a type checker imports
        signature = inspect.signature(init)
    parameters = list(signature.parameters.values())[1:]  # without self
    cls.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(annotation=_Shown(type_name(p.annotation))) if p.annotation is not p.empty else p
                    for p in parameters],
        return_annotation=inspect.Signature.empty,
    )
    if describe_init and not init.__doc__:
        init.__doc__ = describe_init

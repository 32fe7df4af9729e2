"""Request models fed from JSON without pydantic's lax conversions between JSON types.

Lax mode reads `true` as 1, `"5"` as 5.0 and `1` as true, and matches `false` to an enum's member 0:
`{"sizing": {"mode": false}}` would be fixed sizing. `Annotated[Model, refuse_coercion(Model)]` refuses,
with the field named, any JSON value whose type the field does not admit; the model itself stays lax for
Python callers. `TimeValue` is a time given as ISO-8601 or epoch seconds, never a boolean.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator


def refuse_coercion(model: type[BaseModel]) -> BeforeValidator:
    """A validator refusing the values of `model`'s fields that lax mode would convert to another type."""
    types = {name: _types(field.annotation) for name, field in model.model_fields.items()}

    def check(data: object) -> object:
        if isinstance(data, dict):
            for name, value in data.items():
                if name in types and _coerced(value, types[name]):
                    expected = "a boolean" if types[name] == {bool} else "a number"
                    raise ValueError(f"{name}: expected {expected}, got {_json_type(value)}")
        return data

    return BeforeValidator(check)


def _not_boolean(value: object) -> object:
    if isinstance(value, bool):  # lax mode would read `true` as epoch second 1
        raise ValueError("expected ISO-8601 or epoch seconds, got a boolean")
    return value


TimeValue = Annotated[str | int | float, BeforeValidator(_not_boolean)]


def _types(annotation: Any) -> set[Any]:
    """The types a field's annotation admits, None left out."""
    return {t for t in (get_args(annotation) or (annotation,)) if t is not type(None)}


def _coerced(value: object, types: set[Any]) -> bool:
    """Whether `value` is of a JSON type the field does not admit, which lax mode would convert."""
    if isinstance(value, bool):
        return bool not in types
    if isinstance(value, int | float):
        return types == {bool}
    if isinstance(value, str):
        return types <= {int, float, bool}  # an enum field takes its members' names
    return False


def _json_type(value: object) -> str:
    return "a boolean" if isinstance(value, bool) else "a string" if isinstance(value, str) else "a number"

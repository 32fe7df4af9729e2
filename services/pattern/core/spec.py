"""Parsing and validating specs such as `SMA(20),RSI,MACD(12,26,9),BBANDS(timeperiod=20,nbdevup=2.5)`.

Grammar: specs are separated by commas outside parentheses; a spec is a function name (any case; patterns
also without their CDL prefix), optionally followed by arguments in parentheses. Positional arguments
fill the parameters in TA-Lib's order; `name=value` sets a parameter by name, or points an input slot at
another bar column (`SMA(20, price=high)`). MA types may be given by number or by name (`MA(30, EMA)`).

Labels name the result columns and are unique per distinct computation: the function name alone when no
argument is given, otherwise the name followed by the parameter values up to the last one given and the
re-pointed input columns, joined by `_`: `SMA(20)` → `SMA_20`, `BBANDS(nbdevup=3)` → `BBANDS_20_3`,
`MA(30,EMA)` → `MA_30_EMA`, `SMA(20,price=high)` → `SMA_20_high`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from services.pattern.core.catalog import Catalog, FunctionInfo, ParameterInfo
from shared.errors import InvalidInputError

# A name may start with a digit: TA-Lib's patterns without their CDL prefix do (3WHITESOLDIERS).
_ITEM = re.compile(r"\s*([A-Za-z0-9_]+)\s*(?:\((.*)\))?\s*", re.DOTALL)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True, slots=True)
class Spec:
    """A validated call of one TA-Lib function: every parameter resolved, every input bound to a column."""

    function: FunctionInfo
    params: tuple[tuple[str, int | float], ...]
    columns: tuple[str, ...]
    label: str

    @property
    def name(self) -> str:
        """TA-Lib's function name."""
        return self.function.name

    @property
    def kwargs(self) -> dict[str, int | float]:
        """Parameters as keyword arguments for the `talib` function."""
        return dict(self.params)

    @property
    def output_columns(self) -> tuple[str, ...]:
        """Result column names: the label for one output, `<label>_<output>` for several."""
        outputs = self.function.outputs
        if len(outputs) == 1:
            return (self.label,)
        return tuple(f"{self.label}_{output}" for output in outputs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of what was computed under which column names."""
        return {
            "label": self.label,
            "name": self.name,
            "parameters": self.kwargs,
            "inputs": {
                slot.name: column for slot, column in zip(self.function.inputs, self.columns, strict=True)
            },
            "columns": dict(zip(self.function.outputs, self.output_columns, strict=True)),
        }


def parse_specs(text: str, catalog: Catalog, *, max_specs: int = 64) -> list[Spec]:
    """Parse a comma-separated list of specs; repeats of the same computation are dropped."""
    items = [item for item in _split_top_level(text) if item.strip()]
    if not items:
        raise InvalidInputError(f"no {catalog.item} given", code="invalid_spec", details={"spec": text})
    if len(items) > max_specs:
        raise InvalidInputError(
            f"at most {max_specs} {catalog.item}s per request",
            code="invalid_spec",
            details={"count": len(items), "max": max_specs},
        )
    specs: dict[str, Spec] = {}
    for item in items:
        spec = parse_spec(item, catalog)
        specs.setdefault(spec.label, spec)
    return list(specs.values())


def parse_spec(text: str, catalog: Catalog) -> Spec:
    """Parse and validate one spec against the catalog."""
    match = _ITEM.fullmatch(text)
    if match is None:
        raise InvalidInputError(f"cannot parse {text.strip()!r}", code="invalid_spec", details={"spec": text})
    function = catalog.resolve(match.group(1))
    arguments = match.group(2)
    given: dict[str, int | float] = {}
    columns = {slot.name: slot.column for slot in function.inputs}
    overridden: dict[str, str] = {}
    errors = _ErrorFactory(catalog.item, function.name)
    if arguments is not None and arguments.strip():
        seen_keyword = False
        for position, raw in enumerate(arguments.split(",")):
            key, sep, value = raw.partition("=")
            if sep:
                seen_keyword = True
                _apply_keyword(function, key.strip().lower(), value.strip(), given, overridden, errors)
                continue
            if seen_keyword:
                raise errors.invalid(None, raw.strip(), "positional argument after a keyword argument")
            if position >= len(function.parameters):
                raise errors.invalid(
                    None,
                    raw.strip(),
                    f"{function.name} takes at most {len(function.parameters)} parameters",
                    expected_count=len(function.parameters),
                    given_count=len(arguments.split(",")),
                )
            parameter = function.parameters[position]
            given[parameter.name] = _parse_value(parameter, raw.strip(), errors)
    columns.update(overridden)
    params = tuple((p.name, given.get(p.name, p.default)) for p in function.parameters)
    return Spec(
        function=function,
        params=params,
        columns=tuple(columns.values()),
        label=_label(function, params, given, overridden),
    )


class _ErrorFactory:
    """Builds the 422 for one spec so every error names the function and the parameter the same way."""

    def __init__(self, item: str, name: str) -> None:
        self.item, self.name = item, name

    def invalid(self, parameter: str | None, value: str, reason: str, **extra: Any) -> InvalidInputError:
        where = f"{self.name}.{parameter}" if parameter else self.name
        return InvalidInputError(
            f"{where}: {reason}",
            code="invalid_parameter",
            details={self.item: self.name, "parameter": parameter, "value": value, "reason": reason, **extra},
        )


def _apply_keyword(
    function: FunctionInfo,
    key: str,
    value: str,
    given: dict[str, int | float],
    overridden: dict[str, str],
    errors: _ErrorFactory,
) -> None:
    parameter = function.parameter(key)
    if parameter is not None:
        if key in given:
            raise errors.invalid(key, value, "given twice")
        given[key] = _parse_value(parameter, value, errors)
        return
    slot = next((s for s in function.inputs if s.name == key), None)
    if slot is None:
        names = [p.name for p in function.parameters] + [s.name for s in function.inputs]
        raise errors.invalid(key, value, "no such parameter or input", allowed=names)
    if _IDENTIFIER.fullmatch(value) is None:
        raise errors.invalid(key, value, "an input takes a column name such as high or close")
    if value.lower() != slot.column:
        overridden[key] = value.lower()


def _parse_value(parameter: ParameterInfo, raw: str, errors: _ErrorFactory) -> int | float:
    value: int | float
    if parameter.kind == "float":
        try:
            value = float(raw)
        except ValueError:
            raise errors.invalid(parameter.name, raw, "expected a number") from None
        if not math.isfinite(value):
            raise errors.invalid(parameter.name, raw, "expected a finite number")
    elif _INTEGER.fullmatch(raw):
        value = int(raw)
    elif parameter.kind == "ma_type" and parameter.choices is not None:
        by_name = {label.upper(): number for number, label in parameter.choices}
        if raw.upper() not in by_name:
            raise errors.invalid(parameter.name, raw, "unknown MA type", allowed=list(by_name))
        return by_name[raw.upper()]
    else:
        raise errors.invalid(parameter.name, raw, "expected an integer")
    _check_range(parameter, raw, value, errors)
    return value


def _check_range(parameter: ParameterInfo, raw: str, value: int | float, errors: _ErrorFactory) -> None:
    if parameter.choices is not None:
        if value not in {number for number, _ in parameter.choices}:
            allowed = [number for number, _ in parameter.choices]
            raise errors.invalid(parameter.name, raw, "not an allowed value", allowed=allowed)
        return
    low, high = parameter.minimum, parameter.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        raise errors.invalid(parameter.name, raw, f"out of range [{low}, {high}]", min=low, max=high)


def _label(
    function: FunctionInfo,
    params: tuple[tuple[str, int | float], ...],
    given: dict[str, int | float],
    overridden: dict[str, str],
) -> str:
    last_given = max((i for i, (name, _) in enumerate(params) if name in given), default=-1)
    parts = [function.name]
    for parameter, (_, value) in zip(function.parameters[: last_given + 1], params, strict=False):
        parts.append(_format_value(parameter, value))
    parts.extend(overridden.values())
    return "_".join(parts)


def _format_value(parameter: ParameterInfo, value: int | float) -> str:
    if parameter.choices is not None:
        return dict(parameter.choices).get(int(value), str(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside parentheses; unbalanced parentheses are a syntax error."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                break
        elif char == "," and depth == 0:
            items.append(text[start:index])
            start = index + 1
    if depth != 0:
        raise InvalidInputError("unbalanced parentheses", code="invalid_spec", details={"spec": text})
    items.append(text[start:])
    return items

"""The catalog of TA-Lib functions, described from TA-Lib's own metadata.

Each function has named input series, optional parameters and named outputs. Inputs are flattened into
*slots*: TA-Lib's `{"price": "close"}` becomes one slot `price` reading the `close` column, its
`{"prices": ["high", "low", "close"]}` three slots named after their columns, and the two-series
functions (BETA, CORREL, ADD, ...) have slots `price0`/`price1` on `high`/`low`, as TA-Lib's defaults say.
A spec may point a slot at another column (`SMA(20, price=high)`); MAVP's `periods` slot has no bar
column, so it must be sent with the bars.

Parameter kinds: `int` and `float` carry TA-Lib's range (None where TA-Lib sets no limit); `ma_type`
(TA-Lib's integer lists, which are all moving-average types) carries the allowed values with their names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import talib

# Neither name is in the wrapper's type stubs; both are what talib.abstract itself is built on.
from talib._ta_lib import _ta_getOptInputParameterInfo  # type: ignore[attr-defined]
from talib.abstract import Function as TaFunction  # type: ignore[attr-defined]

from services.pattern.core.ta_limits import ParameterLimits, read_limits
from shared.errors import InvalidInputError

PATTERN_GROUP = "Pattern Recognition"
ParameterKind = Literal["int", "float", "ma_type"]

# _ta_getOptInputParameterInfo "type" (ta_abstract.h TA_OptInputParameterType)
_KIND_BY_TA_TYPE: dict[int, ParameterKind] = {0: "float", 1: "float", 2: "int", 3: "ma_type"}


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    """One optional input of a TA-Lib function."""

    name: str
    display_name: str
    kind: ParameterKind
    default: float
    minimum: float | None
    maximum: float | None
    choices: tuple[tuple[int, str], ...] | None
    description: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        out: dict[str, Any] = {
            "name": self.name,
            "display_name": self.display_name,
            "type": self.kind,
            "default": self.default,
            "description": self.description,
        }
        if self.choices is not None:
            out["choices"] = [{"value": value, "name": label} for value, label in self.choices]
        else:
            out["min"], out["max"] = self.minimum, self.maximum
        return out


@dataclass(frozen=True, slots=True)
class InputSlot:
    """One input series of a function and the bar column it reads by default."""

    name: str
    column: str


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A TA-Lib function: what it reads, what it takes and what it returns."""

    name: str
    group: str
    display_name: str
    inputs: tuple[InputSlot, ...]
    parameters: tuple[ParameterInfo, ...]
    outputs: tuple[str, ...]
    flags: tuple[str, ...]

    @property
    def item(self) -> str:
        """What a client calls it: "pattern" for candlestick functions, "indicator" for the rest."""
        return "pattern" if self.group == PATTERN_GROUP else "indicator"

    def parameter(self, name: str) -> ParameterInfo | None:
        """The parameter called `name`, if any."""
        return next((p for p in self.parameters if p.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (the `GET /indicators` and `GET /patterns` item)."""
        return {
            "name": self.name,
            "group": self.group,
            "display_name": self.display_name,
            "inputs": [{"name": s.name, "column": s.column} for s in self.inputs],
            "parameters": [p.to_dict() for p in self.parameters],
            "outputs": list(self.outputs),
            "flags": list(self.flags),
        }


class Catalog(Mapping[str, FunctionInfo]):
    """Functions of one kind by upper-case name; `resolve` raises a 422 naming the unknown function."""

    def __init__(self, functions: Mapping[str, FunctionInfo], *, item: str, prefix: str = "") -> None:
        self._functions = dict(functions)
        self.item = item  # "indicator" or "pattern": used in error codes and details
        self._prefix = prefix

    @classmethod
    def indicators(cls, library_path: str | None = None) -> Catalog:
        """Every TA-Lib function except the candlestick patterns, math operators and transforms included."""
        names = [n for g, ns in talib.get_function_groups().items() if g != PATTERN_GROUP for n in ns]
        return cls(_load(names, library_path), item="indicator")

    @classmethod
    def candlesticks(cls, library_path: str | None = None) -> Catalog:
        """The CDL* candlestick pattern functions; names resolve with or without the CDL prefix."""
        names = list(talib.get_function_groups()[PATTERN_GROUP])
        return cls(_load(names, library_path), item="pattern", prefix="CDL")

    def resolve(self, name: str) -> FunctionInfo:
        """The function called `name` (any case), or InvalidInputError `unknown_<item>`."""
        key = name.strip().upper()
        info = self._functions.get(key) or self._functions.get(self._prefix + key)
        if info is None:
            raise InvalidInputError(
                f"unknown {self.item} {name!r}",
                code=f"unknown_{self.item}",
                details={self.item: name},
            )
        return info

    def describe(self) -> list[dict[str, Any]]:
        """All functions as JSON-ready dicts, sorted by group then name."""
        return [f.to_dict() for f in sorted(self._functions.values(), key=lambda f: (f.group, f.name))]

    def __getitem__(self, name: str) -> FunctionInfo:
        return self._functions[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)


def _load(names: list[str], library_path: str | None) -> dict[str, FunctionInfo]:
    infos = {name: TaFunction(name).info for name in names}
    limits = read_limits({n: len(i["parameters"]) for n, i in infos.items()}, library_path)
    return {name: _function_info(name, info, limits) for name, info in infos.items()}


def _function_info(
    name: str, info: dict[str, Any], limits: dict[tuple[str, int], ParameterLimits] | None
) -> FunctionInfo:
    slots: list[InputSlot] = []
    for slot, columns in info["input_names"].items():
        if isinstance(columns, list):
            slots.extend(InputSlot(column, column) for column in columns)
        else:
            slots.append(InputSlot(slot, columns))
    parameters = []
    for index, pname in enumerate(info["parameters"]):
        raw = _ta_getOptInputParameterInfo(name.encode(), index)
        limit = limits.get((name, index), ParameterLimits()) if limits is not None else ParameterLimits()
        parameters.append(
            ParameterInfo(
                name=pname,
                display_name=raw["display_name"],
                kind=_KIND_BY_TA_TYPE[raw["type"]],
                default=raw["default_value"],
                minimum=limit.minimum,
                maximum=limit.maximum,
                choices=limit.choices,
                description=raw["help"],
            )
        )
    return FunctionInfo(
        name=name,
        group=info["group"],
        display_name=info["display_name"],
        inputs=tuple(slots),
        parameters=tuple(parameters),
        outputs=tuple(info["output_names"]),
        flags=tuple(info["function_flags"] or ()),
    )

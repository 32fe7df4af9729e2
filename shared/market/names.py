"""Symbol and timeframe names on input: one rule for every service's path, query and body parameters.

Both are case-insensitive on input and canonical upper-case in answers (`eurusd` is `EURUSD`, `m5` is
`M5`). An unknown timeframe is a 422 `unknown_timeframe` naming the field; whether a symbol exists is each
service's knowledge (its configuration, its terminal), refused with `unknown_symbol_error`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from shared.errors import InvalidInputError, NotFoundError
from shared.market.timeframes import TIMEFRAMES, UnknownTimeframeError, get_timeframe

# Codes a pydantic validator may raise that the error handler answers with as they are, not as
# `validation_error`, so a path, a query and a body field are refused alike.
NAME_ERROR_CODES = frozenset({"unknown_symbol", "unknown_timeframe"})


def canonical_timeframe(value: str, field: str = "timeframe") -> str:
    """The MT5 name of a timeframe given by name in any case (or by MT5 code), or a 422
    `unknown_timeframe` naming `field`."""
    try:
        return _lookup(value)
    except UnknownTimeframeError as exc:
        raise InvalidInputError(
            str(exc), code="unknown_timeframe", details={"field": field, "value": value}
        ) from None


def _lookup(value: str) -> str:
    return get_timeframe(int(value) if value.isdigit() else value).name


def unknown_symbol_error(symbol: str, known: Iterable[str], field: str = "symbol") -> NotFoundError:
    """The 404 for a well-formed symbol the service does not serve, listing the ones it does."""
    names = ", ".join(known)
    return NotFoundError(
        f"unknown symbol {symbol!r}; known: {names}",
        code="unknown_symbol",
        details={"field": field, "value": symbol},
    )


def _timeframe(value: str) -> str:
    try:
        return _lookup(value)
    except UnknownTimeframeError:
        raise PydanticCustomError(
            "unknown_timeframe",
            "unknown timeframe '{value}'; expected one of {names}",
            {"value": value, "names": ", ".join(TIMEFRAMES)},
        ) from None


SymbolName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32),
    Field(description="case-insensitive; answered in upper case", examples=["EURUSD"]),
]
"""A symbol as a parameter or body field: any case in, upper case out."""

TimeframeName = Annotated[
    str,
    AfterValidator(_timeframe),
    Field(description="MT5 name in any case: M1, m5, H1, D1 ...", examples=["H1"]),
]
"""A timeframe as a parameter or body field: any case in, its MT5 name out; unknown → unknown_timeframe."""

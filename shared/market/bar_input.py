"""Bars sent by a client (ai, backtesting, pattern): the column names, and the rules across columns.

A body's columns arrive as numpy arrays already (JSON through `shared.market.bar_body`, checked element by
element by `shared.market.bar_columns`; Arrow columns decoded there too). What one element cannot show is
checked here, once for every service: every column as long as `time`, every value finite, times strictly
increasing, high >= low, and the service's own bounds. Each refusal is the one 422 `invalid_bars`, naming
the column and, when one bar is at fault, its row.

These rules live outside the request models on purpose: the JSON fast path puts simdjson's arrays into a
model without running its validators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from shared.errors import InvalidInputError

BAR_COLUMNS = ("time", "open", "high", "low", "close", "tick_volume", "spread")
"""The columns of a bar as the services exchange them (a subset of `RATES_DTYPE`'s fields)."""

PRICE_COLUMNS = ("open", "high", "low", "close")

Columns = dict[str, np.ndarray]
ColumnValues = Sequence[float] | np.ndarray


def check_bars(
    columns: Mapping[str, ColumnValues | None],
    *,
    required: Sequence[str] = (),
    min_bars: int = 0,
    max_bars: int | None = None,
    positive: Sequence[str] = (),
) -> Columns:
    """The columns sent (None ones left out) as numpy arrays, `time` int64 and the others float64, validated.

    Arrays of the right type are not copied. Rules: a `time` column and the `required` ones; between
    `min_bars` and `max_bars` bars; every column as long as `time`; every value finite; the `positive`
    columns above zero; times strictly increasing; high >= low on every bar.
    """
    arrays = {name: values for name, values in columns.items() if values is not None}
    for name in ("time", *required):
        if name not in arrays:
            raise invalid_bars(name, None, f"the {name} column is required")
    length = len(arrays["time"])
    if max_bars is not None and length > max_bars:
        raise invalid_bars("time", None, f"at most {max_bars} bars per request", length=length, max=max_bars)
    if length < min_bars:
        raise invalid_bars("time", None, f"at least {min_bars} bars per request", length=length, min=min_bars)
    out: Columns = {"time": _as_array("time", arrays.pop("time"), np.int64)}
    for name, values in arrays.items():
        if len(values) != length:
            raise invalid_bars(name, None, f"has {len(values)} values, time has {length}", length=len(values))
        array = _as_array(name, values, np.float64)
        finite = np.isfinite(array)
        if not finite.all():
            raise invalid_bars(name, int(np.argmin(finite)), "values must be finite numbers")
        out[name] = array
    for name in positive:
        if name in out and not (above := out[name] > 0).all():
            raise invalid_bars(name, int(np.argmin(above)), "prices must be positive")
    backwards = np.flatnonzero(np.diff(out["time"]) <= 0)
    if len(backwards):
        raise invalid_bars("time", int(backwards[0]) + 1, "times must be strictly increasing")
    if "high" in out and "low" in out:
        crossed = np.flatnonzero(out["high"] < out["low"])
        if len(crossed):
            raise invalid_bars("high", int(crossed[0]), "high is below low")
    return out


def _as_array(name: str, values: ColumnValues, dtype: type[np.generic]) -> np.ndarray:
    """`values` as an array of `dtype`; no copy when they already are one."""
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):  # e.g. an Arrow column of strings or lists
        raise invalid_bars(name, None, "values must be numbers") from None


def invalid_bars(column: str, index: int | None, reason: str, **extra: object) -> InvalidInputError:
    """The 422 for bar column `column` (at row `index`, when one row is at fault)."""
    where = f"bars.{column}" if index is None else f"bars.{column}[{index}]"
    return InvalidInputError(
        f"{where}: {reason}",
        code="invalid_bars",
        details={"field": f"bars.{column}", "column": column, "index": index, "reason": reason, **extra},
    )

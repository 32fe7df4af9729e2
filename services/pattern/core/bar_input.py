"""Bars sent by a client: numpy columns checked, each refusal naming the column and row.

JSON bodies arrive already as int64/float64 arrays (see `shared.market.bar_columns`) and are used as they
are, without a copy; Arrow columns or plain lists are converted here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from shared.errors import InvalidInputError

Columns = dict[str, np.ndarray]
ColumnValues = Sequence[float] | np.ndarray


def bars_from_lists(
    columns: Mapping[str, ColumnValues | None], *, max_bars: int, required: Sequence[str] = ()
) -> Columns:
    """Numpy columns of client bars, validated; `volume` defaults to `tick_volume` (MT5's bar volume).

    Rules: a `time` column (epoch seconds) strictly increasing, and the `required` columns; every column as
    long as `time`; every value finite; high >= low on every bar; at most `max_bars` bars.
    """
    arrays = {name: values for name, values in columns.items() if values is not None}
    for name in ("time", *required):
        if name not in arrays:
            raise invalid_bars(name, None, f"the {name} column is required")
    length = len(arrays["time"])
    if length > max_bars:
        raise invalid_bars("time", None, f"at most {max_bars} bars per request", length=length, max=max_bars)
    out: Columns = {"time": _as_array("time", arrays.pop("time"), np.int64)}
    for name, values in arrays.items():
        if len(values) != length:
            raise invalid_bars(name, None, f"has {len(values)} values, time has {length}", length=len(values))
        array = _as_array(name, values, np.float64)
        finite = np.isfinite(array)
        if not finite.all():
            raise invalid_bars(name, int(np.argmin(finite)), "values must be finite numbers")
        out[name] = array
    if "volume" not in out and "tick_volume" in out:
        out["volume"] = out["tick_volume"]
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
        details={"column": column, "index": index, "reason": reason, **extra},
    )

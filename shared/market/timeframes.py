"""MT5 timeframes: names, codes and bar-open arithmetic (UTC, epoch seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np


@dataclass(frozen=True, slots=True)
class Timeframe:
    """One MT5 timeframe. `seconds` is 0 for MN1, whose bars follow the calendar month."""

    name: str
    code: int
    seconds: int

    def floor(self, t: int) -> int:
        """Open time (epoch s) of the bar containing epoch second `t`."""
        if self.name == "MN1":
            d = datetime.fromtimestamp(t, UTC)
            return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp())
        if self.name == "W1":
            # MT5 weekly bars open on Sunday 00:00; the epoch began on a Thursday (3 days before Sunday).
            return (t + 4 * 86400) // 604800 * 604800 - 4 * 86400
        return t - t % self.seconds

    def floor_array(self, t: np.ndarray) -> np.ndarray:
        """Vectorised `floor` over an int64 array of epoch seconds."""
        if self.name == "MN1":
            months = t.astype("datetime64[s]").astype("datetime64[M]")
            return months.astype("datetime64[s]").astype(np.int64)
        if self.name == "W1":
            shift = 4 * 86400
            return (t + shift) // 604800 * 604800 - shift
        return t - t % self.seconds

    def next_open(self, open_time: int) -> int:
        """Open time of the bar after the one opening at `open_time`."""
        if self.name == "MN1":
            d = datetime.fromtimestamp(open_time, UTC)
            year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
            return int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        return open_time + self.seconds


_MINUTE, _HOUR = 60, 3600
_ALL = [
    Timeframe("M1", 1, _MINUTE),
    Timeframe("M2", 2, 2 * _MINUTE),
    Timeframe("M3", 3, 3 * _MINUTE),
    Timeframe("M4", 4, 4 * _MINUTE),
    Timeframe("M5", 5, 5 * _MINUTE),
    Timeframe("M6", 6, 6 * _MINUTE),
    Timeframe("M10", 10, 10 * _MINUTE),
    Timeframe("M12", 12, 12 * _MINUTE),
    Timeframe("M15", 15, 15 * _MINUTE),
    Timeframe("M20", 20, 20 * _MINUTE),
    Timeframe("M30", 30, 30 * _MINUTE),
    Timeframe("H1", 16385, _HOUR),
    Timeframe("H2", 16386, 2 * _HOUR),
    Timeframe("H3", 16387, 3 * _HOUR),
    Timeframe("H4", 16388, 4 * _HOUR),
    Timeframe("H6", 16390, 6 * _HOUR),
    Timeframe("H8", 16392, 8 * _HOUR),
    Timeframe("H12", 16396, 12 * _HOUR),
    Timeframe("D1", 16408, 24 * _HOUR),
    Timeframe("W1", 32769, 7 * 24 * _HOUR),
    Timeframe("MN1", 49153, 0),
]

TIMEFRAMES: dict[str, Timeframe] = {tf.name: tf for tf in _ALL}
TIMEFRAMES_BY_CODE: dict[int, Timeframe] = {tf.code: tf for tf in _ALL}

# Module-level constants as the MetaTrader5 package names them (TIMEFRAME_M1 = 1, ...).
for _tf in _ALL:
    globals()[f"TIMEFRAME_{_tf.name}"] = _tf.code


class UnknownTimeframeError(ValueError):
    """Raised for a timeframe name or code MT5 does not define."""


def get_timeframe(value: str | int) -> Timeframe:
    """Look a timeframe up by MT5 name ("M15", case-insensitive) or code (15, 16385 ...)."""
    if isinstance(value, int):
        tf = TIMEFRAMES_BY_CODE.get(value)
    else:
        tf = TIMEFRAMES.get(value.upper()) if isinstance(value, str) else None
    if tf is None:
        raise UnknownTimeframeError(f"unknown timeframe {value!r}; expected one of {', '.join(TIMEFRAMES)}")
    return tf

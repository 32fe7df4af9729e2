"""How the report and the trades CSV write values: prices at the symbol's digits, money at two decimals,
durations and dates as a person says them (the dashboard's format.js rules, for files read offline).

A price is written at the symbol's digits when that is exact; a fill moved off the price grid (a relative
spread, slippage of a fraction of a point) keeps every digit it has, so a CSV never rounds a fill.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

NONE = "\u2013"  # an en dash: "no value", as in the dashboard
_UNITS = (("d", 86_400), ("h", 3600), ("min", 60), ("s", 1))


def digits_of(point: float) -> int:
    """A symbol's digits from its point (MT5: point = 10 ** -digits)."""
    return max(0, round(-math.log10(point)))


def decimals_of(step: float) -> int:
    """Decimals a volume step needs: 0.01 -> 2, 0.25 -> 2, 1 -> 0."""
    for d in range(9):
        if abs(round(step * 10**d) - step * 10**d) < 1e-6:
            return d
    return 8


def fixed(value: float | None, digits: int) -> str:
    """`value` at `digits` decimals when that loses nothing, else its shortest exact form; "" for none."""
    if value is None or not math.isfinite(value):
        return ""
    text = f"{value:.{digits}f}"
    if abs(float(text) - value) > 10.0**-digits * 1e-6:
        return repr(float(value))
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def duration(seconds: float | None) -> str:
    """ "45 s", "3 h 20 min", "2 d 4 h": the largest unit and the next one when it is not 0."""
    if seconds is None or not math.isfinite(seconds):
        return NONE
    rest = round(abs(seconds))
    if rest == 0:
        return "0 s"
    first = next(k for k, (_, size) in enumerate(_UNITS) if rest >= size)
    name, size = _UNITS[first]
    parts = [f"{rest // size} {name}"]
    rest %= size
    if first + 1 < len(_UNITS):
        next_name, next_size = _UNITS[first + 1]
        if rest // next_size:
            parts.append(f"{rest // next_size} {next_name}")
    return ("-" if seconds < 0 else "") + " ".join(parts)


def date_time(epoch_s: float | None) -> str:
    """ "2026-05-01 12:34 UTC" (seconds only when not 0)."""
    if epoch_s is None or not math.isfinite(epoch_s):
        return NONE
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if moment.second else "%Y-%m-%d %H:%M UTC")


def iso_time(epoch_s: float) -> str:
    """ "2026-05-01T12:34:00Z": a machine-readable UTC time."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

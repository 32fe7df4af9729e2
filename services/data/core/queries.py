"""Read-side use cases of the data service: bounded reads, completeness by day, statistics.

Ranges are inclusive at both ends, as MT5's `copy_*_range` and the mt5 service define them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from services.data.core.completeness import CompletenessReport
from services.data.core.filled_read import read_covered
from services.data.core.stores import DataStores
from shared.errors import InvalidInputError
from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.coverage import Coverage
from shared.utils import format_utc

_DAY = 86_400


def _too_large(what: str, limit: int) -> InvalidInputError:
    return InvalidInputError(
        f"the request holds more than {limit:,} {what}; narrow the range or pass a smaller count",
        code="range_too_large",
        details={"limit": limit},
    )


def read_bars(
    stores: DataStores,
    symbol: str,
    timeframe: str,
    *,
    from_s: int | None,
    to_s: int | None,
    count: int | None,
    max_bars: int,
) -> tuple[np.ndarray, Coverage]:
    """Bars with from_s <= time <= to_s, oldest first; with `count`, the newest `count` of them; and their
    coverage. Missing ranges of a stored timeframe are built from lower stored ones (see filled_read)."""
    if from_s is None and count is None:
        raise InvalidInputError("give `from` or `count`", code="invalid_range", details={"field": "from"})
    if count is not None and count > max_bars:
        raise _too_large("bars", max_bars)
    end = None if to_s is None else to_s + 1
    # Reading one bar past the limit tells "exactly the limit" from "more than the limit".
    bars, coverage = read_covered(
        stores.bars, symbol, timeframe, from_s, end, count if count is not None else max_bars + 1
    )
    if count is None and len(bars) > max_bars:
        raise _too_large("bars", max_bars)
    return bars, coverage


def read_ticks(
    stores: DataStores,
    symbol: str,
    *,
    from_ms: int,
    to_ms: int | None,
    limit: int | None,
    max_ticks: int,
) -> np.ndarray:
    """Ticks with from_ms <= time_msc <= to_ms in stored order; at most `limit` (the oldest)."""
    if limit is not None and limit > max_ticks:
        raise _too_large("ticks", max_ticks)
    end = 2**62 if to_ms is None else to_ms + 1
    ticks = stores.ticks.read_range(symbol, from_ms, end, limit if limit is not None else max_ticks + 1)
    if limit is None and len(ticks) > max_ticks:
        raise _too_large("ticks", max_ticks)
    return ticks


def completeness_document(symbol: str, report: CompletenessReport) -> dict[str, Any]:
    """The completeness report with each day's missing ranges clipped to that day."""
    days = []
    for day in report.days:
        end = day.day + _DAY
        missing = [
            {"from": max(r.from_s, day.day), "to": min(r.to_s, end), "unfillable": r.unfillable}
            for r in report.missing
            if r.from_s < end and r.to_s > day.day
        ]
        days.append(
            {
                "day": day.day,
                "expected": day.expected,
                "actual": day.actual,
                "missing": day.expected - day.actual,
                "percent": round(day.percent, 3),
                "missing_ranges": missing,
            }
        )
    return {
        "symbol": symbol,
        "timeframe": report.timeframe,
        "from": report.from_s,
        "to": report.to_s,
        "expected": report.expected,
        "actual": report.actual,
        "percent": round(report.percent, 3),
        "missing": [
            {"from": r.from_s, "to": r.to_s, "bars": r.bars, "unfillable": r.unfillable}
            for r in report.missing
        ],
        "days": days,
    }


def statistics_document(
    stores: DataStores, *, window_days: int = 7, calendar: WeeklyCalendar = FX_CALENDAR
) -> dict[str, Any]:
    """Rows and first/last times per series, database size, and completeness over each series' last
    `window_days` days (the whole history would cost a scan of every bar), named as [from, to)."""
    stats = stores.statistics()
    for row in stats["bars"]:
        end = row["last_time"] + 1
        start = max(row["first_time"], end - window_days * _DAY)
        report = stores.bars.completeness(row["symbol"], row["timeframe"], start, end, calendar)
        row["completeness"] = {
            "window_days": window_days,
            "from": start,
            "to": end,
            "from_iso": format_utc(start),
            "to_iso": format_utc(end),
            "expected": report.expected,
            "actual": report.actual,
            "percent": round(report.percent, 3),
        }
    return stats

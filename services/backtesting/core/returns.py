"""Period returns of a run: by month and year (UTC calendar) and by the market's trading week.

A period's return is its last bar's equity over the previous period's last bar's equity (the run's first
bar's for the first period), minus one: returns compound, so a year's figure is its months' product. Weeks
follow the market's calendar, not ISO weeks: the FX week opens on Sunday evening UTC, and an ISO week would
split those first hours off into the week before.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel

from shared.market.calendar import FX_CALENDAR, WeeklyCalendar

_DAY = 86_400


class PeriodReturn(BaseModel):
    """One period: `key` "2026", "2026-03" or "2026-W49" (the ISO week of the trading week's middle),
    `start_s` when the period began (a week: the market's open), and the compounded return in percent."""

    key: str
    start_s: int
    return_pct: float


class ReturnsTables(BaseModel):
    """Returns per calendar month, per trading week and per calendar year, oldest first."""

    months: list[PeriodReturn]
    weeks: list[PeriodReturn]
    years: list[PeriodReturn]


def _period_returns(key: np.ndarray, equity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each period's last bar, its return in percent) for non-decreasing period keys."""
    ends = np.r_[np.flatnonzero(np.diff(key)), len(key) - 1]
    closing = equity[ends]
    opening = np.r_[equity[0], closing[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        return ends, (closing / opening - 1.0) * 100


def _rows(keys: list[str], starts: list[int], returns: np.ndarray) -> list[PeriodReturn]:
    return [
        PeriodReturn(key=k, start_s=s, return_pct=float(r))
        for k, s, r in zip(keys, starts, returns.tolist(), strict=True)
    ]


def returns_tables(
    time: np.ndarray, equity: np.ndarray, calendar: WeeklyCalendar = FX_CALENDAR
) -> ReturnsTables:
    """Monthly, weekly and yearly returns of an equity curve (`time` epoch seconds, sorted)."""
    if len(time) == 0:
        return ReturnsTables(months=[], weeks=[], years=[])
    days = np.floor_divide(time, _DAY).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    years = days.astype("datetime64[Y]")

    ends, month_ret = _period_returns(months.astype(np.int64), equity)
    month_keys = [str(m) for m in months[ends]]
    month_starts = months[ends].astype("datetime64[s]").astype(np.int64).tolist()

    ends, year_ret = _period_returns(years.astype(np.int64), equity)
    year_keys = [str(y) for y in years[ends]]
    year_starts = years[ends].astype("datetime64[s]").astype(np.int64).tolist()

    week = calendar.trading_week(time)
    ends, week_ret = _period_returns(week, equity)
    opens, closes = calendar.week_bounds(week[ends])
    week_keys = []
    for middle in ((opens + closes) // 2).tolist():  # mid-week: the ISO week of its trading days
        iso = datetime.fromtimestamp(middle, UTC).isocalendar()
        week_keys.append(f"{iso.year}-W{iso.week:02d}")

    return ReturnsTables(
        months=_rows(month_keys, month_starts, month_ret),
        weeks=_rows(week_keys, opens.tolist(), week_ret),
        years=_rows(year_keys, year_starts, year_ret),
    )

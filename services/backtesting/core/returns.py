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


def _period_returns(
    time: np.ndarray, equity: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(which of the periods beginning at `starts` hold bars, their returns in percent). `starts` are sorted
    and the first is at or before the first bar; the periods are found by search, not per bar, so a
    million-bar run costs a few hundred binary searches."""
    bounds = np.r_[np.searchsorted(time, starts, side="left"), len(time)]
    held = bounds[1:] > bounds[:-1]
    closing = equity[bounds[1:][held] - 1]
    opening = np.r_[equity[0], closing[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.flatnonzero(held), (closing / opening - 1.0) * 100


def _rows(keys: list[str], starts: list[int], returns: np.ndarray) -> list[PeriodReturn]:
    return [
        PeriodReturn(key=k, start_s=s, return_pct=float(r))
        for k, s, r in zip(keys, starts, returns.tolist(), strict=True)
    ]


def _calendar_periods(time: np.ndarray, equity: np.ndarray, unit: str) -> list[PeriodReturn]:
    """Returns per UTC calendar month ("M") or year ("Y")."""
    first, last = (np.datetime64(int(t), "s").astype(f"datetime64[{unit}]") for t in (time[0], time[-1]))
    periods = np.arange(first, last + 1)
    starts = periods.astype("datetime64[s]").astype(np.int64)
    held, returns = _period_returns(time, equity, starts)
    return _rows([str(p) for p in periods[held]], starts[held].tolist(), returns)


def _trading_weeks(time: np.ndarray, equity: np.ndarray, calendar: WeeklyCalendar) -> list[PeriodReturn]:
    first, last = calendar.trading_week(time[[0, -1]]).tolist()
    opens, closes = calendar.week_bounds(np.arange(first, last + 1, dtype=np.int64))
    held, returns = _period_returns(time, equity, opens)
    keys = []
    for middle in ((opens[held] + closes[held]) // 2).tolist():  # mid-week: the ISO week of its trading days
        iso = datetime.fromtimestamp(middle, UTC).isocalendar()
        keys.append(f"{iso.year}-W{iso.week:02d}")
    return _rows(keys, opens[held].tolist(), returns)


def returns_tables(
    time: np.ndarray, equity: np.ndarray, calendar: WeeklyCalendar = FX_CALENDAR
) -> ReturnsTables:
    """Monthly, weekly and yearly returns of an equity curve (`time` epoch seconds, sorted)."""
    if len(time) == 0:
        return ReturnsTables(months=[], weeks=[], years=[])
    return ReturnsTables(
        months=_calendar_periods(time, equity, "M"),
        weeks=_trading_weeks(time, equity, calendar),
        years=_calendar_periods(time, equity, "Y"),
    )

"""Returns tables against a hand-computed example: months and years by the UTC calendar, weeks by the
FX market's (a Sunday-evening bar opens the next trading week, not the ISO week it falls in)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.backtesting.core.returns import returns_tables


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())  # type: ignore[misc]


TIME = np.array(
    [
        utc(2026, 1, 29, 12),  # Thursday
        utc(2026, 1, 30, 12),  # Friday: January ends at 110
        utc(2026, 2, 1, 23),  # Sunday 23:00 UTC: ISO week 5, but the FX week opened at 22:00 (week 6)
        utc(2026, 2, 2, 12),
        utc(2026, 12, 31, 12),
        utc(2027, 1, 4, 12),
    ]
)
EQUITY = np.array([100.0, 110.0, 99.0, 121.0, 133.1, 66.55])


def _table(rows: list[object]) -> list[tuple[str, float]]:
    return [(r.key, round(r.return_pct, 9)) for r in rows]  # type: ignore[attr-defined]


def test_returns_tables_months_compound_from_the_previous_month_end() -> None:
    tables = returns_tables(TIME, EQUITY)

    assert _table(tables.months) == [
        ("2026-01", 10.0),
        ("2026-02", 10.0),
        ("2026-12", 10.0),
        ("2027-01", -50.0),
    ]
    assert tables.months[1].start_s == utc(2026, 2, 1)


def test_returns_tables_years_are_the_product_of_their_months() -> None:
    tables = returns_tables(TIME, EQUITY)

    assert _table(tables.years) == [("2026", 33.1), ("2027", -50.0)]
    assert tables.years[1].start_s == utc(2027, 1, 1)


def test_returns_tables_weeks_follow_the_fx_market_week() -> None:
    tables = returns_tables(TIME, EQUITY)

    assert _table(tables.weeks) == [
        ("2026-W05", 10.0),
        ("2026-W06", 10.0),
        ("2026-W53", 10.0),
        ("2027-W01", -50.0),
    ]
    assert tables.weeks[1].start_s == utc(2026, 2, 1, 22)  # the winter open, 17:00 New York


def test_returns_tables_single_bar_is_a_zero_return() -> None:
    tables = returns_tables(TIME[:1], EQUITY[:1])

    assert [r.return_pct for r in tables.months] == [0.0]
    assert tables.weeks[0].return_pct == pytest.approx(0.0)


def test_returns_tables_no_bars_are_empty() -> None:
    tables = returns_tables(np.array([], dtype=np.int64), np.array([]))

    assert tables.months == tables.weeks == tables.years == []


@given(
    gaps=st.lists(st.integers(60, 20 * 86_400), min_size=1, max_size=80),
    growth=st.lists(st.floats(0.5, 1.5), min_size=81, max_size=81),
)
def test_returns_tables_every_table_compounds_to_the_whole_return(
    gaps: list[int], growth: list[float]
) -> None:
    time = utc(2025, 12, 20) + np.r_[0, np.cumsum(gaps)]
    equity = 1000 * np.cumprod(growth[: len(time)])

    tables = returns_tables(time, equity)

    whole = equity[-1] / equity[0]
    for rows in (tables.months, tables.weeks, tables.years):
        assert math.prod(1 + r.return_pct / 100 for r in rows) == pytest.approx(whole, rel=1e-9)
        assert [r.start_s for r in rows] == sorted({r.start_s for r in rows})

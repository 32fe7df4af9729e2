"""Completeness against the FX calendar, and the fetch plans made from its missing ranges."""

from __future__ import annotations

import itertools

import numpy as np

from services.data.core.completeness import MissingRange, completeness
from services.data.core.gap_plan import plan_bar_fetches, plan_tick_fetches
from shared.market.calendar import FX_CALENDAR
from shared.market.timeframes import TIMEFRAMES

M1 = TIMEFRAMES["M1"]
FRIDAY_21_00 = 1_704_488_400  # 2024-01-05 21:00 UTC
MONDAY_01_00 = 1_704_675_600  # 2024-01-08 01:00 UTC
SUNDAY_22_00 = 1_704_664_800  # 2024-01-07 22:00 UTC


def _all_opens(start: int, end: int) -> np.ndarray:
    return FX_CALENDAR.expected_bar_opens(M1, start, end)


def test_completeness_over_weekend_counts_only_open_hours() -> None:
    report = completeness(M1, FRIDAY_21_00, MONDAY_01_00, _all_opens(FRIDAY_21_00, MONDAY_01_00))
    assert report.expected == 60 + 180  # Friday 21-22 and Sunday 22 to Monday 01
    assert report.actual == report.expected
    assert report.missing == []
    assert report.percent == 100.0
    assert [d.expected for d in report.days] == [60, 120, 60]


def test_completeness_finds_exactly_the_punched_holes() -> None:
    opens = _all_opens(FRIDAY_21_00, MONDAY_01_00)
    holes = [(5, 12), (59, 61), (200, 201)]  # the second spans the weekend close
    keep = np.ones(len(opens), dtype=bool)
    for a, b in holes:
        keep[a:b] = False
    report = completeness(M1, FRIDAY_21_00, MONDAY_01_00, opens[keep])
    assert [(r.from_s, r.to_s, r.bars) for r in report.missing] == [
        (int(opens[a]), int(opens[b - 1]) + 60, b - a) for a, b in holes
    ]
    assert report.actual == report.expected - 10


def test_completeness_unfillable_marks_split_missing_ranges() -> None:
    opens = _all_opens(SUNDAY_22_00, MONDAY_01_00)
    report = completeness(
        M1, SUNDAY_22_00, MONDAY_01_00, opens[30:], unfillable=[(SUNDAY_22_00, SUNDAY_22_00 + 600)]
    )
    assert report.missing == [
        MissingRange(SUNDAY_22_00, SUNDAY_22_00 + 600, 10, unfillable=True),
        MissingRange(SUNDAY_22_00 + 600, SUNDAY_22_00 + 1800, 20),
    ]
    assert report.fillable == report.missing[1:]


def test_plan_bar_fetches_chunks_by_expected_bars_and_skips_unfillable() -> None:
    missing = [
        MissingRange(FRIDAY_21_00, MONDAY_01_00, 240),
        MissingRange(MONDAY_01_00, MONDAY_01_00 + 600, 10, unfillable=True),
    ]
    chunks = plan_bar_fetches(missing, M1, max_bars=100)
    assert [c.expected_bars for c in chunks] == [100, 100, 40]
    assert chunks[0].from_s == FRIDAY_21_00 and chunks[-1].to_s == MONDAY_01_00
    assert all(a.to_s == b.from_s for a, b in itertools.pairwise(chunks))


def test_plan_after_complete_range_fetches_nothing() -> None:
    opens = _all_opens(FRIDAY_21_00, MONDAY_01_00)
    report = completeness(M1, FRIDAY_21_00, MONDAY_01_00, opens)
    assert plan_bar_fetches(report.missing, M1, max_bars=1_000) == []


def test_plan_tick_fetches_cover_only_trading_time() -> None:
    chunks = plan_tick_fetches([MissingRange(FRIDAY_21_00, MONDAY_01_00, 240)], max_span_s=3_600)
    spans = [(c.from_s, c.to_s) for c in chunks]
    assert spans == [
        (FRIDAY_21_00, FRIDAY_21_00 + 3_600),
        (SUNDAY_22_00, SUNDAY_22_00 + 3_600),
        (SUNDAY_22_00 + 3_600, SUNDAY_22_00 + 7_200),
        (SUNDAY_22_00 + 7_200, MONDAY_01_00),
    ]

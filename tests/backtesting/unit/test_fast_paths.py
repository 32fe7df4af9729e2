"""The speed-ups of the backtest path: the fused crossover of the moving-average strategies, and the fill
loop's trade array sized from the entry signals (the compiled loop does not check bounds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.backtesting.core import fills
from shared.trading.crossings import crossings
from shared.trading.strategy import crossed_above, crossed_below

EMPTY = np.empty(0, dtype=np.float64)
# Values drawn from a few levels so that ties (no cross) and NaN (never a cross) are common.
LEVELS = st.sampled_from([1.0, 2.0, 3.0, float("nan")])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(LEVELS, LEVELS), max_size=40))
def test_crossings_any_series_equal_crossed_above_and_below(pairs: list[tuple[float, float]]) -> None:
    a = np.array([p[0] for p in pairs], dtype=np.float64)
    b = np.array([p[1] for p in pairs], dtype=np.float64)
    up, down = crossings(a, b)
    assert np.array_equal(up, crossed_above(a, b))
    assert np.array_equal(down, crossed_below(a, b))


def simulate(n: int, entry_long: np.ndarray, entry_short: np.ndarray, sl: np.ndarray = EMPTY) -> np.ndarray:
    """Trade records of unit trades at price 100 (SL below it when given), closed at the end."""
    price = np.full(n, 100.0)
    low = price - (1.0 if len(sl) else 0.0)
    none = np.zeros(n, dtype=np.bool_)
    _, records, _ = fills.simulate(
        price, price, low, price, EMPTY, entry_long, none, entry_short, none, sl, EMPTY,
        1, False, True, 1e6, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0, 1.0, 1.0, 1.0, 1e9,
    )  # fmt: skip
    return records


def test_fill_reversal_on_every_bar_records_one_trade_per_entry_signal() -> None:
    n = 50
    bars = np.arange(n)
    records = simulate(n, bars % 2 == 1, bars % 2 == 0)
    # Signals on bars 1..n-2 each open a trade at the next bar; each closes at the next reversal or the end.
    assert len(records) == n - 2
    assert records[:, fills.T_ENTRY_BAR].tolist() == list(range(2, n))
    assert records[:-1, fills.T_REASON].tolist() == [fills.EXIT_REVERSE] * (n - 3)


def test_fill_stop_hit_on_every_entry_bar_records_one_trade_per_entry_signal() -> None:
    n = 30
    entries = np.ones(n, dtype=np.bool_)
    records = simulate(n, entries, np.zeros(n, dtype=np.bool_), sl=np.full(n, 99.5))
    assert len(records) == n - 2
    assert np.all(records[:, fills.T_ENTRY_BAR] == records[:, fills.T_EXIT_BAR])
    assert records[:, fills.T_EXIT_PRICE] == pytest.approx(np.full(n - 2, 99.5))

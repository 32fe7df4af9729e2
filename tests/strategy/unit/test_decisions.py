"""decide() is the backtest fill loop's order rule: replaying random signals through both gives the same
trades (entry bar, direction, exit bar)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.backtesting.core import fills
from services.strategy.core.decisions import BarSignal, Reason, decide

EMPTY = np.empty(0, dtype=np.float64)


def backtest_trades(
    el: np.ndarray, xl: np.ndarray, es: np.ndarray, xs: np.ndarray
) -> list[tuple[int, int, int]]:
    n = len(el)
    price = np.ones(n)
    _, records, _ = fills.simulate(
        price, price, price, price, EMPTY, el, xl, es, xs, EMPTY, EMPTY,
        1, False, False, 1e9, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0, 1.0, 1.0, 1.0, 1e9,
    )  # fmt: skip
    return [
        (int(r[fills.T_ENTRY_BAR]), int(np.sign(r[fills.T_SIZE])), int(r[fills.T_EXIT_BAR])) for r in records
    ]


def live_trades(el: np.ndarray, xl: np.ndarray, es: np.ndarray, xs: np.ndarray) -> list[tuple[int, int, int]]:
    """Each bar's decision filled at the next bar, as the runner's orders are (the next bar's open)."""
    held, entry, trades = 0, 0, []
    for i in range(1, len(el) - 1):
        decision = decide(BarSignal(bool(el[i]), bool(xl[i]), bool(es[i]), bool(xs[i])), held)
        if decision.close is not None:
            trades.append((entry, held, i + 1))
            held = 0
        if decision.open:
            held, entry = decision.open, i + 1
    return trades


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.02, 0.5))
def test_decide_random_signals_trades_as_backtest(seed: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    el, xl, es, xs = (rng.random(80) < density for _ in range(4))
    assert live_trades(el, xl, es, xs) == backtest_trades(el, xl, es, xs)


def test_decide_entry_in_held_direction_is_ignored() -> None:
    decision = decide(BarSignal(True, False, False, False), held=1)
    assert (decision.close, decision.open, decision.ignored) == (None, 0, Reason.ALREADY_LONG)


def test_decide_opposite_entry_reverses() -> None:
    decision = decide(BarSignal(False, False, True, False), held=1)
    assert (decision.close, decision.open) == (Reason.REVERSE, -1)


def test_decide_both_entries_cancel() -> None:
    decision = decide(BarSignal(True, False, True, False), held=0)
    assert (decision.close, decision.open, decision.ignored) == (None, 0, Reason.CONFLICTING_ENTRIES)

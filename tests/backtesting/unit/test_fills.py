"""Each rule of the fill loop (services/backtesting/core/fills.py), on hand-made bars."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.backtesting.core import BacktestConfig, CostConfig, FillTiming, SymbolFacts, run_backtest
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.trading import SizingConfig, SizingMode
from tests.backtesting.unit.scripted import Scripted, make_bars, nan_levels

ONE_UNIT = SizingConfig(mode=SizingMode.FIXED, value=1)
EURUSD = next(s for s in DEFAULT_SYMBOLS if s.name == "EURUSD")


def _run(bars, strategy, **config):
    config.setdefault("sizing", ONE_UNIT)
    return run_backtest(bars, strategy, BacktestConfig(**config))


def test_fill_market_order_fills_at_next_open() -> None:
    bars = make_bars([10, 11, 12, 13, 14], close=[10.5, 11.5, 12.5, 13.5, 14.5])
    result = _run(bars, Scripted(5, entry_long=[1], exit_long=[3]))
    t = result.trades
    assert (t.entry_bar[0], t.exit_bar[0], t.entry_price[0], t.exit_price[0]) == (2, 4, 12.0, 14.0)
    assert t.pnl[0] == pytest.approx(2.0)
    assert t.exit_reason[0] == "signal"


def test_fill_this_close_option_fills_at_signal_bar_close() -> None:
    bars = make_bars([10, 11, 12, 13, 14], close=[10.5, 11.5, 12.5, 13.5, 14.5])
    result = _run(bars, Scripted(5, entry_long=[1], exit_long=[3]), fill=FillTiming.THIS_CLOSE)
    t = result.trades
    assert (t.entry_bar[0], t.exit_bar[0], t.entry_price[0], t.exit_price[0]) == (1, 3, 11.5, 13.5)


def test_fill_bar_reaching_sl_and_tp_takes_the_stop() -> None:
    n = 4
    bars = make_bars([100, 100, 100, 100], high=[100, 100, 110, 100], low=[100, 100, 90, 100])
    strategy = Scripted(n, entry_long=[1], sl=nan_levels(n, {1: 95.0}), tp=nan_levels(n, {1: 105.0}))
    t = _run(bars, strategy).trades
    assert (t.exit_bar[0], t.exit_price[0], t.exit_reason[0]) == (2, 95.0, "stop_loss")


def test_fill_stop_gapped_through_fills_at_the_worse_open() -> None:
    n = 5
    bars = make_bars([100, 100, 100, 90, 90], high=[100, 100, 100, 91, 90], low=[100, 100, 100, 89, 90])
    t = _run(bars, Scripted(n, entry_long=[1], sl=nan_levels(n, {1: 95.0}))).trades
    assert (t.exit_bar[0], t.exit_price[0], t.exit_reason[0]) == (3, 90.0, "stop_loss")


def test_fill_take_profit_gapped_through_fills_at_the_better_open() -> None:
    n = 5
    bars = make_bars([100, 100, 100, 95, 95], high=[100, 100, 100, 96, 95], low=[100, 100, 100, 94, 95])
    t = _run(bars, Scripted(n, entry_short=[1], tp=nan_levels(n, {1: 97.0}))).trades
    assert (t.exit_bar[0], t.exit_price[0], t.exit_reason[0], t.pnl[0]) == (3, 95.0, "take_profit", 5.0)


def test_fill_short_profits_when_price_falls() -> None:
    bars = make_bars([100, 100, 100, 90, 90])
    t = _run(bars, Scripted(5, entry_short=[1], exit_short=[2])).trades
    assert (t.size[0], t.entry_price[0], t.exit_price[0], t.pnl[0]) == (-1.0, 100.0, 90.0, 10.0)


def test_fill_opposite_entry_closes_then_reverses() -> None:
    bars = make_bars([10, 10, 12, 12, 11, 11])
    t = _run(bars, Scripted(6, entry_long=[1], entry_short=[3])).trades
    # The long closes on the reversal; the short is still open at the end (not a closed trade).
    assert list(t.exit_reason) == ["reverse"]
    assert (t.entry_bar[0], t.exit_bar[0], t.pnl[0]) == (2, 4, -1.0)


def test_fill_entry_in_held_direction_is_ignored() -> None:
    bars = make_bars([10, 10, 11, 12, 13, 14])
    t = _run(bars, Scripted(6, entry_long=[1, 2, 3], exit_long=[4])).trades
    assert (len(t), t.entry_bar[0], t.exit_bar[0]) == (1, 2, 5)


def test_fill_fixed_spread_in_points_is_paid_once_at_entry() -> None:
    bars = make_bars([10, 10, 10, 10])
    t = _run(bars, Scripted(4, entry_long=[1], exit_long=[2]), costs=CostConfig(spread_points=3)).trades
    assert t.entry_price[0] == pytest.approx(10.03)
    assert t.exit_price[0] == 10.0


def test_fill_spread_from_bars_column_uses_the_fill_bar() -> None:
    bars = make_bars([10, 10, 10, 10], spread=[0, 0, 7, 50])
    costs = CostConfig(spread_from_bars=True)
    t = _run(bars, Scripted(4, entry_short=[1], exit_short=[2]), costs=costs).trades
    assert t.entry_price[0] == pytest.approx(9.93)


def test_fill_slippage_moves_market_fills_against_the_trader() -> None:
    bars = make_bars([10, 10, 10, 10])
    t = _run(bars, Scripted(4, entry_long=[1], exit_long=[2]), costs=CostConfig(slippage_points=2)).trades
    assert (t.entry_price[0], t.exit_price[0]) == (pytest.approx(10.02), pytest.approx(9.98))


def test_fill_commission_per_lot_and_fraction_charged_per_side() -> None:
    bars = make_bars([100, 100, 100, 110])
    costs = CostConfig(commission_per_lot=1.5, commission_fraction=0.001)
    sizing = SizingConfig(mode=SizingMode.FIXED, value=2)
    r = _run(bars, Scripted(4, entry_long=[1], exit_long=[2]), costs=costs, sizing=sizing)
    expected = 2 * 1.5 * 2 + 0.001 * (2 * 100 + 2 * 110)
    assert r.trades.commission[0] == pytest.approx(expected)
    assert r.trades.pnl[0] == pytest.approx(2 * 10 - expected)
    assert r.equity[-1] == pytest.approx(10_000 + 2 * 10 - expected)
    assert r.metrics.commissions == pytest.approx(expected)


def test_fill_pnl_in_account_money_uses_tick_value() -> None:
    bars = make_bars([1.1, 1.1, 1.1, 1.1010])
    symbol = SymbolFacts.from_spec(EURUSD)
    sizing = SizingConfig(mode=SizingMode.FIXED, value=0.5)
    t = _run(
        bars, Scripted(4, entry_long=[1], exit_long=[2]), symbol=symbol, sizing=sizing, leverage=100
    ).trades
    assert t.pnl[0] == pytest.approx(0.5 * 100_000 * 0.001)  # 10 pips on half a lot: $50


def test_fill_order_beyond_margin_is_refused() -> None:
    bars = make_bars([100, 100, 100, 100])
    sizing = SizingConfig(mode=SizingMode.FIXED, value=1000)  # 100,000 of notional on 10,000 of cash
    assert len(_run(bars, Scripted(4, entry_long=[1], exit_long=[2]), sizing=sizing).trades) == 0


def test_fill_open_trade_left_out_of_trades_unless_finalized() -> None:
    bars = make_bars([10, 10, 12, 13], close=[10, 11, 12, 14])
    strategy = Scripted(4, entry_long=[1])
    open_run = _run(bars, strategy)
    closed_run = _run(bars, strategy, finalize_trades=True)
    assert len(open_run.trades) == 0
    assert open_run.equity[-1] == pytest.approx(10_002)
    assert (closed_run.trades.exit_price[0], closed_run.trades.exit_reason[0]) == (14.0, "end")
    assert closed_run.equity[-1] == pytest.approx(10_002)


def test_fill_risk_sizing_loses_the_risk_amount_at_the_stop() -> None:
    n = 4
    bars = make_bars([1.1, 1.1, 1.1, 1.1], high=[1.1, 1.1, 1.1, 1.1], low=[1.1, 1.1, 1.1, 1.08])
    symbol = SymbolFacts.from_spec(EURUSD)
    sizing = SizingConfig(mode=SizingMode.RISK_PERCENT, value=1)
    strategy = Scripted(n, entry_long=[1], sl=nan_levels(n, {1: 1.095}))
    t = _run(bars, strategy, symbol=symbol, sizing=sizing, leverage=100).trades
    assert t.size[0] == 0.2  # $100 at risk over 50 pips of $10 per lot
    assert t.pnl[0] == pytest.approx(-100.0)


@settings(max_examples=60, deadline=None)
@given(
    prices=st.lists(st.floats(50, 150), min_size=8, max_size=40),
    events=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 3)), max_size=20),
)
def test_fill_any_signals_keep_the_books_balanced(prices: list[float], events: list[tuple[int, int]]) -> None:
    n = len(prices)
    names = ("entry_long", "exit_long", "entry_short", "exit_short")
    script: dict[str, list[int]] = {name: [] for name in names}
    for bar, kind in events:
        if bar < n:
            script[names[kind]].append(bar)
    bars = make_bars(prices, close=[p * 1.01 for p in prices])
    costs = CostConfig(commission_fraction=0.001)
    r = _run(bars, Scripted(n, **script), costs=costs, finalize_trades=True)
    t = r.trades
    # With every trade closed, final equity is the balance plus the trades' net P&L.
    assert r.equity[-1] == pytest.approx(10_000 + t.pnl.sum())
    assert np.all(t.entry_bar <= t.exit_bar)
    assert np.all(t.entry_bar[1:] >= t.exit_bar[:-1])  # one position at a time

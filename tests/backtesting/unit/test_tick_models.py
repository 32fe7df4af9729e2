"""The tick models' own rules: MT5's M1 OHLC walk, the fill tick of a bar's order, and what the tick loop
does with a bar that reaches both stops (it knows which came first)."""

from __future__ import annotations

import numpy as np

from services.backtesting.core.config import BacktestConfig, Model, SymbolFacts, TickAccount
from services.backtesting.core.engine import run_backtest
from services.backtesting.core.tick_engine import (
    TickColumns,
    fill_ticks,
    m1_ticks,
    m1_walk_order,
    run_tick_backtest,
)
from shared.trading.sizing import SizingConfig, SizingMode
from tests.backtesting.unit.scripted import Scripted, make_bars

EURUSD = SymbolFacts(point=0.00001, tick_size=0.00001, tick_value=1.0, volume_min=0.01, volume_step=0.01)


def test_m1_walk_order_rising_goes_low_first_falling_high_first_doji_against_the_last() -> None:
    open_ = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    close = np.array([1.1, 0.9, 1.0, 1.0, 1.2, 1.0])  # up, down, doji, doji, up, doji

    assert m1_walk_order(open_, close).tolist() == [True, False, True, False, True, False]


def test_m1_ticks_four_per_bar_in_walk_order_with_the_minutes_spread() -> None:
    m1 = {
        "time": np.array([60, 120]),
        "open": np.array([1.10000, 1.10050]),
        "high": np.array([1.10080, 1.10060]),
        "low": np.array([1.09990, 1.10000]),
        "close": np.array([1.10050, 1.10010]),
        "spread": np.array([12, 7]),
    }

    ticks = m1_ticks(m1, 0.00001)

    assert ticks.bid.tolist() == [1.1, 1.0999, 1.1008, 1.1005, 1.1005, 1.1006, 1.1, 1.1001]
    assert np.allclose(ticks.ask - ticks.bid, [0.00012] * 4 + [0.00007] * 4)
    assert ticks.time_msc.tolist() == [60_000, 75_000, 90_000, 119_999, 120_000, 135_000, 150_000, 179_999]


def test_fill_ticks_first_tick_at_or_after_each_close_or_none() -> None:
    ticks_ms = np.array([3_599_999, 3_600_000, 3_600_500, 7_300_000])

    assert fill_ticks(np.array([0, 3600, 7200]), 3600, ticks_ms).tolist() == [1, 3, 4]


def _hour_of_m1(start_s: int, path: list[float]) -> dict[str, np.ndarray]:
    """M1 bars along `path` (each minute from one value to the next), zero spread."""
    o = np.array(path[:-1])
    c = np.array(path[1:])
    return {
        "time": start_s + 60 * np.arange(len(o)),
        "open": o,
        "high": np.maximum(o, c),
        "low": np.minimum(o, c),
        "close": c,
        "spread": np.zeros(len(o)),
    }


def test_m1_model_takes_the_take_profit_the_minutes_reach_first_where_bars_take_the_stop() -> None:
    # Bar 2 reaches both the stop (1.0950) and the target (1.1050); its minutes rise to the target first.
    bars = make_bars([1.1] * 4, high=[1.1, 1.1, 1.106, 1.1], low=[1.1, 1.1, 1.094, 1.1])
    strategy = Scripted(4, entry_long=[1], sl=np.full(4, 1.095), tp=np.full(4, 1.105))
    config = BacktestConfig(
        leverage=100,
        symbol=EURUSD,
        sizing=SizingConfig(mode=SizingMode.FIXED, value=0.1),
        tick_account=TickAccount(stop_out_level=0),
    )
    t2 = int(bars["time"][2])
    minutes = _hour_of_m1(t2, [1.1, 1.103, 1.106, 1.1, 1.094, 1.1])
    minutes["time"] = t2 + 600 * np.arange(5)  # five ten-minute steps of the hour (only the order matters)

    on_bars = run_backtest(bars, strategy, config.model_copy(update={"finalize_trades": True}))
    on_minutes = run_tick_backtest(
        bars,
        m1_ticks(minutes, EURUSD.point),
        3600,
        strategy,
        config.model_copy(update={"model": Model.M1_OHLC}),
    )

    assert on_bars.trades.exit_reason.tolist() == ["stop_loss"]
    assert on_minutes.trades.exit_reason.tolist() == ["take_profit"]
    assert on_minutes.trades.exit_price.tolist() == [1.106]  # the first tick at or past the target
    assert on_minutes.tick_times is not None
    assert on_minutes.tick_times[1].tolist() == [(t2 + 600) * 1000 + 30_000]


def test_tick_model_market_orders_fill_at_the_ask_and_bid_of_the_first_tick_after_the_close() -> None:
    bars = make_bars([1.1] * 4)
    strategy = Scripted(4, entry_long=[1], exit_long=[2])
    base = int(bars["time"][0]) * 1000
    ticks = TickColumns(
        time_msc=base + np.array([0, 7_199_000, 7_200_000, 9_000_000, 10_799_999, 10_800_001]),
        bid=np.array([1.1, 1.1001, 1.1002, 1.1003, 1.1004, 1.1005]),
        ask=np.array([1.1001, 1.1002, 1.1004, 1.1005, 1.1006, 1.1007]),
    )
    config = BacktestConfig(
        leverage=100, symbol=EURUSD, sizing=SizingConfig(mode=SizingMode.FIXED, value=1.0), model=Model.TICKS
    )

    result = run_tick_backtest(bars, ticks, 3600, strategy, config)

    # Bar 1 closes at 7,200,000 ms: bought at that tick's ask; bar 2 closes at 10,800,000: sold at the next bid.
    assert result.trades.entry_price.tolist() == [1.1004]
    assert result.trades.exit_price.tolist() == [1.1005]
    assert result.trades.pnl.tolist() == [10.0]  # 1 lot x 1 pip


def test_tick_model_stops_out_at_the_first_tick_at_or_below_the_stop_out_level() -> None:
    bars = make_bars([1.1] * 3)
    strategy = Scripted(3, entry_long=[1])
    base = int(bars["time"][0]) * 1000
    # Bought 1 lot at the ask 1.1001 (margin 1.1001 x 100,000 / 500 = 220.00): a balance of 1,000 is at
    # 50 % of the margin once the bid has fallen 89 pips, to 1.0912; the falling bids reach 1.0910 first.
    bid = np.round(1.1 - 0.001 * np.arange(12), 5)
    ticks = TickColumns(base + 7_200_000 + 60_000 * np.arange(12), bid, bid + 0.0001)
    config = BacktestConfig(
        initial_balance=1_000,
        leverage=500,
        symbol=EURUSD,
        sizing=SizingConfig(mode=SizingMode.FIXED, value=1.0),
        model=Model.TICKS,
        tick_account=TickAccount(stop_out_level=50),
    )

    result = run_tick_backtest(bars, ticks, 3600, strategy, config)

    assert result.trades.exit_reason.tolist() == ["stop_out"]
    assert result.trades.exit_price.tolist() == [1.091]
    assert result.trades.pnl.tolist() == [-910.0]

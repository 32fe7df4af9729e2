"""Buy & Hold (and Alpha, which uses it) start at the first bar where every indicator has a value, as
backtesting.py measures them (its first_trading_bar), also when ATR sets the warm-up (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from services.backtesting.core import BacktestConfig, run_backtest
from shared.trading import build_strategy
from tests.support.bars import random_walk_bars

N = 400


def _first_valid(*indicators: np.ndarray) -> int:
    """backtesting.py's rule: the most leading NaNs of any indicator."""
    return max(int(np.isnan(values).argmin()) for values in indicators)


@pytest.mark.parametrize(("entry_period", "atr_period"), [(20, 30), (20, 14)])
def test_buy_hold_donchian_starts_where_channel_and_atr_have_values(
    entry_period: int, atr_period: int
) -> None:
    bars = random_walk_bars(N, seed=3)
    high, low, close = bars["high"], bars["low"], bars["close"]
    channel = np.r_[np.nan, talib.MAX(high, timeperiod=entry_period)[:-1]]  # the past bars' channel
    first = _first_valid(channel, talib.ATR(high, low, close, timeperiod=atr_period))
    strategy = build_strategy(
        "donchian_breakout", {"entry_period": entry_period, "exit_period": 10, "atr_period": atr_period}
    )

    metrics = run_backtest(bars, strategy, BacktestConfig()).metrics

    assert strategy.first_valid_bar == first
    assert metrics.buy_hold_return_pct == pytest.approx((close[-1] - close[first]) / close[first] * 100)


def test_buy_hold_sma_crossover_starts_where_the_slow_average_has_a_value() -> None:
    bars = random_walk_bars(N, seed=3)
    first = _first_valid(talib.SMA(bars["close"], timeperiod=20))

    metrics = run_backtest(
        bars, build_strategy("sma_crossover", {"fast": 10, "slow": 20}), BacktestConfig()
    ).metrics

    c = bars["close"]
    assert first == 19 and metrics.buy_hold_return_pct == pytest.approx((c[-1] - c[first]) / c[first] * 100)

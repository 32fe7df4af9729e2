"""The engine against backtesting.py 0.6.6 itself: same trades, final equity and metrics on its own data."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import talib

backtesting = pytest.importorskip("backtesting")
from backtesting import Backtest  # noqa: E402
from backtesting import Strategy as ReferenceStrategy  # noqa: E402
from backtesting.lib import crossover  # noqa: E402
from backtesting.test import EURUSD, GOOG  # noqa: E402

from services.backtesting.core import BacktestConfig, CostConfig, FillTiming, run_backtest  # noqa: E402
from shared.trading import SizingConfig, SizingMode, build_strategy  # noqa: E402

assert backtesting.__version__ == "0.6.6", "numbers differ between backtesting.py releases"

# Metrics whose definitions agree with backtesting.py's (all of its numeric ones).
COMPARED = [
    "Exposure Time [%]",
    "Equity Final [$]",
    "Equity Peak [$]",
    "Commissions [$]",
    "Return [%]",
    "Buy & Hold Return [%]",
    "Return (Ann.) [%]",
    "Volatility (Ann.) [%]",
    "CAGR [%]",
    "Sharpe Ratio",
    "Sortino Ratio",
    "Calmar Ratio",
    "Alpha [%]",
    "Beta",
    "Max. Drawdown [%]",
    "Avg. Drawdown [%]",
    "Max. Drawdown Duration",
    "Avg. Drawdown Duration",
    "# Trades",
    "Win Rate [%]",
    "Best Trade [%]",
    "Worst Trade [%]",
    "Avg. Trade [%]",
    "Max. Trade Duration",
    "Avg. Trade Duration",
    "Profit Factor",
    "Expectancy [%]",
    "SQN",
    "Kelly Criterion",
]


class SmaCross(ReferenceStrategy):
    """backtesting.py's SmaCross, with the same TA-Lib SMA our strategy uses so only the engines differ."""

    def init(self) -> None:
        close = np.asarray(self.data.Close, dtype=float)
        self.fast = self.I(talib.SMA, close, 10)
        self.slow = self.I(talib.SMA, close, 20)

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            self.buy()
        elif crossover(self.slow, self.fast):
            self.sell()


def _reference(df: pd.DataFrame, cash: float, trade_on_close: bool) -> pd.Series:
    bt = Backtest(
        df,
        SmaCross,
        cash=cash,
        commission=0.002,
        spread=0.0005,
        exclusive_orders=True,
        trade_on_close=trade_on_close,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bt.run()


def _ours(df: pd.DataFrame, cash: float, trade_on_close: bool):
    config = BacktestConfig(
        initial_balance=cash,
        costs=CostConfig(commission_fraction=0.002, spread_fraction=0.0005),
        # backtesting.py's default order size is "1 - machine epsilon" of the available cash.
        sizing=SizingConfig(mode=SizingMode.ALL_IN, value=1 - sys.float_info.epsilon),
        fill=FillTiming.THIS_CLOSE if trade_on_close else FillTiming.NEXT_OPEN,
    )
    bars = {
        "time": df.index.to_numpy(),
        "open": df.Open.to_numpy(),
        "high": df.High.to_numpy(),
        "low": df.Low.to_numpy(),
        "close": df.Close.to_numpy(),
    }
    return run_backtest(bars, build_strategy("sma_crossover", {"fast": 10, "slow": 20}), config)


def _as_number(value: object) -> float:
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]


CASES = [("GOOG", GOOG, 10_000.0), ("EURUSD", EURUSD, 100_000.0)]


@pytest.mark.parametrize("trade_on_close", [False, True], ids=["next_open", "this_close"])
@pytest.mark.parametrize(("name", "df", "cash"), CASES, ids=[c[0] for c in CASES])
def test_engine_sma_crossover_matches_backtesting_py(
    name: str, df: pd.DataFrame, cash: float, trade_on_close: bool
) -> None:
    ref = _reference(df, cash, trade_on_close)
    ours = _ours(df, cash, trade_on_close)

    ref_trades, trades = ref["_trades"], ours.trades
    assert len(trades) == len(ref_trades) > 50
    np.testing.assert_array_equal(trades.entry_bar, ref_trades.EntryBar.to_numpy())
    np.testing.assert_array_equal(trades.exit_bar, ref_trades.ExitBar.to_numpy())
    np.testing.assert_array_equal(trades.size, ref_trades.Size.to_numpy())
    np.testing.assert_allclose(trades.entry_price, ref_trades.EntryPrice.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(trades.exit_price, ref_trades.ExitPrice.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(trades.pnl, ref_trades.PnL.to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(trades.return_pct / 100, ref_trades.ReturnPct.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.equity, ref["_equity_curve"].Equity.to_numpy(), rtol=1e-9)
    assert ours.metrics.equity_final == pytest.approx(ref["Equity Final [$]"], rel=1e-6)

    mine = ours.metrics.model_dump(by_alias=True)
    for key in COMPARED:
        assert mine[key] == pytest.approx(_as_number(ref[key]), rel=1e-9, nan_ok=True), key

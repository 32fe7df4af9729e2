"""Run one backtest: vectorised strategy signals, the compiled fill loop (fills.py), then the metrics.

See fills.py for the fill semantics and metrics.py for the statistics' definitions. The compiled fill loop
is imported where it runs: numba would add ~0.2 s to the service's start-up (runs execute in job
processes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from services.backtesting.core.config import BacktestConfig, FillTiming
from services.backtesting.core.metrics import Metrics, compute_metrics, drawdown_pct
from services.backtesting.core.returns import returns_tables
from services.backtesting.core.run_warnings import RunWarning, run_warnings
from shared.errors import InvalidInputError, PlatformError
from shared.trading.strategy import Bars, Signals, Strategy

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]

REQUIRED_COLUMNS = ("time", "open", "high", "low", "close")
_EMPTY = np.empty(0, dtype=np.float64)


class BacktestCancelled(PlatformError):
    """The caller's cancel flag was raised while the work ran."""

    status_code = 409
    code = "cancelled"


def check_cancel(cancel: CancelFn | None) -> None:
    """Raise BacktestCancelled when the cancel flag is up."""
    if cancel is not None and cancel():
        raise BacktestCancelled("the run was cancelled")


def bar_columns(bars: Bars) -> dict[str, np.ndarray]:
    """Bars as contiguous numpy columns (times as epoch seconds), refusing missing or ragged columns."""
    if not isinstance(bars, Mapping):  # a DataFrame, told apart without importing pandas
        bars = {name: bars[name].to_numpy() for name in bars.columns}
    missing = [name for name in REQUIRED_COLUMNS if name not in bars]
    if missing:
        raise InvalidInputError(
            f"bars lack the column(s) {', '.join(missing)}", code="invalid_bars", details={"missing": missing}
        )
    cols: dict[str, np.ndarray] = {}
    for name, values in bars.items():
        arr = np.asarray(values)
        if name == "time" and np.issubdtype(arr.dtype, np.datetime64):
            arr = arr.astype("datetime64[s]").astype(np.int64)
        cols[name] = np.ascontiguousarray(arr, dtype=np.int64 if name == "time" else np.float64)
    lengths = {name: len(arr) for name, arr in cols.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInputError("bar columns differ in length", code="invalid_bars", details=lengths)
    return cols


@dataclass(frozen=True, slots=True)
class Trades:
    """Closed trades, one array per field (prices and P&L in account money, size signed lots)."""

    entry_bar: np.ndarray
    exit_bar: np.ndarray
    entry_time: np.ndarray
    exit_time: np.ndarray
    size: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    pnl: np.ndarray
    commission: np.ndarray
    return_pct: np.ndarray
    duration_s: np.ndarray
    exit_reason: np.ndarray

    @classmethod
    def from_records(
        cls, records: np.ndarray, time: np.ndarray, reason_names: Sequence[str] | None = None
    ) -> Trades:
        """Trade columns from the fill loop's record array (a portfolio's walk adds exit reasons)."""
        from services.backtesting.core import fills

        entry_bar = records[:, fills.T_ENTRY_BAR].astype(np.int64)
        exit_bar = records[:, fills.T_EXIT_BAR].astype(np.int64)
        entry_time, exit_time = time[entry_bar], time[exit_bar]
        names = np.array(fills.EXIT_REASON_NAMES if reason_names is None else reason_names)
        return cls(
            entry_bar=entry_bar,
            exit_bar=exit_bar,
            entry_time=entry_time,
            exit_time=exit_time,
            size=records[:, fills.T_SIZE],
            entry_price=records[:, fills.T_ENTRY_PRICE],
            exit_price=records[:, fills.T_EXIT_PRICE],
            sl=records[:, fills.T_SL],
            tp=records[:, fills.T_TP],
            pnl=records[:, fills.T_PNL],
            commission=records[:, fills.T_COMMISSION],
            return_pct=records[:, fills.T_RETURN] * 100,
            duration_s=(exit_time - entry_time).astype(np.float64),
            exit_reason=names[records[:, fills.T_REASON].astype(np.int64)],
        )

    def __len__(self) -> int:
        return len(self.pnl)


def _json_column(values: np.ndarray) -> list[Any]:
    if values.dtype.kind == "f":
        return [None if v != v else v for v in values.tolist()]  # NaN -> null
    return values.tolist()


def thin_index(n: int, max_points: int | None) -> np.ndarray:
    """Indices of about `max_points` evenly spaced points of a series of `n`, first and last kept."""
    index = np.arange(n)
    if max_points is not None and n > max_points > 1:
        index = np.unique(np.r_[index[:: -(-n // (max_points - 1))], n - 1])
    return index


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """One run: metrics, trades, per-bar equity and close (column-oriented) and warnings; the drawdown curve
    on demand."""

    metrics: Metrics
    trades: Trades
    time: np.ndarray
    equity: np.ndarray
    close: np.ndarray
    warnings: tuple[RunWarning, ...] = ()
    # The tick models' fill times (ms) of each trade's entry and exit; None in the bars model.
    tick_times: tuple[np.ndarray, np.ndarray] | None = None

    def with_tick_times(self, entry_ms: np.ndarray, exit_ms: np.ndarray) -> BacktestResult:
        """This result with its trades' fill-tick times; `entry_time`/`exit_time` stay the times of the bars
        holding those ticks, as in the bars model (a chart marks trades on its bars)."""
        return replace(self, tick_times=(entry_ms, exit_ms))

    @property
    def drawdown_pct(self) -> np.ndarray:
        """Per-bar drawdown from the running equity peak, in percent (<= 0)."""
        return drawdown_pct(self.equity)

    def to_dict(self, max_points: int | None = None) -> dict[str, Any]:
        """JSON-ready form; the per-bar series thinned to about `max_points` points (the last one kept), the
        returns tables computed from every bar. The close rides with the equity so that a report can draw
        the price and its trades without the bars."""
        index = thin_index(len(self.equity), max_points)
        return {
            "metrics": self.metrics.model_dump(mode="json"),
            "warnings": [w.model_dump() for w in self.warnings],
            "returns": returns_tables(self.time, self.equity).model_dump(),
            "trades": self._trade_columns(),
            "equity": {
                "time": self.time[index].tolist(),
                "equity": _json_column(self.equity[index]),
                "drawdown_pct": _json_column(self.drawdown_pct[index]),
                "close": _json_column(self.close[index]),
            },
        }

    def _trade_columns(self) -> dict[str, list[Any]]:
        columns = {name: _json_column(getattr(self.trades, name)) for name in Trades.__slots__}
        if self.tick_times is not None:
            columns["entry_time_msc"] = self.tick_times[0].tolist()
            columns["exit_time_msc"] = self.tick_times[1].tolist()
        return columns


def bool_column(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.bool_)


def level_column(values: np.ndarray | None) -> np.ndarray:
    return _EMPTY if values is None else np.ascontiguousarray(values, dtype=np.float64)


def _spread(cols: Mapping[str, np.ndarray], config: BacktestConfig) -> np.ndarray:
    """Spread in price units: one value for all bars, one per bar, or none."""
    costs, point = config.costs, config.symbol.point
    if costs.spread_from_bars:
        if "spread" not in cols:
            raise InvalidInputError("spread_from_bars needs a `spread` column", code="invalid_bars")
        return (cols["spread"] + costs.spread_points) * point
    return np.array([costs.spread_points * point]) if costs.spread_points else _EMPTY


def simulate_signals(
    cols: Mapping[str, np.ndarray], signals: Signals, config: BacktestConfig, start: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fill loop over prepared columns; returns (equity per bar, trade records, skipped entry counts)."""
    from services.backtesting.core import fills

    costs, sym, sizing = config.costs, config.symbol, config.sizing
    return fills.simulate(
        cols["open"],
        cols["high"],
        cols["low"],
        cols["close"],
        _spread(cols, config),
        bool_column(signals.entry_long),
        bool_column(signals.exit_long),
        bool_column(signals.entry_short),
        bool_column(signals.exit_short),
        level_column(signals.sl),
        level_column(signals.tp),
        start,
        config.fill == FillTiming.THIS_CLOSE,
        config.finalize_trades,
        config.initial_balance,
        config.leverage,
        costs.spread_fraction,
        costs.commission_fraction,
        costs.commission_per_lot,
        costs.slippage_points * sym.point,
        sym.value_per_price,
        int(sizing.mode),
        sizing.value,
        sym.volume_step,
        sym.volume_min,
        sym.volume_max,
    )


def result_from_run(
    time: np.ndarray,
    close: np.ndarray,
    equity: np.ndarray,
    records: np.ndarray,
    first_trading_bar: int,
    warnings: tuple[RunWarning, ...] = (),
    reason_names: Sequence[str] | None = None,
) -> BacktestResult:
    """Trades and metrics from one fill-loop run (the drawdown curve is derived from equity when asked for)."""
    trades = Trades.from_records(records, time, reason_names)
    metrics = compute_metrics(
        time=time,
        close=close,
        equity=equity,
        entry_bar=trades.entry_bar,
        exit_bar=trades.exit_bar,
        pnl=trades.pnl,
        returns=trades.return_pct / 100,
        durations_s=trades.duration_s,
        commissions=trades.commission,
        first_trading_bar=first_trading_bar,
    )
    return BacktestResult(
        metrics=metrics, trades=trades, time=time, equity=equity, close=close, warnings=warnings
    )


def first_signal_bar(strategy: Strategy[Any], n_bars: int) -> int:
    """The first bar whose signal counts; refuses data too short for the strategy's warm-up."""
    start = max(strategy.warmup, 1)
    if n_bars <= start + 1:
        raise InvalidInputError(
            f"{n_bars} bars are too few: {strategy.name} needs {start} warm-up bars plus two to trade",
            code="insufficient_data",
            details={"bars": n_bars, "warmup": start},
        )
    return start


def run_backtest(
    bars: Bars,
    strategy: Strategy[Any],
    config: BacktestConfig,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> BacktestResult:
    """Backtest `strategy` over `bars` (columns time, open, high, low, close [, spread, tick_volume])."""
    report = progress or (lambda _fraction: None)
    cols = bar_columns(bars)
    start = first_signal_bar(strategy, len(cols["close"]))
    report(0.0)
    signals = strategy.signals(cols)
    check_cancel(cancel)
    report(0.4)
    equity, records, skipped = simulate_signals(cols, signals, config, start)
    check_cancel(cancel)
    report(0.8)
    # backtesting.py measures buy & hold from the first bar where every indicator has a value.
    warnings = tuple(run_warnings(signals, skipped, config, start, len(records)))
    result = result_from_run(cols["time"], cols["close"], equity, records, strategy.first_valid_bar, warnings)
    report(1.0)
    return result

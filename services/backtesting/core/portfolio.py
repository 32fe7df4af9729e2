"""Run a portfolio: several legs (a strategy on one symbol's bars) on one account.

Each leg's signals come from its strategy's vectorised code; the shared account is walked by one compiled
loop over the merged timeline (portfolio_walk.py: rules there, money in portfolio_money.py). Results:

- combined: the account's equity (one point per time, after every leg's bar at that time), all trades
  (with their leg), metrics;
- per leg, per symbol, per strategy: initial balance + the P&L of its legs (booked and open, in account
  money), its trades and metrics; buy & hold and beta are measured against the first leg's symbol; a
  group of one leg is that leg's result (on its own bars), a group of every leg the combined one;
- the correlation matrix of the legs' daily returns (each leg's equity at the end of each UTC day).

Times: a leg's bars keep their open times; the merged timeline is labelled by close time minus the
shortest leg period, which is the bar open time when the legs share a timeframe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from services.backtesting.core.config import BacktestConfig, CostConfig, FillTiming, SymbolFacts
from services.backtesting.core.engine import (
    BacktestResult,
    CancelFn,
    ProgressFn,
    bar_columns,
    check_cancel,
    first_signal_bar,
    result_from_run,
)
from services.backtesting.core.engine import _spread as engine_spread  # the one spread rule, per bar here
from services.backtesting.core.metrics import DAY_S
from services.backtesting.core.portfolio_money import LegMoney
from services.backtesting.core.run_warnings import run_warnings
from shared.trading.sizing import SizingConfig
from shared.trading.strategy import Bars, Signals, Strategy


class PortfolioConfig(BaseModel):
    """The one account every leg trades on, and the costs and fill timing of all legs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    initial_balance: float = Field(default=10_000.0, gt=0)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    leverage: float = Field(default=100.0, gt=0, le=1000)
    stop_out_level: float = Field(default=50.0, ge=0, description="margin level percent")
    costs: CostConfig = CostConfig()
    fill: FillTiming = FillTiming.NEXT_OPEN
    finalize_trades: bool = False


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg ready to run: its strategy, bars, symbol facts, sizing and money series."""

    label: str
    symbol: str
    strategy: Strategy[Any]
    bars: Bars
    facts: SymbolFacts
    sizing: SizingConfig
    money: LegMoney
    period_s: int


@dataclass(frozen=True, slots=True)
class PortfolioResult:
    """The run's results; `trade_legs` is the leg of each of the combined result's trades."""

    combined: BacktestResult
    legs: tuple[BacktestResult, ...]
    symbols: dict[str, BacktestResult]
    strategies: dict[str, BacktestResult]
    labels: tuple[str, ...]
    correlation: np.ndarray
    trade_legs: np.ndarray

    def to_dict(self, legs: Sequence[dict[str, Any]], max_points: int | None = None) -> dict[str, Any]:
        """JSON-ready; `legs` are the legs as requested (symbol, timeframe, strategy, params) to label them."""
        combined = self.combined.to_dict(max_points)
        combined["trades"]["leg"] = self.trade_legs.tolist()
        return {
            "combined": combined,
            "legs": [
                {**info, "label": label, **result.to_dict(max_points)}
                for info, label, result in zip(legs, self.labels, self.legs, strict=True)
            ],
            "symbols": {name: r.to_dict(max_points) for name, r in self.symbols.items()},
            "strategies": {name: r.to_dict(max_points) for name, r in self.strategies.items()},
            "correlation": {
                "labels": list(self.labels),
                "matrix": [[None if v != v else round(float(v), 6) for v in row] for row in self.correlation],
            },
        }


def _timeline(close_times: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events (leg, bar) in close-time order, ties in leg order; also each event's close time."""
    leg = np.concatenate([np.full(len(t), k, dtype=np.int64) for k, t in enumerate(close_times)])
    bar = np.concatenate([np.arange(len(t), dtype=np.int64) for t in close_times])
    when = np.concatenate(close_times)
    order = np.argsort(when, kind="stable")  # the concatenation is in leg order: ties stay in it
    return leg[order], bar[order], when[order]


def _flat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.ascontiguousarray(np.concatenate(parts), dtype=dtype)


def _levels(values: np.ndarray | None, n: int) -> np.ndarray:
    return np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64)


def _spread(cols: dict[str, np.ndarray], config: BacktestConfig) -> np.ndarray:
    """Spread in price units per bar: the engine's rule (one value, one per bar, or none), spread out."""
    spread, n = engine_spread(cols, config), len(cols["close"])
    return np.broadcast_to(spread, (n,)) if spread.size else np.zeros(n)


def _on_timeline(timeline: np.ndarray, leg_time: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A leg's per-bar `values` at each timeline point: its latest bar's value by then, 0.0 before its
    first (both times on the timeline's clock)."""
    index = np.searchsorted(leg_time, timeline, side="right") - 1
    return np.where(index >= 0, values[np.maximum(index, 0)], 0.0)


def _correlation(time: np.ndarray, pnl: np.ndarray, initial: float) -> np.ndarray:
    """Correlation of the legs' daily returns (rows of `pnl`: each leg's P&L on the timeline)."""
    n_legs = pnl.shape[0]
    day = time // DAY_S
    ends = np.r_[np.flatnonzero(np.diff(day) != 0), len(day) - 1] if len(day) else np.empty(0, dtype=np.int64)
    if len(ends) < 3:
        return np.full((n_legs, n_legs), np.nan)
    equity = np.hstack([np.full((n_legs, 1), initial), initial + pnl[:, ends]])
    returns = np.diff(equity, axis=1) / equity[:, :-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(returns) if n_legs > 1 else np.array([[1.0 if returns.std() > 0 else np.nan]])
    return np.atleast_2d(corr)


@dataclass(frozen=True, slots=True)
class Walked:
    """The compiled walk's output with the timeline it walked (events in order: leg, bar, time)."""

    offsets: np.ndarray
    ev_leg: np.ndarray
    ev_bar: np.ndarray
    ev_time: np.ndarray
    equity: np.ndarray
    leg_pnl: np.ndarray
    records: np.ndarray
    skipped: np.ndarray


def leg_inputs(
    legs: Sequence[Leg], cancel: CancelFn | None = None
) -> tuple[list[dict[str, np.ndarray]], list[Signals], list[int]]:
    """Each leg's bar columns, vectorised signals and first signal bar."""
    cols, signals, starts = [], [], []
    for leg in legs:
        c = bar_columns(leg.bars)
        starts.append(first_signal_bar(leg.strategy, len(c["close"])))
        signals.append(leg.strategy.signals(c))
        cols.append(c)
        check_cancel(cancel)
    return cols, signals, starts


def walk_legs(
    legs: Sequence[Leg],
    config: PortfolioConfig,
    cols: list[dict[str, np.ndarray]],
    signals: list[Signals],
    starts: list[int],
) -> Walked:
    """The legs' bars merged into one timeline and walked on one account by the compiled loop."""
    from services.backtesting.core import portfolio_walk as pw

    lengths = np.array([len(c["close"]) for c in cols], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
    ev_leg, ev_bar, when = _timeline([c["time"] + leg.period_s for c, leg in zip(cols, legs, strict=True)])
    costs = config.costs

    def per_bar(name: str) -> np.ndarray:
        return _flat([c[name] for c in cols], np.float64)

    def per_signal(attr: str) -> np.ndarray:
        return _flat([getattr(s, attr) for s in signals], np.bool_)

    def per_leg(values: list[Any], dtype: type) -> np.ndarray:
        return np.array(values, dtype=dtype)

    equity, leg_pnl, records, skipped = pw.walk(
        ev_leg,
        ev_bar,
        offsets,
        lengths,
        per_leg(starts, np.int64),
        per_bar("open"),
        per_bar("high"),
        per_bar("low"),
        per_bar("close"),
        _flat([_spread(c, leg_config(leg, config)) for c, leg in zip(cols, legs, strict=True)], np.float64),
        per_signal("entry_long"),
        per_signal("exit_long"),
        per_signal("entry_short"),
        per_signal("exit_short"),
        _flat([_levels(s.sl, n) for s, n in zip(signals, lengths, strict=True)], np.float64),
        _flat([_levels(s.tp, n) for s, n in zip(signals, lengths, strict=True)], np.float64),
        _flat([leg.money.to_account for leg in legs], np.float64),
        _flat([leg.money.margin_per_lot for leg in legs], np.float64),
        per_leg([leg.money.margin_on_price for leg in legs], np.bool_),
        per_leg([leg.money.value_per_price for leg in legs], np.float64),
        per_leg([costs.slippage_points * leg.facts.point for leg in legs], np.float64),
        per_leg([int(leg.sizing.mode) for leg in legs], np.int64),
        per_leg([leg.sizing.value for leg in legs], np.float64),
        per_leg([leg.facts.volume_step for leg in legs], np.float64),
        per_leg([leg.facts.volume_min for leg in legs], np.float64),
        per_leg([leg.facts.volume_max for leg in legs], np.float64),
        config.fill == FillTiming.THIS_CLOSE,
        config.finalize_trades,
        config.initial_balance,
        config.leverage,
        config.stop_out_level,
        costs.spread_fraction,
        costs.commission_fraction,
        costs.commission_per_lot,
    )
    ev_time = when - min(leg.period_s for leg in legs)
    return Walked(offsets, ev_leg, ev_bar, ev_time, equity, leg_pnl, records, skipped)


def run_portfolio(
    legs: Sequence[Leg],
    config: PortfolioConfig,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> PortfolioResult:
    """Run `legs` on one account; see the module docstring for what comes back."""
    report = progress or (lambda _fraction: None)
    report(0.0)
    cols, signals, starts = leg_inputs(legs, cancel)
    report(0.4)
    walked = walk_legs(legs, config, cols, signals, starts)
    check_cancel(cancel)
    report(0.8)
    result = _results(legs, config, cols, signals, starts, walked)
    report(1.0)
    return result


def _results(
    legs: Sequence[Leg],
    config: PortfolioConfig,
    cols: list[dict[str, np.ndarray]],
    signals: list[Signals],
    starts: list[int],
    walked: Walked,
) -> PortfolioResult:
    """Per leg, per group and combined results from the walk's output."""
    from services.backtesting.core import fills
    from services.backtesting.core import portfolio_walk as pw

    initial, names = config.initial_balance, pw.EXIT_REASON_NAMES
    offsets, ev_leg, ev_bar, ev_time = walked.offsets, walked.ev_leg, walked.ev_bar, walked.ev_time
    equity, leg_pnl, records, skipped = walked.equity, walked.leg_pnl, walked.records, walked.skipped
    trade_leg = records[:, pw.T_LEG].astype(np.int64)
    leg_results = []
    for k, (leg, c) in enumerate(zip(legs, cols, strict=True)):
        mine = records[trade_leg == k]
        n = len(c["close"])
        warnings = tuple(run_warnings(signals[k], skipped[k], leg_config(leg, config), starts[k], len(mine)))
        leg_results.append(
            result_from_run(
                c["time"],
                c["close"],
                initial + leg_pnl[offsets[k] : offsets[k] + n],
                mine,
                leg.strategy.first_valid_bar,
                warnings,
                names,
            )
        )

    # The timeline: one point per time, the last event at that time (every leg's bar there is walked).
    keep = np.r_[np.flatnonzero(np.diff(ev_time) != 0), len(ev_time) - 1]
    time = ev_time[keep]
    position = np.cumsum(np.r_[0, np.diff(ev_time) != 0])  # each event's point on the timeline
    point_of_bar = np.empty(len(leg_pnl), dtype=np.int64)
    point_of_bar[offsets[ev_leg] + ev_bar] = position
    shortest = min(leg.period_s for leg in legs)
    leg_times = [c["time"] + (leg.period_s - shortest) for c, leg in zip(cols, legs, strict=True)]
    pnl = np.vstack(
        [_on_timeline(time, t, leg_pnl[offsets[k] : offsets[k] + len(t)]) for k, t in enumerate(leg_times)]
    )
    first_close = _on_timeline(time, leg_times[0], cols[0]["close"])
    first_bar = min(
        int(point_of_bar[offsets[k] + min(leg.strategy.first_valid_bar, len(c["close"]) - 1)])
        for k, (leg, c) in enumerate(zip(legs, cols, strict=True))
    )

    timeline_records = records.copy()
    for column in (fills.T_ENTRY_BAR, fills.T_EXIT_BAR):
        timeline_records[:, column] = point_of_bar[offsets[trade_leg] + records[:, column].astype(np.int64)]

    combined = result_from_run(time, first_close, equity[keep], timeline_records, first_bar, (), names)

    def group(members: list[int]) -> BacktestResult:
        """The legs' P&L on one balance: a lone leg's own result, all legs' the combined one (the account's
        equity is the balance plus every leg's P&L, and exact where the sum of curves is not)."""
        if len(members) == 1:
            return leg_results[members[0]]
        if len(members) == len(legs):
            return combined
        chosen = timeline_records[np.isin(trade_leg, members)]
        return result_from_run(
            time, first_close, initial + pnl[members].sum(axis=0), chosen, first_bar, (), names
        )

    by_symbol: dict[str, list[int]] = {}
    by_strategy: dict[str, list[int]] = {}
    for k, leg in enumerate(legs):
        by_symbol.setdefault(leg.symbol, []).append(k)
        by_strategy.setdefault(leg.strategy.name, []).append(k)
    result = PortfolioResult(
        combined=combined,
        legs=tuple(leg_results),
        symbols={name: group(members) for name, members in by_symbol.items()},
        strategies={name: group(members) for name, members in by_strategy.items()},
        labels=tuple(leg.label for leg in legs),
        correlation=_correlation(time, pnl, initial),
        trade_legs=trade_leg,
    )
    return result


def leg_config(leg: Leg, config: PortfolioConfig) -> BacktestConfig:
    """The leg alone as a single backtest's config (its spread and run warnings are read from it)."""
    return BacktestConfig(
        initial_balance=config.initial_balance,
        leverage=config.leverage,
        costs=config.costs,
        sizing=leg.sizing,
        fill=config.fill,
        finalize_trades=config.finalize_trades,
        symbol=leg.facts,
    )

"""Warnings a run carries: entry signals that did not become trades and why, with counts, so a backtest or a
search that trades little or nothing says so instead of showing zeros."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel

from services.backtesting.core.config import BacktestConfig
from shared.trading.strategy import Signals


class RunWarning(BaseModel):
    """One reason signals were lost (or a run made no trades), and how often."""

    code: str
    message: str
    count: int


def skip_warnings(skipped: np.ndarray, config: BacktestConfig, *, scope: str = "") -> list[RunWarning]:
    """Warnings for the fill loop's skipped-entry counts (fills.SKIP_*), those above zero only; `scope`
    (e.g. "over all combinations") ends each message."""
    from services.backtesting.core import fills

    sym, sizing = config.symbol, config.sizing
    suffix = f" {scope}" if scope else ""
    reasons = {
        fills.SKIP_WARMUP: (
            "signals_in_warmup",
            "entry signals fell in the strategy's warm-up and were ignored",
        ),
        fills.SKIP_BELOW_MIN: (
            "volume_below_minimum",
            f"entries were skipped: {sizing.mode.name.lower()} sizing ({sizing.value:g}) came out below the "
            f"symbol's minimum volume ({sym.volume_min:g}); raise the size, the balance or the leverage",
        ),
        fills.SKIP_MARGIN: (
            "insufficient_margin",
            f"entries were skipped: the balance at leverage {config.leverage:g} could not carry the size",
        ),
        fills.SKIP_NO_STOP: (
            "no_stop_loss",
            "entries were skipped: risk_percent sizing needs a stop-loss and the signal set none",
        ),
        fills.SKIP_INVALID_STOPS: (
            "invalid_stops",
            "entries were skipped: their SL or TP was nearer the price than the symbol's stops level, "
            "which the broker refuses",
        ),
    }
    return [
        RunWarning(code=code, message=f"{int(skipped[kind])} {text}{suffix}", count=int(skipped[kind]))
        for kind, (code, text) in reasons.items()
        if skipped[kind] > 0
    ]


def no_trades_warning(entry_signals: int, skipped_entries: int) -> RunWarning:
    """The run closed no trade: `entry_signals` counted after the warm-up, `skipped_entries` of them refused."""
    if entry_signals == 0:
        why = "the strategy gave no entry signal after its warm-up"
    elif skipped_entries >= entry_signals:
        why = "every entry was skipped, see the other warnings"
    else:
        why = "a trade still open at the end is not counted; finalize_trades=true closes it"
    return RunWarning(code="no_trades", message=f"the run made no trades ({why})", count=entry_signals)


def sum_skipped(parts: Iterable[np.ndarray]) -> np.ndarray:
    """Skipped-entry counts added up over several runs."""
    from services.backtesting.core import fills

    total = np.zeros(fills.SKIP_KINDS, dtype=np.int64)
    for part in parts:
        total += part
    return total


def run_warnings(
    signals: Signals, skipped: np.ndarray, config: BacktestConfig, start: int, n_trades: int
) -> list[RunWarning]:
    """The warnings of one run: skipped entries by cause, and `no_trades` with its likely reason."""
    warnings = skip_warnings(skipped, config)
    if n_trades == 0:
        last = len(signals) - 1  # the last bar's signals have no bar to fill on
        counted = np.count_nonzero(signals.entry_long[start:last]) + np.count_nonzero(
            signals.entry_short[start:last]
        )
        warnings.append(no_trades_warning(int(counted), int(skipped.sum() - skipped[0])))
    return warnings

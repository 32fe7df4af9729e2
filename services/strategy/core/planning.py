"""What one instance does on one closed bar, without I/O: the strategy's signal on the bar window, the
backtest's order rule against the positions held, the risk manager's limits and sizing, as the orders to
record and send, or why there are none.

Everything here is a pure function of its arguments (the window, the positions, the quote and equity, the
day's P&L and the instance's config), so it is tested without a broker, a store or an event loop. The
runner (runner.py) fetches what a plan needs, records it and carries it out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.strategy.core.decisions import BarSignal, Decision, decide
from services.strategy.core.ports import Position, Quote
from services.strategy.core.risk import RiskManager, day_start
from services.strategy.core.store import InstanceRecord, OrderRecord
from shared.market.timeframes import get_timeframe
from shared.trading.strategy import Strategy

CLOSE = "close"


def client_id(instance_id: str, bar_time: int, action: str) -> str:
    """The deterministic client order id of one action of one instance on one bar."""
    return f"{instance_id}:{bar_time}:{action}"


def order_comment(bar_time: int, action: str) -> str:
    """The order's MT5 comment: its client id without the instance (the magic number names that), so it
    fits MT5's 31 characters and the terminal's history shows which bar and action each deal came from."""
    return f"{bar_time}:{action}"


def is_close(order: OrderRecord) -> bool:
    return order.action.startswith(CLOSE)


@dataclass(frozen=True, slots=True)
class BarPlan:
    """The orders of one bar (closes first, then the entry) and why an entry the decision wants is not
    placed (`refusal`). An entry that is wanted and allowed but not yet sized is `entry_pending`: it needs
    the quote (and equity) to become an order."""

    bar_time: int
    signal: BarSignal
    held: int  # +1 long, -1 short, 0 flat: the position the decision was taken against
    decision: Decision
    closes: tuple[OrderRecord, ...] = ()
    entry: OrderRecord | None = None
    refusal: str | None = None

    @property
    def entry_pending(self) -> bool:
        return bool(self.decision.open) and self.entry is None and self.refusal is None

    @property
    def orders(self) -> list[OrderRecord]:
        return [*self.closes, *([self.entry] if self.entry is not None else [])]

    @property
    def summary(self) -> dict[str, Any]:
        """What the store keeps as the instance's last signal."""
        return {"bar_time": self.bar_time, "signals": self.signal.to_dict(), "held": self.held}


@dataclass(frozen=True, slots=True)
class DailyLossStop:
    """Today's loss reached the limit: the instance stops, after closing its positions when configured."""

    reason: str
    closes: tuple[OrderRecord, ...]
    summary: dict[str, Any]


class OrderPlanner:
    """The orders of one instance on each closed bar, as the backtest engine would place them."""

    def __init__(
        self,
        instance: InstanceRecord,
        strategy: Strategy[Any],
        *,
        history_bars: int = 500,
        warmup_factor: int = 5,
        deviation_points: int = 20,
    ) -> None:
        self.instance = instance
        self.strategy = strategy
        self.risk = RiskManager(instance.sizing, instance.risk)
        self.timeframe = get_timeframe(instance.timeframe)
        self._deviation = deviation_points
        self._start = max(strategy.warmup, 1)  # as the backtest: the first bar whose signal counts
        atr_need = instance.risk.atr_period + 1 if instance.risk.uses_atr else 0
        self.window_size = max(history_bars, strategy.warmup * warmup_factor, atr_need) + 1

    def warming_up(self, window: np.ndarray) -> dict[str, Any] | None:
        """The summary to record when the window's last bar comes before the first one whose signal counts."""
        if len(window) - 1 >= self._start:
            return None
        return {"bar_time": int(window["time"][-1]), "warming_up": True, "bars": len(window)}

    def signal(self, window: np.ndarray) -> BarSignal:
        """The strategy's signals on the window's last bar, read with only the bars up to it. Strategy code
        may be slow or compile on its first call (numba): the runner calls this off the event loop."""
        return BarSignal.at(self.strategy.signals(_columns(window)), len(window) - 1)

    def trading_day(self, bar_time: int) -> int:
        """00:00 UTC of the day the orders of bar `bar_time` are placed in (at the next bar's open)."""
        return day_start(self.timeframe.next_open(bar_time))

    def daily_loss_stop(self, bar_time: int, pnl: float, positions: list[Position]) -> DailyLossStop | None:
        """The stop when today's P&L `pnl` has lost the daily limit, else None."""
        if not self.risk.daily_loss_breached(pnl):
            return None
        risk = self.risk.risk
        reason = f"daily_loss_limit: today's P&L {pnl:.2f} reached the limit of -{risk.daily_loss_limit:.2f}"
        closes = tuple(self._close(bar_time, p) for p in positions) if risk.close_on_daily_loss else ()
        return DailyLossStop(reason, closes, {"bar_time": bar_time, "daily_loss": pnl})

    def plan(self, bar_time: int, signal: BarSignal, positions: list[Position]) -> BarPlan:
        """The decision on `signal` with `positions` (this instance's, by ticket) held: its closes, and
        the entry it wants, refused when the position cap forbids it. Sizing the entry is `enter`'s."""
        held = positions[0].direction if positions else 0
        decision = decide(signal, held)
        closes = tuple(self._close(bar_time, p) for p in positions) if decision.close else ()
        refusal = None
        if decision.open:
            refusal = self.risk.entry_refusal(0 if decision.close else len(positions))
        return BarPlan(bar_time, signal, held, decision, closes, refusal=refusal)

    def enter(self, plan: BarPlan, window: np.ndarray, quote: Quote, equity: float) -> BarPlan:
        """`plan` with its pending entry sized at `quote` and `equity` (refused when below the minimum)."""
        direction = plan.decision.open
        entry = self.risk.entry(
            direction,
            quote,
            equity,
            strategy_sl=plan.signal.sl,
            strategy_tp=plan.signal.tp,
            atr=self._atr(window) if self.risk.risk.uses_atr else None,
        )
        if entry.volume <= 0:
            return dataclasses.replace(plan, refusal="volume_below_minimum")
        action = "buy" if direction > 0 else "sell"
        request = {
            "action": "DEAL",
            "symbol": self.instance.symbol,
            "type": action.upper(),
            "volume": entry.volume,
            "sl": entry.sl,
            "tp": entry.tp,
            "deviation": self._deviation,
            "magic": self.instance.magic,
            "comment": order_comment(plan.bar_time, action),
        }
        return dataclasses.replace(plan, entry=self._order(plan.bar_time, action, request))

    def _close(self, bar_time: int, position: Position) -> OrderRecord:
        action = f"{CLOSE}-{position.ticket}"
        request = {
            "ticket": position.ticket,
            "deviation": self._deviation,
            "magic": self.instance.magic,
            "comment": order_comment(bar_time, action),
        }
        return self._order(bar_time, action, request)

    def _order(self, bar_time: int, action: str, request: dict[str, Any]) -> OrderRecord:
        cid = client_id(self.instance.id, bar_time, action)
        return OrderRecord(cid, self.instance.id, bar_time, action, request)

    def _atr(self, window: np.ndarray) -> float:
        # Imported on first use: TA-Lib pulls in pandas, ~0.3 s of the service's start-up. The service's
        # warm-up (main.py) imports it in the background before a candle is likely to need it.
        import talib

        high, low, close = (
            np.ascontiguousarray(window[n], dtype=np.float64) for n in ("high", "low", "close")
        )
        return float(talib.ATR(high, low, close, timeperiod=self.risk.risk.atr_period)[-1])


def _columns(window: np.ndarray) -> dict[str, np.ndarray]:
    return {name: window[name] for name in window.dtype.names or ()}

"""The risk manager of one instance: entry size and stops, the position cap and the daily loss limit."""

from __future__ import annotations

from dataclasses import dataclass

from services.strategy.core.config import RiskConfig
from services.strategy.core.ports import Quote
from shared.trading.sizing import SizingConfig, SizingMode, position_size

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """An entry's volume (lots, in the symbol's steps; 0 = too small to trade) and SL/TP prices (0 = none)."""

    volume: float
    sl: float
    tp: float


def day_start(time_s: int) -> int:
    """00:00 UTC of the day holding `time_s`."""
    return time_s - time_s % DAY_S


class RiskManager:
    """Sizes entries and decides what the instance may still do."""

    def __init__(self, sizing: SizingConfig, risk: RiskConfig) -> None:
        self.sizing = sizing
        self.risk = risk

    @property
    def prices_entries(self) -> bool:
        """Whether an entry's size or stops depend on the current price (else the symbol's facts do)."""
        r = self.risk
        distances = (r.sl_points, r.tp_points, r.sl_atr, r.tp_atr)
        return self.sizing.mode != SizingMode.FIXED or any(d is not None for d in distances)

    def stops(
        self,
        direction: int,
        price: float,
        quote: Quote,
        *,
        strategy_sl: float | None = None,
        strategy_tp: float | None = None,
        atr: float | None = None,
    ) -> tuple[float, float]:
        """SL and TP prices of an entry at `price`: the strategy's own levels first (as a backtest uses
        them), else the risk config's distance in points or ATRs; rounded to the symbol's digits."""
        point, risk = quote.spec.point, self.risk
        sl = strategy_sl if strategy_sl is not None else _distance(risk.sl_points, risk.sl_atr, point, atr)
        tp = strategy_tp if strategy_tp is not None else _distance(risk.tp_points, risk.tp_atr, point, atr)
        if strategy_sl is None and sl is not None:
            sl = price - direction * sl
        if strategy_tp is None and tp is not None:
            tp = price + direction * tp
        return (
            quote.spec.round_price(sl) if sl is not None else 0.0,
            quote.spec.round_price(tp) if tp is not None else 0.0,
        )

    def entry(
        self,
        direction: int,
        quote: Quote,
        equity: float,
        *,
        strategy_sl: float | None = None,
        strategy_tp: float | None = None,
        atr: float | None = None,
    ) -> EntryPlan:
        """Volume and stops of a market entry at the current quote (ask to buy, bid to sell)."""
        price = quote.ask if direction > 0 else quote.bid
        sl, tp = self.stops(
            direction, price, quote, strategy_sl=strategy_sl, strategy_tp=strategy_tp, atr=atr
        )
        volume = position_size(
            self.sizing,
            spec=quote.spec,
            equity=equity,
            price=price,
            sl=sl or None,
            value_per_price=quote.value_per_price,
        )
        return EntryPlan(volume=volume, sl=sl, tp=tp)

    def entry_refusal(self, open_positions: int) -> str | None:
        """Why a new entry is not allowed with `open_positions` of this instance open, or None."""
        if open_positions >= self.risk.max_open_positions:
            return "max_open_positions"
        return None

    def daily_loss_breached(self, pnl: float) -> bool:
        """True when today's P&L (closed plus open) has lost the daily limit or more."""
        limit = self.risk.daily_loss_limit
        return limit is not None and pnl <= -limit


def _distance(points: float | None, atrs: float | None, point: float, atr: float | None) -> float | None:
    if points is not None:
        return points * point
    if atrs is not None and atr is not None and atr == atr:  # NaN ATR (too little history): no level
        return atrs * atr
    return None

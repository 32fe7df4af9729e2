"""What a position cost to open: MT5's TradePosition has no commission (the field was dropped from the
API), so the terminal's "Commission" column is read off the position's entry deals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.market import mt5_constants as mt5
from shared.market.records import TradeDeal, TradePosition

FAR_FUTURE_S = 4_102_444_800  # 2100-01-01: "no upper bound" for a terminal that needs one


def entry_deals_range(positions: Sequence[TradePosition]) -> tuple[int, int] | None:
    """The one history range holding every entry deal of `positions` (none opens before the position
    does), so their commissions cost one history read, not one per position; None without positions."""
    if not positions:
        return None
    return min(p.time for p in positions), FAR_FUTURE_S


def entry_commissions(deals: Iterable[TradeDeal], positions: Sequence[TradePosition]) -> dict[int, float]:
    """Commission of each position's entry deals, by position id. A partial close's commission is not
    counted: it is realised with that deal, as the terminal shows it."""
    commissions = {p.identifier: 0.0 for p in positions}
    for deal in deals:
        if deal.entry == mt5.DEAL_ENTRY_IN and deal.position_id in commissions:
            commissions[deal.position_id] += deal.commission
    return commissions

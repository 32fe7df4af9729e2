"""What a position cost to open: MT5's TradePosition has no commission (the field was dropped from the
API), so the terminal's "Commission" column is read off the position's entry deals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from shared.market import mt5_constants as mt5
from shared.market.records import TradeDeal


def entry_commissions(
    deals_of: Callable[[int], Sequence[TradeDeal]], position_ids: Iterable[int]
) -> dict[int, float]:
    """Commission of each position's entry deals, by position id. A partial close's commission is not
    counted: it is realised with that deal, as the terminal shows it."""
    return {
        position_id: sum(d.commission for d in deals_of(position_id) if d.entry == mt5.DEAL_ENTRY_IN)
        for position_id in set(position_ids)
    }

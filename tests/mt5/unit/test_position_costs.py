"""A position's commission from its entry deals, read in one history range for all positions."""

from __future__ import annotations

from typing import Any

from services.mt5.core.position_costs import FAR_FUTURE_S, entry_commissions, entry_deals_range
from shared.market import mt5_constants as mt5
from shared.market.records import TradeDeal, TradePosition


def _position(identifier: int, time: int) -> TradePosition:
    fields: dict[str, Any] = {name: 0 for name in TradePosition._fields}
    fields.update(
        ticket=identifier, identifier=identifier, time=time, symbol="EURUSD", comment="", external_id=""
    )
    return TradePosition(**fields)


def _deal(position_id: int, entry: int, commission: float) -> TradeDeal:
    fields: dict[str, Any] = {name: 0 for name in TradeDeal._fields}
    fields.update(
        position_id=position_id,
        entry=entry,
        commission=commission,
        symbol="EURUSD",
        comment="",
        external_id="",
    )
    return TradeDeal(**fields)


def test_entry_commissions_count_only_entry_deals_of_open_positions() -> None:
    positions = [_position(1, 500), _position(2, 300)]
    deals = [
        _deal(1, mt5.DEAL_ENTRY_IN, -0.7),
        _deal(2, mt5.DEAL_ENTRY_IN, -1.4),
        _deal(2, mt5.DEAL_ENTRY_OUT, -0.7),  # a partial close: realised, not the open position's
        _deal(3, mt5.DEAL_ENTRY_IN, -9.0),  # a position closed since
    ]

    assert entry_commissions(deals, positions) == {1: -0.7, 2: -1.4}


def test_entry_deals_range_starts_at_the_oldest_position() -> None:
    assert entry_deals_range([_position(1, 500), _position(2, 300)]) == (300, FAR_FUTURE_S)
    assert entry_deals_range([]) is None

"""Fixtures of the data service's integration tests: the stand-in mt5 server and a wait helper."""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from services.data.core.stores import DataStores
from shared.market.timeframes import get_timeframe
from tests.data.mt5_standin import StandinMarket

T = TypeVar("T")

MONDAY_JAN_8 = 1_704_672_000  # 2024-01-08 00:00 UTC


def assert_matches_market(stores: DataStores, market: StandinMarket, symbol: str, start_s: int) -> int:
    """Stored ticks and bars of `symbol` since `start_s` equal the market's up to the last stored tick."""
    last = stores.ticks.last_tick(symbol)
    assert last is not None
    last_ms = int(last["time_msc"])
    stored = stores.ticks.read_range(symbol, start_s * 1000, last_ms + 1)
    expected = market.market.ticks(symbol, start_s * 1000, last_ms + 1)
    np.testing.assert_array_equal(stored, expected)
    for name in stores.bars.stored_timeframes:
        bars = stores.bars.read(symbol, name, start_s)
        rates = market.market.rates_range(symbol, get_timeframe(name), start_s, last_ms // 1000, last_ms + 1)
        np.testing.assert_array_equal(bars, rates, err_msg=f"{symbol} {name}")
    return len(stored)

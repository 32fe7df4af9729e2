"""A strategy instance's price chart with its trades: the terminal's deals and positions turned into the
trades the chart draws, and a position of the instance drawn open to now, then closed, while the view is open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.chart_checks import dataset
from tests.support.platform import Platform

BAR = 60


def _deal(
    ticket: int, position: int, time: int, kind: int, entry: int, volume: float, price: float, **more: Any
) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "order": ticket + 100,
        "position_id": position,
        "time": time,
        "type": kind,
        "entry": entry,
        "volume": volume,
        "price": price,
        "profit": 0.0,
        "commission": 0.0,
        "swap": 0.0,
        "fee": 0.0,
        **more,
    }


def test_instance_trades_pair_deals_by_position_with_the_opening_order_s_stops(
    page: Any, platform: Platform
) -> None:
    deals = [
        _deal(1, 10, 1000, 0, 0, 0.02, 1.1, commission=-0.1),  # a buy closed in two parts
        _deal(2, 10, 1130, 1, 1, 0.01, 1.2, profit=1.0),
        _deal(3, 10, 1250, 1, 1, 0.01, 1.4, profit=3.0),
        _deal(4, 20, 1300, 1, 0, 0.01, 1.3),  # a sell still open
        _deal(
            5, 30, 900, 0, 1, 0.01, 1.0, profit=5.0
        ),  # the close of a position opened before the history read
        _deal(6, 0, 800, 2, 0, 0.0, 0.0, profit=100.0),  # a balance deal: no trade
    ]
    orders = [{"ticket": 101, "sl": 1.05, "tp": 0.0}, {"ticket": 104, "sl": 1.5, "tp": 1.0}]
    positions = [
        {
            "ticket": 20,
            "type": 1,
            "volume": 0.01,
            "price_open": 1.3,
            "sl": 1.45,
            "tp": 0.0,
            "price_current": 1.25,
            "profit": 2.0,
            "time": 1300,
        },
        {
            "ticket": 40,
            "type": 0,
            "volume": 0.03,
            "price_open": 1.2,
            "sl": 0.0,
            "tp": 0.0,
            "price_current": 1.21,
            "profit": 0.3,
            "time": 1400,
        },
    ]
    trades = page.evaluate(
        "async (args) => (await import('/static/js/instance_trades.js')).instanceTrades(args)",
        {"deals": deals, "orders": orders, "positions": positions, "nowS": 1500, "barS": BAR},
    )
    assert trades == {
        "entry_time": [960, 1260, 1380],  # the bars they fell in
        "exit_time": [1200, 1500, 1500],
        "size": [0.02, -0.01, 0.03],
        "entry_price": [1.1, 1.3, 1.2],
        "exit_price": [
            pytest.approx(1.3),
            1.25,
            1.21,
        ],  # the closes' volume-weighted price; open: the current one
        "sl": [1.05, 1.45, None],  # the opening order's; an open position's own (modified since)
        "tp": [None, None, None],
        "pnl": [pytest.approx(3.9), 2.0, 0.3],  # net of costs; an open one's floating profit
        "position": [10, 20, 40],
        "open": [False, True, True],
    }


def test_instance_chart_draws_its_position_open_to_now_then_closed_live(
    page: Any, platform: Platform
) -> None:
    spec = {
        "strategy": "sma_crossover",
        "params": {"fast": 5, "slow": 10},
        "symbol": "EURUSD",
        "timeframe": "M1",
    }
    created = platform.http.post("/api/strategy/strategies", json=spec).json()
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-strategies")
    page.click(f'#st-instances tbody tr[data-instance="{created["id"]}"] td:first-child')
    page.wait_for_selector('#st-price[data-trades="0"]', timeout=20_000)

    # A position carrying the instance's magic number (as its orders do) opens while the view is shown.
    order = {"symbol": "EURUSD", "type": "BUY", "volume": 0.01, "magic": created["magic"]}
    assert platform.http.post("/api/mt5/orders", json=order).status_code == 200
    page.wait_for_selector('#st-price[data-trades="1"][data-open-trades="1"]', timeout=20_000)
    assert dataset(page, "#st-price")["markers"] == "2"  # its entry, and its latest price now

    (position,) = [
        p for p in platform.http.get("/api/mt5/positions").json() if p["magic"] == created["magic"]
    ]
    assert platform.http.post(f"/api/mt5/positions/{position['ticket']}/close").status_code == 200
    page.wait_for_selector('#st-price[data-trades="1"][data-open-trades="0"]', timeout=20_000)
    page.click(f'#st-trades tr[data-position="{position["ticket"]}"]')
    page.wait_for_selector('#st-price[data-selected-trade="0"]')
    platform.http.delete(f"/api/strategy/strategies/{created['id']}")

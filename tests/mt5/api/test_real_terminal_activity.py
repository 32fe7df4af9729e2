"""What happens in a real terminal outside the platform's requests (SL/TP, stop-out, by hand, other
programs) appears as the paper broker's `order.*` / `position.*` events, under platform symbol names; a
restarted service publishes what it missed from the terminal's history, flagged `backfill`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from shared.market import mt5_constants as mt5
from tests.mt5.api.real_terminal import ADAPTERS, real_terminal_client
from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, buy, receive_until
from tests.mt5.fakes.fake_metatrader5 import FakeMetaTrader5

EVENTS = "/ws/events?types=order.filled,position.opened,position.closed"


def outside_buy(fake: FakeMetaTrader5, symbol: str = "GBPUSDm", volume: float = 0.1) -> Any:
    """A trade the terminal's user (or another program) makes: straight into the terminal."""
    fake.selected.add(symbol)
    request = {"action": mt5.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": 0}
    return fake.order_send({**request, "type_filling": mt5.ORDER_FILLING_FOK})


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_real_terminal_outside_trade_and_sl_close_are_published_with_platform_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str
) -> None:
    with (
        real_terminal_client(tmp_path, monkeypatch, adapter) as (client, fake),
        client.websocket_connect(EVENTS) as ws,
    ):
        sent = outside_buy(fake)
        filled = receive_until(ws, lambda e: e["type"] == "order.filled")
        opened = receive_until(ws, lambda e: e["type"] == "position.opened")
        deal = fake.close_in_terminal(sent.order, reason=mt5.DEAL_REASON_SL)
        closed = receive_until(ws, lambda e: e["type"] == "position.closed")

    assert (filled["data"]["symbol"], filled["data"]["ticket"]) == ("GBPUSD", sent.order)
    # The paper broker's order.filled: the order's record (from the terminal's history) and its deal.
    assert (filled["data"]["state"], filled["data"]["deal"]) == (mt5.ORDER_STATE_FILLED, sent.deal)
    assert (opened["data"]["symbol"], opened["data"]["ticket"]) == ("GBPUSD", sent.order)
    data = closed["data"]
    assert (data["symbol"], data["ticket"], data["deal"]) == ("GBPUSD", sent.order, deal.ticket)
    assert (data["price_close"], data["profit"], data["close_reason"]) == (
        deal.price,
        deal.profit,
        mt5.DEAL_REASON_SL,
    )
    assert "backfill" not in data


def events_until(ws: Any, last: Callable[[dict[str, Any]], bool]) -> list[tuple[str, int]]:
    """(type, ticket) of every event up to and including the one `last` matches."""
    events = [receive_until(ws, lambda e: e["type"] != "heartbeat")]
    while not last(events[-1]):
        events.append(receive_until(ws, lambda e: e["type"] != "heartbeat"))
    return [(e["type"], e["data"]["ticket"]) for e in events]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_real_terminal_platform_order_and_close_published_once_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str
) -> None:
    with (
        real_terminal_client(tmp_path, monkeypatch, adapter) as (client, fake),
        client.websocket_connect(EVENTS) as ws,
    ):
        order = buy(client).json()["order"]
        opening = events_until(ws, lambda e: e["type"] == "position.opened")
        closed = client.post(f"/positions/{order}/close")
        last = outside_buy(fake)  # a later fill: every event before it has been published by then
        closing = events_until(
            ws, lambda e: e["type"] == "order.filled" and e["data"]["ticket"] == last.order
        )

    assert closed.status_code == 200, closed.json()
    assert opening == [("order.filled", order), ("position.opened", order)]
    assert closing == [
        ("order.filled", closed.json()["order"]),
        ("position.closed", order),
        ("order.filled", last.order),
    ]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_real_terminal_closes_while_service_down_published_as_backfill_on_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str
) -> None:
    clock = ManualClock(WEDNESDAY_MS)
    fake = FakeMetaTrader5(now_ms=clock.now_ms, server_offset_s=7200)
    with real_terminal_client(tmp_path, monkeypatch, adapter, fake, clock) as (client, _):
        assert client.get("/health").json()["checks"]["terminal"]["ok"]
        opened = buy(client).json()["order"]
    # The service is down: the position's TP is hit, and an outside trade comes and goes.
    fake.initialized = True
    clock.advance_to(WEDNESDAY_MS + 60_000)
    tp = fake.close_in_terminal(opened, reason=mt5.DEAL_REASON_TP)
    quick = outside_buy(fake)
    quick_close = fake.close_in_terminal(quick.order, reason=mt5.DEAL_REASON_CLIENT)

    published: list[Mapping[str, Any]] = []
    with real_terminal_client(tmp_path, monkeypatch, adapter, fake, clock, published.append):
        pass  # the first look at the terminal is part of the start

    closed = [e for e in published if e["type"] == "position.closed"]
    fills = [e["data"]["ticket"] for e in published if e["type"] == "order.filled"]
    assert len(closed) == 2
    assert fills == [tp.order, quick.order, quick_close.order]  # the first run's buy is not published again
    closes = {e["data"]["ticket"]: e["data"] for e in closed}
    assert set(closes) == {opened, quick.order}
    assert all(c["backfill"] is True and c["symbol"] in ("EURUSD", "GBPUSD") for c in closes.values())
    assert (closes[opened]["deal"], closes[opened]["close_reason"]) == (tp.ticket, mt5.DEAL_REASON_TP)
    assert closes[quick.order]["deal"] == quick_close.ticket

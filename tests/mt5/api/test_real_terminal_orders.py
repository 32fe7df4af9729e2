"""Orders to a real terminal: order_check before order_send (its margin and comment in the refusal), the
filling mode from the symbol's bitmask, and the broker's symbol names never seen outside the adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.market import mt5_constants as mt5
from tests.mt5.api.real_terminal import ADAPTERS, OFFSET_S, calls_named, real_terminal_client
from tests.mt5.api.support import WEDNESDAY_MS, buy, error_of, receive_until
from tests.mt5.fakes.fake_metatrader5 import FakeMetaTrader5


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_real_terminal_order_check_refusal_is_4xx_with_margin_and_nothing_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str
) -> None:
    with real_terminal_client(tmp_path, monkeypatch, adapter) as (client, fake):
        with client.websocket_connect("/ws/events?types=order.rejected") as ws:
            refused = buy(client, volume=1.0)  # 1 lot takes about 1,150 USD of margin; the account has 1,000
            event = receive_until(ws, lambda e: e["type"] == "order.rejected")

        assert refused.status_code == 409
        error = error_of(refused)
        assert error["code"] == "no_money" and error["details"]["comment"] == "No money"
        check = error["details"]["order_check"]
        assert check["margin"] > check["equity"] == 1000.0 and check["margin_free"] < 0
        assert error["details"]["request"]["symbol"] == "EURUSD"
        assert calls_named(fake, "order_send") == []
        assert fake.positions == {}
        assert event["data"]["symbol"] == "EURUSD" and event["data"]["retcode"] == mt5.TRADE_RETCODE_NO_MONEY


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    ("mask", "filling"),
    [(1, mt5.ORDER_FILLING_FOK), (2, mt5.ORDER_FILLING_IOC), (3, mt5.ORDER_FILLING_FOK), (0, 2)],
)
def test_real_terminal_market_order_filling_follows_symbol_bitmask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str, mask: int, filling: int
) -> None:
    fake = FakeMetaTrader5(
        now_ms=lambda: WEDNESDAY_MS, server_offset_s=OFFSET_S, filling_modes={"EURUSDm": mask}
    )
    with real_terminal_client(tmp_path, monkeypatch, adapter, fake) as (client, fake):
        filled = buy(client, volume=0.1)

    assert filled.status_code == 200, filled.json()
    sent = [c[1][0] for c in calls_named(fake, "order_check", "order_send")]
    assert [r["type_filling"] for r in sent] == [filling, filling]
    assert {r["symbol"] for r in sent} == {"EURUSDm"}
    assert filled.json()["request"]["symbol"] == "EURUSD"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_real_terminal_broker_suffix_never_leaves_the_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str
) -> None:
    fake = FakeMetaTrader5(now_ms=lambda: WEDNESDAY_MS, server_offset_s=OFFSET_S, suffix=".m")
    broker = {"symbol_suffix": ".m", "server_time_offset_s": OFFSET_S, "activity_interval_ms": 50}
    with (
        real_terminal_client(tmp_path, monkeypatch, adapter, fake, metatrader5=broker) as (client, fake),
        client.websocket_connect("/ws/events?types=position.opened&symbols=EURUSD") as ws,
    ):
        placed = buy(client)
        opened = receive_until(ws, lambda e: e["type"] == "position.opened")
        symbols = {s["name"] for s in client.get("/symbols").json()}
        info = client.get("/symbols/EURUSD").json()
        positions = client.get("/positions", params={"symbol": "EURUSD"}).json()
        deals = client.get("/history/deals").json()
        unknown = client.post("/orders", json={"symbol": "NOPE", "type": "BUY", "volume": 0.1})

    assert {c[1][0]["symbol"] for c in calls_named(fake, "order_check", "order_send")} == {"EURUSD.m"}
    assert placed.json()["request"]["symbol"] == "EURUSD" and opened["data"]["symbol"] == "EURUSD"
    assert "EURUSD" in symbols and not any(name.endswith(".m") for name in symbols)
    assert info["name"] == "EURUSD"
    assert [p["symbol"] for p in positions] == ["EURUSD"]
    assert [d["symbol"] for d in deals] == ["EURUSD"]
    assert unknown.status_code == 404 and "NOPE.m" not in unknown.text
    assert error_of(unknown) == {
        "code": "unknown_symbol",
        "message": "unknown symbol 'NOPE'",
        "details": {"symbol": "NOPE", "field": "symbol"},
    }

"""A real terminal that closes or loses its broker: reconnect with backoff, `terminal.disconnected` /
`terminal.connected` events, and orders refused with 503 `terminal_unavailable` meanwhile (never queued)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mt5.api.real_terminal import ADAPTERS, calls_named, real_terminal_client
from tests.mt5.api.support import buy, error_of, receive_until

EVENTS = "/ws/events?types=terminal.connected,terminal.disconnected"


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("failure", ["terminal_closed", "broker_lost"])
def test_real_terminal_away_refuses_orders_503_then_reconnects_with_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str, failure: str
) -> None:
    with real_terminal_client(tmp_path, monkeypatch, adapter) as (client, fake):
        with client.websocket_connect(EVENTS) as ws:
            if failure == "terminal_closed":
                fake.reachable = False
            else:
                fake.connected = False
            down = receive_until(ws, lambda e: e["type"] == "terminal.disconnected")
            sent_before = len(calls_named(fake, "order_send", "order_check"))

            refused = buy(client)

            assert refused.status_code == 503
            assert error_of(refused)["code"] == "terminal_unavailable"
            health = client.get("/health").json()["checks"]["terminal"]
            assert (health["ok"], health["state"]) == (False, "lost")
            fake.reachable, fake.connected = True, True
            up = receive_until(ws, lambda e: e["type"] == "terminal.connected")
            # Nothing was queued while away: the refused order never reached the terminal.
            assert len(calls_named(fake, "order_send", "order_check")) == sent_before
        assert (down["data"]["backend"], down["data"]["state"]) == (adapter, "lost")
        assert up["data"]["backend"] == adapter
        assert buy(client).status_code == 200

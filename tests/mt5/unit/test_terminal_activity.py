"""TerminalActivity over the MetaTrader5 adapter and the strict fake: the differences between two looks at
the terminal, as the paper broker's events (changes made by hand in the terminal, no module call)."""

from __future__ import annotations

from pathlib import Path

from services.mt5.core.adapters.metatrader5 import Mt5ModuleTerminal
from services.mt5.core.terminal_activity import TerminalActivity
from shared.market import mt5_constants as mt5
from tests.mt5.fakes.fake_metatrader5 import FakeMetaTrader5

NOW_MS = 1_763_557_234_567  # Wednesday 2025-11-19 13:00:34.567 UTC


def make(tmp_path: Path) -> tuple[TerminalActivity, FakeMetaTrader5]:
    fake = FakeMetaTrader5(now_ms=lambda: NOW_MS, server_offset_s=7200)
    terminal = Mt5ModuleTerminal(module=fake, symbol_suffix="m", server_time_offset=7200)
    assert terminal.initialize()
    fake.selected.add("EURUSDm")
    return TerminalActivity(terminal, mark_path=tmp_path / "deals.json", now_ms=lambda: NOW_MS), fake


def send(fake: FakeMetaTrader5, **request: object) -> int:
    base = {"symbol": "EURUSDm", "volume": 0.1, "type_filling": mt5.ORDER_FILLING_FOK}
    return fake.order_send({**base, **request}).order  # type: ignore[arg-type]


def test_activity_first_look_is_the_baseline_then_pending_order_placed_modified_cancelled(
    tmp_path: Path,
) -> None:
    activity, fake = make(tmp_path)
    send(fake, action=mt5.TRADE_ACTION_DEAL, type=mt5.ORDER_TYPE_BUY)  # open before the service started
    assert activity.sync() == []

    ticket = send(fake, action=mt5.TRADE_ACTION_PENDING, type=mt5.ORDER_TYPE_BUY_LIMIT, price=1.0)
    placed = activity.sync()
    fake.orders[ticket] = fake.orders[ticket]._replace(price_open=1.01)
    modified = activity.sync()
    del fake.orders[ticket]  # deleted by hand in the terminal
    cancelled = activity.sync()

    assert [(e.type, e.data["ticket"], e.data["symbol"]) for e in placed] == [
        ("order.placed", ticket, "EURUSD")
    ]
    assert [(e.type, e.data["price_open"]) for e in modified] == [("order.modified", 1.01)]
    assert [(e.type, e.data["ticket"]) for e in cancelled] == [("order.cancelled", ticket)]
    assert activity.sync() == []


def test_activity_sl_moved_by_hand_is_position_modified(tmp_path: Path) -> None:
    activity, fake = make(tmp_path)
    ticket = send(fake, action=mt5.TRADE_ACTION_DEAL, type=mt5.ORDER_TYPE_BUY)
    activity.sync()
    fake.positions[ticket] = fake.positions[ticket]._replace(sl=1.0)

    events = activity.sync()

    assert [(e.type, e.data["ticket"], e.data["sl"]) for e in events] == [("position.modified", ticket, 1.0)]


def test_activity_terminal_away_publishes_nothing_then_catches_up(tmp_path: Path) -> None:
    activity, fake = make(tmp_path)
    activity.sync()
    ticket = send(fake, action=mt5.TRADE_ACTION_DEAL, type=mt5.ORDER_TYPE_BUY)
    fake.reachable = False

    assert activity.sync() == []
    fake.reachable = True
    assert [(e.type, e.data["ticket"]) for e in activity.sync()] == [
        ("order.filled", ticket),
        ("position.opened", ticket),
    ]

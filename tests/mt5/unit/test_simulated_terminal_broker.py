"""The simulated terminal's trading half: requests reach the paper broker after every tick up to now."""

from __future__ import annotations

from pathlib import Path

from services.mt5.core.simulated.broker_store import BrokerStore
from services.mt5.core.simulated.terminal import SimulatedTerminal, build_simulated_terminal
from shared.market import mt5_constants as mt5
from shared.market.records import AccountInfo, OrderSendResult
from shared.market.symbols import DEFAULT_SYMBOLS

NOW_MS = 1_763_557_234_567  # Wednesday 2025-11-19 13:00:34.567 UTC
SATURDAY_MS = 1_763_769_600_000


class SteppedClock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now


def open_terminal(db: Path, clock: SteppedClock) -> SimulatedTerminal:
    terminal = build_simulated_terminal(DEFAULT_SYMBOLS, clock=clock, store=BrokerStore.open(db), seed=5)
    assert terminal.initialize()
    return terminal


def buy(terminal: SimulatedTerminal, **extra: float) -> OrderSendResult:
    request = {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": "EURUSD",
        "volume": 0.1,
        "type": mt5.ORDER_TYPE_BUY,
        "deviation": 10,
        "type_filling": mt5.ORDER_FILLING_FOK,
        **extra,
    }
    return terminal.order_send(request)


def test_simulated_terminal_market_buy_fills_at_current_ask(tmp_path: Path) -> None:
    terminal = open_terminal(tmp_path / "paper.db", SteppedClock(NOW_MS))
    tick = terminal.symbol_info_tick("EURUSD")
    result = buy(terminal)
    assert result.retcode == mt5.TRADE_RETCODE_DONE and result.price == tick.ask
    (position,) = terminal.positions_get(symbol="EURUSD")
    assert position.price_open == tick.ask and terminal.positions_total() == 1
    assert type(terminal.account_info()) is AccountInfo


def test_simulated_terminal_sync_triggers_sl_or_tp_on_later_ticks(tmp_path: Path) -> None:
    clock = SteppedClock(NOW_MS)
    terminal = open_terminal(tmp_path / "paper.db", clock)
    ask = terminal.symbol_info_tick("EURUSD").ask
    assert (
        buy(terminal, sl=round(ask - 0.0003, 5), tp=round(ask + 0.0003, 5)).retcode == mt5.TRADE_RETCODE_DONE
    )
    terminal.sync()
    clock.now += 3_600_000  # an hour of EURUSD moves ~ 50 points: one of the two levels is crossed
    events = terminal.sync()
    assert terminal.positions_total() == 0
    closing = [d for d in terminal.history_deals_get(0, clock.now / 1000) if d.entry == mt5.DEAL_ENTRY_OUT]
    assert len(closing) == 1 and closing[0].reason in (mt5.DEAL_REASON_SL, mt5.DEAL_REASON_TP)
    assert NOW_MS < closing[0].time_msc <= clock.now
    assert any(e.type.startswith("position.") for e in events)


def test_simulated_terminal_restart_keeps_positions_and_feed_progress(tmp_path: Path) -> None:
    clock = SteppedClock(NOW_MS)
    first = open_terminal(tmp_path / "paper.db", clock)
    assert buy(first).retcode == mt5.TRADE_RETCODE_DONE
    first.sync()
    clock.now += 60_000
    restarted = open_terminal(tmp_path / "paper.db", clock)
    assert [p.ticket for p in restarted.positions_get()] == [p.ticket for p in first.positions_get()]
    restarted.sync()
    assert restarted.symbol_info_tick("EURUSD").time_msc <= clock.now


def test_simulated_terminal_order_on_saturday_is_market_closed(tmp_path: Path) -> None:
    terminal = open_terminal(tmp_path / "paper.db", SteppedClock(SATURDAY_MS + 12 * 3_600_000))
    assert buy(terminal).retcode == mt5.TRADE_RETCODE_MARKET_CLOSED
    assert terminal.positions_total() == 0


def test_simulated_terminal_sync_returns_request_events_once(tmp_path: Path) -> None:
    terminal = open_terminal(tmp_path / "paper.db", SteppedClock(NOW_MS))
    buy(terminal)
    first = terminal.sync()
    assert any(e.type == "position.opened" for e in first)
    assert terminal.sync() == []

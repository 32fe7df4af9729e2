"""Paper-broker persistence (restart, kill -9) and accounting invariants (hypothesis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from services.mt5.core.simulated import broker as broker_module
from services.mt5.core.simulated.broker_accounting import money
from services.mt5.core.simulated.broker_store import BrokerStore
from shared.db import sqlite_engine
from shared.errors import ConflictError
from shared.market import mt5_constants as mt5
from shared.market.symbols import is_multiple
from tests.mt5.unit.broker_support import (
    SYMBOLS,
    Market,
    assert_books_balance,
    make_broker,
    market_order,
    pending_order,
)

R = mt5.TradeRetcode
REPO = Path(__file__).resolve().parents[3]


def test_new_broker_on_same_file_continues_exactly(tmp_path: Path) -> None:
    market = Market()
    first = make_broker(tmp_path / "paper.db", market, commission_per_lot=2.0)
    opened = first.order_send(market_order("EURUSD", mt5.ORDER_TYPE_BUY, 0.2, sl=1.09, magic=5))
    placed = first.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_SELL_LIMIT, 0.1, 1.1050))
    first.on_ticks("EURUSD", market.ticks("EURUSD", (1.1003, 1.1004)))

    second = make_broker(tmp_path / "paper.db", market, commission_per_lot=2.0)

    assert second.account_info() == first.account_info()
    assert second.positions_get() == first.positions_get()
    assert second.orders_get() == first.orders_get()
    assert second.history_deals_get() == first.history_deals_get()
    assert second.last_processed_ms("EURUSD") == first.last_processed_ms("EURUSD") == market.now
    # The restarted broker keeps triggering what the first one armed, and numbers on from its counters.
    second.on_ticks("EURUSD", market.ticks("EURUSD", (1.1051, 1.1052)))
    assert {p.ticket for p in second.positions_get()} == {opened.order, placed.order}
    later = second.order_send(market_order("GBPUSD", mt5.ORDER_TYPE_SELL, 0.1))
    assert later.order == placed.order + 1
    assert_books_balance(second)


def test_ticks_at_or_before_last_processed_are_ignored(tmp_path: Path) -> None:
    market = Market()
    broker = make_broker(tmp_path / "paper.db", market)
    broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.0990))
    batch = market.ticks("EURUSD", (1.0995, 1.0996))
    broker.on_ticks("EURUSD", batch)
    replayed = batch.copy()
    replayed["ask"] = 1.0980  # would trigger if it were processed again

    assert broker.on_ticks("EURUSD", replayed) == []
    assert broker.orders_total() == 1


def test_feed_progress_alone_waits_for_the_next_change_and_replaying_it_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broker_module, "PROGRESS_SAVE_INTERVAL_S", 3600.0)  # no save by the clock here
    market = Market()
    broker = make_broker(tmp_path / "paper.db", market)
    held = broker.order_send(market_order("EURUSD", mt5.ORDER_TYPE_BUY, 0.1, sl=1.0950))
    broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.1001, 1.1002)))
    first_saved = market.now
    quiet = market.ticks("EURUSD", (1.1003, 1.1004), (1.1002, 1.1003))  # far from the SL: nothing happens
    assert broker.on_ticks("EURUSD", quiet) == []
    assert broker.last_processed_ms("EURUSD") == market.now

    # A crash now: the restarted broker resumes from the saved progress and replays the quiet ticks.
    restarted = make_broker(tmp_path / "paper.db", market)
    assert restarted.last_processed_ms("EURUSD") == first_saved
    assert restarted.on_ticks("EURUSD", quiet) == []
    assert restarted.positions_get() == broker.positions_get() and restarted.history_deals_get() == (
        broker.history_deals_get()
    )

    # The next change saves the progress with it.
    broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0940, 1.0941)))  # the SL
    assert broker.positions_get() == ()
    again = make_broker(tmp_path / "paper.db", market)
    assert again.last_processed_ms("EURUSD") == market.now
    assert [d.position_id for d in again.history_deals_get()][-2:] == [held.order, held.order]


def test_refused_request_writes_nothing(tmp_path: Path) -> None:
    market = Market()
    broker = make_broker(tmp_path / "paper.db", market)
    engine = sqlite_engine(tmp_path / "paper.db")

    def snapshot() -> list[tuple]:
        with engine.connect() as conn:
            return [
                tuple(conn.execute(text(f"SELECT * FROM {t}")).all())
                for t in ("account", "orders", "positions", "deals", "counters")
            ]

    before = snapshot()
    assert broker.order_send(market_order("EURUSD", mt5.ORDER_TYPE_BUY, 50.0)).retcode == R.NO_MONEY
    assert snapshot() == before


def test_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    BrokerStore.open(tmp_path / "paper.db")
    engine = sqlite_engine(tmp_path / "paper.db")
    with engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))

    with pytest.raises(ConflictError):
        BrokerStore(engine)


_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tests.mt5.unit.broker_support import Market, make_broker, market_order
    from shared.market import mt5_constants as mt5

    market = Market()
    broker = make_broker(Path(sys.argv[1]), market, commission_per_lot=1.0)
    i = 0
    while True:
        i += 1
        positions = broker.positions_get()
        if positions and i % 3 == 0:
            p = positions[0]
            request = market_order(p.symbol, 1 - p.type, p.volume, position=p.ticket)
        else:
            request = market_order("EURUSD", i % 2, 0.01 * (1 + i % 5))
        broker.order_send(request)
        broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.1 + (i % 7) * 1e-4, 1.1001 + (i % 7) * 1e-4)))
        print(i, flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_9_mid_trading_leaves_consistent_books(tmp_path: Path) -> None:
    db = tmp_path / "paper.db"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        for _ in range(40):  # let it trade for a while, then kill it wherever it is
            assert child.stdout.readline(), "child stopped early"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

    broker = make_broker(db, Market(), commission_per_lot=1.0)

    assert_books_balance(broker)
    assert len(broker.history_orders_get()) >= 40
    assert broker.order_send(market_order("EURUSD", mt5.ORDER_TYPE_BUY, 0.01)).retcode == R.DONE


_operation = st.one_of(
    st.tuples(
        st.just("open"),
        st.sampled_from(["EURUSD", "USDJPY", "XAUUSD"]),
        st.integers(0, 1),
        st.integers(1, 50),
    ),
    st.tuples(st.just("close"), st.integers(0, 5), st.integers(1, 50)),
    st.tuples(st.just("move"), st.sampled_from(["EURUSD", "USDJPY", "XAUUSD"]), st.integers(-300, 300)),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(_operation, min_size=1, max_size=25))
def test_equity_is_balance_plus_floating_profit_after_any_operations(operations: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        market = Market()
        broker = make_broker(Path(folder) / "paper.db", market, commission_per_lot=3.0)
        for op in operations:
            if op[0] == "open":
                broker.order_send(market_order(op[1], op[2], op[3] / 100))
            elif op[0] == "close" and broker.positions_total():
                positions = broker.positions_get()
                p = positions[op[1] % len(positions)]
                volume = min(op[2] / 100, p.volume)
                broker.order_send(market_order(p.symbol, 1 - p.type, volume, position=p.ticket))
            elif op[0] == "move":
                spec, tick = SYMBOLS[op[1]], market.quote(op[1])
                assert tick is not None
                bid = spec.round_price(tick.bid + op[2] * spec.point)
                broker.on_ticks(op[1], market.ticks(op[1], (bid, spec.round_price(bid + 10 * spec.point))))

            account = broker.account_info()
            positions = broker.positions_get()
            floating = sum((Decimal(repr(p.profit)) for p in positions), Decimal(0))
            assert account.equity == money(Decimal(repr(account.balance)) + floating)
            assert account.margin >= 0
            assert all(is_multiple(p.volume, SYMBOLS[p.symbol].volume_step) for p in positions)
        assert_books_balance(broker)

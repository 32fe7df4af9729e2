"""Paper-broker stop-out and margin call: forced closes in tick order, events, books and persistence."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.mt5.core.simulated import broker as broker_module
from services.mt5.core.simulated.broker import BrokerEvent, PaperBroker
from services.mt5.core.simulated.broker_accounting import PaperAccountSettings, Pricing
from services.mt5.core.simulated.broker_ledger import Ledger, Tx
from services.mt5.core.simulated.broker_store import BrokerStore
from services.mt5.core.simulated.broker_triggers import process_ticks
from shared.market import mt5_constants as mt5
from shared.market.records import TradePosition
from tests.mt5.unit.broker_support import (
    SYMBOLS,
    Market,
    assert_books_balance,
    make_broker,
    market_order,
    pending_order,
)

R = mt5.TradeRetcode
BUY, SELL = mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL
# 8 lots of EURUSD bought at 1.1001 hold 8,800.80 of margin on 10,000 at 1:100 and lose 80.00 a pip:
# the level is 100 % at bid 1.0986 (equity 8,800.00 -> 99.99 %) and 50 % at bid 1.0931 (4,400.00 -> 50.00 %).
LOTS, MARGIN = 8.0, 8800.8


@pytest.fixture
def market() -> Market:
    return Market()


@pytest.fixture
def broker(tmp_path: Path, market: Market) -> PaperBroker:
    return make_broker(tmp_path / "paper.db", market)


def _open(broker: PaperBroker, symbol: str, order_type: int, volume: float, **extra: object) -> int:
    result = broker.order_send(market_order(symbol, order_type, volume, **extra))
    assert result.retcode == R.DONE, result.comment
    return result.order


def _of(events: list[BrokerEvent], event_type: str) -> list[dict]:
    return [e.data for e in events if e.type == event_type]


def _so_deals(broker: PaperBroker) -> list:
    return [d for d in broker.history_deals_get() if d.reason == mt5.DEAL_REASON_SO]


def test_stop_out_closes_at_the_first_tick_at_or_below_the_level_at_its_price(
    broker: PaperBroker, market: Market
) -> None:
    ticket = _open(broker, "EURUSD", BUY, LOTS)
    ticks = market.ticks("EURUSD", (1.0960, 1.0961), (1.0940, 1.0941), (1.0932, 1.0933), (1.0931, 1.0932))
    later = market.ticks("EURUSD", (1.0920, 1.0921))  # nothing left to close by then

    events = broker.on_ticks("EURUSD", np.concatenate([ticks, later]))

    assert broker.positions_get() == ()
    (deal,) = _so_deals(broker)
    assert (deal.position_id, deal.entry, deal.price, deal.profit) == (
        ticket,
        mt5.DEAL_ENTRY_OUT,
        1.0931,
        -5600.0,
    )
    assert deal.time_msc == int(ticks["time_msc"][-1])
    assert deal.comment == "[so 50.00%]"
    (order,) = broker.history_orders_get(ticket=deal.order)
    assert (order.reason, order.comment, order.type) == (mt5.DEAL_REASON_SO, "[so 50.00%]", SELL)
    (stop_out,) = _of(events, "account.stop_out")
    assert stop_out == {
        "time_msc": deal.time_msc,
        "margin_level": 50.0,
        "equity": 4400.0,
        "margin": MARGIN,
        "stop_out_level": 50.0,
        "position": ticket,
        "symbol": "EURUSD",
        "order": deal.order,
        "deal": deal.ticket,
        "profit": -5600.0,
    }
    # The same events as an SL close, then why.
    assert [e.type for e in events][-4:] == [
        "order.filled",
        "position.closed",
        "account.updated",
        "account.stop_out",
    ]
    account = broker.account_info()
    assert (account.balance, account.equity, account.margin, account.margin_level) == (
        4400.0,
        4400.0,
        0.0,
        0.0,
    )
    assert_books_balance(broker)


def test_stop_out_closes_the_most_losing_first_and_stops_once_the_level_recovers(
    broker: PaperBroker, market: Market
) -> None:
    gold = _open(broker, "XAUUSD", BUY, 0.1)  # margin 235.02
    euro = _open(broker, "EURUSD", BUY, 5.0)  # margin 5,500.50
    pound = _open(broker, "GBPUSD", BUY, 0.5)  # margin 635.07
    market.set("XAUUSD", 1850.00, 1850.25)  # gold crashes: -5,002.50, the most losing, on a small margin

    events = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0970, 1.0971), (1.0960, 1.0961)))

    # At 1.0970 equity 3,440.00 on 6,370.59 is 54.00 %; at 1.0960 it is 2,940.00, 46.15 %: gold goes
    # (at its latest quote), leaving 47.92 % on 6,135.57, so the euro goes too; the pound stays (462.94 %).
    gold_deal, euro_deal = _so_deals(broker)
    assert (gold_deal.position_id, gold_deal.price, gold_deal.profit, gold_deal.comment) == (
        gold,
        1850.0,
        -5002.5,
        "[so 46.15%]",
    )
    assert (euro_deal.position_id, euro_deal.price, euro_deal.profit, euro_deal.comment) == (
        euro,
        1.096,
        -2050.0,
        "[so 47.92%]",
    )
    assert gold_deal.time_msc == euro_deal.time_msc == market.now
    assert [p.ticket for p in broker.positions_get()] == [pound]
    assert [(e["position"], e["margin_level"], e["equity"]) for e in _of(events, "account.stop_out")] == [
        (gold, 46.15, 2940.0),
        (euro, 47.92, 2940.0),
    ]
    account = broker.account_info()
    assert (account.equity, account.margin, account.margin_level) == (2940.0, 635.07, 462.94)
    assert_books_balance(broker)


def test_margin_call_announced_once_and_again_after_recovering_by_ten_points(
    broker: PaperBroker, market: Market
) -> None:
    _open(broker, "EURUSD", BUY, LOTS)

    first = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0990, 1.0991), (1.0986, 1.0987)))
    called_at = market.now
    still = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0980, 1.0981), (1.0986, 1.0987)))
    # Back just above the line (100.8 %) and down again: the call still stands, no second one.
    hovering = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0990, 1.0991), (1.0985, 1.0986)))
    recovered = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.1040, 1.1041)))  # above 110 %
    again = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0985, 1.0986)))

    assert _of(first, "account.margin_call") == [
        {
            "time_msc": called_at,
            "margin_level": 99.99,
            "equity": 8800.0,
            "margin": MARGIN,
            "balance": 10000.0,
            "margin_call_level": 100.0,
        }
    ]
    assert still == [] and hovering == [] and recovered == []
    assert [e["margin_level"] for e in _of(again, "account.margin_call")] == [99.08]
    assert broker.positions_total() == 1 and _so_deals(broker) == []


def test_position_of_another_symbol_valued_at_its_latest_quote(broker: PaperBroker, market: Market) -> None:
    euro = _open(broker, "EURUSD", BUY, 4.0)  # margin 4,400.40, 40.00 a pip
    pound = _open(broker, "GBPUSD", BUY, 2.0)  # margin 2,540.30
    market.set("GBPUSD", 1.2450, 1.24515)  # -5,030.00 at its latest quote, never ticked through the broker

    # Alone, the euro position would be at 122 % at 1.0963. With the pound's loss, equity on 6,940.70 is
    # 3,530.00 (50.86 %) at 1.0965, 3,490.00 (50.28 %) at 1.0964 and 3,450.00 (49.71 %) at 1.0963.
    events = broker.on_ticks(
        "EURUSD", market.ticks("EURUSD", (1.0965, 1.0966), (1.0964, 1.0965), (1.0963, 1.0964))
    )

    (stop_out,) = _of(events, "account.stop_out")
    assert (stop_out["time_msc"], stop_out["equity"], stop_out["margin_level"]) == (market.now, 3450.0, 49.71)
    assert (stop_out["position"], stop_out["symbol"]) == (pound, "GBPUSD")  # the most losing
    assert _so_deals(broker)[0].price == 1.245  # closed at its latest bid
    assert [p.ticket for p in broker.positions_get()] == [euro]  # 3,450.00 on 4,400.40: 78.40 %
    assert_books_balance(broker)


def test_stop_loss_on_the_stop_out_tick_goes_first(broker: PaperBroker, market: Market) -> None:
    ticket = _open(broker, "EURUSD", BUY, LOTS, sl=1.0931)

    events = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0940, 1.0941), (1.0931, 1.0932)))

    deals = broker.history_deals_get(position=ticket)
    assert [(d.reason, d.price) for d in deals] == [
        (mt5.DEAL_REASON_EXPERT, 1.1001),
        (mt5.DEAL_REASON_SL, 1.0931),
    ]
    assert _of(events, "account.stop_out") == []


def test_stop_out_leaves_pending_orders_alone(broker: PaperBroker, market: Market) -> None:
    _open(broker, "EURUSD", BUY, LOTS)
    placed = broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.0800))

    broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0931, 1.0932)))

    assert broker.positions_total() == 0
    assert [o.ticket for o in broker.orders_get()] == [placed.order]


def test_above_the_levels_nothing_happens_and_nothing_is_committed(
    tmp_path: Path, market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broker_module, "PROGRESS_SAVE_INTERVAL_S", 3600.0)  # no save by the clock here
    broker = make_broker(tmp_path / "paper.db", market)
    _open(broker, "EURUSD", BUY, LOTS)
    _open(broker, "GBPUSD", SELL, 0.1)
    broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.1000, 1.1001)))
    saved = broker.last_processed_ms("EURUSD")
    quiet = market.ticks("EURUSD", *[(1.0990 + i * 1e-5, 1.0991 + i * 1e-5) for i in range(50)])

    assert broker.on_ticks("EURUSD", quiet) == []
    assert make_broker(tmp_path / "paper.db", market).last_processed_ms("EURUSD") == saved  # no commit
    state = BrokerStore.open(tmp_path / "paper.db").load()  # the account as persisted
    assert state is not None
    ledger = Ledger(SYMBOLS, PaperAccountSettings(), market.quote)
    assert process_ticks(ledger, Tx(state, market.now), "EURUSD", quiet) == 0


def test_no_position_or_no_margin_skips_the_checks(broker: PaperBroker, market: Market) -> None:
    assert broker.on_ticks("EURUSD", market.ticks("EURUSD", (0.5, 0.5001))) == []


def test_new_broker_on_the_same_file_has_the_same_books_after_a_stop_out(
    tmp_path: Path, market: Market
) -> None:
    first = make_broker(tmp_path / "paper.db", market, commission_per_lot=2.0)
    _open(first, "EURUSD", BUY, 5.0)
    _open(first, "EURUSD", SELL, 1.0)
    _open(first, "XAUUSD", BUY, 0.1)
    market.set("XAUUSD", 1850.00, 1850.25)
    first.on_ticks("EURUSD", market.ticks("EURUSD", (1.0990, 1.0991), (1.0800, 1.0801)))
    assert _so_deals(first)

    second = make_broker(tmp_path / "paper.db", market, commission_per_lot=2.0)

    assert second.account_info() == first.account_info()
    assert second.positions_get() == first.positions_get()
    assert second.history_deals_get() == first.history_deals_get()
    assert second.history_orders_get() == first.history_orders_get()
    assert second.last_processed_ms("EURUSD") == market.now
    assert_books_balance(second)


# A cross whose JPY profit converts through USDJPY: while USDJPY ticks, the rest of the account moves too.
GBPJPY = SYMBOLS["USDJPY"].model_copy(
    update={"name": "GBPJPY", "currency_base": "GBP", "currency_margin": "GBP"}
)


@settings(max_examples=60, deadline=None)
@given(
    symbol=st.sampled_from(["EURUSD", "USDJPY"]),
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(1, 400),
    drift=st.integers(-80, 10),
    orders=st.lists(st.tuples(st.sampled_from([BUY, SELL]), st.integers(1, 40)), min_size=1, max_size=3),
    pound_move=st.integers(-400, 100),
    leverage=st.sampled_from([20, 50, 100]),
    cross=st.booleans(),
)
def test_stop_out_and_margin_call_at_the_first_tick_account_info_reports_at_the_level(
    symbol: str,
    seed: int,
    length: int,
    drift: int,
    orders: list[tuple[int, int]],
    pound_move: int,
    leverage: int,
    cross: bool,
) -> None:
    """The batch scan agrees with account_info evaluated tick by tick (the slow, obvious way)."""
    with tempfile.TemporaryDirectory() as folder:
        market = Market()
        market.set("GBPJPY", 190.500, 190.530)
        symbols = {**SYMBOLS, "GBPJPY": GBPJPY}
        broker = make_broker(Path(folder) / "paper.db", market, symbols=symbols, leverage=leverage)
        reference = make_broker(Path(folder) / "reference.db", market, symbols=symbols, leverage=leverage)
        for b in (broker, reference):
            for order_type, tenths in orders:
                b.order_send(market_order(symbol, order_type, tenths / 10))
            b.order_send(market_order("GBPUSD", BUY, 0.5))
            if cross:
                b.order_send(market_order("GBPJPY", SELL, 0.2))
        market.set("GBPUSD", 1.27 + pound_move * 1e-4, 1.27015 + pound_move * 1e-4)
        spec, start = SYMBOLS[symbol], market.quote(symbol)
        assert start is not None
        steps = np.random.default_rng(seed).integers(-20, 21, length) + drift  # in points
        bids = [spec.round_price(start.bid + float(x) * spec.point) for x in np.cumsum(steps)]
        ticks = market.ticks(symbol, *[(b, spec.round_price(b + 10 * spec.point)) for b in bids])

        expected_call = expected_so = None
        for tick in ticks:  # the reference: the account at each tick, until the first stop-out
            market.set(symbol, float(tick["bid"]), float(tick["ask"]))
            account = reference.account_info()
            level = account.margin_level if account.margin > 0 else float("inf")
            if expected_call is None and level <= 100.0:
                expected_call = int(tick["time_msc"])
            if level <= 50.0:
                expected_so = int(tick["time_msc"])
                break
        market.set(symbol, float(ticks[-1]["bid"]), float(ticks[-1]["ask"]))
        events = broker.on_ticks(symbol, ticks)

        calls = _of(events, "account.margin_call")
        assert (calls[0]["time_msc"] if calls else None) == expected_call
        deals = _so_deals(broker)
        assert (deals[0].time_msc if deals else None) == expected_so
        assert_books_balance(broker)


@settings(max_examples=200, deadline=None)
@given(
    symbol=st.sampled_from(["EURUSD", "USDJPY", "XAUUSD"]),
    position_type=st.sampled_from([mt5.POSITION_TYPE_BUY, mt5.POSITION_TYPE_SELL]),
    volume=st.integers(1, 10_000),
    moves=st.lists(st.integers(-5_000, 5_000), min_size=1, max_size=20),
)
def test_profit_series_within_half_a_cent_of_profit(
    symbol: str, position_type: int, volume: int, moves: list[int]
) -> None:
    market = Market()
    spec = SYMBOLS[symbol]
    pricing = Pricing(SYMBOLS, PaperAccountSettings(), market.quote)
    quote = market.quote(symbol)
    assert quote is not None
    opened = quote.ask if position_type == mt5.POSITION_TYPE_BUY else quote.bid
    position = TradePosition(
        ticket=1,
        time=0,
        time_msc=0,
        time_update=0,
        time_update_msc=0,
        type=position_type,
        magic=0,
        identifier=1,
        reason=mt5.DEAL_REASON_EXPERT,
        volume=volume / 100,
        price_open=opened,
        sl=0.0,
        tp=0.0,
        price_current=opened,
        swap=0.0,
        profit=0.0,
        symbol=symbol,
        comment="",
        external_id="",
    )
    bid = np.array([spec.round_price(quote.bid + m * spec.point) for m in moves])
    ask = np.array([spec.round_price(b + 10 * spec.point) for b in bid])

    series = pricing.profit_series(position, bid, ask)

    assert series is not None
    for i in range(len(moves)):
        close = float(bid[i] if position_type == mt5.POSITION_TYPE_BUY else ask[i])
        market.set(symbol, float(bid[i]), float(ask[i]))  # USDJPY's profit converts through its own bid
        exact = pricing.profit(spec, position_type, position.volume, opened, close)
        assert exact is not None and abs(series[i] - exact) <= 0.005 + 1e-9


def test_settings_refuse_a_margin_call_below_the_stop_out() -> None:
    with pytest.raises(ValidationError, match="margin_call_level"):
        PaperAccountSettings(margin_call_level=40.0, stop_out_level=50.0)
    assert PaperAccountSettings(margin_call_level=50.0, stop_out_level=50.0).stop_out_level == 50.0

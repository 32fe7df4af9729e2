"""Paper-broker scenarios against a hand-built quote feed: fills, SL/TP, pending orders, closes, retcodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.mt5.core.simulated.broker import PaperBroker
from shared.market import mt5_constants as mt5
from shared.market.records import OrderSendResult
from tests.mt5.unit.broker_support import SATURDAY_MS, Market, make_broker, market_order, pending_order

R = mt5.TradeRetcode
BUY, SELL = mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL


@pytest.fixture
def market() -> Market:
    return Market()


@pytest.fixture
def broker(tmp_path: Path, market: Market) -> PaperBroker:
    return make_broker(tmp_path / "paper.db", market, commission_per_lot=3.5)


def _ok(result: OrderSendResult, retcode: int = R.DONE) -> OrderSendResult:
    assert result.retcode == retcode, result.comment
    return result


def test_market_buy_fills_at_ask_and_charges_commission(broker: PaperBroker) -> None:
    result = _ok(broker.order_send(market_order("EURUSD", BUY, 1.0, magic=7, comment="hello")))

    assert (result.price, result.volume, result.bid, result.ask) == (1.1001, 1.0, 1.1, 1.1001)
    (position,) = broker.positions_get()
    assert (position.ticket, position.identifier, position.type) == (result.order, result.order, 0)
    assert (position.magic, position.comment, position.price_current, position.profit) == (
        7,
        "hello",
        1.1,
        -10.0,
    )
    (deal,) = broker.history_deals_get(ticket=result.order)
    assert (deal.entry, deal.type, deal.commission, deal.position_id) == (
        mt5.DEAL_ENTRY_IN,
        0,
        -3.5,
        result.order,
    )
    account = broker.account_info()
    assert (account.balance, account.equity, account.margin) == (9996.5, 9986.5, 1100.1)
    assert account.margin_free == 8886.4


def test_market_sell_fills_at_bid(broker: PaperBroker) -> None:
    result = _ok(broker.order_send(market_order("EURUSD", SELL, 0.5)))

    assert result.price == 1.1
    assert broker.positions_get()[0].profit == -5.0  # closes at the ask, one spread away


def test_take_profit_closes_long_at_bid_of_the_tick(broker: PaperBroker, market: Market) -> None:
    opened = _ok(broker.order_send(market_order("EURUSD", BUY, 1.0, sl=1.098, tp=1.102)))

    events = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.1010, 1.1011), (1.1023, 1.1024)))

    assert broker.positions_total() == 0
    closing = broker.history_deals_get(position=opened.order)[-1]
    assert (closing.entry, closing.reason, closing.price, closing.profit) == (
        mt5.DEAL_ENTRY_OUT,
        mt5.DEAL_REASON_TP,
        1.1023,
        220.0,
    )
    assert closing.comment == "[tp 1.10200]"
    assert broker.account_info().balance == 10000 - 3.5 + 220 - 3.5
    assert [e.type for e in events] == ["order.filled", "position.closed", "account.updated"]


def test_stop_loss_closes_short_at_ask_of_the_tick(broker: PaperBroker, market: Market) -> None:
    opened = _ok(broker.order_send(market_order("EURUSD", SELL, 1.0, sl=1.1015, tp=1.095)))

    broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.1005, 1.1006), (1.1016, 1.1017)))

    closing = broker.history_deals_get(position=opened.order)[-1]
    assert (closing.reason, closing.price, closing.profit) == (mt5.DEAL_REASON_SL, 1.1017, -170.0)


def test_stop_loss_taken_when_a_tick_batch_reaches_both_levels(broker: PaperBroker, market: Market) -> None:
    # One batch (like one bar) whose first tick gaps through the SL and whose next tick passes the TP.
    opened = _ok(broker.order_send(market_order("EURUSD", BUY, 1.0, sl=1.099, tp=1.102)))

    broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0980, 1.0981), (1.1030, 1.1031)))

    deals = broker.history_deals_get(position=opened.order)
    assert [d.reason for d in deals] == [mt5.DEAL_REASON_EXPERT, mt5.DEAL_REASON_SL]
    assert deals[-1].price == 1.098  # filled at the gapped price, not at the SL level


def test_buy_limit_triggers_when_ask_reaches_price(broker: PaperBroker, market: Market) -> None:
    placed = _ok(
        broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.3, 1.0990, tp=1.1)), R.PLACED
    )
    assert broker.orders_total() == 1

    broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0995, 1.0996), (1.0988, 1.0989)))

    assert broker.orders_total() == 0
    (position,) = broker.positions_get()
    assert (position.ticket, position.price_open, position.volume, position.tp) == (
        placed.order,
        1.0989,
        0.3,
        1.1,
    )
    (order,) = broker.history_orders_get(ticket=placed.order)
    assert (order.state, order.position_id, order.volume_current) == (
        mt5.ORDER_STATE_FILLED,
        placed.order,
        0.0,
    )


def test_sell_stop_triggers_when_bid_falls_to_price(broker: PaperBroker, market: Market) -> None:
    placed = _ok(broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_SELL_STOP, 1.0, 1.0980)), R.PLACED)

    broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.0985, 1.0986), (1.0979, 1.0980), (1.0970, 1.0971)))

    (position,) = broker.positions_get()
    assert (position.ticket, position.type, position.price_open) == (
        placed.order,
        mt5.POSITION_TYPE_SELL,
        1.0979,
    )
    assert position.profit == pytest.approx(0.0 + (1.0979 - 1.0971) * 100_000, abs=0.01)


def test_pending_order_rejected_at_trigger_without_money(tmp_path: Path, market: Market) -> None:
    broker = make_broker(tmp_path / "p.db", market, initial_balance=1200.0)
    placed = _ok(broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_STOP, 1.0, 1.1010)), R.PLACED)
    _ok(broker.order_send(market_order("GBPUSD", BUY, 0.1)))  # margin 127: 1,071 left < 1,101

    events = broker.on_ticks("EURUSD", market.ticks("EURUSD", (1.1012, 1.1013)))

    assert broker.positions_get(symbol="EURUSD") == ()
    assert broker.history_orders_get(ticket=placed.order)[0].state == mt5.ORDER_STATE_REJECTED
    assert [e.type for e in events] == ["order.rejected"]


def test_partial_then_full_close_books_deals_and_profit(broker: PaperBroker, market: Market) -> None:
    opened = _ok(broker.order_send(market_order("EURUSD", BUY, 0.3)))
    market.set("EURUSD", 1.1021, 1.1022)

    partial = _ok(broker.order_send(market_order("EURUSD", SELL, 0.1, position=opened.order)))
    assert broker.positions_get()[0].volume == 0.2
    market.set("EURUSD", 1.0991, 1.0992)
    _ok(broker.order_send(market_order("EURUSD", SELL, 0.2, position=opened.order)))

    deals = broker.history_deals_get(position=opened.order)
    assert [(d.entry, d.volume, d.price, d.profit, d.commission) for d in deals] == [
        (mt5.DEAL_ENTRY_IN, 0.3, 1.1001, 0.0, -1.05),
        (mt5.DEAL_ENTRY_OUT, 0.1, 1.1021, 20.0, -0.35),
        (mt5.DEAL_ENTRY_OUT, 0.2, 1.0991, -20.0, -0.7),
    ]
    assert deals[1].order == partial.order
    assert broker.positions_total() == 0
    assert broker.account_info().balance == 10000 - 1.05 - 0.35 - 0.7


def test_close_more_than_position_volume_refused(broker: PaperBroker) -> None:
    opened = _ok(broker.order_send(market_order("EURUSD", BUY, 0.1)))

    result = broker.order_send(market_order("EURUSD", SELL, 0.2, position=opened.order))

    assert result.retcode == R.INVALID_CLOSE_VOLUME
    assert broker.positions_get()[0].volume == 0.1


def test_close_unknown_position_returns_position_closed(broker: PaperBroker) -> None:
    assert broker.order_send(market_order("EURUSD", SELL, 0.1, position=999)).retcode == R.POSITION_CLOSED


def test_modify_sltp_then_invalid_stops_refused(broker: PaperBroker) -> None:
    opened = _ok(broker.order_send(market_order("EURUSD", BUY, 0.1)))
    sltp = {"action": mt5.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": opened.order}

    _ok(broker.order_send({**sltp, "sl": 1.095, "tp": 1.105}))
    wrong_side = broker.order_send({**sltp, "sl": 1.1005, "tp": 1.105})
    unchanged = broker.order_send({**sltp, "sl": 1.095, "tp": 1.105})

    assert (broker.positions_get()[0].sl, broker.positions_get()[0].tp) == (1.095, 1.105)
    assert wrong_side.retcode == R.INVALID_STOPS and "'sl'" in wrong_side.comment
    assert unchanged.retcode == R.NO_CHANGES


def test_market_order_with_tp_below_price_refused_invalid_stops(broker: PaperBroker) -> None:
    assert broker.order_send(market_order("EURUSD", BUY, 0.1, tp=1.0990)).retcode == R.INVALID_STOPS


def test_stops_within_stops_level_refused(broker: PaperBroker) -> None:
    # XAUUSD has stops_level 10 points (0.10): a TP 5 points away is too close.
    result = broker.order_send(market_order("XAUUSD", BUY, 0.1, tp=2350.05))

    assert result.retcode == R.INVALID_STOPS


@pytest.mark.parametrize("volume", [0.015, 0.0, 101.0])
def test_volume_off_step_or_range_refused_invalid_volume(broker: PaperBroker, volume: float) -> None:
    result = broker.order_send(market_order("EURUSD", BUY, volume))

    assert result.retcode == R.INVALID_VOLUME
    assert "'volume'" in result.comment
    assert broker.positions_total() == 0


def test_order_beyond_free_margin_refused_no_money(broker: PaperBroker) -> None:
    result = broker.order_send(market_order("EURUSD", BUY, 10.0))  # margin 11,001 > 10,000

    assert result.retcode == R.NO_MONEY
    assert broker.positions_total() == 0
    assert broker.account_info().balance == 10000.0


def test_order_on_saturday_refused_market_closed(tmp_path: Path) -> None:
    broker = make_broker(tmp_path / "p.db", Market(SATURDAY_MS))

    assert broker.order_send(market_order("EURUSD", BUY, 0.1)).retcode == R.MARKET_CLOSED
    assert (
        broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.09)).retcode
        == R.MARKET_CLOSED
    )


def test_close_by_nets_two_opposite_positions_at_the_opposite_open_price(
    broker: PaperBroker, market: Market
) -> None:
    long = _ok(broker.order_send(market_order("EURUSD", BUY, 0.3)))
    market.set("EURUSD", 1.1030, 1.1031)
    short = _ok(broker.order_send(market_order("EURUSD", SELL, 0.1)))

    result = _ok(
        broker.order_send(
            {"action": mt5.TRADE_ACTION_CLOSE_BY, "position": long.order, "position_by": short.order}
        )
    )

    (rest,) = broker.positions_get()
    assert (rest.ticket, rest.volume) == (long.order, 0.2)
    deals = broker.history_deals_get(ticket=result.order)
    assert [(d.entry, d.position_id, d.price, d.profit) for d in deals] == [
        (mt5.DEAL_ENTRY_OUT_BY, long.order, 1.103, 29.0),
        (mt5.DEAL_ENTRY_OUT_BY, short.order, 1.103, 0.0),
    ]
    assert broker.history_orders_get(ticket=result.order)[0].type == mt5.ORDER_TYPE_CLOSE_BY


def test_pending_order_price_missing_or_wrong_side_refused_invalid_price(broker: PaperBroker) -> None:
    missing = broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 0.0))
    above_ask = broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.1010))
    below_bid = broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_SELL_LIMIT, 0.1, 1.0990))

    assert [r.retcode for r in (missing, above_ask, below_bid)] == [R.INVALID_PRICE] * 3
    assert broker.orders_total() == 0


def test_modify_and_remove_pending_order(broker: PaperBroker) -> None:
    placed = _ok(broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.0950)), R.PLACED)

    _ok(
        broker.order_send(
            {"action": mt5.TRADE_ACTION_MODIFY, "order": placed.order, "price": 1.0960, "sl": 1.09}
        )
    )
    assert (broker.orders_get()[0].price_open, broker.orders_get()[0].sl) == (1.096, 1.09)
    _ok(broker.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": placed.order}))

    assert broker.orders_total() == 0
    assert broker.history_orders_get(ticket=placed.order)[0].state == mt5.ORDER_STATE_CANCELED


def test_pending_order_expires_at_its_time(broker: PaperBroker, market: Market) -> None:
    expiry_s = market.now // 1000 + 1
    placed = _ok(
        broker.order_send(
            pending_order(
                "EURUSD",
                mt5.ORDER_TYPE_BUY_LIMIT,
                0.1,
                1.0950,
                type_time=mt5.ORDER_TIME_SPECIFIED,
                expiration=expiry_s,
            )
        ),
        R.PLACED,
    )

    broker.on_ticks("EURUSD", market.ticks("EURUSD", *[(1.1, 1.1001)] * 12))

    assert broker.history_orders_get(ticket=placed.order)[0].state == mt5.ORDER_STATE_EXPIRED


@pytest.mark.parametrize(
    ("request_", "retcode"),
    [
        ({"action": 99, "symbol": "EURUSD"}, R.INVALID),
        (market_order("", BUY, 0.1), R.INVALID),
        (market_order("NOPE", BUY, 0.1), R.INVALID),
        (market_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1), R.INVALID),
        (market_order("EURUSD", BUY, "0.1"), R.INVALID),
        (pending_order("EURUSD", mt5.ORDER_TYPE_BUY_STOP_LIMIT, 0.1, 1.2), R.INVALID),
        (market_order("EURUSD", BUY, 0.1, price=1.0990, deviation=5), R.REQUOTE),
        (market_order("EURUSD", BUY, 0.1, type_filling=mt5.ORDER_FILLING_BOC), R.INVALID_FILL),
    ],
)
def test_malformed_or_unfillable_requests_refused(broker: PaperBroker, request_: dict, retcode: int) -> None:
    assert broker.order_send(request_).retcode == retcode
    assert broker.history_orders_get() == ()


def test_price_within_deviation_fills(broker: PaperBroker) -> None:
    assert broker.order_send(market_order("EURUSD", BUY, 0.1, price=1.10007, deviation=3)).retcode == R.DONE


def test_trade_disabled_symbol_refused(tmp_path: Path, market: Market) -> None:
    broker = make_broker(tmp_path / "p.db", market)
    broker._symbols["EURUSD"] = broker._symbols["EURUSD"].model_copy(
        update={"trade_mode": mt5.SYMBOL_TRADE_MODE_DISABLED}
    )

    assert broker.order_send(market_order("EURUSD", BUY, 0.1)).retcode == R.TRADE_DISABLED


def test_usdjpy_profit_converted_through_usdjpy_bid(broker: PaperBroker, market: Market) -> None:
    opened = _ok(broker.order_send(market_order("USDJPY", BUY, 1.0)))
    market.set("USDJPY", 151.014, 151.028)

    _ok(broker.order_send(market_order("USDJPY", SELL, 1.0, position=opened.order)))

    closing = broker.history_deals_get(position=opened.order)[-1]
    assert closing.profit == round((151.014 - 150.014) * 100_000 / 151.014, 2)


def test_order_calc_margin_and_profit(broker: PaperBroker) -> None:
    assert broker.order_calc_margin(BUY, "EURUSD", 1.0, 1.1) == 1100.0  # EUR margin at the pair's price
    assert broker.order_calc_margin(BUY, "USDJPY", 1.0, 150.0) == 1000.0  # USD margin, no conversion
    assert broker.order_calc_margin(BUY, "XAUUSD", 1.0, 2350.0) == 2350.0  # CFD: contract x price
    assert broker.order_calc_profit(SELL, "EURUSD", 1.0, 1.1, 1.099) == 100.0
    assert broker.order_calc_margin(BUY, "NOPE", 1.0, 1.0) is None


def test_order_check_reports_account_after_and_changes_nothing(broker: PaperBroker) -> None:
    check = broker.order_check(market_order("EURUSD", BUY, 1.0))
    refused = broker.order_check(market_order("EURUSD", BUY, 0.001))

    assert (check.retcode, check.comment, check.margin, check.balance) == (0, "Done", 1100.1, 9996.5)
    assert refused.retcode == R.INVALID_VOLUME
    assert broker.positions_total() == 0 and broker.history_deals_get()[-1].type == mt5.DEAL_TYPE_BALANCE


def test_events_queued_for_requests_including_rejections(broker: PaperBroker) -> None:
    broker.order_send(market_order("EURUSD", BUY, 0.1))
    broker.order_send(market_order("EURUSD", BUY, 0.015))

    types = [e.type for e in broker.drain_events()]

    assert types == ["order.filled", "position.opened", "order.rejected"]
    assert broker.drain_events() == []


def test_group_filter_selects_positions(broker: PaperBroker) -> None:
    for symbol in ("EURUSD", "GBPUSD", "USDJPY"):
        _ok(broker.order_send(market_order(symbol, BUY, 0.01)))

    assert [p.symbol for p in broker.positions_get(group="*USD*,!EUR*")] == ["GBPUSD", "USDJPY"]
    assert [p.symbol for p in broker.positions_get(symbol="USDJPY")] == ["USDJPY"]

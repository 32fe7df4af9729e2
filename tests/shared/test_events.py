"""The in-process bus: filters, bounded queues that drop the oldest and count what they dropped."""

from __future__ import annotations

import asyncio

import orjson

from shared.events import EventBus, EventFilter


def test_event_bus_envelope_has_increasing_seq_per_source() -> None:
    bus = EventBus("data", clock_ms=lambda: 42)
    first, second = bus.publish("tick", {"symbol": "EURUSD"}), bus.publish("tick", {})
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first == {"seq": 1, "ts": 42, "source": "data", "type": "tick", "data": {"symbol": "EURUSD"}}


def test_event_filter_matches_types_with_wildcards_and_symbols() -> None:
    f = EventFilter.parse("order.*,tick", "eurusd")
    assert f.matches("order.placed", "EURUSD")
    assert f.matches("tick", None)  # events without a symbol concern everyone
    assert not f.matches("tick", "GBPUSD")
    assert not f.matches("position.opened", "EURUSD")
    assert EventFilter.parse(None, None).matches("anything", "X")


def test_event_bus_slow_subscriber_loses_oldest_and_is_told_how_many() -> None:
    bus = EventBus("mt5")
    slow = bus.subscribe(EventFilter(), maxsize=3)
    for i in range(10):
        bus.publish("tick", {"i": i})
    items, dropped = slow.drain()
    assert dropped == 7
    assert [orjson.loads(x)["data"]["i"] for x in items] == [7, 8, 9]


def test_event_bus_subscription_wait_wakes_on_publish() -> None:
    async def scenario() -> bool:
        bus = EventBus("x")
        sub = bus.subscribe(EventFilter.parse("alert"))
        waiter = asyncio.create_task(sub.wait(5))
        await asyncio.sleep(0)
        bus.publish("tick", {})  # filtered out: must not wake it
        bus.publish("alert", {})
        return await waiter and len(sub.drain()[0]) == 1

    assert asyncio.run(scenario())


def test_subscription_lagging_client_gets_latest_tick_per_symbol_in_place() -> None:
    bus = EventBus("mt5")
    sub = bus.subscribe(EventFilter(), maxsize=5)
    bus.publish("tick", {"symbol": "EURUSD", "bid": 1})
    bus.publish("alert", {"n": 1})
    for bid in range(2, 1000):  # a tick flood for two symbols
        bus.publish("tick", {"symbol": "EURUSD", "bid": bid})
        bus.publish("tick", {"symbol": "GBPUSD", "bid": bid})
    bus.publish("alert", {"n": 2})
    items, dropped = sub.drain()
    events = [orjson.loads(x) for x in items]
    # The flood neither pushed the alerts out nor queued stale prices: one tick per symbol, the latest.
    assert dropped == 0
    assert [
        (e["type"], e["data"].get("symbol"), e["data"].get("bid", e["data"].get("n"))) for e in events
    ] == [
        ("tick", "EURUSD", 999),
        ("alert", None, 1),
        ("tick", "GBPUSD", 999),
        ("alert", None, 2),
    ]
    bus.publish("tick", {"symbol": "EURUSD", "bid": 1000})  # sent ticks are not overwritten: queued anew
    assert [orjson.loads(x)["data"]["bid"] for x in sub.drain()[0]] == [1000]


def test_subscription_drain_with_limit_takes_the_oldest_first() -> None:
    bus = EventBus("x")
    sub = bus.subscribe(EventFilter(), maxsize=100)
    for i in range(10):
        bus.publish("alert", {"i": i})
    first, _ = sub.drain(4)
    rest, _ = sub.drain()
    assert [orjson.loads(x)["data"]["i"] for x in first + rest] == list(range(10))

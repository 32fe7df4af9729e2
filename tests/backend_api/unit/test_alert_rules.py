"""Alert rules: cross detection, the RSI condition, pattern and platform triggers, freshness, cooldown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from services.backend_api.core.alerts import conditions
from services.backend_api.core.alerts.engine import AlertEngine
from services.backend_api.core.alerts.freshness import stale_reason
from services.backend_api.core.alerts.message import AlertMessage
from services.backend_api.core.alerts.rules import (
    EventRule,
    IndicatorRule,
    PatternRule,
    PriceCrossRule,
    RuleSpec,
)
from services.backend_api.core.alerts.store import AlertStore

SPEC = TypeAdapter[RuleSpec](RuleSpec)
T0 = 1_764_000_000_000  # a market time, epoch ms


def cross(direction: str = "any", level: float = 1.1) -> PriceCrossRule:
    return PriceCrossRule(
        kind="price_cross", symbol="eurusd", level=level, direction=direction, channels=["webhook"]
    )  # type: ignore[arg-type]


def test_crossed_up_and_down_from_previous_price() -> None:
    assert conditions.crossed(1.0999, 1.1001, cross()) == "up"
    assert conditions.crossed(1.1001, 1.0999, cross()) == "down"
    assert conditions.crossed(1.0999, 1.1000, cross()) == "up"  # touching counts
    assert conditions.crossed(1.1000, 1.1002, cross()) is None  # leaving the level does not
    assert conditions.crossed(1.1001, 1.1005, cross()) is None
    assert conditions.crossed(1.0999, 1.1001, cross("down")) is None
    assert conditions.crossed(1.1001, 1.0999, cross("up")) is None


def rsi_rule(op: str = "<", value: float = 30) -> IndicatorRule:
    return IndicatorRule(
        kind="indicator", symbol="EURUSD", timeframe="m1", op=op, value=value, channels=["webhook"]
    )  # type: ignore[arg-type]


def test_rsi_condition_fires_on_entering_not_while_staying() -> None:
    rising = np.linspace(1.0, 1.1, 60)
    falling = np.concatenate([rising, rising[-1] - np.linspace(0.001, 0.05, 20)])
    # RSI(14) after a long rise is high; the first falls take it below 30 at some bar, once.
    entered = [conditions.indicator_entered(falling[: i + 1], rsi_rule()) for i in range(len(falling))]
    fired = [i for i, v in enumerate(entered) if v is not None]
    assert len(fired) == 1
    assert entered[fired[0]] is not None and entered[fired[0]] < 30  # type: ignore[operator]
    assert conditions.indicator_entered(rising, rsi_rule(">", 70)) is None  # above 70 all along: no entry


def test_indicator_rule_refuses_unknown_timeframe_and_nan() -> None:
    with pytest.raises(ValidationError, match="timeframe"):
        SPEC.validate_python(
            {
                "kind": "indicator",
                "symbol": "EURUSD",
                "timeframe": "X1",
                "op": "<",
                "value": 1,
                "channels": ["webhook"],
            }
        )
    with pytest.raises(ValidationError, match="value"):
        SPEC.validate_python(
            {
                "kind": "indicator",
                "symbol": "EURUSD",
                "timeframe": "M1",
                "op": "<",
                "value": float("nan"),
                "channels": ["webhook"],
            }
        )


def test_pattern_matches_by_name_without_cdl_and_direction() -> None:
    rule = PatternRule(
        kind="pattern", symbol="eurusd", pattern="engulfing", direction="bullish", channels=["email"]
    )
    data = {"symbol": "EURUSD", "timeframe": "M5", "pattern": "CDLENGULFING", "direction": "bullish"}
    assert conditions.pattern_matches(rule, data)
    assert not conditions.pattern_matches(rule, {**data, "direction": "bearish"})
    assert not conditions.pattern_matches(rule, {**data, "symbol": "GBPUSD"})


@pytest.mark.parametrize(
    ("trigger", "event_type", "data", "expected"),
    [
        ("sl_tp", "order.filled", {"reason": 4}, True),
        ("sl_tp", "order.filled", {"reason": 3}, False),
        ("fill", "order.filled", {"reason": 3}, True),
        ("stop_out", "account.stop_out", {}, True),
        ("margin_call", "account.margin_call", {}, True),
        (
            "strategy_stopped",
            "strategy.status",
            {"from": "running", "to": "stopped", "reason": "daily_loss_limit: x"},
            True,
        ),
        (
            "strategy_stopped",
            "strategy.status",
            {"from": "running", "to": "stopped", "reason": "stopped by request"},
            False,
        ),
        ("service_error", "service.status", {"to": "ERROR"}, True),
        ("service_error", "service.status", {"to": "OFFLINE"}, False),
        ("job_failed", "backtest.failed", {"reason": "boom"}, True),
        ("job_failed", "model.failed", {"reason": "cancelled"}, False),
    ],
)
def test_platform_triggers_map_to_catalog_events(
    trigger: str, event_type: str, data: dict[str, Any], expected: bool
) -> None:
    rule = EventRule(kind="event", trigger=trigger, channels=["webhook"])  # type: ignore[arg-type]
    assert conditions.platform_matches(rule, event_type, data) is expected


def candle(*, backfill: bool, market_ms: int, bar_time: int) -> dict[str, Any]:
    bar = {
        "time": bar_time,
        "open": 1.1,
        "high": 1.1,
        "low": 1.1,
        "close": 1.1,
        "tick_volume": 1,
        "spread": 0,
        "real_volume": 0,
    }
    return {
        "type": "candle.closed",
        "ts": 0,
        "data": {
            "symbol": "EURUSD",
            "timeframe": "M1",
            "bar": bar,
            "market_ms": market_ms,
            "backfill": backfill,
        },
    }


def test_backfilled_or_stale_events_never_fire() -> None:
    bar_time = T0 // 1000
    close_ms = (bar_time + 60) * 1000
    fresh = candle(backfill=False, market_ms=close_ms + 500, bar_time=bar_time)
    assert stale_reason(fresh, market_now_ms=None, wall_now_ms=0, max_age_s=120) is None
    backfill = candle(backfill=True, market_ms=close_ms + 500, bar_time=bar_time)
    assert "backfill" in (stale_reason(backfill, market_now_ms=None, wall_now_ms=0, max_age_s=120) or "")
    old = candle(backfill=False, market_ms=close_ms + 600_000, bar_time=bar_time)
    assert "stale" in (stale_reason(old, market_now_ms=None, wall_now_ms=0, max_age_s=120) or "")
    tick = {"type": "tick", "ts": 0, "data": {"symbol": "EURUSD", "time_msc": T0, "bid": 1.1}}
    assert "stale" in (stale_reason(tick, market_now_ms=T0 + 121_000, wall_now_ms=0, max_age_s=120) or "")
    status = {"type": "service.status", "ts": 1_000, "data": {"to": "ERROR"}}
    assert stale_reason(status, market_now_ms=None, wall_now_ms=2_000, max_age_s=120) is None
    assert "stale" in (stale_reason(status, market_now_ms=None, wall_now_ms=500_000, max_age_s=120) or "")


class Collected:
    """The dispatcher's side, recorded."""

    def __init__(self) -> None:
        self.sent: list[tuple[AlertMessage, list[str]]] = []

    async def submit(self, message: AlertMessage, channels: list[str]) -> None:
        self.sent.append((message, channels))


def tick(ms: int, bid: float) -> dict[str, Any]:
    return {
        "type": "tick",
        "ts": ms,
        "source": "mt5",
        "data": {"symbol": "EURUSD", "time_msc": ms, "bid": bid, "ask": bid + 0.0001},
    }


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = AlertStore(tmp_path / "alerts.sqlite", deliveries_kept=100)
    yield s
    s.close()


async def _engine_price_cross_respects_cooldown_and_persists_it(store: AlertStore) -> None:
    wall = [T0]
    out = Collected()

    async def no_closes(*_: Any) -> np.ndarray:
        raise AssertionError("not needed")

    engine = AlertEngine(
        store,
        out,
        closes=no_closes,
        max_event_age_s=120,
        queue_size=10,
        indicator_bars=100,
        clock_ms=lambda: wall[0],
    )
    rule = store.add_rule(cross().model_copy(update={"cooldown_s": 60.0}), T0)
    engine.rule_saved(rule)

    async def feed(ms: int, bid: float) -> int:
        event = tick(ms, bid)
        engine.on_event(event)
        return len(await engine.evaluate(event))

    assert await feed(T0, 1.0990) == 0  # first price: nothing to compare with
    assert await feed(T0 + 1000, 1.1010) == 1  # crossed up
    assert await feed(T0 + 2000, 1.0990) == 0  # crossed down, within the cooldown
    wall[0] += 61_000
    assert await feed(T0 + 3000, 1.1010) == 1  # the cooldown has passed
    assert out.sent[0][0].title == "EURUSD crossed 1.1 up" and out.sent[0][1] == ["webhook"]
    assert out.sent[0][0].event["data"]["bid"] == 1.1010
    assert store.rule(rule.id).last_fired_ms == wall[0]


async def _engine_ignores_a_stale_tick_and_a_cross_across_a_silence(store: AlertStore) -> None:
    out = Collected()

    async def no_closes(*_: Any) -> np.ndarray:
        raise AssertionError("not needed")

    engine = AlertEngine(
        store,
        out,
        closes=no_closes,
        max_event_age_s=120,
        queue_size=10,
        indicator_bars=100,
        clock_ms=lambda: T0,
    )
    engine.rule_saved(store.add_rule(cross().model_copy(update={"cooldown_s": 0.0}), T0))
    for event in (tick(T0, 1.0990), tick(T0 + 600_000, 1.1010)):  # ten minutes apart: no "cross now"
        engine.on_event(event)
        assert await engine.evaluate(event) == []
    late = tick(T0 + 1000, 1.0980)  # arrives after a newer tick: old news
    engine.on_event(late)
    assert await engine.evaluate(late) == []
    assert out.sent == []


async def _engine_rsi_rule_reads_closes_and_fires_on_the_closed_candle(store: AlertStore) -> None:
    out = Collected()
    history = np.linspace(1.0, 1.1, 80)
    calls: list[tuple[str, str, int, int]] = []

    async def closes(symbol: str, timeframe: str, to_s: int, count: int) -> np.ndarray:
        calls.append((symbol, timeframe, to_s, count))
        return history

    engine = AlertEngine(
        store, out, closes=closes, max_event_age_s=120, queue_size=10, indicator_bars=100, clock_ms=lambda: T0
    )
    engine.rule_saved(store.add_rule(rsi_rule(), T0))
    bar_time = T0 // 1000
    event = candle(backfill=False, market_ms=(bar_time + 60) * 1000, bar_time=bar_time)
    event["data"]["bar"]["close"] = 1.0  # a crash after a long rise: RSI(14) falls below 30
    engine.on_event(event)
    sent = await engine.evaluate(event)
    assert len(sent) == 1 and sent[0].title.startswith("EURUSD M1: RSI(14)")
    assert calls == [("EURUSD", "M1", bar_time - 1, 99)]
    backfilled = candle(backfill=True, market_ms=(bar_time + 60) * 1000, bar_time=bar_time)
    assert await engine.evaluate(backfilled) == []


def test_engine_price_cross_respects_cooldown_and_persists_it(store: AlertStore) -> None:
    asyncio.run(_engine_price_cross_respects_cooldown_and_persists_it(store))


def test_engine_ignores_a_stale_tick_and_a_cross_across_a_silence(store: AlertStore) -> None:
    asyncio.run(_engine_ignores_a_stale_tick_and_a_cross_across_a_silence(store))


def test_engine_rsi_rule_reads_closes_and_fires_on_the_closed_candle(store: AlertStore) -> None:
    asyncio.run(_engine_rsi_rule_reads_closes_and_fires_on_the_closed_candle(store))


def test_engine_listener_never_blocks_a_full_queue_drops_and_counts(store: AlertStore) -> None:
    async def scenario() -> AlertEngine:
        async def no_closes(*_: Any) -> np.ndarray:
            raise AssertionError("not needed")

        engine = AlertEngine(
            store,
            Collected(),
            closes=no_closes,
            max_event_age_s=120,
            queue_size=10,
            indicator_bars=100,
            clock_ms=lambda: T0,
        )
        engine.on_event(tick(T0, 1.0))  # no rule wants ticks yet: only the market's clock is read
        engine.rule_saved(store.add_rule(cross(), T0))
        for i in range(25):
            engine.on_event(tick(T0 + i, 1.0))
        return engine

    engine = asyncio.run(scenario())
    assert engine.dropped == 15 and engine.market_now.now_ms() == T0 + 24

"""The alert engine: a bus listener that queues the events enabled rules need, and a worker that checks
each event's freshness, evaluates the rules, applies their cooldown and hands messages to the dispatcher.

The listener runs inside the hub's dispatch, so it only filters and enqueues (a full queue drops the event
and counts it); evaluation, data reads and delivery happen in the worker, off the hub's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from services.backend_api.core.alerts import conditions
from services.backend_api.core.alerts.freshness import MarketNow, market_time_ms, stale_reason
from services.backend_api.core.alerts.message import AlertMessage
from services.backend_api.core.alerts.rules import (
    EventRule,
    IndicatorRule,
    PatternRule,
    PriceCrossRule,
    RuleRead,
)
from services.backend_api.core.alerts.store import AlertStore
from shared import event_catalog as ev
from shared.errors import PlatformError

log = logging.getLogger(__name__)

Event = Mapping[str, Any]
Closes = Callable[[str, str, int, int], Awaitable[np.ndarray]]
"""(symbol, timeframe, to_s, count) -> the closes of the newest `count` bars opening at or before `to_s`."""


class Submit(Protocol):
    async def submit(self, message: AlertMessage, channels: list[str]) -> None: ...


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class AlertEngine:
    def __init__(
        self,
        store: AlertStore,
        dispatcher: Submit,
        *,
        closes: Closes,
        max_event_age_s: float,
        queue_size: int,
        indicator_bars: int,
        clock_ms: Callable[[], int],
    ) -> None:
        self._store, self._dispatcher, self._closes = store, dispatcher, closes
        self._max_age_s, self._indicator_bars, self._clock_ms = max_event_age_s, indicator_bars, clock_ms
        self._queue: asyncio.Queue[Event] = asyncio.Queue(queue_size)
        self._rules: dict[int, RuleRead] = {}
        self._wanted: frozenset[str] = frozenset()
        self._last_tick: dict[
            str, tuple[int, float]
        ] = {}  # symbol -> (time_msc, bid) of the newest fresh tick
        self.market_now = MarketNow()
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    # ----- rules ------------------------------------------------------------------------------------------

    async def load(self) -> None:
        for rule in await self._store.worker.run(self._store.rules):
            self._rules[rule.id] = rule
        self._rewant()

    def rule_saved(self, rule: RuleRead) -> None:
        self._rules[rule.id] = rule
        self._rewant()

    def rule_deleted(self, rule_id: int) -> None:
        self._rules.pop(rule_id, None)
        self._rewant()

    def _rewant(self) -> None:
        wanted: set[str] = set()
        for read in self._rules.values():
            rule = read.rule
            if not rule.enabled:
                continue
            if isinstance(rule, PriceCrossRule):
                wanted.add(ev.TICK)
            elif isinstance(rule, IndicatorRule):
                wanted.add(ev.CANDLE_CLOSED)
            elif isinstance(rule, PatternRule):
                wanted.add(ev.PATTERN_DETECTED)
            else:
                wanted |= conditions.TRIGGER_TYPES[rule.trigger]
        self._wanted = frozenset(wanted)

    # ----- the hub's side ---------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Bus listener: track the market's clock, queue what a rule needs. Never blocks."""
        event_type, data = event.get("type"), event.get("data")
        if not isinstance(event_type, str) or not isinstance(data, dict):
            return
        if event_type == ev.TICK:
            self.market_now.observe(market_time_ms(event_type, data))
        elif event_type == ev.CANDLE_CLOSED and isinstance(data.get("market_ms"), int):
            self.market_now.observe(data["market_ms"])
        elif event_type == ev.ALERT and data.get("code") == "market_world_changed":
            # Another world's clock (replay <-> real time): its times are not comparable with the old ones.
            self.market_now.reset()
            self._last_tick.clear()
        if event_type not in self._wanted:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alerts-engine")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self.evaluate(event)
            except Exception:  # one bad event or rule must not stop alerts
                log.exception("alerts: evaluating a %s event failed", event.get("type"))

    # ----- evaluation -------------------------------------------------------------------------------------

    async def evaluate(self, event: Event) -> list[AlertMessage]:
        """Fire every enabled rule `event` satisfies (if it is news); the messages sent."""
        reason = stale_reason(
            event,
            market_now_ms=self.market_now.now_ms(),
            wall_now_ms=self._clock_ms(),
            max_age_s=self._max_age_s,
        )
        if reason is not None:
            log.debug("alerts: %s ignored: %s", event.get("type"), reason)
            return []
        event_type, data = str(event["type"]), event["data"]
        previous_tick = self._track_tick(data) if event_type == ev.TICK else None
        closes: dict[tuple[str, str], np.ndarray | None] = {}
        sent = []
        for read in list(self._rules.values()):
            rule = read.rule
            if not rule.enabled:
                continue
            message: AlertMessage | None = None
            if isinstance(rule, PriceCrossRule) and event_type == ev.TICK:
                message = self._price_cross(read, rule, data, previous_tick)
            elif isinstance(rule, IndicatorRule) and event_type == ev.CANDLE_CLOSED:
                message = await self._indicator(read, rule, data, closes)
            elif isinstance(rule, PatternRule) and event_type == ev.PATTERN_DETECTED:
                if conditions.pattern_matches(rule, data):
                    message = self._pattern_message(read, rule, data)
            elif isinstance(rule, EventRule) and conditions.platform_matches(rule, event_type, data):
                message = self._platform_message(read, rule, event_type, data)
            if message is not None and await self._fire(read, message, event):
                sent.append(message)
        return sent

    def _track_tick(self, data: Mapping[str, Any]) -> tuple[int, float] | None:
        """The symbol's previous fresh tick (None when there is none close enough to compare), after
        remembering this one; a tick older than the newest seen is out of order and changes nothing."""
        symbol, time_msc, bid = str(data.get("symbol", "")).upper(), data.get("time_msc"), data.get("bid")
        if not isinstance(time_msc, int) or not isinstance(bid, int | float):
            return None
        previous = self._last_tick.get(symbol)
        if previous is not None and time_msc < previous[0]:
            return None
        self._last_tick[symbol] = (time_msc, float(bid))
        # After a silence (a hub reconnect, a closed market) the price jumped: no cross "happened now".
        if previous is None or time_msc - previous[0] > self._max_age_s * 1000:
            return None
        return previous

    def _price_cross(
        self,
        read: RuleRead,
        rule: PriceCrossRule,
        data: Mapping[str, Any],
        previous: tuple[int, float] | None,
    ) -> AlertMessage | None:
        if previous is None or str(data.get("symbol", "")).upper() != rule.symbol:
            return None
        bid = float(data["bid"])
        way = conditions.crossed(previous[1], bid, rule)
        if way is None:
            return None
        return AlertMessage(
            rule_id=read.id,
            rule_name=rule.name,
            event_type=ev.TICK,
            title=f"{rule.symbol} crossed {rule.level:g} {way}",
            text=f"bid {bid:g} at {_iso(int(data['time_msc']))} (was {previous[1]:g})",
            symbol=rule.symbol,
        )

    async def _indicator(
        self,
        read: RuleRead,
        rule: IndicatorRule,
        data: Mapping[str, Any],
        cache: dict[tuple[str, str], np.ndarray | None],
    ) -> AlertMessage | None:
        symbol, timeframe = str(data.get("symbol", "")).upper(), str(data.get("timeframe", "")).upper()
        if (symbol, timeframe) != (rule.symbol, rule.timeframe):
            return None
        if (symbol, timeframe) not in cache:
            cache[symbol, timeframe] = await self._closes_with(symbol, timeframe, data["bar"])
        closes = cache[symbol, timeframe]
        if closes is None:
            return None
        value = conditions.indicator_entered(closes, rule)
        if value is None:
            return None
        bar_time = int(data["bar"]["time"])
        return AlertMessage(
            rule_id=read.id,
            rule_name=rule.name,
            event_type=ev.CANDLE_CLOSED,
            title=f"{symbol} {timeframe}: {rule.indicator}({rule.period}) {value:.2f} {rule.op} {rule.value:g}",
            text=f"on the candle of {_iso(bar_time * 1000)}, close {float(data['bar']['close']):g}",
            symbol=symbol,
        )

    async def _closes_with(self, symbol: str, timeframe: str, bar: Mapping[str, Any]) -> np.ndarray | None:
        """The stored closes before the event's bar, then its own close (the store may not have it yet)."""
        bar_time = int(bar["time"])
        try:
            before = await self._closes(symbol, timeframe, bar_time - 1, self._indicator_bars - 1)
        except PlatformError as exc:
            log.warning("alerts: closes of %s %s unavailable: %s", symbol, timeframe, exc.message)
            return None
        return np.append(np.asarray(before, dtype=np.float64), float(bar["close"]))

    def _pattern_message(self, read: RuleRead, rule: PatternRule, data: Mapping[str, Any]) -> AlertMessage:
        symbol, timeframe = str(data.get("symbol", "")).upper(), str(data.get("timeframe", ""))
        return AlertMessage(
            rule_id=read.id,
            rule_name=rule.name,
            event_type=ev.PATTERN_DETECTED,
            title=f"{symbol} {timeframe}: {data.get('pattern')} {data.get('direction', '')}".strip(),
            text=f"on the candle of {_iso(int(data.get('time', 0)) * 1000)}",
            symbol=symbol,
        )

    def _platform_message(
        self, read: RuleRead, rule: EventRule, event_type: str, data: Mapping[str, Any]
    ) -> AlertMessage:
        labels = {
            "fill": "order filled",
            "sl_tp": "stop loss or take profit hit",
            "stop_out": "stop-out",
            "margin_call": "margin call",
            "strategy_stopped": "strategy instance stopped",
            "service_error": "service in ERROR",
            "job_failed": "job failed",
        }
        subject = (
            data.get("symbol") or data.get("instance") or data.get("service") or data.get("job_id") or ""
        )
        details = ", ".join(
            f"{key} {data[key]}"
            for key in (
                "ticket",
                "volume_initial",
                "price_open",
                "profit",
                "margin_level",
                "reason",
                "message",
            )
            if data.get(key) not in (None, "")
        )
        return AlertMessage(
            rule_id=read.id,
            rule_name=rule.name,
            event_type=event_type,
            title=f"{labels[rule.trigger]}: {subject}".rstrip(": "),
            text=f"{event_type}: {details}" if details else event_type,
            symbol=data.get("symbol") if isinstance(data.get("symbol"), str) else None,
        )

    async def _fire(self, read: RuleRead, message: AlertMessage, event: Event) -> bool:
        """Send unless the rule fired within its cooldown (wall clock: it limits messages, not markets)."""
        now = self._clock_ms()
        current = self._rules.get(read.id)
        if current is None:
            return False
        last = current.last_fired_ms
        if last is not None and now - last < current.rule.cooldown_s * 1000:
            log.debug("alerts: rule %s in its cooldown", read.id)
            return False
        self._rules[read.id] = current.model_copy(update={"last_fired_ms": now})
        await self._store.worker.run(self._store.set_fired, read.id, now)
        await self._dispatcher.submit(replace(message, event=dict(event)), list(current.rule.channels))
        return True

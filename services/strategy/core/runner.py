"""One running instance: on each closed candle, the shared strategy's signals on the last closed bar become
orders at the mt5 service, exactly as the backtest engine would place them. What to do is planned without
I/O (planning.py); this module is the execution: it fetches the window, positions, quote and equity a plan
needs, records the plan, sends its orders and publishes what happened.

Bar semantics match the backtest: the signal of bar i (the bar that just closed) is read with only bars
up to i, and its order is sent at once, which is bar i+1's open (the backtest fills it at that open).

Idempotency: the order of bar T for action A has the client id `{instance}:{T}:{A}`. The bar is marked
handled and its orders written (store.record_bar) before anything is sent, so a re-delivered candle is
ignored, and after a crash the unsent or unanswered orders are sent again with the same id and the same
request, which the mt5 service answers with the first result instead of a second order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from services.strategy.core.coalesce import SingleFlight
from services.strategy.core.freshness import FreshnessRule
from services.strategy.core.planning import CLOSE, BarPlan, DailyLossStop, OrderPlanner, is_close
from services.strategy.core.ports import BarSource, Broker, Position, Quote
from services.strategy.core.signal_log import decision_entry
from services.strategy.core.store import InstanceRecord, InstanceStore, OrderRecord, OrderStatus
from shared.errors import PlatformError
from shared.event_catalog import ALERT, SIGNAL
from shared.event_payloads import Alert, Publish, Signal
from shared.market.candle_events import ClosedCandle
from shared.trading.sizing import SizingMode
from shared.trading.strategy import Strategy

log = logging.getLogger(__name__)

StopHandler = Callable[[str, str], Awaitable[None]]
BeforeOrders = Callable[[str, str, int], Awaitable[None]]
"""Awaited with (symbol, timeframe, bar_time) before a candle's orders are priced and sent (lockstep.py)."""


class StrategyRunner:
    """Turns the closed candles of one (symbol, timeframe) into the orders of one instance."""

    def __init__(
        self,
        instance: InstanceRecord,
        strategy: Strategy[Any],
        *,
        broker: Broker,
        bars: BarSource,
        store: InstanceStore,
        publish: Publish,
        on_stop: StopHandler,
        now_ms: Callable[[], int],
        market_now_ms: Callable[[], int | None],
        freshness: FreshnessRule,
        history_bars: int = 500,
        warmup_factor: int = 5,
        deviation_points: int = 20,
        position_reads: SingleFlight[list[Position]] | None = None,
        before_orders: BeforeOrders | None = None,
    ) -> None:
        self.instance = instance
        self.planner = OrderPlanner(
            instance,
            strategy,
            history_bars=history_bars,
            warmup_factor=warmup_factor,
            deviation_points=deviation_points,
        )
        self._broker = broker
        self._bars = bars
        self._store = store
        self._publish = publish
        self._on_stop = on_stop
        self._now_ms = now_ms
        self._market_now_ms = market_now_ms
        self._freshness = freshness
        self._timeframe = self.planner.timeframe
        # Shared by the instances of one service, so a candle costs one positions read per symbol.
        self._position_reads = position_reads or SingleFlight()
        self._before_orders = before_orders
        self._orders_done_at = 0.0  # monotonic time the last order's answer came back
        self._facts: Quote | None = None  # symbol facts, for entries whose size and stops ignore the price
        self._window: np.ndarray | None = None
        self.last_bar_time = instance.last_bar_time
        # Each candle with the future that says it was handled (the replay clock waits for it).
        self._queue: asyncio.Queue[tuple[ClosedCandle, asyncio.Future[None]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.halted = False

    # ---- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Handle submitted candles in the background, one at a time, in order."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"strategy {self.instance.id}")

    def submit(self, candle: ClosedCandle) -> asyncio.Future[None]:
        """Queue a closed candle of the instance's symbol and timeframe; the future is done once it was
        handled (acted on and its orders answered, recorded as skipped, or failed) or will never be (the
        runner stopped)."""
        handled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._task is None or self._task.done():
            handled.set_result(None)
        else:
            self._queue.put_nowait((candle, handled))
        return handled

    async def aclose(self, timeout_s: float = 10.0) -> None:
        """Finish the queued candles (up to `timeout_s`), then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def reset_window(self) -> None:
        """Forget the cached bars (the event stream reconnected, so some may be missing)."""
        self._window = None

    async def _run(self) -> None:
        handled: asyncio.Future[None] | None = None
        try:
            await self._load_facts()
            while not self.halted:
                item = await self._queue.get()
                if item is None:
                    return
                candle, handled = item
                try:
                    await self.handle(candle)
                except Exception as exc:  # one bad candle must not end the instance
                    log.exception("instance %s failed on a candle", self.instance.id)
                    self._alert("candle_failed", f"{type(exc).__name__}: {exc}")
                _done(handled)
        finally:
            # Stopped, halted or cancelled: no queued candle will be handled, so none is waited for.
            if handled is not None:
                _done(handled)
            while not self._queue.empty():
                left = self._queue.get_nowait()
                if left is not None:
                    _done(left[1])

    # ---- one candle -----------------------------------------------------------------------------------

    async def handle(self, candle: ClosedCandle) -> None:
        """Act on a candle that is still news; record a backfilled or stale one as skipped, untraded.
        Its age is read now, when its turn comes, not when it arrived."""
        skipped = self._freshness.skip_reason(candle, self._timeframe, self._market_now_ms())
        if skipped is None:
            await self.on_candle(candle.bar)
        elif self.last_bar_time is None or candle.time > self.last_bar_time:
            # Its bar is not appended to the cached window, so the next fresh candle fetches the window
            # again, with this bar in it: positions held across a gap are managed on complete history.
            log.debug("instance %s skips the candle of %d: %s", self.instance.id, candle.time, skipped)
            await self._record(candle.time, {"bar_time": candle.time, **skipped})

    async def on_candle(self, bar: np.ndarray) -> None:
        """Act on the closed bar `bar` (a one-row RATES_DTYPE array); repeats and older bars are ignored."""
        bar_time = int(bar["time"][0])
        if self.last_bar_time is not None and bar_time <= self.last_bar_time:
            return
        window = await self._advance(bar)
        warming_up = self.planner.warming_up(window)
        if warming_up is not None:
            await self._record(bar_time, warming_up)
            return
        # Strategy code may be slow or compile on its first call (numba): never on the event loop, where
        # it would hold up every other instance's candle.
        signal = await asyncio.to_thread(self.planner.signal, window)
        positions = await self._positions()
        # Only a loss limit needs the day's P&L before the orders (a history read at the mt5 service per
        # instance and candle); without one, the dashboard's figure is read when it is asked for.
        if self.planner.risk.risk.daily_loss_limit is not None:
            pnl = await self._daily_pnl(bar_time, positions)
            stop = self.planner.daily_loss_stop(bar_time, pnl, positions)
            if stop is not None:
                await self._stop_for_daily_loss(bar_time, stop)
                return
        plan = self.planner.plan(bar_time, signal, positions)
        if plan.orders or plan.entry_pending:
            # Before the quote too: on a replay clock the entry is then priced and sized at its fill tick.
            await self._market_at_fill(bar_time)
        if plan.entry_pending:
            quote, equity = await self._quote_and_equity()
            plan = self.planner.enter(plan, window, quote, equity)
        stored = await self._record(bar_time, plan.summary, plan.orders)
        await self._execute_all(plan, stored)
        decision = plan.decision
        if plan.refusal is not None:
            await self._signal(bar_time, decision.open, "none", "entry", refused=plan.refusal)
        elif decision.ignored is not None:
            await self._signal(bar_time, plan.held, "none", decision.ignored.value)

    async def _execute_all(self, plan: BarPlan, orders: list[OrderRecord]) -> None:
        bar_time, decision = plan.bar_time, plan.decision
        close_failed = False
        for order in orders:
            if is_close(order):
                refused = await self.execute(order)
                close_failed = close_failed or refused is not None
                reason = decision.close.value if decision.close else CLOSE
                await self._signal(bar_time, 0, order.action, reason, refused=refused)
                continue
            if close_failed:
                # An entry beside a position that failed to close would hold both sides at once.
                await self._finish(order, OrderStatus.REFUSED, {"code": "close_failed"})
                refused = "close_failed"
            else:
                refused = await self.execute(order)
            await self._signal(bar_time, decision.open, order.action, "entry", refused=refused)

    async def execute(self, order: OrderRecord) -> str | None:
        """Send one stored order under its client id and record the outcome: None when accepted, else the
        code of the refusal (or of the failure to reach the mt5 service)."""
        try:
            return await self._send(order)
        finally:
            self._orders_done_at = time.monotonic()

    async def _send(self, order: OrderRecord) -> str | None:
        try:
            if is_close(order):
                extra = {k: v for k, v in order.request.items() if k != "ticket"}
                result = await self._broker.close(order.request["ticket"], order.client_id, **extra)
            else:
                result = await self._broker.send(order.request, order.client_id)
        except PlatformError as exc:
            gone = is_close(order) and exc.code == "position_not_found"
            if gone:  # closed meanwhile (its SL or TP, or by hand): the close has nothing left to do
                await self._finish(order, OrderStatus.DONE, {"code": exc.code, "message": exc.message})
                return None
            status = OrderStatus.FAILED if exc.status_code >= 500 else OrderStatus.REFUSED
            error = {"code": exc.code, "message": exc.message, "status": exc.status_code, **exc.details}
            await self._finish(order, status, error)
            self._alert(exc.code, exc.message, client_id=order.client_id, details=exc.details)
            return exc.code
        await self._finish(order, OrderStatus.DONE, result)
        return None

    # ---- daily loss -----------------------------------------------------------------------------------

    async def _daily_pnl(self, bar_time: int, positions: list[Position]) -> float:
        """Today's money of this instance: its deals since 00:00 UTC plus its open positions' profit."""
        day = self.planner.trading_day(bar_time)
        closed = await self._broker.closed_profit(self.instance.magic, day)
        pnl = closed + sum(p.profit for p in positions)
        await self._store.worker.run(self._store.set_daily, self.instance.id, day, pnl)
        return pnl

    async def _stop_for_daily_loss(self, bar_time: int, stop: DailyLossStop) -> None:
        if stop.closes:
            await self._market_at_fill(bar_time)
        stored = await self._record(bar_time, stop.summary, list(stop.closes))
        for order in stored:
            refused = await self.execute(order)
            await self._signal(bar_time, 0, order.action, "daily_loss_limit", refused=refused)
        self.halted = True
        await self._on_stop(self.instance.id, stop.reason)

    # ---- helpers --------------------------------------------------------------------------------------

    async def _market_at_fill(self, bar_time: int) -> None:
        """On a replay clock, wait until the market stands at the tick the backtest fills the orders of
        `bar_time` at (the hold at the next bar)."""
        if self._before_orders is not None:
            await self._before_orders(self.instance.symbol, self.instance.timeframe, bar_time)

    async def _advance(self, bar: np.ndarray) -> np.ndarray:
        """The window ending with `bar`: appended when it follows the cached one, else fetched again."""
        bar_time = int(bar["time"][0])
        window = self._window
        if (
            window is not None
            and len(window)
            and self._timeframe.next_open(int(window["time"][-1])) == bar_time
        ):
            window = np.concatenate([window, bar])
        else:
            size = self.planner.window_size
            fetched = await self._bars.bars(
                self.instance.symbol, self.instance.timeframe, to_s=bar_time, count=size
            )
            window = np.concatenate([fetched[fetched["time"] < bar_time], bar])
        self._window = window[-self.planner.window_size :]
        return self._window

    async def _load_facts(self) -> None:
        """The symbol's facts before the first candle, so the first entry does not wait for them (a first
        quote can take the mt5 service a while); on failure the first entry fetches them."""
        try:
            self._facts = await self._broker.quote(self.instance.symbol)
        except PlatformError as exc:
            log.info("instance %s: symbol facts not loaded yet: %s", self.instance.id, exc.message)

    async def _quote_and_equity(self) -> tuple[Quote, float]:
        """The quote (the cached symbol facts when the entry does not depend on the price) and the equity
        (only when the sizing uses it)."""
        if not self.planner.risk.prices_entries and self._facts is not None:
            return self._facts, 0.0
        fixed = self.instance.sizing.mode == SizingMode.FIXED
        quote, equity = await asyncio.gather(
            self._broker.quote(self.instance.symbol),
            _constant(0.0) if fixed else self._broker.equity(),
        )
        self._facts = quote
        return quote, equity

    async def _positions(self) -> list[Position]:
        symbol = self.instance.symbol
        found = await self._position_reads.get(
            symbol, self._orders_done_at, lambda: self._broker.positions(symbol)
        )
        return sorted((p for p in found if p.magic == self.instance.magic), key=lambda p: p.ticket)

    async def _record(
        self, bar_time: int, summary: dict[str, Any], orders: list[OrderRecord] | None = None
    ) -> list[OrderRecord]:
        stored = await self._store.worker.run(
            self._store.record_bar, self.instance.id, bar_time, summary, orders or []
        )
        self.last_bar_time = bar_time
        return stored

    async def _finish(self, order: OrderRecord, status: OrderStatus, result: dict[str, Any]) -> None:
        await self._store.worker.run(self._store.finish_order, order.client_id, status, result)

    async def _signal(
        self, bar_time: int, direction: int, action: str, reason: str, *, refused: str | None = None
    ) -> None:
        """Publish a decision as a `signal` event and add it to the instance's signal log."""
        side = {1: "long", -1: "short"}.get(direction, "flat")
        self._publish(
            SIGNAL,
            Signal(
                instance=self.instance.id,
                symbol=self.instance.symbol,
                timeframe=self.instance.timeframe,
                bar_time=bar_time,
                direction=side,
                action=action,
                reason=reason,
                refused=refused,
            ),
        )
        entry = decision_entry(side, action, reason, refused)
        await self._store.worker.run(self._store.log_signal, self.instance.id, bar_time, entry)

    def _alert(self, code: str, message: str, **extra: Any) -> None:
        self._publish(
            ALERT,
            Alert.model_validate(
                {
                    "instance": self.instance.id,
                    "symbol": self.instance.symbol,
                    "code": code,
                    "message": message,
                    **extra,
                }
            ),
        )


async def _constant(value: float) -> float:
    return value


def _done(handled: asyncio.Future[None]) -> None:
    if not handled.done():
        handled.set_result(None)

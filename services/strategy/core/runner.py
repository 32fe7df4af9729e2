"""One running instance: on each closed candle, the shared strategy's signals on the last closed bar become
orders at the mt5 service, exactly as the backtest engine would place them.

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
from services.strategy.core.decisions import BarSignal, Decision, decide
from services.strategy.core.freshness import FreshnessRule
from services.strategy.core.ports import BarSource, Broker, Position, Quote
from services.strategy.core.risk import RiskManager, day_start
from services.strategy.core.store import InstanceRecord, InstanceStore, OrderRecord, OrderStatus
from shared.errors import PlatformError
from shared.event_catalog import ALERT, SIGNAL
from shared.event_payloads import Alert, Publish, Signal
from shared.market.candle_events import ClosedCandle
from shared.market.timeframes import get_timeframe
from shared.trading.sizing import SizingMode
from shared.trading.strategy import Strategy

log = logging.getLogger(__name__)

StopHandler = Callable[[str, str], Awaitable[None]]
CLOSE = "close"


def client_id(instance_id: str, bar_time: int, action: str) -> str:
    """The deterministic client order id of one action of one instance on one bar."""
    return f"{instance_id}:{bar_time}:{action}"


def order_comment(bar_time: int, action: str) -> str:
    """The order's MT5 comment: its client id without the instance (the magic number names that), so it
    fits MT5's 31 characters and the terminal's history shows which bar and action each deal came from."""
    return f"{bar_time}:{action}"


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
    ) -> None:
        self.instance = instance
        self.strategy = strategy
        self.risk = RiskManager(instance.sizing, instance.risk)
        self._broker = broker
        self._bars = bars
        self._store = store
        self._publish = publish
        self._on_stop = on_stop
        self._now_ms = now_ms
        self._market_now_ms = market_now_ms
        self._freshness = freshness
        self._timeframe = get_timeframe(instance.timeframe)
        self._deviation = deviation_points
        # Shared by the instances of one service, so a candle costs one positions read per symbol.
        self._position_reads = position_reads or SingleFlight()
        self._orders_done_at = 0.0  # monotonic time the last order's answer came back
        self._facts: Quote | None = None  # symbol facts, for entries whose size and stops ignore the price
        self._start = max(strategy.warmup, 1)  # as the backtest: the first bar whose signal counts
        atr_need = instance.risk.atr_period + 1 if instance.risk.uses_atr else 0
        self.window_size = max(history_bars, strategy.warmup * warmup_factor, atr_need) + 1
        self._window: np.ndarray | None = None
        self.last_bar_time = instance.last_bar_time
        self._queue: asyncio.Queue[ClosedCandle | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.halted = False

    # ---- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Handle submitted candles in the background, one at a time, in order."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"strategy {self.instance.id}")

    def submit(self, candle: ClosedCandle) -> None:
        """Queue a closed candle of the instance's symbol and timeframe."""
        self._queue.put_nowait(candle)

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
        await self._load_facts()
        while not self.halted:
            candle = await self._queue.get()
            if candle is None:
                return
            try:
                await self.handle(candle)
            except Exception as exc:  # one bad candle must not end the instance
                log.exception("instance %s failed on a candle", self.instance.id)
                self._alert("candle_failed", f"{type(exc).__name__}: {exc}")

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
        i = len(window) - 1
        if i < self._start:
            await self._record(bar_time, {"bar_time": bar_time, "warming_up": True, "bars": len(window)})
            return
        cols = {name: window[name] for name in window.dtype.names or ()}
        # Strategy code may be slow or compile on its first call (numba): never on the event loop, where
        # it would hold up every other instance's candle.
        signal = BarSignal.at(await asyncio.to_thread(self.strategy.signals, cols), i)
        positions = await self._positions()
        # Kept with or without a loss limit: the day's P&L is what the dashboard shows for the instance.
        pnl = await self._daily_pnl(bar_time, positions)
        if self.risk.daily_loss_breached(pnl):
            await self._trip_daily_loss(bar_time, pnl, positions)
            return
        held = positions[0].direction if positions else 0
        decision = decide(signal, held)
        orders, refusal = await self._plan(bar_time, decision, signal, positions, cols)
        summary = {"bar_time": bar_time, "signals": signal.to_dict(), "held": held}
        stored = await self._record(bar_time, summary, orders)
        await self._execute_all(bar_time, decision, stored)
        if refusal is not None:
            self._signal(bar_time, decision.open, "none", "entry", refused=refusal)
        elif decision.ignored is not None:
            self._signal(bar_time, held, "none", decision.ignored.value)

    async def _plan(
        self,
        bar_time: int,
        decision: Decision,
        signal: BarSignal,
        positions: list[Position],
        cols: dict[str, np.ndarray],
    ) -> tuple[list[OrderRecord], str | None]:
        """The orders of a decision (closes first), and why an entry it wanted is not placed (or None)."""
        orders = [self._close_order(bar_time, p) for p in positions] if decision.close else []
        if not decision.open:
            return orders, None
        refusal = self.risk.entry_refusal(0 if decision.close else len(positions))
        if refusal is not None:
            return orders, refusal
        quote, equity = await self._quote_and_equity()
        plan = self.risk.entry(
            decision.open,
            quote,
            equity,
            strategy_sl=signal.sl,
            strategy_tp=signal.tp,
            atr=self._atr(cols) if self.risk.risk.uses_atr else None,
        )
        if plan.volume <= 0:
            return orders, "volume_below_minimum"
        action = "buy" if decision.open > 0 else "sell"
        cid = client_id(self.instance.id, bar_time, action)
        request = {
            "action": "DEAL",
            "symbol": self.instance.symbol,
            "type": action.upper(),
            "volume": plan.volume,
            "sl": plan.sl,
            "tp": plan.tp,
            "deviation": self._deviation,
            "magic": self.instance.magic,
            "comment": order_comment(bar_time, action),
        }
        orders.append(OrderRecord(cid, self.instance.id, bar_time, action, request))
        return orders, None

    def _close_order(self, bar_time: int, position: Position) -> OrderRecord:
        action = f"{CLOSE}-{position.ticket}"
        cid = client_id(self.instance.id, bar_time, action)
        request = {
            "ticket": position.ticket,
            "deviation": self._deviation,
            "magic": self.instance.magic,
            "comment": order_comment(bar_time, action),
        }
        return OrderRecord(cid, self.instance.id, bar_time, action, request)

    async def _execute_all(self, bar_time: int, decision: Decision, orders: list[OrderRecord]) -> None:
        close_failed = False
        for order in orders:
            closing = order.action.startswith(CLOSE)
            if closing:
                refused = await self.execute(order)
                close_failed = close_failed or refused is not None
                reason = decision.close.value if decision.close else CLOSE
                self._signal(bar_time, 0, order.action, reason, refused=refused)
                continue
            if close_failed:
                # An entry beside a position that failed to close would hold both sides at once.
                await self._finish(order, OrderStatus.REFUSED, {"code": "close_failed"})
                refused = "close_failed"
            else:
                refused = await self.execute(order)
            self._signal(bar_time, decision.open, order.action, "entry", refused=refused)

    async def execute(self, order: OrderRecord) -> str | None:
        """Send one stored order under its client id and record the outcome: None when accepted, else the
        code of the refusal (or of the failure to reach the mt5 service)."""
        try:
            return await self._send(order)
        finally:
            self._orders_done_at = time.monotonic()

    async def _send(self, order: OrderRecord) -> str | None:
        try:
            if order.action.startswith(CLOSE):
                extra = {k: v for k, v in order.request.items() if k != "ticket"}
                result = await self._broker.close(order.request["ticket"], order.client_id, **extra)
            else:
                result = await self._broker.send(order.request, order.client_id)
        except PlatformError as exc:
            gone = order.action.startswith(CLOSE) and exc.code == "position_not_found"
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
        day = day_start(self._timeframe.next_open(bar_time))
        closed = await self._broker.closed_profit(self.instance.magic, day)
        pnl = closed + sum(p.profit for p in positions)
        await self._store.worker.run(self._store.set_daily, self.instance.id, day, pnl)
        return pnl

    async def _trip_daily_loss(self, bar_time: int, pnl: float, positions: list[Position]) -> None:
        limit = self.risk.risk.daily_loss_limit
        reason = f"daily_loss_limit: today's P&L {pnl:.2f} reached the limit of -{limit:.2f}"
        closes = (
            [self._close_order(bar_time, p) for p in positions] if self.risk.risk.close_on_daily_loss else []
        )
        stored = await self._record(bar_time, {"bar_time": bar_time, "daily_loss": pnl}, closes)
        for order in stored:
            refused = await self.execute(order)
            self._signal(bar_time, 0, order.action, "daily_loss_limit", refused=refused)
        self.halted = True
        await self._on_stop(self.instance.id, reason)

    # ---- helpers --------------------------------------------------------------------------------------

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
            fetched = await self._bars.bars(
                self.instance.symbol, self.instance.timeframe, to_s=bar_time, count=self.window_size
            )
            window = np.concatenate([fetched[fetched["time"] < bar_time], bar])
        self._window = window[-self.window_size :]
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
        if not self.risk.prices_entries and self._facts is not None:
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

    def _atr(self, cols: dict[str, np.ndarray]) -> float:
        # Imported on first use: TA-Lib pulls in pandas, ~0.3 s of the service's start-up. The service's
        # warm-up (main.py) imports it in the background before a candle is likely to need it.
        import talib

        high, low, close = (np.ascontiguousarray(cols[n], dtype=np.float64) for n in ("high", "low", "close"))
        return float(talib.ATR(high, low, close, timeperiod=self.risk.risk.atr_period)[-1])

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

    def _signal(
        self, bar_time: int, direction: int, action: str, reason: str, *, refused: str | None = None
    ) -> None:
        self._publish(
            SIGNAL,
            Signal(
                instance=self.instance.id,
                symbol=self.instance.symbol,
                timeframe=self.instance.timeframe,
                bar_time=bar_time,
                direction={1: "long", -1: "short"}.get(direction, "flat"),
                action=action,
                reason=reason,
                refused=refused,
            ),
        )

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

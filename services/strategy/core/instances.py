"""Live strategy instances: create, configure, start, stop and resume after a restart (the lifecycle). One
StrategyRunner per running instance; closed candles from the data service are routed here. Matching the
terminal's positions and the unanswered orders to the instances is reconciliation.py's.

Lifecycle as data (TRANSITIONS); every transition is stored and published as `strategy.status` with
from/to and the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from services.strategy.core.coalesce import SingleFlight
from services.strategy.core.config import RiskConfig, live_sizing
from services.strategy.core.freshness import FreshnessRule, NewestMarketTime
from services.strategy.core.lockstep import Lockstep
from services.strategy.core.ports import BarSource, Broker, Position
from services.strategy.core.reconciliation import Reconciler
from services.strategy.core.risk import day_start
from services.strategy.core.runner import StrategyRunner
from services.strategy.core.store import InstanceRecord, InstanceState, InstanceStore
from services.strategy.settings import StrategySection
from shared.errors import ConflictError, InvalidInputError, PlatformError
from shared.event_catalog import STRATEGY_STATUS
from shared.event_payloads import Publish, StrategyStatus
from shared.market.candle_events import read_candle
from shared.market.names import canonical_timeframe
from shared.market.timeframes import get_timeframe
from shared.trading.registry import StrategyRegistry
from shared.trading.sizing import SizingConfig

log = logging.getLogger(__name__)

S = InstanceState
TRANSITIONS: dict[tuple[InstanceState, str], InstanceState] = {
    (S.STOPPED, "start"): S.RUNNING,
    (S.ERROR, "start"): S.RUNNING,
    (S.RUNNING, "stop"): S.STOPPED,
    (S.ERROR, "stop"): S.STOPPED,
    (S.RUNNING, "daily_loss"): S.STOPPED,
    (S.RUNNING, "fail"): S.ERROR,
}


class InstanceService:
    """Everything the HTTP layer does with instances, and the routing of candles to runners."""

    def __init__(
        self,
        store: InstanceStore,
        registry: StrategyRegistry,
        *,
        broker: Broker,
        bars: BarSource,
        publish: Publish,
        symbols: list[str],
        section: StrategySection,
        now_ms: Callable[[], int],
        lockstep: Lockstep | None = None,
    ) -> None:
        self._store = store
        self.registry = registry
        self._broker = broker
        self._bars = bars
        self._publish = publish
        self._symbols = [s.upper() for s in symbols]
        self._section = section
        self._now_ms = now_ms
        self.market_time = NewestMarketTime()
        self._freshness = FreshnessRule(section.candle_max_age_bars, section.candle_max_age_s)
        self._runners: dict[str, StrategyRunner] = {}
        self._lockstep = lockstep
        self._position_reads: SingleFlight[list[Position]] = SingleFlight()
        self._lock = asyncio.Lock()  # one lifecycle change at a time
        self.reconciler = Reconciler(
            store, broker=broker, publish=publish, section=section, now_ms=now_ms, freshness=self._freshness
        )

    # ---- configuration --------------------------------------------------------------------------------

    async def create(
        self,
        *,
        strategy: str,
        params: dict[str, Any],
        symbol: str,
        timeframe: str,
        sizing: SizingConfig,
        risk: RiskConfig,
    ) -> dict[str, Any]:
        """A new stopped instance, after checking the strategy, its parameters, symbol and timeframe."""
        self.registry.build(strategy, params)
        record = await self._store.worker.run(
            self._store.create,
            strategy=strategy,
            params=params,
            symbol=self._symbol(symbol),
            timeframe=canonical_timeframe(timeframe),
            sizing=_sizing(sizing),
            risk=risk,
        )
        return record.to_dict()

    async def update(
        self,
        instance_id: str,
        *,
        params: dict[str, Any] | None = None,
        sizing: SizingConfig | None = None,
        risk: RiskConfig | None = None,
    ) -> dict[str, Any]:
        """Change params, sizing or risk of a stopped instance (409 while running)."""
        async with self._lock:
            record = await self._get(instance_id)
            if record.state == S.RUNNING:
                raise _running(record, "edited")
            changes: dict[str, Any] = {}
            if params is not None:
                self.registry.build(record.strategy, params)
                changes["params"] = params
            if sizing is not None:
                changes["sizing"] = _sizing(sizing)
            if risk is not None:
                changes["risk"] = risk
            updated = await self._store.worker.run(self._store.update_config, instance_id, **changes)
        return updated.to_dict()

    async def delete(self, instance_id: str) -> None:
        """Delete a stopped instance (409 while running). Its positions, if any, become orphans."""
        async with self._lock:
            record = await self._get(instance_id)
            if record.state == S.RUNNING:
                raise _running(record, "deleted")
            await self._store.worker.run(self._store.delete, instance_id)

    # ---- reading --------------------------------------------------------------------------------------

    async def overview(self) -> dict[str, Any]:
        """Available strategies (with parameter schemas), the instances, and the last reconciliation."""
        records = await self._store.worker.run(self._store.instances)
        instances = [r.to_dict() for r in records]
        running = [(body, r) for body, r in zip(instances, records, strict=True) if r.state == S.RUNNING]
        days = await asyncio.gather(*(self._today(r) for _, r in running))
        for (body, _), day in zip(running, days, strict=True):
            if day is not None:
                body["daily"] = day
        return {
            "strategies": self.registry.describe(),
            "instances": instances,
            "reconciliation": self.reconciler.last_report,
        }

    async def detail(self, instance_id: str) -> dict[str, Any]:
        """State, open positions and their P&L, daily P&L, last signals and recent orders of one instance."""
        record = await self._get(instance_id)
        orders = await self._store.worker.run(
            self._store.orders, instance_id, limit=self._section.trades_listed
        )
        body = {**record.to_dict(), "orders": [o.to_dict() for o in orders]}
        try:
            positions = await self._positions_of(record)
        except PlatformError as exc:
            body.update(positions=None, open_pnl=None, positions_error=exc.code)
        else:
            body.update(positions=[p.to_dict() for p in positions], open_pnl=sum(p.profit for p in positions))
            day = await self._today(record, positions)
            if day is not None:
                body["daily"] = day
        return body

    async def signals(self, instance_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The instance's signal log, newest first: decisions (refused ones with why) and skipped candles."""
        await self._get(instance_id)  # 404 for an unknown instance, not an empty log
        return await self._store.worker.run(self._store.signals, instance_id, limit)

    async def _today(
        self, record: InstanceRecord, positions: list[Position] | None = None
    ) -> dict[str, Any] | None:
        """The day's P&L of an instance as of its last candle (its deals since that day's 00:00 UTC plus its
        open positions), read now: the trading path reads it only under a daily loss limit. None before the
        first candle or when the mt5 service cannot say."""
        if record.last_bar_time is None:
            return None
        day = day_start(get_timeframe(record.timeframe).next_open(record.last_bar_time))
        try:
            held = positions if positions is not None else await self._positions_of(record)
            closed = await self._broker.closed_profit(record.magic, day)
        except PlatformError:
            return None
        return {"day": day, "pnl": closed + sum(p.profit for p in held)}

    # ---- lifecycle ------------------------------------------------------------------------------------

    async def start(self, instance_id: str) -> dict[str, Any]:
        """Start a stopped instance: adopt its open positions, send what a crash left unsent, run."""
        async with self._lock:
            record = await self._get(instance_id)
            _check(record, "start")
            runner = self._runner(record)
            positions = await self._positions_of(record)  # the mt5 service down: 503, nothing changes
            adopted = [p.ticket for p in positions]
            record = await self._transition(record, "start", "started by request", adopted=adopted)
            await self._run(runner)
            await self._hold_streams()
        return record.to_dict()

    async def stop(self, instance_id: str, reason: str = "stopped by request") -> dict[str, Any]:
        """Stop a running (or failed) instance; its positions stay open."""
        async with self._lock:
            record = await self._get(instance_id)
            _check(record, "stop")
            runner = self._runners.pop(instance_id, None)
            if runner is not None:
                await runner.aclose()
            record = await self._transition(record, "stop", reason)
            await self._hold_streams()
        return record.to_dict()

    async def resume(self) -> dict[str, Any]:
        """On service start: reconcile with the terminal and restart the instances that were running."""
        report = await self.reconciler.reconcile()
        async with self._lock:
            for record in await self._store.worker.run(self._store.instances):
                if record.state != S.RUNNING:
                    continue
                try:
                    runner = self._runner(record)
                except PlatformError as exc:
                    await self._transition(record, "fail", f"cannot build the strategy: {exc.message}")
                    continue
                adopted = report["adopted"].get(record.id, [])
                self._status(record, record.state, record.state, "resumed after restart", adopted=adopted)
                await self._run(runner)
            await self._hold_streams()
        if self._lockstep is not None:
            self._lockstep.start()
        return report

    async def aclose(self) -> None:
        """Stop every runner (their instances stay `running`, so they resume at the next start)."""
        runners, self._runners = list(self._runners.values()), {}
        await asyncio.gather(*(r.aclose() for r in runners))
        if self._lockstep is not None:
            await self._lockstep.aclose()

    # ---- candles --------------------------------------------------------------------------------------

    async def on_event(self, event: dict[str, Any]) -> None:
        """Route a `candle.closed` event of the data service to the runners of its symbol and timeframe."""
        if event.get("type") != "candle.closed":
            return
        data = event.get("data") or {}
        candle = read_candle(data)
        if candle is None:
            log.warning("ignoring malformed candle.closed event: %s", data)
            return
        self.market_time.observe(candle.market_ms)
        handled = [
            runner.submit(candle)
            for runner in self._runners.values()
            if runner.instance.symbol == candle.symbol and runner.instance.timeframe == candle.timeframe
        ]
        if self._lockstep is not None:
            self._lockstep.after(candle, handled)

    async def on_connect(self) -> None:
        """The event stream (re)connected: candles may have been missed, so every window is fetched again."""
        for runner in self._runners.values():
            runner.reset_window()

    @property
    def running(self) -> dict[str, StrategyRunner]:
        return dict(self._runners)

    # ---- internals ------------------------------------------------------------------------------------

    def _runner(self, record: InstanceRecord) -> StrategyRunner:
        """A runner for `record` (raises the registry's error when the strategy cannot be built)."""
        section = self._section
        return StrategyRunner(
            record,
            self.registry.build(record.strategy, record.params),
            broker=self._broker,
            bars=self._bars,
            store=self._store,
            publish=self._publish,
            on_stop=self._stopped_by_runner,
            now_ms=self._now_ms,
            market_now_ms=self.market_time.now_ms,
            freshness=self._freshness,
            history_bars=section.history_bars,
            warmup_factor=section.warmup_factor,
            deviation_points=section.deviation_points,
            position_reads=self._position_reads,
            before_orders=self._lockstep.before_orders if self._lockstep is not None else None,
        )

    async def _run(self, runner: StrategyRunner) -> None:
        """Send the orders a crash left pending, then follow candles."""
        await self.reconciler.recover_orders(runner.instance.id, runner.instance.timeframe, runner.execute)
        self._runners[runner.instance.id] = runner
        runner.start()

    async def _stopped_by_runner(self, instance_id: str, reason: str) -> None:
        self._runners.pop(instance_id, None)
        record = await self._get(instance_id)
        await self._transition(record, "daily_loss", reason)
        await self._hold_streams()

    async def _hold_streams(self) -> None:
        """On a replay clock, the market waits at the new bars of the running instances' streams."""
        if self._lockstep is not None:
            await self._lockstep.set_streams(
                (r.instance.symbol, r.instance.timeframe) for r in self._runners.values()
            )

    async def _transition(
        self, record: InstanceRecord, trigger: str, reason: str, **extra: Any
    ) -> InstanceRecord:
        target = _check(record, trigger)
        updated = await self._store.worker.run(self._store.set_state, record.id, target, reason)
        self._status(updated, record.state, target, reason, **extra)
        return updated

    def _status(
        self, record: InstanceRecord, from_: InstanceState, to: InstanceState, reason: str, **extra: Any
    ) -> None:
        self._publish(
            STRATEGY_STATUS,
            StrategyStatus.model_validate(
                {
                    "instance": record.id,
                    "symbol": record.symbol,
                    "timeframe": record.timeframe,
                    "from": from_.value,
                    "to": to.value,
                    "reason": reason,
                    **extra,
                }
            ),
        )

    async def _get(self, instance_id: str) -> InstanceRecord:
        return await self._store.worker.run(self._store.get, instance_id)

    async def _positions_of(self, record: InstanceRecord) -> list[Position]:
        return [p for p in await self._broker.positions(record.symbol) if p.magic == record.magic]

    def _symbol(self, symbol: str) -> str:
        name = symbol.upper()
        if name not in self._symbols:
            raise InvalidInputError(
                f"unknown symbol {symbol!r}; the platform trades {', '.join(self._symbols)}",
                code="unknown_symbol",
                details={"field": "symbol", "symbol": symbol, "available": self._symbols},
            )
        return name


def _check(record: InstanceRecord, trigger: str) -> InstanceState:
    """The state `trigger` leads to from the record's state; 409 naming both when it is not allowed."""
    target = TRANSITIONS.get((record.state, trigger))
    if target is None:
        code = "already_running" if record.state == S.RUNNING and trigger == "start" else "invalid_state"
        raise ConflictError(
            f"instance {record.id} is {record.state.value}: cannot {trigger.replace('_', ' ')}",
            code=code,
            details={"instance": record.id, "state": record.state.value, "action": trigger},
        )
    return target


def _running(record: InstanceRecord, what: str) -> ConflictError:
    return ConflictError(
        f"instance {record.id} is running: stop it before it can be {what}",
        code="instance_running",
        details={"instance": record.id, "state": record.state.value},
    )


def _sizing(sizing: SizingConfig) -> SizingConfig:
    try:
        return live_sizing(sizing)
    except ValueError as exc:
        raise InvalidInputError(str(exc), code="invalid_sizing", details={"field": "sizing.mode"}) from None

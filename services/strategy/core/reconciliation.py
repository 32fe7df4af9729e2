"""Reconciliation with the terminal, on service start and when an instance starts following candles.

Positions are matched by magic number: each instance's are adopted; those in the platform's range that no
instance owns are orphans, reported as an `alert`. Orders whose outcome is unknown (written but unanswered
before a crash, or the mt5 service was unreachable) are sent again under their client id while young (the
mt5 service answers with the first result if it had them), else marked expired. Young twice: within
`resend_window_s` of wall time, and their candle still fresh by the market's clock (the candle rule of
`candle_max_age_bars`): on a replay at 1200x a minute of wall time is twenty hours of market.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from services.strategy.core.freshness import FreshnessRule
from services.strategy.core.ports import Broker
from services.strategy.core.store import InstanceStore, OrderRecord, OrderStatus
from services.strategy.settings import StrategySection
from shared.errors import PlatformError
from shared.event_catalog import ALERT
from shared.event_payloads import Alert, OrphanPositions, Publish
from shared.market.timeframes import get_timeframe

log = logging.getLogger(__name__)

Execute = Callable[[OrderRecord], Awaitable[object]]


class Reconciler:
    """Matches the terminal's positions and the store's unanswered orders to the instances."""

    def __init__(
        self,
        store: InstanceStore,
        *,
        broker: Broker,
        publish: Publish,
        section: StrategySection,
        now_ms: Callable[[], int],
        freshness: FreshnessRule,
    ) -> None:
        self._store = store
        self._broker = broker
        self._publish = publish
        self._section = section
        self._now_ms = now_ms
        self._freshness = freshness
        self.last_report: dict[str, Any] | None = None

    async def reconcile(self) -> dict[str, Any]:
        """Positions by magic number: each instance's are adopted; those in the platform's range that no
        instance owns are orphans, reported as an `alert`."""
        try:
            positions = await self._broker.positions()
        except PlatformError as exc:
            log.warning("cannot reconcile with the mt5 service: %s", exc.message)
            self._publish(ALERT, Alert(code="reconcile_failed", message=exc.message))
            return {"ok": False, "error": exc.code, "adopted": {}, "orphans": []}
        records = await self._store.worker.run(self._store.instances)
        by_magic = {r.magic: r.id for r in records}
        low, high = self._section.magic_base, self._section.magic_base + self._section.magic_range
        adopted: dict[str, list[int]] = {}
        orphans = []
        for p in positions:
            if p.magic in by_magic:
                adopted.setdefault(by_magic[p.magic], []).append(p.ticket)
            elif low <= p.magic < high:
                orphans.append(p.to_dict())
        if orphans:
            self._publish(
                ALERT,
                OrphanPositions(
                    code="orphan_positions",
                    message=f"{len(orphans)} position(s) carry a platform magic number no instance owns",
                    positions=orphans,
                ),
            )
        report = {"ok": True, "at_ms": self._now_ms(), "adopted": adopted, "orphans": orphans}
        self.last_report = report
        return report

    async def recover_orders(self, instance_id: str, timeframe: str, execute: Execute) -> None:
        """Send again, through `execute`, the instance's orders whose outcome is unknown and that are still
        young (by wall time and by the market's clock); mark the older ones expired."""
        unknown = (OrderStatus.PENDING, OrderStatus.FAILED)
        pending = await self._store.worker.run(self._store.orders, instance_id, statuses=unknown)
        if not pending:
            return
        now = self._now_ms()
        market_now = await self._broker.market_now_ms()
        for order in sorted(pending, key=lambda o: o.client_id):
            too_old = self._too_old(order, timeframe, now, market_now)
            if too_old is None:
                await execute(order)
                continue
            await self._store.worker.run(
                self._store.finish_order, order.client_id, OrderStatus.EXPIRED, too_old
            )

    def _too_old(
        self, order: OrderRecord, timeframe: str, now_ms: int, market_now_ms: int | None
    ) -> dict[str, Any] | None:
        """Why `order` must not be sent again (its expiry result), or None while it is young."""
        message = "left unsent by a restart, too old to send"
        if now_ms - order.created_ms > self._section.resend_window_s * 1000:
            return {"code": "expired", "message": message, "details": {"by": "wall"}}
        if market_now_ms is None:  # the mt5 service cannot say: the wall-time window alone decides
            return None
        tf = get_timeframe(timeframe)
        age, bound = (
            self._freshness.age_s(tf, order.bar_time, market_now_ms),
            self._freshness.bound_s(tf, order.bar_time),
        )
        if age <= bound:
            return None
        details = {"by": "market", "age_s": round(age, 3), "max_age_s": bound}
        return {"code": "expired", "message": f"{message} by the market's clock", "details": details}

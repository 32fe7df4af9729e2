"""Delivery off the hub's path: one bounded queue and one worker per channel, each try under a timeout,
retried with exponential backoff, and every outcome written to the delivery log and published.

A channel that hangs or fails delays only its own queue; when that queue is full, new messages for it are
logged as failed at once instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from services.backend_api.core.alerts.channels import Channel, ChannelError
from services.backend_api.core.alerts.message import AlertMessage
from services.backend_api.core.alerts.store import AlertStore, Delivery, DeliveryStatus
from services.backend_api.core.backoff import compute_backoff
from shared.event_catalog import ALERT_DELIVERY
from shared.event_payloads import AlertDelivery, Publish

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        channels: Mapping[str, Channel],
        store: AlertStore,
        *,
        publish: Publish,
        redact: Callable[[str], str],
        queue_size: int,
        attempts: int,
        backoff_initial_s: float,
        backoff_max_s: float,
        timeout_s: float,
        clock_ms: Callable[[], int],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._channels = dict(channels)
        self._store, self._publish, self._redact = store, publish, redact
        self._attempts, self._timeout_s = attempts, timeout_s
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._clock_ms, self._sleep = clock_ms, sleep
        self._queues: dict[str, asyncio.Queue[AlertMessage]] = {
            name: asyncio.Queue(queue_size) for name in self._channels
        }
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def configured(self) -> frozenset[str]:
        return frozenset(self._channels)

    def start(self) -> None:
        for name in self._channels:
            self._tasks.append(asyncio.create_task(self._work(name), name=f"alerts-{name}"))

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def submit(self, message: AlertMessage, channels: Iterable[str]) -> None:
        """Queue `message` for each channel; a channel that is not configured or is full is logged as failed."""
        for name in channels:
            queue = self._queues.get(name)
            if queue is None:
                await self._record(message, name, "failed", "channel not configured", 0)
                continue
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                await self._record(message, name, "failed", "queue full: the channel is behind", 0)

    async def _work(self, name: str) -> None:
        channel, queue = self._channels[name], self._queues[name]
        while True:
            message = await queue.get()
            try:
                await self._deliver(channel, message)
            except Exception:  # the log itself failed (disk full...): the worker must live on
                log.exception("alerts: recording a %s delivery failed", name)

    async def _deliver(self, channel: Channel, message: AlertMessage) -> None:
        reason = ""
        for attempt in range(1, self._attempts + 1):
            try:
                async with asyncio.timeout(self._timeout_s):
                    await channel.send(message)
            except ChannelError as exc:
                reason = str(exc)
            except TimeoutError:
                reason = f"no answer within {self._timeout_s:g} s"
            except Exception as exc:  # a channel bug must not kill its worker
                log.exception("alerts: %s channel failed unexpectedly", channel.name)
                reason = type(exc).__name__
            else:
                await self._record(message, channel.name, "sent", "", attempt)
                return
            if attempt < self._attempts:
                initial_s, max_s = self._backoff
                await self._sleep(compute_backoff(attempt, initial_s=initial_s, max_s=max_s))
        await self._record(message, channel.name, "failed", reason, self._attempts)

    async def _record(
        self, message: AlertMessage, channel: str, status: DeliveryStatus, reason: str, attempts: int
    ) -> Delivery:
        delivery = await self._store.worker.run(
            self._store.record,
            time_ms=self._clock_ms(),
            rule_id=message.rule_id,
            rule_name=message.rule_name,
            event_type=message.event_type,
            channel=channel,
            status=status,
            reason=self._redact(reason),
            attempts=attempts,
            title=message.title,
        )
        if status == "failed":
            log.warning("alerts: %s delivery of %r failed: %s", channel, message.title, delivery.reason)
        self._publish(ALERT_DELIVERY, AlertDelivery(**delivery.to_dict()))
        return delivery

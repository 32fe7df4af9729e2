"""The orders of every instance to the mt5 service in as few calls as possible, without waiting for any.

A request goes out at once when no batch is on its way; those asked for meanwhile leave together, in
one `POST /orders/batch`, as soon as it is back (group commit). One instance alone pays one round trip,
as before; ten instances acting on the same candle pay two or three instead of ten. The mt5 service runs
each request of a batch exactly as alone (live gate, risk guard, client order id), so batching changes
the transport only: each caller gets its own result or its own refusal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from shared.clients import upstream_error

PostBatch = Callable[[list[dict[str, Any]]], Awaitable[list[dict[str, Any]]]]
"""Sends the requests of one batch; returns one `{status, result | error}` per request, in order."""


class OrderBatcher:
    """Collects trade requests and sends them through `post`, one batch in flight at a time."""

    def __init__(self, post: PostBatch, *, service: str = "mt5", max_batch: int = 100) -> None:
        self._post = post
        self._service = service
        self._max_batch = max_batch
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def submit(self, request: dict[str, Any]) -> dict[str, Any]:
        """The result of `request` (a batch item: `kind` "order" or "close"), or its refusal raised."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_all(), name="mt5 order batches")
        return await future

    async def _send_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            try:
                outcomes = await self._post([request for request, _ in batch])
                if len(outcomes) != len(batch):
                    raise upstream_error(self._service, 502, {"code": "bad_batch", "message": "answers lost"})
            except asyncio.CancelledError:  # shutting down: nobody is left to answer
                for _, future in [*batch, *self._waiting]:
                    future.cancel()
                self._waiting = []
                raise
            except Exception as exc:  # the call failed as a whole: every request of it shares the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # its caller gave up waiting
                    continue
                if outcome.get("status") == 200:
                    future.set_result(outcome["result"])
                else:
                    future.set_exception(
                        upstream_error(
                            self._service, int(outcome.get("status", 502)), outcome.get("error") or {}
                        )
                    )

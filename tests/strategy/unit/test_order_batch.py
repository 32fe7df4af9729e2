"""OrderBatcher: requests leave at once when nothing is in flight, and together while something is."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.strategy.core.order_batch import OrderBatcher
from shared.errors import PlatformError, ServiceUnavailableError


class Mt5Stand:
    """Answers batches like the mt5 service: volume 0 is refused; each call waits for `release`."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.release = asyncio.Event()
        self.fail_next = False

    async def post(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.batches.append(requests)
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ServiceUnavailableError("mt5 is not reachable", code="mt5_unavailable")
        return [self._answer(r) for r in requests]

    @staticmethod
    def _answer(request: dict[str, Any]) -> dict[str, Any]:
        if request["volume"] == 0:
            error = {"code": "invalid_volume", "message": "volume 0", "details": {"field": "volume"}}
            return {"status": 422, "error": error}
        if request["volume"] < 0:
            return {"status": 503, "error": {"code": "terminal_error", "message": "gone", "details": {}}}
        return {"status": 200, "result": {"order": request["id"], "volume": request["volume"]}}


def order(n: int, volume: float = 0.1) -> dict[str, Any]:
    return {"kind": "order", "id": n, "volume": volume}


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_requests_asked_for_while_a_batch_is_out_leave_together_in_the_next() -> None:
    async def scenario() -> None:
        mt5 = Mt5Stand()
        batcher = OrderBatcher(mt5.post)
        first = asyncio.create_task(batcher.submit(order(1)))
        await settle()
        assert mt5.batches == [[order(1)]]  # alone, at once: nobody waits for company
        later = [asyncio.create_task(batcher.submit(order(n))) for n in (2, 3, 4)]
        await settle()
        assert len(mt5.batches) == 1  # the first is still out
        mt5.release.set()
        assert (await first)["order"] == 1
        assert [(await t)["order"] for t in later] == [2, 3, 4]
        assert mt5.batches == [[order(1)], [order(2), order(3), order(4)]]

    asyncio.run(scenario())


def test_each_request_gets_its_own_refusal_and_the_others_their_results() -> None:
    async def scenario() -> None:
        mt5 = Mt5Stand()
        mt5.release.set()
        batcher = OrderBatcher(mt5.post)
        outcomes = await asyncio.gather(
            batcher.submit(order(1)),
            batcher.submit(order(2, volume=0)),
            batcher.submit(order(3, volume=-1)),
            batcher.submit(order(4)),
            return_exceptions=True,
        )
        assert len(mt5.batches) == 1
        ok1, refused, failed, ok4 = outcomes
        assert ok1["order"] == 1 and ok4["order"] == 4
        assert isinstance(refused, PlatformError)
        assert (refused.status_code, refused.code, refused.details["field"]) == (
            422,
            "invalid_volume",
            "volume",
        )
        assert isinstance(failed, ServiceUnavailableError) and failed.code == "mt5_error"

    asyncio.run(scenario())


def test_a_failed_call_fails_its_requests_only_and_the_next_batch_still_goes() -> None:
    async def scenario() -> None:
        mt5 = Mt5Stand()
        mt5.fail_next = True
        batcher = OrderBatcher(mt5.post)
        lost = [asyncio.create_task(batcher.submit(order(n))) for n in (1, 2)]
        await settle()
        behind = asyncio.create_task(batcher.submit(order(3)))
        await settle()
        mt5.release.set()
        for task in lost:
            with pytest.raises(ServiceUnavailableError):
                await task
        assert (await behind)["order"] == 3
        assert mt5.batches == [[order(1), order(2)], [order(3)]]

    asyncio.run(scenario())


def test_batches_are_cut_at_the_maximum_size() -> None:
    async def scenario() -> None:
        mt5 = Mt5Stand()
        mt5.release.set()
        batcher = OrderBatcher(mt5.post, max_batch=2)
        results = await asyncio.gather(*(batcher.submit(order(n)) for n in range(5)))
        assert [r["order"] for r in results] == [0, 1, 2, 3, 4]
        assert [len(b) for b in mt5.batches] == [2, 2, 1]

    asyncio.run(scenario())

"""SingleFlight: concurrent callers share a fresh in-flight read; a stale one is never shared."""

from __future__ import annotations

import asyncio

import pytest

from services.strategy.core.coalesce import SingleFlight


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def test_single_flight_concurrent_callers_share_one_read() -> None:
    async def scenario() -> None:
        reads = 0
        gate = asyncio.Event()

        async def read() -> int:
            nonlocal reads
            reads += 1
            mine = reads
            await gate.wait()
            return mine

        flights: SingleFlight[int] = SingleFlight(Clock())
        waiting = [asyncio.create_task(flights.get("EURUSD", 0.0, read)) for _ in range(10)]
        await asyncio.sleep(0)
        gate.set()
        assert await asyncio.gather(*waiting) == [1] * 10
        assert reads == 1

    asyncio.run(scenario())


def test_single_flight_read_older_than_caller_is_not_shared() -> None:
    async def scenario() -> None:
        clock = Clock()
        reads = 0
        gate = asyncio.Event()

        async def read() -> int:
            nonlocal reads
            reads += 1
            mine = reads
            await gate.wait()
            return mine

        flights: SingleFlight[int] = SingleFlight(clock)
        first = asyncio.create_task(flights.get("EURUSD", 0.0, read))
        await asyncio.sleep(0)
        clock.now = 11.0
        second = asyncio.create_task(flights.get("EURUSD", 10.5, read))  # its last order ended at 10.5
        await asyncio.sleep(0)
        gate.set()
        assert (await first, await second) == (1, 2)

    asyncio.run(scenario())


def test_single_flight_failed_read_is_forgotten() -> None:
    async def scenario() -> None:
        calls = 0

        async def read() -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("down")
            return calls

        flights: SingleFlight[int] = SingleFlight(Clock())
        with pytest.raises(ConnectionError):
            await flights.get("k", 0.0, read)
        assert await flights.get("k", 0.0, read) == 2

    asyncio.run(scenario())

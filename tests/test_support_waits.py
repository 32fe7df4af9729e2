"""The tests' async wait: polls with a deadline inside a running loop, returns the value, fails naming what."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.waits import wait_until_async


def test_wait_until_async_returns_the_first_truthy_value_while_the_loop_runs() -> None:
    async def scenario() -> list[int]:
        seen: list[int] = []

        async def produce() -> None:
            for i in range(3):
                await asyncio.sleep(0)
                seen.append(i)

        task = asyncio.create_task(produce())
        got: list[int] = await wait_until_async(lambda: seen if len(seen) == 3 else None, 5, "three values")
        await task
        return got

    assert asyncio.run(scenario()) == [0, 1, 2]


def test_wait_until_async_times_out_naming_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0.05s: the impossible; last: 0"):
        asyncio.run(wait_until_async(lambda: 0, 0.05, "the impossible", interval=0.01))

"""Deterministic tick streams for the data service's tests."""

from __future__ import annotations

import numpy as np

from shared.market.records import TICKS_DTYPE

POINT = 0.00001
MONDAY_2024_01_01_MS = 1_704_067_200_000


def make_ticks(
    n: int, start_ms: int = MONDAY_2024_01_01_MS, seed: int = 7, max_step_ms: int = 400
) -> np.ndarray:
    """`n` time-sorted ticks from `start_ms`; steps of 0 ms put several ticks in one millisecond."""
    rng = np.random.default_rng(seed)
    ticks = np.zeros(n, dtype=TICKS_DTYPE)
    steps = rng.integers(0, max_step_ms + 1, n)
    steps[0] = 0
    ticks["time_msc"] = start_ms + np.cumsum(steps)
    ticks["time"] = ticks["time_msc"] // 1000
    ticks["bid"] = np.round(1.1 + np.cumsum(rng.integers(-3, 4, n)) * POINT, 5)
    ticks["ask"] = np.round(ticks["bid"] + rng.integers(5, 20, n) * POINT, 5)
    ticks["flags"] = 6
    return ticks

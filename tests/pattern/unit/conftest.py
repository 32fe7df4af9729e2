"""Fixtures of the pattern core tests: the two catalogs and seeded random bars."""

from __future__ import annotations

import numpy as np
import pytest

from services.pattern.core.catalog import Catalog


@pytest.fixture(scope="session")
def indicators() -> Catalog:
    return Catalog.indicators()


@pytest.fixture(scope="session")
def candlesticks() -> Catalog:
    return Catalog.candlesticks()


def make_bars(n: int, seed: int) -> dict[str, np.ndarray]:
    """A random walk of OHLCV bars, one minute apart, with a sprinkle of dojis."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.r_[close[0], close[:-1]] + rng.normal(0, 0.3, n)
    doji = rng.random(n) < 0.05
    close[doji] = open_[doji]
    high = np.maximum(open_, close) + np.abs(rng.normal(0, 0.6, n))
    low = np.minimum(open_, close) - np.abs(rng.normal(0, 0.6, n))
    volume = rng.integers(1, 500, n).astype(np.float64)
    time = 1_700_000_000 + 60 * np.arange(n, dtype=np.int64)
    return {"time": time, "open": open_, "high": high, "low": low, "close": close, "volume": volume}


@pytest.fixture(scope="session")
def random_bars() -> dict[str, np.ndarray]:
    return make_bars(3000, seed=7)

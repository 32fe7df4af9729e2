"""Fixtures of the pattern HTTP tests: the app on a temp config, and a stand-in data service on its port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.pattern.main import create_app
from services.pattern.settings import PatternSettings
from shared.config import load_config, resolve_internal_token
from tests.pattern.unit.conftest import make_bars
from tests.support.bars import rates
from tests.support.data_standin import DataStandIn
from tests.support.platform import write_config

T0 = 1_699_999_980  # a minute boundary
LIVE = {"enabled": True, "symbols": ["GBPUSD"], "timeframes": ["M1"]}


def pattern_settings(directory: Path, live: dict[str, Any]) -> PatternSettings:
    path = write_config(
        directory,
        overrides={"pattern": {"live": live}, "monitoring": {"heartbeat_interval_s": 0.2}},
    )
    return load_config(path, model=PatternSettings)


def minute_rates(ohlc: np.ndarray) -> np.ndarray:
    """M1 RATES_DTYPE bars from T0 for an (n, 4) array of open, high, low, close."""
    n = len(ohlc)
    columns = dict(zip(("open", "high", "low", "close"), ohlc.T, strict=True))
    return rates({"time": T0 + 60 * np.arange(n), **columns, "tick_volume": 10 + np.arange(n) % 7})


def random_rates(n: int, seed: int) -> np.ndarray:
    bars = make_bars(n, seed)
    return minute_rates(np.column_stack([bars[k] for k in ("open", "high", "low", "close")]))


def engulfing_rates() -> np.ndarray:
    """A 20-bar downtrend, then a bearish candle and a bullish engulfing one (the last two bars)."""
    rows, price = [], 30.0
    for _ in range(20):
        rows.append((price, price + 0.3, price - 1.3, price - 1.0))
        price -= 1.0
    rows += [(10.0, 10.2, 8.8, 9.0), (8.8, 10.5, 8.6, 10.3)]
    return minute_rates(np.array(rows))


@pytest.fixture(scope="session")
def store() -> dict[tuple[str, str], np.ndarray]:
    return {("EURUSD", "M1"): random_rates(400, seed=3), ("GBPUSD", "M1"): engulfing_rates()}


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> PatternSettings:
    return pattern_settings(tmp_path_factory.mktemp("pattern"), LIVE)


@pytest.fixture(scope="session")
def token(settings: PatternSettings) -> dict[str, str]:
    return {"X-Internal-Token": resolve_internal_token(settings)}


@pytest.fixture(scope="session")
def data(settings: PatternSettings, store: dict[tuple[str, str], np.ndarray]) -> Iterator[DataStandIn]:
    standin = DataStandIn(settings, store).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def client(settings: PatternSettings, token: dict[str, str], data: DataStandIn) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=token) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def down_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service configured with a data service that is not running."""
    settings = pattern_settings(tmp_path_factory.mktemp("pattern-down"), LIVE)
    headers = {"X-Internal-Token": resolve_internal_token(settings)}
    with TestClient(create_app(settings), headers=headers) as test_client:
        yield test_client


def column(values: list[float | None]) -> np.ndarray:
    """A JSON column back as floats, null as NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

"""The real platform on a replay clock for the strategy service: mt5 (simulated terminal, paper account),
data (collecting one symbol), strategy; the other services are not started.

The test symbol is EURUSD with two changes. Its volatility is divided by sqrt(replay speed): at speed s the
platform's reaction time (candle close -> order filled) lasts s times longer in market time, and a random
walk moves sqrt(s) times further in it; scaling the volatility back gives the price the same move during
the reaction that it has in real time. And it is quoted to 7 digits (the spread kept at 1.2 pips): with
so little movement, 5-digit closes repeat for many bars, moving averages tie exactly, and whether a tie
reads as a cross then depends on TA-Lib's rolling-sum rounding, i.e. on where the series starts (the
live window and the backtest start at different bars).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from shared.columnar import decode_arrow
from shared.market.symbols import DEFAULT_SYMBOLS, SymbolSpec
from tests.support.platform import Platform, write_config

T = TypeVar("T")
MONDAY_JAN_8 = 1_704_672_000  # 2024-01-08 00:00 UTC
SYMBOL = "EURUSD"
TEST_DIGITS = 7
NOT_NEEDED = ("pattern", "ai", "backtesting")


def replay_symbol(speed: float) -> SymbolSpec:
    """EURUSD with its volatility scaled to the replay speed, on a 7-digit price grid (see above)."""
    eurusd = DEFAULT_SYMBOLS[0]
    return eurusd.model_copy(
        update={
            "volatility_annual": eurusd.volatility_annual / math.sqrt(speed),
            "digits": TEST_DIGITS,
            "spread_points": eurusd.spread_points * 10 ** (TEST_DIGITS - eurusd.digits),
        }
    )


def start_platform(
    directory: Path,
    *,
    speed: float,
    start_s: int = MONDAY_JAN_8 + 3600,
    backfill_max_s: int = 0,
    other_symbols: tuple[str, ...] = (),
) -> Platform:
    """Write the config and start the platform; returns once mt5, data and strategy are ONLINE.
    `other_symbols` (default specs) are traded and collected beside the test symbol, as in production,
    where another symbol's tick can close the test symbol's candle.

    Candles may be two bars old when acted on: at speed s a reaction time is s times longer in market time
    (100 ms of a loaded machine are two minutes at 1200x), and these tests are about what is traded, not
    about how late. Backfilled candles are never traded, whatever the bound."""
    symbol = replay_symbol(speed)
    others = [s for s in DEFAULT_SYMBOLS if s.name in other_symbols]
    symbols = [SYMBOL, *(s.name for s in others)]
    path = write_config(
        directory,
        overrides={
            "trading": {"symbols": symbols, "timeframes": ["M1", "M5"]},
            "mt5": {
                "simulated": {
                    "clock": "replay",
                    "replay_start": start_s,
                    "replay_speed": speed,
                    "symbols": [s.model_dump(mode="json") for s in (symbol, *others)],
                },
                "sync_interval_ms": 20,
                "tick_event_interval_ms": 0,
            },
            "data": {
                "collection": {
                    "backfill_max_s": backfill_max_s,
                    "symbols": symbols,
                    "poll_interval_ms": 20,
                    "batch_max_s": 0.05,
                    "tick_event_interval_ms": 0,
                }
            },
            "strategy": {"history_bars": 60, "candle_max_age_bars": 2},
        },
    )
    config = json.loads(path.read_text())
    for name in NOT_NEEDED:
        config["services"][name]["auto_start"] = False
    path.write_text(json.dumps(config))
    platform = Platform(path).start()
    for name in ("mt5", "data", "strategy"):
        platform.wait_state(name, "ONLINE", 60)
    return platform


@pytest.fixture
def platform_factory(tmp_path: Path) -> Iterator[Callable[..., Platform]]:
    started: list[Platform] = []

    def factory(**kwargs: Any) -> Platform:
        started.append(start_platform(tmp_path, **kwargs))
        return started[-1]

    yield factory
    for platform in started:
        platform.stop()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def arrow(platform: Platform, path: str, dtype: np.dtype, **params: object) -> np.ndarray:
    response = platform.http.get(path, params={**params, "format": "arrow"})
    assert response.status_code == 200, response.text
    return decode_arrow(response.content, dtype)


def deals_of(platform: Platform, magic: int) -> list[dict[str, Any]]:
    """The instance's deals in the terminal's history, oldest first."""
    deals = ok(platform.http.get("/api/mt5/history/deals"))
    return sorted((d for d in deals if d["magic"] == magic), key=lambda d: (d["time_msc"], d["ticket"]))

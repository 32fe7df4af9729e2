"""The whole platform (supervisor, gateway, real mt5 service on a fast replay clock): `kill -9` of the
data service during collection; the supervisor restarts it, it resumes collecting by itself, and the
ticks it stored for the whole period equal the terminal's range tick for tick (bars likewise)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from shared.columnar import decode_arrow
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.market.timeframes import get_timeframe
from tests.data.integration.conftest import MONDAY_JAN_8
from tests.support.platform import Platform, write_config
from tests.support.waits import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SYMBOLS = ["EURUSD", "USDJPY"]
NOT_NEEDED = ("pattern", "strategy", "ai", "backtesting")


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    path = write_config(
        tmp_path,
        overrides={
            "mt5": {"simulated": {"clock": "replay", "replay_start": MONDAY_JAN_8 + 60, "replay_speed": 120}},
            "data": {"collection": {"backfill_max_s": 0, "symbols": SYMBOLS}},
        },
    )
    config = json.loads(path.read_text())
    for name in NOT_NEEDED:
        config["services"][name]["auto_start"] = False
    path.write_text(json.dumps(config))
    running = Platform(path).start()
    try:
        running.wait_state("mt5", "ONLINE", 60)
        running.wait_state("data", "ONLINE", 60)
        yield running
    finally:
        running.stop()


def last_ticks(platform: Platform) -> dict[str, int]:
    response = platform.http.get("/api/data/collection/status")
    if response.status_code != 200:
        return {}
    return {s["symbol"]: s["last_tick_msc"] or 0 for s in response.json()["symbols"]}


def collected_past(platform: Platform, t_ms: int) -> bool:
    last = last_ticks(platform)
    return all(last.get(s, 0) > t_ms for s in SYMBOLS)


def arrow(platform: Platform, path: str, dtype: np.dtype, **params: object) -> np.ndarray:
    response = platform.http.get(path, params={**params, "format": "arrow"})
    assert response.status_code == 200, response.text
    return decode_arrow(response.content, dtype)


def test_platform_kill_9_of_data_loses_no_tick(platform: Platform) -> None:
    assert platform.http.post("/api/data/collection/start", json={"symbols": SYMBOLS}).status_code == 200
    wait_until(lambda: collected_past(platform, (MONDAY_JAN_8 + 600) * 1000), 60, "ticks before the kill")
    before = platform.statuses()["data"]

    os.kill(before["pid"], signal.SIGKILL)
    killed_at = max(last_ticks(platform).values(), default=(MONDAY_JAN_8 + 600) * 1000)
    wait_until(
        lambda: (
            (s := platform.statuses().get("data")) and s["state"] == "ONLINE" and s["pid"] != before["pid"]
        ),
        60,
        "the supervisor to restart data",
    )
    wait_until(lambda: collected_past(platform, killed_at + 120_000), 60, "collection to resume by itself")
    assert platform.http.post("/api/data/collection/stop").status_code == 200

    for symbol in SYMBOLS:
        stored = arrow(platform, f"/api/data/ticks/{symbol}", TICKS_DTYPE, **{"from": MONDAY_JAN_8 * 1000})
        last_ms = int(stored["time_msc"][-1])
        terminal = arrow(
            platform, f"/api/mt5/ticks/{symbol}", TICKS_DTYPE, **{"from": MONDAY_JAN_8 * 1000, "to": last_ms}
        )
        np.testing.assert_array_equal(stored, terminal)
        for name in ("M1", "M5"):
            closed_before = get_timeframe(name).floor(last_ms // 1000) - 1
            params = {"from": MONDAY_JAN_8, "to": closed_before}
            bars = arrow(platform, f"/api/data/ohlc/{symbol}/{name}", RATES_DTYPE, **params)
            rates = arrow(platform, f"/api/mt5/rates/{symbol}/{name}", RATES_DTYPE, **params)
            np.testing.assert_array_equal(bars, rates, err_msg=f"{symbol} {name}")

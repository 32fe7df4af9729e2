"""A replay market is a world of its own (DESIGN §11), with real processes: the platform collects in real
time, restarts on a replay clock and collects there (stored apart, the real-time ticks untouched), then
restarts in real time and finds its own history as it left it, with no replayed tick in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.data.integration.conftest import MONDAY_JAN_8
from tests.support.platform import Platform, write_config
from tests.support.waits import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
NOT_NEEDED = ("pattern", "strategy", "ai", "backtesting")
REAL = {"simulated": {"clock": "real"}}
REPLAY = {"simulated": {"clock": "replay", "replay_start": MONDAY_JAN_8 + 60, "replay_speed": 120}}
REPLAY_WORLD = "replay-20240108T000100Z-seed0"
# Real time may be a weekend: reach back over it so there are ticks to collect.
COLLECTION = {"collection": {"backfill_max_s": 3 * 86_400, "symbols": ["EURUSD"]}}


def run_platform(directory: Path, mt5: dict[str, Any]) -> Platform:
    path = write_config(directory, overrides={"mt5": mt5, "data": COLLECTION})
    config = json.loads(path.read_text())
    for name in NOT_NEEDED:
        config["services"][name]["auto_start"] = False
    path.write_text(json.dumps(config))
    platform = Platform(path).start()
    platform.wait_state("mt5", "ONLINE", 60)
    platform.wait_state("data", "ONLINE", 60)
    return platform


def eurusd_ticks(platform: Platform) -> dict[str, Any] | None:
    body = platform.http.get("/api/data/statistics").json()
    return next((t for t in body["ticks"] if t["symbol"] == "EURUSD" and t["rows"]), None)


def world_of(platform: Platform) -> str:
    return str(platform.http.get("/api/data/health").json()["checks"]["collection"]["world"])


def stored(platform: Platform) -> int:
    status = platform.http.get("/api/data/collection/status").json()
    return sum(s["stored_ticks"] for s in status["symbols"])


def test_platform_replay_world_is_stored_apart_and_real_time_untouched(tmp_path: Path) -> None:
    platform = run_platform(tmp_path, REAL)
    try:
        assert (
            platform.http.post("/api/data/collection/start", json={"symbols": ["EURUSD"]}).status_code == 200
        )
        wait_until(lambda: stored(platform) > 0, 90, "real-time ticks stored")
    finally:
        platform.stop()
    platform = run_platform(tmp_path, REAL)  # read what real time holds, collection stopped first
    try:
        platform.http.post("/api/data/collection/stop")
        real_before = eurusd_ticks(platform)
        assert real_before is not None and real_before["first_msc"] > (MONDAY_JAN_8 + 365 * 86_400) * 1000
    finally:
        platform.stop()

    platform = run_platform(tmp_path, REPLAY)
    try:
        wait_until(lambda: world_of(platform) == REPLAY_WORLD, 30, "the data service in the replay world")
        platform.http.post("/api/data/collection/start", json={"symbols": ["EURUSD"]})
        wait_until(lambda: stored(platform) > 0, 90, "replayed ticks stored")
        platform.http.post("/api/data/collection/stop")
        replayed = eurusd_ticks(platform)
        assert replayed is not None
        assert replayed["last_msc"] < (MONDAY_JAN_8 + 86_400) * 1000  # only 2024's ticks in this world
        lag = platform.http.get("/api/data/collection/status").json()["symbols"][0]["lag_ms"]
        # Measured on the replay's clock (at most the backfill behind), not against 2026's wall clock.
        assert lag is not None and lag < 4 * 86_400_000
    finally:
        platform.stop()
    assert (tmp_path / "database" / "data" / "worlds" / REPLAY_WORLD / "ticks").is_dir()

    platform = run_platform(tmp_path, REAL)
    try:
        # The data service may start before the mt5 service answers: it then waits for the world to be
        # confirmed before collecting anything, and follows it within moments.
        wait_until(lambda: world_of(platform) == "real", 30, "the data service back in real time")
        assert eurusd_ticks(platform) == real_before
    finally:
        platform.stop()

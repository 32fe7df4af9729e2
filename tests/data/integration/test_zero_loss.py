"""Zero loss across `kill -9`: the data service runs as a real process collecting from the stand-in mt5
server on a fast replay clock, is killed mid-collection, restarts, resumes by itself, and in the end the
stored ticks (and bars) equal the terminal's for the whole period, tick for tick."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.data.core.stores import open_stores
from services.data.settings import DataSettings
from shared.config import PROJECT_ROOT, resolve_internal_token
from tests.data.api.conftest import make_settings
from tests.data.integration.conftest import MONDAY_JAN_8, assert_matches_market
from tests.data.mt5_standin import StandinMarket, StandinServer
from tests.support.waits import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SYMBOLS = ["EURUSD", "GBPUSD"]


class DataProcess:
    """`python -m services.data` on a temp config."""

    def __init__(self, settings: DataSettings) -> None:
        self.settings = settings
        token = resolve_internal_token(settings)
        self.env = {**os.environ, "MT5P_CONFIG": str(settings.config_file), "MT5P_INTERNAL_TOKEN": token}
        self.http = httpx.Client(
            base_url=settings.service("data").base_url, headers={"X-Internal-Token": token}, timeout=10
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.settings.config_file.parent / "data.console.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.data"], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=log
        )
        wait_until(self._healthy, 30, "the data service to answer /health")

    def _healthy(self) -> bool:
        try:
            return self.http.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def status(self) -> dict[str, dict[str, object]]:
        return {s["symbol"]: s for s in self.http.get("/collection/status").json()["symbols"]}

    def collected_past(self, t_ms: int) -> bool:
        status = self.status()
        return all(int(status.get(s, {}).get("last_tick_msc") or 0) > t_ms for s in SYMBOLS)

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(30)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.http.close()


def test_kill_9_during_collection_loses_no_tick(tmp_path: Path) -> None:
    market = StandinMarket(start_ms=(MONDAY_JAN_8 + 60) * 1000, speed=120)
    with StandinServer(market) as server:
        settings = make_settings(
            tmp_path,
            {"collection": {"backfill_max_s": 0, "batch_max_ticks": 200}},
            mt5_port=server.port,
        )
        service = DataProcess(settings)
        try:
            service.start()
            assert service.http.post("/collection/start", json={"symbols": SYMBOLS}).status_code == 200
            wait_until(
                lambda: service.collected_past((MONDAY_JAN_8 + 600) * 1000), 30, "ticks before the kill"
            )

            service.signal(signal.SIGKILL)
            killed_at_ms = market.now_ms()
            service.start()  # no start request: the saved intent resumes collection

            wait_until(lambda: service.collected_past(killed_at_ms + 120_000), 30, "ticks after the restart")
            service.signal(signal.SIGTERM)
        finally:
            service.close()

    stores = open_stores(settings.storage_root, timeframes=settings.trading.timeframes)
    try:
        for symbol in SYMBOLS:
            assert_matches_market(stores, market, symbol, MONDAY_JAN_8)
    finally:
        stores.close()

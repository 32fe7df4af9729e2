"""The HTTP end-to-end figure of bench/backtest.py: a 1,000,000-bar backtest through the backtesting
service's API, with bars from a stand-in data service (Arrow) and posted inline (JSON).

Both servers are real uvicorn servers on loopback; the backtest runs in the service's job process pool.
Timed: POST /backtest/start -> polling /status until completed -> GET /result (1,000 equity points); and
POST /optimize (100-combination grid) -> polling until completed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

from services.backtesting.main import create_app
from services.backtesting.settings import BacktestingSettings
from shared.config import load_config, resolve_internal_token
from shared.market.records import RATES_DTYPE
from tests.support.data_standin import DataStandIn
from tests.support.platform import write_config
from tests.support.served_app import ServedApp


def _rates(bars: dict[str, np.ndarray]) -> np.ndarray:
    out = np.zeros(len(bars["time"]), dtype=RATES_DTYPE)
    for name in ("time", "open", "high", "low", "close"):
        out[name] = bars[name]
    return out


def _run(client: httpx.Client, body: bytes) -> tuple[float, dict[str, Any]]:
    """Seconds from POST to the fetched result, and the result."""
    t0 = time.perf_counter()
    response = client.post("/backtest/start", content=body, headers={"content-type": "application/json"})
    response.raise_for_status()
    job_id = response.json()["id"]
    while (state := client.get(f"/backtest/{job_id}/status").json()["state"]) in ("queued", "running"):
        time.sleep(0.005)
    if state != "completed":
        raise RuntimeError(client.get(f"/backtest/{job_id}/status").json())
    result = client.get(f"/backtest/{job_id}/result", params={"max_points": 1000}).json()
    return time.perf_counter() - t0, result


def _optimize(client: httpx.Client, body: bytes) -> tuple[float, dict[str, Any]]:
    """Seconds from POST /optimize to the completed result, and the result."""
    t0 = time.perf_counter()
    response = client.post("/optimize", content=body, headers={"content-type": "application/json"})
    response.raise_for_status()
    job_id = response.json()["id"]
    while (job := client.get(f"/optimize/{job_id}").json())["state"] in ("queued", "running"):
        time.sleep(0.05)
    if job["state"] != "completed":
        raise RuntimeError(job)
    return time.perf_counter() - t0, job["result"]


def bench_http(bars: dict[str, np.ndarray], params: dict[str, Any], balance: float) -> dict[str, Any]:
    """Print the HTTP figures; returns the data-service run's result (for the identical-trades check)."""
    n = len(bars["time"])
    common = {
        "strategy": "sma_crossover",
        "params": params,
        "initial_balance": balance,
        "symbol_facts": {},  # "units", as the in-process run (and backtesting.py) count
    }
    window = {
        "symbol": "EURUSD",
        "timeframe": "M1",
        "from": int(bars["time"][0]),
        "to": int(bars["time"][-1]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), overrides={"backtesting": {"workers": 2, "optimize_workers": 2}})
        settings = load_config(config, model=BacktestingSettings)
        headers = {"X-Internal-Token": resolve_internal_token(settings)}
        with (
            DataStandIn(settings, {("EURUSD", "M1"): _rates(bars)}),
            ServedApp("backtesting", create_app(settings), settings.service("backtesting").port),
            httpx.Client(
                base_url=settings.service("backtesting").base_url, headers=headers, timeout=120
            ) as client,
        ):
            small = {name: values[:5000] for name, values in bars.items()}
            cold_s, _ = _run(
                client, orjson.dumps({**common, "bars": small}, option=orjson.OPT_SERIALIZE_NUMPY)
            )
            print(
                f"HTTP, first request of a fresh service (5,000 inline bars; spawns the job worker): {cold_s:.2f} s"
            )
            data_body = orjson.dumps({**common, **window})
            _run(client, data_body)  # both pool workers warm
            data_s, result = min((_run(client, data_body) for _ in range(3)), key=lambda r: r[0])
            print(f"HTTP end to end, {n:,} bars from the (stand-in) data service as Arrow: {data_s:.2f} s")
            inline_body = orjson.dumps({**common, "bars": bars}, option=orjson.OPT_SERIALIZE_NUMPY)
            inline_s, _ = _run(client, inline_body)
            print(
                f"HTTP end to end, {n:,} bars posted inline as JSON ({len(inline_body) / 2**20:.0f} MiB): "
                f"{inline_s:.2f} s"
            )
            space = {"fast": {"min": 5, "max": 50, "step": 5}, "slow": {"min": 60, "max": 150, "step": 10}}
            search = {**common, **window, "params": {"allow_short": False}, "space": space}
            grid_s, grid = _optimize(client, orjson.dumps(search))
            print(
                f"HTTP POST /optimize, grid of {grid['evaluated']} combinations on {n:,} bars "
                f"(job with its own 2-process pool, spawn included): {grid_s:.2f} s"
            )
    return result

"""Strategy service benchmark: from `candle.closed` published by the data service to the order accepted by
the mt5 service, with 10 instances acting on every candle.

Run: .venv/bin/python bench/strategy.py [--candles 200] [--instances 10] [--speed 60]

The real platform (supervisor, mt5 with the simulated terminal on a replay clock, the real data service
collecting EURUSD and building M1 bars from its ticks, the strategy service) runs from a temp config.
Ten instances of a benchmark strategy that trades on every bar (buy on even minutes, close on odd ones, so
each candle gives each instance exactly one order) follow EURUSD M1. Events are read from the hub:

- candle -> accepted: `candle.closed` envelope ts (stamped by the data service when it publishes) to the
  strategy's `signal` envelope ts for that bar and instance, which it publishes once the mt5 service has
  answered the order accepted. This is the target figure (p99 <= 100 ms).
- candle -> order event: to the mt5 service's `order.filled` envelope ts for that order (the paper
  broker's events are published by mt5's sync loop, here every 10 ms, so this adds up to that much).
- baseline: one `POST /orders` round trip to the mt5 service from this process (buy, then close), the
  floor any order placement pays.

All stamps are wall-clock milliseconds of processes on this machine. The replay clock runs `speed` times
real time so 200 M1 candles take 200 * 60 / speed seconds; the data service then collects ticks that
much faster than live, which loads the machine more than live trading would.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.platform import API_KEY, Platform, wait_until, write_config

WEDNESDAY_10H = 1_704_880_800  # 2024-01-10 10:00 UTC, a busy hour of the FX week
SYMBOL = "EURUSD"
FLIP_MODULE = '''
"""Benchmark strategy: long on even minutes, flat on odd ones; one order per bar."""

import numpy as np

from shared.trading.strategy import Signals, Strategy, StrategyParams


class FlipParams(StrategyParams):
    pass


class BenchFlip(Strategy[FlipParams]):
    name = "bench_flip"
    description = "buys on even minutes and closes on odd ones (benchmark only)"
    Params = FlipParams

    @property
    def warmup(self) -> int:
        return 1

    def signals(self, bars):
        odd = (np.asarray(bars["time"], dtype=np.int64) // 60) % 2 == 1
        none = np.zeros(len(odd), dtype=bool)
        return Signals(~odd, odd, none, none)
'''


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return (
        f"n={len(values)} p50={percentile(values, 50):.1f} ms p99={percentile(values, 99):.1f} ms "
        f"max={max(values):.1f} ms mean={statistics.fmean(values):.1f} ms"
    )


class EventLog:
    """Every event of the hub's stream, kept with the envelope, read in a thread."""

    def __init__(self, url: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._url = url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def of(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e.get("type") == event_type]

    def _run(self) -> None:
        with connect(self._url, max_size=None) as ws:
            while not self._stop.is_set():
                try:
                    message = ws.recv(timeout=0.2)
                except TimeoutError:
                    continue
                self.events.append(json.loads(message))


def baseline_round_trips(mt5: httpx.Client, count: int) -> list[float]:
    """`POST /orders` round trips straight to the mt5 service: a buy, then its close, `count` times."""
    times = []
    for k in range(count):
        started = time.perf_counter()
        result = mt5.post(
            "/orders",
            json={"symbol": SYMBOL, "type": "BUY", "volume": 0.01, "magic": 1, "client_order_id": f"b{k}"},
        )
        times.append((time.perf_counter() - started) * 1000)
        assert result.status_code == 200, result.text
        mt5.post(f"/positions/{result.json()['order']}/close", json={})
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=200)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--speed", type=float, default=60.0, help="replay speed (M1 bars per 60 s / speed)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-strategy-"))
    folder = work / "strategies"
    folder.mkdir()
    (folder / "bench_flip.py").write_text(FLIP_MODULE)
    path = write_config(
        work,
        overrides={
            "trading": {"symbols": [SYMBOL], "timeframes": ["M1"]},
            "mt5": {
                "simulated": {"clock": "replay", "replay_start": WEDNESDAY_10H, "replay_speed": args.speed},
                "sync_interval_ms": 10,
                "tick_event_interval_ms": 0,
            },
            "data": {
                "collection": {
                    "backfill_max_s": 0,
                    "symbols": [SYMBOL],
                    "poll_interval_ms": 20,
                    "batch_max_s": 0.05,
                    "tick_event_interval_ms": 0,
                }
            },
            "strategy": {"strategy_folders": [str(folder)], "history_bars": 50},
        },
    )
    config = json.loads(path.read_text())
    for name in ("pattern", "ai", "backtesting"):
        config["services"][name]["auto_start"] = False
    path.write_text(json.dumps(config))

    platform = Platform(path).start()
    try:
        for name in ("mt5", "data", "strategy"):
            platform.wait_state(name, "ONLINE", 60)
        token = platform.internal_token()
        with httpx.Client(
            base_url=platform.url("mt5"), headers={"X-Internal-Token": token}, timeout=10
        ) as mt5:
            baseline = baseline_round_trips(mt5, 200)

        api = platform.http
        magics: dict[int, str] = {}
        for _ in range(args.instances):
            body = {"strategy": "bench_flip", "symbol": SYMBOL, "timeframe": "M1"}
            body["sizing"] = {"mode": "fixed", "value": 0.01}
            created = api.post("/api/strategy/strategies", json=body)
            assert created.status_code == 201, created.text
            instance = created.json()
            magics[instance["magic"]] = instance["id"]
            assert api.post(f"/api/strategy/strategies/{instance['id']}/start").status_code == 200

        port = platform.data["services"]["backend-api"]["port"]
        types = "candle.closed,signal,order.filled"
        log = EventLog(f"ws://127.0.0.1:{port}/ws/events?token={API_KEY}&types={types}")
        log.start()
        time.sleep(0.5)  # the hub subscription is live before the first candle
        assert api.post("/api/data/collection/start", json={"symbols": [SYMBOL]}).status_code == 200
        # The first candle seeds each instance's window from the data service: it is not measured.
        wanted = args.candles + 1
        wait_until(
            lambda: len([e for e in log.of("candle.closed") if e["data"]["timeframe"] == "M1"]) >= wanted,
            wanted * 60 / args.speed * 3 + 60,
            f"{wanted} candles; collection: {api.get('/api/data/collection/status').text}; events: {len(log.events)}",
        )
        time.sleep(1.0)  # the last candle's orders
        api.post("/api/data/collection/stop")
        log.stop()
    finally:
        platform.stop()

    candles = sorted(
        (e for e in log.of("candle.closed") if e["data"]["timeframe"] == "M1"),
        key=lambda e: e["data"]["bar"]["time"],
    )[1 : args.candles + 1]
    published = {e["data"]["bar"]["time"]: e["ts"] for e in candles}
    accepted = []
    by_candle: dict[int, list[float]] = {}
    refused: dict[str, int] = {}
    for event in log.of("signal"):
        data = event["data"]
        if data["bar_time"] not in published or data["action"] == "none":
            continue
        if data["refused"]:
            refused[data["refused"]] = refused.get(data["refused"], 0) + 1
            continue
        accepted.append(event["ts"] - published[data["bar_time"]])
        by_candle.setdefault(data["bar_time"], []).append(accepted[-1])
    filled = []
    for event in log.of("order.filled"):
        data = event["data"]
        bar_time = int(str(data.get("comment", "")).split(":")[0] or 0)
        if data.get("magic") in magics and bar_time in published:
            filled.append(event["ts"] - published[bar_time])

    print(f"strategy bench: {args.instances} instances x {len(published)} M1 candles, replay x{args.speed:g}")
    print(f"  candle.closed -> order accepted (strategy's signal event): {summary(accepted)}")
    print(f"  candle.closed -> mt5 order.filled event:                   {summary(filled)}")
    print(f"  baseline: POST /orders round trip, one at a time:           {summary(baseline)}")
    # The mt5 service runs orders one at a time; the strategy service sends those due together in batches.
    firsts = [min(v) for v in by_candle.values()]
    lasts = [max(v) for v in by_candle.values()]
    print(f"  first order of each candle:                                {summary(firsts)}")
    print(f"  last order of each candle:                                 {summary(lasts)}")
    print(
        f"  refused orders: {sum(refused.values())} {refused or ''}; target p99 <= 100 ms: {'met' if percentile(accepted, 99) <= 100 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

"""The chaos soak, shared by the acceptance test and bench/chaos.py: the platform on a replay clock with
collection and two trading instances, random `kill -9` and SIGSTOP of its children, and the checks after.

A SIGSTOPped child is left stopped: the supervisor's health checks must notice it hang and kill it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import websockets

from shared.columnar import decode_arrow
from shared.market.records import TICKS_DTYPE
from tests.support.platform import API_KEY, Platform, children_of_config, write_config
from tests.support.waits import wait_until

MONDAY_JAN_8 = 1_704_672_000  # 2024-01-08 00:00 UTC, a Monday: the FX market is open all day
SYMBOLS = ("EURUSD", "USDJPY")
KINDS = ("kill", "stop")
# Fast health checks so a stopped child is found within ~1 s; a budget no chaos run reaches.
ORCHESTRATOR = {
    "health_interval_s": 0.5,
    "health_timeout_s": 0.5,
    "health_failures": 2,
    "backoff_initial_s": 0.2,
    "backoff_max_s": 1,
    "restart_budget": 1000,
    "restart_window_s": 60,
}
BACKFILL_S = 1800
# Two M1 bars: at 120x a reaction of the loaded machine (a second of wall time) is two minutes of market.
CANDLE_MAX_AGE_BARS = 2
INSTANCES = (
    {"strategy": "sma_crossover", "params": {"fast": 2, "slow": 5}, "symbol": "EURUSD", "timeframe": "M1"},
    {"strategy": "sma_crossover", "params": {"fast": 2, "slow": 5}, "symbol": "USDJPY", "timeframe": "M1"},
)


@dataclass
class Outage:
    """One injected failure: which child, how (`kill` = SIGKILL, `stop` = SIGSTOP), when (monotonic s)."""

    service: str
    kind: str
    pid: int
    at: float
    down_at: float | None = None  # the hub's ONLINE -> OFFLINE for it
    online_at: float | None = None  # the hub's -> ONLINE after that

    @property
    def recovery_s(self) -> float | None:
        return None if self.online_at is None else self.online_at - self.at


def write_chaos_config(directory: Path, *, speed: float, start_s: int = MONDAY_JAN_8 + 3600) -> Path:
    """A config on free ports: replay clock at `speed`, collection of SYMBOLS, fast health checks."""
    return write_config(
        directory,
        overrides={
            "orchestrator": ORCHESTRATOR,
            "trading": {"symbols": list(SYMBOLS), "timeframes": ["M1", "M5"]},
            "mt5": {"simulated": {"clock": "replay", "replay_start": start_s, "replay_speed": speed}},
            # Collection starts with a backfill while the instances already run: none of it may trade.
            "data": {"collection": {"backfill_max_s": BACKFILL_S, "symbols": list(SYMBOLS)}},
            "strategy": {"history_bars": 60, "candle_max_age_bars": CANDLE_MAX_AGE_BARS},
        },
    )


class StatusRecorder:
    """A hub client following `service.status` on its own thread, recording (monotonic time, event data)."""

    def __init__(self, platform: Platform) -> None:
        port = platform.data["services"]["backend-api"]["port"]
        self._uri = f"ws://127.0.0.1:{port}/ws/events?token={API_KEY}&types=service.status"
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="chaos-status", daemon=True)

    def __enter__(self) -> StatusRecorder:
        self._thread.start()
        if not self._ready.wait(15) or self.error is not None:
            raise AssertionError(f"hub subscription failed: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended (the connection was lost)
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        try:
            asyncio.run(self._follow())
        except BaseException as exc:  # reported by the checks: a dropped hub connection is a failure
            self.error = exc
            self._ready.set()

    async def _follow(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with websockets.connect(self._uri) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert snapshot["type"] == "hub.snapshot", snapshot
            self._ready.set()
            stopping = asyncio.ensure_future(self._stop.wait())
            while True:
                received = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({received, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping in done:
                    received.cancel()
                    return
                event = json.loads(received.result())
                if event.get("type") == "service.status":
                    self.events.append((time.monotonic(), event["data"]))


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def start_trading(platform: Platform) -> list[dict[str, Any]]:
    """The two instances created and running, then collection of SYMBOLS started (with its backfill);
    returns the instances."""
    instances = []
    for body in INSTANCES:
        instance = ok(platform.http.post("/api/strategy/strategies", json=body), 201)
        ok(platform.http.post(f"/api/strategy/strategies/{instance['id']}/start"))
        instances.append(instance)
    ok(platform.http.post("/api/data/collection/start", json={"symbols": list(SYMBOLS)}))
    return instances


def run_chaos(
    platform: Platform, rng: random.Random, seconds: float, *, gap_s: tuple[float, float] = (1.0, 4.0)
) -> list[Outage]:
    """Kill or stop a random ONLINE child every `gap_s` seconds (uniform) for `seconds`."""
    outages: list[Outage] = []
    deadline = time.monotonic() + seconds
    while (now := time.monotonic()) < deadline:
        time.sleep(min(rng.uniform(*gap_s), max(0.0, deadline - now)))
        hit = {o.pid for o in outages}
        online = sorted(
            (name, s["pid"])
            for name, s in platform.statuses().items()
            if name != "backend-api" and s["state"] == "ONLINE" and s["pid"] and s["pid"] not in hit
        )
        if not online or time.monotonic() >= deadline:
            continue
        name, pid = rng.choice(online)
        kind = rng.choice(KINDS)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL if kind == "kill" else signal.SIGSTOP)
            outages.append(Outage(name, kind, pid, time.monotonic()))
    return outages


def release_stopped(platform: Platform, outages: list[Outage]) -> None:
    """Kill any child still stopped by us that the supervisor has not killed (so none outlives the run);
    only a pid that is still a stopped process of this platform, never a reused one."""
    ours = set(children_of_config(platform.config))
    for outage in outages:
        if outage.kind == "stop" and outage.pid in ours and process_state(outage.pid) == "T":
            with contextlib.suppress(ProcessLookupError):
                os.kill(outage.pid, signal.SIGKILL)


def process_state(pid: int) -> str | None:
    """The state letter of /proc/<pid>/stat (T: stopped), None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
    except OSError:
        return None


def match_hub_events(outages: list[Outage], events: list[tuple[float, dict[str, Any]]]) -> list[str]:
    """Fill each outage's down/online times from the hub's events; the problems found (empty: all seen)."""
    problems = []
    for outage in outages:
        ours = [(t, e) for t, e in events if e["service"] == outage.service and t >= outage.at]
        down = next(((t, e) for t, e in ours if e["from"] == "ONLINE"), None)
        if down is None:
            problems.append(f"no ONLINE -> * on the hub for {outage}")
            continue
        outage.down_at = down[0]
        back = next((t for t, e in ours if t >= down[0] and e["to"] == "ONLINE"), None)
        if back is None:
            problems.append(f"no -> ONLINE on the hub after {outage}")
        outage.online_at = back
    return problems


def arrow(platform: Platform, path: str, **params: object) -> np.ndarray:
    response = platform.http.get(path, params={**params, "format": "arrow"}, timeout=60)
    assert response.status_code == 200, response.text
    return decode_arrow(response.content, TICKS_DTYPE)


def tick_mismatches(platform: Platform) -> dict[str, str]:
    """Per symbol, how the stored ticks differ from the terminal's over [first, last] stored (empty: equal)."""
    problems = {}
    for symbol in SYMBOLS:
        stored = arrow(platform, f"/api/data/ticks/{symbol}", **{"from": 0})
        if len(stored) == 0:
            problems[symbol] = "no tick stored"
            continue
        first, last = int(stored["time_msc"][0]), int(stored["time_msc"][-1])
        terminal = arrow(platform, f"/api/mt5/ticks/{symbol}", **{"from": first, "to": last})
        if not np.array_equal(stored, terminal):
            problems[symbol] = describe_difference(stored, terminal)
    return problems


def describe_difference(stored: np.ndarray, terminal: np.ndarray) -> str:
    """Sizes and the first differing tick of two tick arrays."""
    n = min(len(stored), len(terminal))
    differs = np.nonzero(stored[:n] != terminal[:n])[0]
    at = int(differs[0]) if len(differs) else n
    return (
        f"stored {len(stored)} ticks, terminal {len(terminal)}; first difference at index {at}: "
        f"stored {stored[at] if at < len(stored) else None} terminal {terminal[at] if at < len(terminal) else None}"
    )


def strategy_deals(platform: Platform, magics: set[int]) -> list[dict[str, Any]]:
    """The instances' deals in the terminal's history."""
    deals = ok(platform.http.get("/api/mt5/history/deals", params={"from": 0}))
    return [d for d in deals if d["magic"] in magics]


def duplicate_orders(deals: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    """(magic, comment) of orders sent more than once: each comment is `{bar_time}:{action}`."""
    counts = Counter(
        (d["magic"], d["comment"]) for d in deals if d["entry"] == 0 or ":close-" in d["comment"]
    )
    return {key: n for key, n in counts.items() if n > 1}


def stale_orders(deals: list[dict[str, Any]], trading_from_s: int, speed: float) -> list[str]:
    """Orders sent for a candle that closed before trading began (the backfill), or long after its close.

    "Long" allows what chaos itself adds: an order decided on a fresh candle waits while the mt5 service is
    frozen or restarting, a few seconds of wall time (x speed in market time); an order for a backfilled
    candle, or one traded after a data-service restart's catch-up, is minutes to half an hour late."""
    late_s = CANDLE_MAX_AGE_BARS * 60 + 10 * speed
    found = []
    for deal in deals:
        close_s = int(deal["comment"].split(":")[0]) + 60  # the instances trade M1
        age_s = deal["time_msc"] / 1000 - close_s
        if close_s <= trading_from_s or age_s > late_s:
            found.append(f"{deal['comment']} (magic {deal['magic']}) filled {age_s:.0f} s after its candle")
    return found


def not_running(platform: Platform, instances: list[dict[str, Any]]) -> dict[str, str]:
    """Instances that are not `running`, with their state."""
    states = {
        i["id"]: ok(platform.http.get(f"/api/strategy/strategies/{i['id']}"))["state"] for i in instances
    }
    return {iid: state for iid, state in states.items() if state != "running"}


def market_time_s(platform: Platform) -> int:
    """The terminal's current market time (its EURUSD quote's time)."""
    return int(ok(platform.http.get(f"/api/mt5/symbols/{SYMBOLS[0]}"))["time"])


def collected_up_to_ms(platform: Platform) -> int:
    """The oldest of the symbols' last collected ticks (0 before the first)."""
    status = ok(platform.http.get("/api/data/collection/status"))
    last = {s["symbol"]: s["last_tick_msc"] or 0 for s in status["symbols"]}
    return min(last.get(symbol, 0) for symbol in SYMBOLS)


def recovery_summary(outages: list[Outage]) -> str:
    times = sorted(o.recovery_s for o in outages if o.recovery_s is not None)
    if not times:
        return "no recovery measured"
    return f"recovery (signal -> ONLINE): p50 {statistics.median(times):.2f} s, max {times[-1]:.2f} s"


@dataclass
class ChaosRun:
    """A finished chaos run: what was injected and what every check found."""

    seed: int
    outages: list[Outage]
    offline: list[str] = field(default_factory=list)
    hub: list[str] = field(default_factory=list)
    ticks: dict[str, str] = field(default_factory=dict)
    duplicates: dict[tuple[int, str], int] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    stopped_instances: dict[str, str] = field(default_factory=dict)
    deals: int = 0
    clock: str | None = None  # the market clock went back or stalled
    collection: str | None = None  # collection did not catch up with the market

    def checks(self) -> dict[str, object]:
        """Each check by name with what it found: falsy when it passed."""
        return {
            "at least one failure injected": not self.outages,
            "every service ONLINE": self.offline,
            "hub reported every outage": self.hub,
            "market clock kept its replay": self.clock,
            "collection caught up with the market": self.collection,
            "stored ticks == terminal's": self.ticks,
            "instances still running": self.stopped_instances,
            "instances traded": self.deals == 0,
            f"no order sent twice ({self.deals} deals)": self.duplicates,
            "no order for a backfilled or stale candle": self.stale,
        }


def held_s(platform: Platform) -> float:
    """Market seconds the replay has stood still for the strategies (its decision holds) in this run."""
    return float(ok(platform.http.get("/api/mt5/clock"))["holds"]["held_ms"]) / 1000


def clock_problem(platform: Platform, wall0: float, market0: int, held0: float, speed: float) -> str | None:
    """How far the market clock is behind its replay (restarts of mt5 must not rewind or pause it; the
    holds, which wait for the strategies, do by design and are left out)."""
    expected = market0 + (time.monotonic() - wall0) * speed - (held_s(platform) - held0)
    behind = expected - market_time_s(platform)
    # A few seconds of wall time of slack: the two readings are HTTP round trips apart.
    return f"market time {behind:.0f} s behind its replay" if behind > 3 * speed else None


@contextlib.contextmanager
def chaos_platform(directory: Path, *, speed: float) -> Iterator[Platform]:
    """The whole platform on the chaos config, all seven ONLINE; stopped on exit."""
    platform = Platform(write_chaos_config(directory, speed=speed)).start()
    try:
        platform.wait_all_online(120)
        yield platform
    finally:
        platform.stop()


def soak(
    platform: Platform,
    seed: int,
    seconds: float,
    speed: float,
    *,
    gap_s: tuple[float, float] = (1.0, 4.0),
    settle_s: float = 90,
) -> ChaosRun:
    """Trade and collect, inject failures for `seconds`, wait for recovery, and run every check."""
    rng = random.Random(seed)
    trading_from_s = market_time_s(platform)
    instances = start_trading(platform)
    wall0, market0, held0 = time.monotonic(), market_time_s(platform), held_s(platform)
    with StatusRecorder(platform) as recorder:
        outages: list[Outage] = []
        try:
            outages = run_chaos(platform, rng, seconds, gap_s=gap_s)
            with contextlib.suppress(AssertionError):
                platform.wait_all_online(settle_s)
        finally:
            release_stopped(platform, outages)
        run = ChaosRun(seed, outages)
        run.offline = [n for n, s in platform.statuses().items() if s["state"] != "ONLINE"]
        # The last ONLINE events may still be in flight on the hub.
        with contextlib.suppress(AssertionError):
            wait_until(lambda: not match_hub_events(outages, list(recorder.events)), 10, "hub events")
        run.hub = match_hub_events(outages, list(recorder.events))
    if recorder.error is not None:
        run.hub.append(f"hub connection lost: {recorder.error!r}")
    run.stopped_instances = not_running(platform, instances)
    run.clock = clock_problem(platform, wall0, market0, held0, speed)
    market_ms = market_time_s(platform) * 1000
    try:
        wait_until(lambda: collected_up_to_ms(platform) >= market_ms, 30, "collection to catch up")
    except AssertionError:
        run.collection = f"collected up to {collected_up_to_ms(platform)} ms, market at {market_ms} ms"
    ok(platform.http.post("/api/data/collection/stop"))
    run.ticks = tick_mismatches(platform)
    deals = strategy_deals(platform, {i["magic"] for i in instances})
    run.deals = len(deals)
    run.duplicates = duplicate_orders(deals)
    run.stale = stale_orders(deals, trading_from_s, speed)
    return run

"""The replay clock's decision holds over HTTP: a registered stream stops the market at the first tick of
its next bar until released, so an order sent meanwhile fills at exactly that tick."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from services.mt5.core.simulated.market import DeterministicMarket
from services.mt5.settings import Mt5Settings
from tests.mt5.api.support import SEED, WEDNESDAY_MS, ManualClock, buy, error_of, mt5_client, mt5_config

M5_S = 300
STREAMS = {"holder": "strategy", "streams": [{"symbol": "eurusd", "timeframe": "m5"}]}


def replay(tmp_path: Path, **simulated: Any) -> Mt5Settings:
    return mt5_config(
        tmp_path,
        simulated={"seed": SEED, "clock": "replay", "replay_start": WEDNESDAY_MS // 1000, **simulated},
    )


def first_tick(settings: Mt5Settings, boundary_s: int, symbol: str = "EURUSD") -> Any:
    market = DeterministicMarket(settings.mt5.simulated.symbols, seed=SEED)
    return market.ticks_forward(symbol, boundary_s * 1000, 1, boundary_s * 1000 + 86_400_000)[0]


class PausedClock(ManualClock):
    """A hand-set clock that, once started, runs on in real time (speed 1, as the settings say)."""

    def __init__(self, now_ms: int) -> None:
        super().__init__(now_ms)
        self._started: float | None = None

    def start(self) -> None:
        self._started = time.monotonic()

    def now_ms(self) -> int:
        if self._started is None:
            return self.now
        return self.now + int((time.monotonic() - self._started) * 1000)


def test_clock_hold_stops_the_market_at_the_first_tick_of_the_next_bar_until_released(
    tmp_path: Path,
) -> None:
    settings = replay(tmp_path)
    clock = ManualClock(WEDNESDAY_MS + 10_000)
    boundary = (WEDNESDAY_MS // 1000 // M5_S + 1) * M5_S
    tick = first_tick(settings, boundary)
    with mt5_client(settings, clock) as client:
        registered = client.put("/clock/holds", json=STREAMS)
        assert registered.status_code == 200, registered.text
        (pending,) = registered.json()["pending"]
        assert pending == {
            "symbol": "EURUSD",
            "timeframe": "M5",
            "boundary": boundary,
            "at_ms": int(tick["time_msc"]),
            "holding": False,
        }
        clock.advance_to(int(tick["time_msc"]) + 1_000)  # under the 2 s timeout (speed 1)
        body = client.get("/clock").json()
        assert body["now_ms"] == tick["time_msc"] and body["holds"]["pending"][0]["holding"]
        assert body["holds"]["holders"][0]["streams"] == [{"symbol": "EURUSD", "timeframe": "M5"}]

        # The order of the closed candle fills at the held tick, the tick-model backtest's fill.
        order = buy(client)
        assert order.status_code == 200, order.text
        assert order.json()["price"] == pytest.approx(float(tick["ask"]))

        release = {"symbol": "EURUSD", "timeframe": "M5", "bar_time": boundary - M5_S}
        assert client.post("/clock/holds/release", json=release).json() == {"released": True}
        assert client.get("/clock").json()["now_ms"] == tick["time_msc"]  # runs on from there
        assert client.post("/clock/holds/release", json=release).json() == {"released": False}
        clock.advance_to(int(tick["time_msc"]) + 2_000)
        body = client.get("/clock").json()
        assert body["now_ms"] == tick["time_msc"] + 1_000
        assert body["holds"]["pending"][0]["boundary"] == boundary + M5_S
        assert body["holds"]["timed_out"] == 0
        assert body["holds"]["held_ms"] == 1_000  # how far the market is behind its raw replay

        # An empty registration holds nothing.
        assert client.put("/clock/holds", json={"holder": "strategy", "streams": []}).json()["pending"] == []


def test_clock_hold_not_released_times_out_and_is_counted(tmp_path: Path) -> None:
    settings = replay(tmp_path)
    clock = ManualClock(WEDNESDAY_MS + 10_000)
    tick = first_tick(settings, (WEDNESDAY_MS // 1000 // M5_S + 1) * M5_S)
    with mt5_client(settings, clock) as client:
        client.put("/clock/holds", json=STREAMS)
        # Speed 1: the 2 s timeout is 2 market seconds past the held tick; the clock runs on from there.
        clock.advance_to(int(tick["time_msc"]) + 2_500)
        body = client.get("/clock").json()
        assert body["now_ms"] == tick["time_msc"] + 500
        assert body["holds"]["timed_out"] == 1
        assert body["holds"]["held_ms"] == 2_000
        assert body["holds"]["pending"][0]["boundary"] == tick["time_msc"] // 1000 // M5_S * M5_S + M5_S


def test_clock_hold_wait_lets_an_order_closed_by_another_symbols_tick_fill_at_the_held_tick(
    tmp_path: Path,
) -> None:
    """The data collector closes EURUSD's candle on GBPUSD's first tick after the boundary, before EURUSD's
    own: the strategy's order must wait until the clock is held at EURUSD's tick, the backtest's fill."""
    settings = replay(tmp_path, replay_hold_timeout_s=60)
    boundary = next(
        b
        for b in range((WEDNESDAY_MS // 1000 // M5_S + 1) * M5_S, WEDNESDAY_MS // 1000 + 86_400, M5_S)
        if first_tick(settings, b, "GBPUSD")["time_msc"] + 50 < first_tick(settings, b)["time_msc"]
    )
    held, closer = first_tick(settings, boundary), first_tick(settings, boundary, "GBPUSD")
    clock = PausedClock((boundary - 60) * 1000)
    with mt5_client(settings, clock) as client:
        client.put("/clock/holds", json=STREAMS)
        clock.advance_to(int(closer["time_msc"]))  # the candle is closed, EURUSD's first tick still ahead
        before = client.get("/symbols/EURUSD").json()
        assert before["ask"] != pytest.approx(float(held["ask"]))  # the order would fill at another price
        clock.start()
        release = {"symbol": "EURUSD", "timeframe": "M5", "bar_time": boundary - M5_S}
        waited = client.post("/clock/holds/wait", json=release)
        assert waited.status_code == 200, waited.text
        assert waited.json() == {"held": True, "now_ms": held["time_msc"]}
        order = buy(client)
        assert order.status_code == 200, order.text
        assert order.json()["price"] == pytest.approx(float(held["ask"]))
        assert client.post("/clock/holds/release", json=release).json() == {"released": True}
        # At or past the hold, or no such hold pending: answered at once.
        assert client.post("/clock/holds/wait", json=release).json()["held"] is False


def test_clock_hold_wait_without_a_hold_answers_at_once(tmp_path: Path) -> None:
    clock = ManualClock(WEDNESDAY_MS + 10_000)
    release = {"symbol": "EURUSD", "timeframe": "M5", "bar_time": WEDNESDAY_MS // 1000}
    with mt5_client(replay(tmp_path), clock) as client:
        assert client.post("/clock/holds/wait", json=release).json() == {"held": False, "now_ms": clock.now}
    (tmp_path / "real").mkdir()
    with mt5_client(mt5_config(tmp_path / "real"), clock) as client:  # the real-time clock never holds
        assert client.post("/clock/holds/wait", json=release).json() == {"held": False, "now_ms": clock.now}


def test_clock_holds_on_the_real_time_clock_are_a_conflict(tmp_path: Path) -> None:
    with mt5_client(mt5_config(tmp_path), ManualClock(WEDNESDAY_MS)) as client:
        answer = client.put("/clock/holds", json=STREAMS)
        assert answer.status_code == 409
        assert error_of(answer)["code"] == "clock_not_replay"
        release = {"symbol": "EURUSD", "timeframe": "M5", "bar_time": WEDNESDAY_MS // 1000}
        assert client.post("/clock/holds/release", json=release).json() == {"released": False}
        assert client.get("/clock").json()["holds"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/clock/holds", {"holder": "s", "streams": [{"symbol": "XAUEUR", "timeframe": "M5"}]}, "symbol"),
        ("/clock/holds", {"holder": "s", "streams": [{"symbol": "EURUSD", "timeframe": "M7"}]}, "timeframe"),
        ("/clock/holds", {"holder": "", "streams": []}, "holder"),
        ("/clock/holds", {"streams": []}, "holder"),
        ("/clock/holds/release", {"symbol": "XAUEUR", "timeframe": "M5", "bar_time": 0}, "symbol"),
        ("/clock/holds/release", {"symbol": "EURUSD", "timeframe": "X", "bar_time": 0}, "timeframe"),
        ("/clock/holds/release", {"symbol": "EURUSD", "timeframe": "M5", "bar_time": -1}, "bar_time"),
        ("/clock/holds/wait", {"symbol": "XAUEUR", "timeframe": "M5", "bar_time": 0}, "symbol"),
        ("/clock/holds/wait", {"symbol": "EURUSD", "timeframe": "H7", "bar_time": 0}, "timeframe"),
        ("/clock/holds/wait", {"symbol": "EURUSD", "timeframe": "M5", "bar_time": "x"}, "bar_time"),
        ("/clock/holds/wait", {"symbol": "EURUSD", "timeframe": "M5"}, "bar_time"),
        # Found by the fuzz test: a boolean was taken for 0, and a time past year 9999 overflowed.
        ("/clock/holds/release", {"symbol": "EURUSD", "timeframe": "H1", "bar_time": False}, "bar_time"),
        ("/clock/holds/wait", {"symbol": "EURUSD", "timeframe": "H1", "bar_time": True}, "bar_time"),
        ("/clock/holds/release", {"symbol": "EURUSD", "timeframe": "M5", "bar_time": 10**19}, "bar_time"),
        ("/clock/holds/wait", {"symbol": "EURUSD", "timeframe": "M5", "bar_time": 10**19}, "bar_time"),
    ],
)
def test_clock_holds_refuse_bad_input_naming_the_field(
    tmp_path: Path, path: str, body: dict[str, Any], field: str
) -> None:
    clock = ManualClock(WEDNESDAY_MS)
    with mt5_client(replay(tmp_path), clock) as client:
        method = client.put if path == "/clock/holds" else client.post
        answer = method(path, json=body)
        assert answer.status_code == 422, answer.text
        assert field in str(error_of(answer)["details"]), answer.text
        assert client.get("/clock").json()["holds"]["holders"] == []  # nothing registered

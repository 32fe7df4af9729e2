"""A replay market is a world of its own: the paper account of one world never appears in the other, and
`GET /clock` names the world and its time so the data service can keep its data apart too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, buy, mt5_client, mt5_config

REPLAY_START = "2024-03-06T10:00:00Z"
REPLAY_START_MS = 1_709_719_200_000


def test_clock_real_time_is_the_real_world(tmp_path: Path) -> None:
    with mt5_client(mt5_config(tmp_path), ManualClock(WEDNESDAY_MS)) as client:
        body = client.get("/clock").json()
    assert body == {
        "world": "real",
        "clock": "real",
        "now_ms": WEDNESDAY_MS,
        "speed": 1.0,
        "replay_start_ms": None,
        "holds": None,
        "market_open": True,
        "next_open_ms": None,
    }


def test_clock_says_the_market_is_closed_at_a_weekend_and_when_it_opens(tmp_path: Path) -> None:
    saturday_ms = int(datetime(2025, 11, 22, 12, 0, tzinfo=UTC).timestamp() * 1000)
    sunday_open_ms = int(datetime(2025, 11, 23, 22, 0, tzinfo=UTC).timestamp() * 1000)  # 17:00 New York
    clock = ManualClock(saturday_ms)
    with mt5_client(mt5_config(tmp_path), clock) as client:
        saturday = client.get("/clock").json()
        clock.advance_to(sunday_open_ms)
        reopened = client.get("/clock").json()

    assert (saturday["market_open"], saturday["next_open_ms"]) == (False, sunday_open_ms)
    assert (reopened["market_open"], reopened["next_open_ms"]) == (True, None)


def test_clock_replay_names_its_world_by_start_and_seed(tmp_path: Path) -> None:
    settings = mt5_config(
        tmp_path, simulated={"seed": 3, "clock": "replay", "replay_start": REPLAY_START, "replay_speed": 60}
    )
    with mt5_client(settings) as client:
        body = client.get("/clock").json()
    assert body["world"] == "replay-20240306T100000Z-seed3"
    assert (body["clock"], body["speed"], body["replay_start_ms"]) == ("replay", 60.0, REPLAY_START_MS)
    assert REPLAY_START_MS <= body["now_ms"] < WEDNESDAY_MS


def test_paper_positions_of_one_world_never_appear_in_the_other(tmp_path: Path) -> None:
    real = mt5_config(tmp_path)
    replay = mt5_config(tmp_path, simulated={"seed": 7, "clock": "replay", "replay_start": REPLAY_START})

    with mt5_client(real, ManualClock(WEDNESDAY_MS)) as client:
        assert buy(client).json()["retcode"] == 10009
        real_account = client.get("/account").json()
    with mt5_client(replay) as client:
        assert client.get("/positions").json() == []
        assert client.get("/account").json()["balance"] == 10_000.0
        assert buy(client, 0.2).json()["retcode"] == 10009
        (replayed,) = client.get("/positions").json()
        assert replayed["time_msc"] < WEDNESDAY_MS  # opened in 2024, at 2024 prices
    with mt5_client(real, ManualClock(WEDNESDAY_MS)) as client:
        (position,) = client.get("/positions").json()
        assert position["volume"] == 0.1 and position["time_msc"] == WEDNESDAY_MS
        assert client.get("/account").json()["balance"] == real_account["balance"]

"""A full disk under the paper broker's database: 507 `disk_full` (never a 500), one log line and one
`alert` per change, /health degraded with the reason, and trading resumes by itself when space returns."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, buy, error_of, mt5_client, mt5_config
from tests.support.sqlite_space import sqlite_space
from tests.support.waits import wait_until


def test_paper_broker_on_a_full_disk_answers_507_once_logged_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(WEDNESDAY_MS)
    settings = mt5_config(tmp_path)
    # Room again once writes succeed this long with none refused (the sync's small writes that still fit
    # while the orders are refused must not flap the alert).
    settings = settings.model_copy(
        update={"system": settings.system.model_copy(update={"disk_full_hold_s": 2.0})}
    )
    with sqlite_space() as space, mt5_client(settings, clock) as client:
        events: list[dict[str, Any]] = []
        client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]
        assert buy(client, 0.1).status_code == 200

        space.full = True
        # Writes fit in the pages' free space until one needs a new page: from then on each is refused.
        first_refusal = next(
            i for i in range(200) if buy(client, 0.01, comment=f"fill {i}").status_code != 200
        )
        positions_full = client.get("/positions").json()
        answers = []
        for step in range(1, 21):
            clock.advance_to(WEDNESDAY_MS + step * 60_000)
            answers.append(buy(client, 0.1))
        account = client.get("/account")  # reads still work
        health = client.get("/health").json()

        space.full = False

        def healthy_as_the_market_moves() -> bool:
            # The broker's background sync saves its progress with the next ticks, proving room again.
            clock.advance_to(clock.now + 1_000)
            return bool(client.get("/health").json()["status"] == "ok")

        wait_until(healthy_as_the_market_moves, 30, "health ok again", interval=0.2)
        recovered = buy(client, 0.1)

        assert first_refusal < 200
        assert {a.status_code for a in answers} == {507}
        assert error_of(answers[0])["code"] == "disk_full"
        assert account.status_code == 200
        assert health["status"] == "degraded"
        assert health["checks"]["storage"]["reason"] == "disk_full"
        assert recovered.status_code == 200, recovered.text
        tickets = [p["ticket"] for p in client.get("/positions").json()]
        # The refused orders left nothing behind; the one after recovery is there once.
        assert tickets[:-1] == [p["ticket"] for p in positions_full]
        assert len(tickets) == len(positions_full) + 1
        alerts = [e["data"] for e in events if e["type"] == "alert"]
        assert [(a["code"], a["active"]) for a in alerts] == [("disk_full", True), ("disk_full", False)]
        assert len([r for r in caplog.records if "disk full" in r.getMessage()]) == 1
        errors = [
            r for r in caplog.records if r.levelno >= logging.ERROR and "disk full" not in r.getMessage()
        ]
        assert not errors  # no traceback per sync or per request

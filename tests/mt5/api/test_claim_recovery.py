"""A client order id claimed by a process that died before storing the result is settled at the next
start from the terminal's orders and deals: done with the order it placed, or free when none was placed.
Real SQLite file, two apps over it one after the other (the first one's process "killed" mid-order)."""

from __future__ import annotations

from pathlib import Path

from services.mt5.core.idempotency import ClientOrderIds
from services.mt5.main import DATABASE_FILE
from services.mt5.schemas import OrderCreate
from shared.db import sqlite_engine
from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, mt5_client, mt5_config

BODY = {"symbol": "EURUSD", "type": "BUY", "volume": 0.1, "magic": 42, "comment": "bar:buy"}


def claim_as_a_killed_process(settings_dir: Path, client_id: str, clock: ManualClock, body: dict) -> None:
    """What a process leaves when it dies between order_send and storing its result: the claim alone."""
    engine = sqlite_engine(settings_dir / DATABASE_FILE)
    try:
        ids = ClientOrderIds(engine, now_ms=clock.now_ms)
        assert ids.claim(client_id, OrderCreate(**body).mt5_request())
    finally:
        engine.dispose()


def test_claimed_ids_are_settled_at_start_against_the_terminal_history(tmp_path: Path) -> None:
    settings = mt5_config(tmp_path)
    clock = ManualClock(WEDNESDAY_MS)
    other = {**BODY, "comment": "bar:other"}
    with mt5_client(settings, clock) as client:
        claim_as_a_killed_process(settings.data_dir, "traded", clock, BODY)
        claim_as_a_killed_process(settings.data_dir, "never-sent", clock, other)
        # The killed process's order_send reached the terminal: the order traded, its result was never stored.
        traded = client.post("/orders", json=BODY).json()
        assert client.post("/orders", json={**BODY, "client_order_id": "traded"}).status_code == 409
    clock.advance_to(WEDNESDAY_MS + 60_000)
    with mt5_client(settings, clock) as client:  # the restart
        again = client.post("/orders", json={**BODY, "client_order_id": "traded"})
        assert again.status_code == 200, again.text
        assert (again.json()["order"], again.json()["deal"]) == (traded["order"], traded["deal"])
        assert len(client.get("/positions").json()) == 1  # settled as done: nothing traded twice
        free = client.post("/orders", json={**other, "client_order_id": "never-sent"})
        assert free.status_code == 200, free.text
        assert free.json()["order"] != traded["order"]
        assert len(client.get("/positions").json()) == 2


def test_a_claimed_pending_order_is_settled_as_placed(tmp_path: Path) -> None:
    settings = mt5_config(tmp_path)
    clock = ManualClock(WEDNESDAY_MS)
    limit = {**BODY, "type": "BUY_LIMIT", "price": 1.05}
    with mt5_client(settings, clock) as client:
        claim_as_a_killed_process(settings.data_dir, "limit", clock, limit)
        placed = client.post("/orders", json=limit).json()
    with mt5_client(settings, clock) as client:
        again = client.post("/orders", json={**limit, "client_order_id": "limit"})
        assert (again.status_code, again.json()["retcode"]) == (200, 10008), again.text
        assert again.json()["order"] == placed["order"]
        assert len(client.get("/orders").json()) == 1

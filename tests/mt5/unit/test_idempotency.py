"""Client order ids: one order per id, the first result on retries, across threads and restarts."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from services.mt5.core.idempotency import ClientOrderIds, result_from_json, result_to_json
from services.mt5.core.simulated.broker import PaperBroker
from shared.db import sqlite_engine
from shared.errors import ConflictError, InvalidInputError
from shared.market import mt5_constants as mt5
from shared.market.records import OrderSendResult
from tests.mt5.unit.broker_support import Market, make_broker, market_order

BUY = market_order("EURUSD", mt5.ORDER_TYPE_BUY, 0.1)


@pytest.fixture
def market() -> Market:
    return Market()


@pytest.fixture
def broker(tmp_path: Path, market: Market) -> PaperBroker:
    return make_broker(tmp_path / "mt5.db", market)


@pytest.fixture
def ids(tmp_path: Path, market: Market) -> ClientOrderIds:
    return ClientOrderIds(sqlite_engine(tmp_path / "mt5.db"), now_ms=market.now_ms)


def test_same_id_twice_opens_once_and_returns_first_result(broker: PaperBroker, ids: ClientOrderIds) -> None:
    first = ids.send_once("abc-1", BUY, broker.order_send)
    second = ids.send_once("abc-1", BUY, broker.order_send)

    assert first.retcode == mt5.TRADE_RETCODE_DONE
    assert second == first
    assert broker.positions_total() == 1


def test_result_survives_restart(
    tmp_path: Path, broker: PaperBroker, ids: ClientOrderIds, market: Market
) -> None:
    first = ids.send_once("abc-1", BUY, broker.order_send)

    reopened = ClientOrderIds(sqlite_engine(tmp_path / "mt5.db"), now_ms=market.now_ms)

    assert reopened.send_once("abc-1", BUY, broker.order_send) == first
    assert reopened.lookup("abc-1") == first
    assert broker.positions_total() == 1


def test_two_threads_racing_one_id_open_once(broker: PaperBroker, ids: ClientOrderIds) -> None:
    inside_send = threading.Event()
    release = threading.Event()

    def slow_send(request: Mapping[str, Any]) -> OrderSendResult:
        inside_send.set()
        release.wait(10)  # hold the claim until the other thread has arrived
        return broker.order_send(dict(request))

    results: list[OrderSendResult | None] = []
    first = threading.Thread(target=lambda: results.append(ids.send_once("race", BUY, slow_send)))
    second = threading.Thread(target=lambda: results.append(ids.send_once("race", BUY, slow_send)))
    first.start()
    assert inside_send.wait(10)
    second.start()
    release.set()
    first.join(10)
    second.join(10)

    assert len(results) == 2 and results[0] == results[1]
    assert broker.positions_total() == 1


def test_claim_held_by_another_process_reports_in_flight(
    tmp_path: Path, broker: PaperBroker, ids: ClientOrderIds, market: Market
) -> None:
    other_process = ClientOrderIds(sqlite_engine(tmp_path / "mt5.db"), now_ms=market.now_ms)
    seen: list[Exception] = []

    def send_while_other_retries(request: Mapping[str, Any]) -> OrderSendResult:
        with pytest.raises(ConflictError) as conflict:
            other_process.send_once("x", BUY, broker.order_send)
        seen.append(conflict.value)
        return broker.order_send(dict(request))

    result = ids.send_once("x", BUY, send_while_other_retries)

    assert seen[0].code == "client_order_in_flight"
    assert other_process.send_once("x", BUY, broker.order_send) == result
    assert broker.positions_total() == 1


def test_same_id_with_different_request_refused(broker: PaperBroker, ids: ClientOrderIds) -> None:
    ids.send_once("abc-1", BUY, broker.order_send)

    with pytest.raises(ConflictError) as conflict:
        ids.send_once("abc-1", {**BUY, "volume": 0.2}, broker.order_send)

    assert conflict.value.code == "client_order_id_reused"


def test_terminal_failure_releases_the_id(broker: PaperBroker, ids: ClientOrderIds) -> None:
    def failing(_: Mapping[str, Any]) -> OrderSendResult:
        raise ConnectionError("terminal lost")

    assert ids.send_once("abc-1", BUY, lambda _: None) is None
    with pytest.raises(ConnectionError):
        ids.send_once("abc-1", BUY, failing)

    assert ids.send_once("abc-1", BUY, broker.order_send).retcode == mt5.TRADE_RETCODE_DONE


@pytest.mark.parametrize("client_id", ["", "x" * 65])
def test_invalid_client_id_refused(ids: ClientOrderIds, client_id: str) -> None:
    with pytest.raises(InvalidInputError):
        ids.send_once(client_id, BUY, lambda _: None)


def test_result_json_round_trip(broker: PaperBroker) -> None:
    result = broker.order_send(BUY)

    assert result_from_json(result_to_json(result)) == result


def test_a_file_from_before_claims_kept_their_request_still_opens_and_its_old_claim_stays_unknown(
    tmp_path: Path, market: Market
) -> None:
    engine = sqlite_engine(tmp_path / "old.db")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE client_order_ids (client_id VARCHAR(64) PRIMARY KEY, fingerprint VARCHAR(64) "
            "NOT NULL, created_ms BIGINT NOT NULL, result_json TEXT)"
        )
        conn.exec_driver_sql("INSERT INTO client_order_ids VALUES ('old', 'f', 1, NULL)")
    ids = ClientOrderIds(engine, now_ms=market.now_ms)
    assert ids.claim("new", BUY)
    claims = {c.client_id: c.request for c in ids.unsettled()}
    assert claims == {"old": None, "new": dict(BUY)}

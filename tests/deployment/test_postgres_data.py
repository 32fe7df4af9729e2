"""The data service's storage and app on a real PostgreSQL server through DATABASE_URL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.data.core.stores import DataStores, open_stores
from shared.market.bars import ticks_to_bars
from shared.market.records import TICKS_DTYPE
from shared.market.timeframes import TIMEFRAMES
from tests.data.api.conftest import MONDAY, make_settings, open_client, stores_of
from tests.data.unit.factories import MONDAY_2024_01_01_MS, POINT, make_ticks
from tests.deployment.postgres_server import create_database, postgres_server, skip_reason
from tests.support.bars import m1_bars

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]

FEB_2024_MS = 1_706_745_600_000  # 2024-02-01 00:00 UTC: a month partition boundary
_names = itertools.count()


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def database_url(server_url: str) -> str:
    """A fresh database per test, so tests cannot see each other's rows or tables."""
    return create_database(server_url, f"mt5_test_{next(_names)}")


@pytest.fixture
def stores(tmp_path: Path, database_url: str) -> Iterator[DataStores]:
    opened = open_stores(tmp_path, database_url=database_url)
    yield opened
    opened.close()


def test_open_stores_database_url_uses_postgresql_and_no_files(tmp_path: Path, stores: DataStores) -> None:
    stores.ticks.insert_batch("EURUSD", make_ticks(10))

    assert stores.bars.engine.dialect.name == "postgresql"
    assert stores.shared_database
    assert list(tmp_path.iterdir()) == []


def test_tick_insert_refetched_ranges_store_nothing_twice(stores: DataStores) -> None:
    ticks = make_ticks(3_000, max_step_ms=3)  # small steps: many ticks share a millisecond

    assert stores.ticks.insert_batch("EURUSD", ticks) == 3_000
    assert stores.ticks.insert_batch("EURUSD", ticks) == 0
    # A terminal range re-fetched from the start of a millisecond in the middle of what is stored.
    start = int(np.searchsorted(ticks["time_msc"], ticks["time_msc"][1_500]))
    assert stores.ticks.insert_batch("EURUSD", ticks[start:]) == 0
    stored = stores.ticks.read_range("EURUSD", 0, 2**62)
    np.testing.assert_array_equal(stored, ticks)


def test_ticks_sharing_a_millisecond_keep_their_order(stores: DataStores) -> None:
    ticks = np.zeros(5, dtype=TICKS_DTYPE)
    ticks["time_msc"] = MONDAY_2024_01_01_MS
    ticks["time"] = MONDAY_2024_01_01_MS // 1000
    ticks["bid"] = [1.10005, 1.10001, 1.10004, 1.10002, 1.10003]  # deliberately not sorted by price
    ticks["ask"] = ticks["bid"] + 10 * POINT
    stores.ticks.insert_batch("EURUSD", ticks[:3])
    # The rest of the same millisecond arrives in a later poll, continuing the sequence.
    stores.ticks.insert_batch("EURUSD", ticks[3:], first_seq=3)

    stored = stores.ticks.read_range("EURUSD", MONDAY_2024_01_01_MS, MONDAY_2024_01_01_MS + 1)

    assert stored["bid"].tolist() == ticks["bid"].tolist()
    assert stores.ticks.last_cursor("EURUSD") == (MONDAY_2024_01_01_MS, 4)


def test_range_read_across_month_partitions_is_one_ordered_series(stores: DataStores) -> None:
    ticks = make_ticks(2_000, start_ms=FEB_2024_MS - 400_000, max_step_ms=400)
    stores.ticks.insert_batch("EURUSD", ticks)

    keys = [p.key for p in stores.ticks.partition_stats("EURUSD")]
    middle = stores.ticks.read_range("EURUSD", FEB_2024_MS - 10_000, FEB_2024_MS + 10_000)

    assert keys == ["2024-01", "2024-02"]
    inside = ticks[(ticks["time_msc"] >= FEB_2024_MS - 10_000) & (ticks["time_msc"] < FEB_2024_MS + 10_000)]
    np.testing.assert_array_equal(middle, inside)
    assert stores.ticks.drop_before("EURUSD", FEB_2024_MS) == ["2024-01"]
    np.testing.assert_array_equal(
        stores.ticks.read_range("EURUSD", 0, 2**62), ticks[ticks["time_msc"] >= FEB_2024_MS]
    )


def test_bars_upsert_replaces_by_time_and_reads_back(stores: DataStores) -> None:
    bars = m1_bars(MONDAY, 120)
    stores.bars.upsert("EURUSD", "M1", bars, "import")
    revised = bars[60:].copy()
    revised["close"] += 10 * POINT

    assert stores.bars.upsert("EURUSD", "M1", revised, "ticks") == 60
    stored = stores.bars.read("EURUSD", "M1", MONDAY, MONDAY + 120 * 60)
    np.testing.assert_array_equal(stored, np.concatenate([bars[:60], revised]))
    np.testing.assert_array_equal(stores.bars.read("EURUSD", "M1", count=5), revised[-5:])


def test_completeness_reports_the_missing_hour(stores: DataStores) -> None:
    bars = m1_bars(MONDAY, 180)
    stores.bars.upsert("EURUSD", "M1", np.concatenate([bars[:60], bars[120:]]), "import")

    report = stores.bars.completeness("EURUSD", "M1", MONDAY, MONDAY + 180 * 60)

    assert (report.expected, report.actual) == (180, 120)
    assert [(r.from_s, r.to_s, r.bars) for r in report.missing] == [(MONDAY + 3_600, MONDAY + 7_200, 60)]


def test_reopened_stores_keep_data_and_schema(tmp_path: Path, database_url: str) -> None:
    ticks = make_ticks(500)
    first = open_stores(tmp_path, database_url=database_url)
    first.ticks.insert_batch("EURUSD", ticks)
    first.bars.upsert("EURUSD", "M1", ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT), "ticks")
    first.close()

    again = open_stores(tmp_path, database_url=database_url)
    stats = again.statistics()
    again.close()

    assert [(s["symbol"], s["rows"]) for s in stats["ticks"]] == [("EURUSD", 500)]
    assert stats["bars"][0]["rows"] == len(ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT))
    assert stats["size_bytes"] > 0


@pytest.fixture
def client(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # DATABASE_URL comes from the environment, as in the compose file.
    monkeypatch.setenv("DATABASE_URL", database_url)
    with open_client(make_settings(tmp_path)) as c:
        yield c


def test_data_app_serves_ohlc_and_ticks_from_postgresql(client: TestClient) -> None:
    stores = stores_of(client)
    bars = m1_bars(MONDAY, 30)
    ticks = make_ticks(200)
    stores.bars.upsert("EURUSD", "M1", bars, "import")
    stores.ticks.insert_batch("EURUSD", ticks)

    ohlc = client.get("/ohlc/EURUSD/M1", params={"from": MONDAY, "to": MONDAY + 29 * 60}).json()
    got = client.get("/ticks/EURUSD", params={"from": int(ticks["time_msc"][0]), "limit": 50}).json()

    assert stores.bars.engine.dialect.name == "postgresql"
    assert ohlc["columns"]["close"] == bars["close"].tolist()
    assert got["columns"]["time_msc"] == ticks["time_msc"][:50].tolist()
    assert got["columns"]["bid"] == ticks["bid"][:50].tolist()
    assert client.get("/health").json()["status"] == "ok"

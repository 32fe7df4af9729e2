"""Gap fill through the app and a real job worker against the stand-in mt5 server: exactly the punched
holes are filled, a second run fetches nothing, and ranges the terminal lacks are reported unfillable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.data.core.stores import DataStores
from shared.market.timeframes import get_timeframe
from tests.data.api.conftest import make_settings, open_client
from tests.data.integration.conftest import MONDAY_JAN_8
from tests.data.mt5_standin import StandinMarket, StandinServer
from tests.support.waits import wait_job

pytestmark = pytest.mark.integration
FROM, TO = MONDAY_JAN_8, MONDAY_JAN_8 + 2 * 86_400 - 1  # Monday and Tuesday, inclusive
M1_HOLES = [
    (FROM + 10 * 3600, FROM + 10 * 3600 + 1800),
    (FROM + 86_400 + 15 * 3600 + 420, FROM + 86_400 + 15 * 3600 + 540),
]
TIMEFRAMES = ("M1", "H1", "D1")


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    with StandinServer(StandinMarket(start_ms=(FROM + 5 * 86_400) * 1000)) as server:
        yield server


@pytest.fixture
def client(tmp_path: Path, standin: StandinServer) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, {"gap_fill": {"chunk_bars": 500, "workers": 1}}, mt5_port=standin.port)
    with open_client(settings) as c:
        yield c


def market_rates(standin: StandinServer, timeframe: str) -> np.ndarray:
    market = standin.state.market
    return market.rates_range("EURUSD", get_timeframe(timeframe), FROM, TO, 2**62)


def store_with_holes(stores: DataStores, standin: StandinServer) -> None:
    """The market's bars of the range, minus M1 holes, the H1 10:00 bar and Tuesday's D1 bar."""
    m1 = market_rates(standin, "M1")
    for a, b in M1_HOLES:
        m1 = m1[(m1["time"] < a) | (m1["time"] >= b)]
    h1 = market_rates(standin, "H1")
    d1 = market_rates(standin, "D1")
    stores.bars.upsert("EURUSD", "M1", m1, "ticks")
    stores.bars.upsert("EURUSD", "H1", h1[h1["time"] != FROM + 10 * 3600], "ticks")
    stores.bars.upsert("EURUSD", "D1", d1[:1], "ticks")


def run_gap_fill(client: TestClient) -> dict[str, Any]:
    body = {"symbols": ["EURUSD"], "timeframes": list(TIMEFRAMES), "from": FROM, "to": TO}
    created = client.post("/gap-fill", json=body)
    assert created.status_code == 202
    job_id = created.json()["id"]
    job = wait_job(lambda: client.get(f"/gap-fill/{job_id}").json(), timeout=60)
    assert job["state"] == "completed", job
    return job["result"]  # type: ignore[no-any-return]


def by_timeframe(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["timeframe"]: r for r in result["results"]}


def test_gap_fill_fills_exactly_the_holes_and_a_second_run_fetches_nothing(
    client: TestClient, standin: StandinServer
) -> None:
    stores: DataStores = client.app.state.stores  # type: ignore[attr-defined]
    store_with_holes(stores, standin)
    events: list[dict[str, Any]] = []
    client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]

    first = by_timeframe(run_gap_fill(client))
    rates_after_first = standin.state.requests["rates"]
    second = run_gap_fill(client)

    assert {tf: first[tf]["missing_bars"] for tf in TIMEFRAMES} == {"M1": 32, "H1": 1, "D1": 1}
    assert {tf: first[tf]["written"] for tf in TIMEFRAMES} == {"M1": 32, "H1": 1, "D1": 1}
    for tf in TIMEFRAMES:
        np.testing.assert_array_equal(stores.bars.read("EURUSD", tf, FROM, TO + 1), market_rates(standin, tf))
    assert all(r["unfillable"] == [] for r in first.values())
    assert standin.state.requests["rates"] == rates_after_first  # the second run asked for nothing
    assert second["ranges_total"] == 0
    assert any(e["type"] == "gapfill.completed" for e in events)
    progress = [e["data"] for e in events if e["type"] == "gapfill.progress"]
    assert progress and {"ranges_done", "ranges_total", "eta_s", "percent"} <= set(progress[-1])
    assert [j["state"] for j in client.get("/gap-fill").json()] == ["completed", "completed"]


def test_gap_fill_cancel_stops_the_job(client: TestClient) -> None:
    body = {"symbols": ["EURUSD"], "timeframes": ["M1"], "from": FROM - 200 * 86_400, "to": TO}
    job_id = client.post("/gap-fill", json=body).json()["id"]

    cancelled = client.post(f"/gap-fill/{job_id}/cancel")
    job = wait_job(lambda: client.get(f"/gap-fill/{job_id}").json(), timeout=60)

    assert cancelled.status_code == 202  # accepted: the job ends as cancelled later
    assert job["state"] == "cancelled"
    assert client.post(f"/gap-fill/{job_id}/cancel").status_code == 409


def test_gap_fill_reports_what_the_terminal_lacks_and_stops_asking(
    client: TestClient, standin: StandinServer
) -> None:
    stores: DataStores = client.app.state.stores  # type: ignore[attr-defined]
    store_with_holes(stores, standin)
    lacking = (M1_HOLES[0][0], M1_HOLES[0][0] + 600)
    standin.state.holes = [lacking]

    first = by_timeframe(run_gap_fill(client))
    rates_after_first = standin.state.requests["rates"]
    second = run_gap_fill(client)

    assert first["M1"]["unfillable"] == [{"from": lacking[0], "to": lacking[1]}]
    assert first["M1"]["written"] == 32 - 10
    assert second["ranges_total"] == 0 and standin.state.requests["rates"] == rates_after_first
    report = client.get("/completeness/EURUSD/M1", params={"from": FROM, "to": TO}).json()
    assert report["missing"] == [{"from": lacking[0], "to": lacking[1], "bars": 10, "unfillable": True}]


def test_gap_fill_and_completeness_of_the_markets_future_are_refused_naming_its_now(
    client: TestClient, standin: StandinServer
) -> None:
    year_2031 = {"from": "2031-01-06T00:00:00Z", "to": "2031-01-07T00:00:00Z"}

    fill = client.post("/gap-fill", json={"symbols": ["EURUSD"], "timeframes": ["M1"], **year_2031})
    report = client.get("/completeness/EURUSD/M1", params=year_2031)

    for response in (fill, report):
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert (error["code"], error["details"]["field"]) == ("range_in_future", "from")
        now_ms = error["details"]["market_now_ms"]
        assert abs(now_ms - standin.state.now_ms()) < 60_000  # the market's now (2024), not the wall's
        assert error["details"]["market_now"].startswith("2024-01-13")
    assert client.get("/gap-fill").json() == []  # nothing was written


def test_gap_fill_on_a_weekend_stores_fridays_last_bar(client: TestClient, standin: StandinServer) -> None:
    # The stand-in's clock is Saturday 00:00: the bar holding Friday's last tick (21:45 M15) can no longer
    # change, though no later tick has come to close it.
    friday_close = FROM + 4 * 86_400 + 22 * 3600
    body = {"symbols": ["EURUSD"], "timeframes": ["M15"], "from": friday_close - 3600, "to": friday_close}
    job_id = client.post("/gap-fill", json=body).json()["id"]
    job = wait_job(lambda: client.get(f"/gap-fill/{job_id}").json(), timeout=60)

    assert job["state"] == "completed", job
    assert by_timeframe(job["result"])["M15"]["written"] == 4
    report = client.get("/completeness/EURUSD/M15", params={"from": friday_close - 3600, "to": friday_close})
    assert report.json()["missing"] == []

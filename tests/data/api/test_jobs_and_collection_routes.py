"""POST /gap-fill and /collection/* refusals, and the job endpoints' not-found answers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.data.api.conftest import MONDAY, stores_of


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"symbols": ["NOPE"], "timeframes": ["M1"], "from": MONDAY, "to": MONDAY + 60},
            404,
            "unknown_symbol",
        ),
        (
            {"symbols": ["EURUSD"], "timeframes": ["M7"], "from": MONDAY, "to": MONDAY + 60},
            422,
            "unknown_timeframe",
        ),
        (
            {"symbols": ["EURUSD"], "timeframes": ["M2"], "from": MONDAY, "to": MONDAY + 60},
            422,
            "unknown_timeframe",
        ),
        (
            {"symbols": ["EURUSD"], "timeframes": ["M1"], "from": MONDAY + 60, "to": MONDAY},
            422,
            "invalid_range",
        ),
        ({"symbols": ["EURUSD"], "timeframes": ["M1"], "from": 0, "to": MONDAY}, 422, "range_too_large"),
        ({"symbols": [], "timeframes": ["M1"], "from": MONDAY, "to": MONDAY + 60}, 422, "validation_error"),
        ({"symbols": ["EURUSD"], "timeframes": ["M1"], "to": MONDAY}, 422, "validation_error"),
    ],
)
def test_gap_fill_bad_request_is_refused_and_no_job_exists(
    client: TestClient, body: dict[str, object], status: int, code: str
) -> None:
    response = client.post("/gap-fill", json=body)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert client.get("/gap-fill").json() == []


def test_gap_fill_unknown_job_is_404(client: TestClient) -> None:
    assert client.get("/gap-fill/abc").json()["error"]["code"] == "unknown_job"
    assert client.post("/gap-fill/abc/cancel").status_code == 404


def test_collection_start_unknown_symbol_is_refused_and_nothing_runs(client: TestClient) -> None:
    response = client.post("/collection/start", json={"symbols": ["EURUSD", "NOPE"]})

    assert response.status_code == 404
    assert client.get("/collection/status").json() == {"running": False, "ticks_per_s": 0.0, "symbols": []}
    assert stores_of(client).ticks.symbols() == []

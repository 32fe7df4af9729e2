"""Portfolio jobs through the HTTP API: a two-leg run on one account, and refusals naming the leg."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.backtesting.settings import BacktestingSettings
from tests.backtesting.api.conftest import json_bars, make_settings, open_client, run_to_end

SMA = {"strategy": "sma_crossover", "params": {"fast": 10, "slow": 20}}
BARS = json_bars(600)
EURUSD_BARS = {**BARS, **{k: [v / 90 for v in BARS[k]] for k in ("open", "high", "low", "close")}}
TWO_LEGS = [
    {
        **SMA,
        "symbol": "EURUSD",
        "timeframe": "H1",
        "bars": EURUSD_BARS,
        "sizing": {"mode": "fixed", "value": 0.1},
    },
    {**SMA, "symbol": "USDJPY", "timeframe": "H1", "bars": BARS, "sizing": {"mode": "fixed", "value": 0.1}},
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> BacktestingSettings:
    return make_settings(tmp_path_factory.mktemp("portfolio"), max_bars=5000, max_portfolio_legs=3)


@pytest.fixture(scope="module")
def client(settings: BacktestingSettings) -> Iterator[TestClient]:
    with open_client(settings) as c:
        yield c


def test_portfolio_two_legs_run_on_one_account(client: TestClient) -> None:
    # Arrange: EURUSD and USDJPY (profit converted by its own close) in a USD account
    body = {"legs": TWO_LEGS, "initial_balance": 100_000, "leverage": 100, "finalize_trades": True}

    # Act
    job = run_to_end(client, "/portfolio/start", body, "/portfolio/{id}/status")
    result = client.get(f"/portfolio/{job['id']}/result", params={"max_points": 50}).json()

    # Assert
    assert job["state"] == "completed", job
    assert [leg["label"] for leg in job["params"]["legs"]] == [
        "EURUSD H1 sma_crossover",
        "USDJPY H1 sma_crossover",
    ]
    assert job["params"]["config"]["currency"] == "USD" and job["params"]["config"]["stop_out_level"] == 50.0
    combined, legs = result["combined"], result["legs"]
    assert len(legs) == 2 and set(result["symbols"]) == {"EURUSD", "USDJPY"}
    assert set(result["strategies"]) == {"sma_crossover"}
    assert len(combined["equity"]["time"]) <= 51
    n_trades = [len(leg["trades"]["pnl"]) for leg in legs]
    assert min(n_trades) > 3 and len(combined["trades"]["pnl"]) == sum(n_trades)
    assert sorted(set(combined["trades"]["leg"])) == [0, 1]
    # the account's final equity is the balance plus both legs' P&L (all closed at the end)
    final = combined["metrics"]["equity_final"]
    assert final == pytest.approx(100_000 + sum(sum(leg["trades"]["pnl"]) for leg in legs))
    matrix = result["correlation"]["matrix"]
    assert result["correlation"]["labels"] == [leg["label"] for leg in legs]
    assert len(matrix) == 2 and matrix[0][0] == pytest.approx(1.0) and -1 <= matrix[0][1] <= 1
    listed = client.get("/portfolios").json()
    assert listed[0]["id"] == job["id"] and listed[0]["summary"]


def _leg(index: int, **changes: Any) -> dict[str, Any]:
    legs = [dict(TWO_LEGS[0]), dict(TWO_LEGS[1])]
    legs[index] = {k: v for k, v in {**legs[index], **changes}.items() if v is not None}
    return {"legs": legs}


BAD = [
    ("no_legs", {"legs": []}, 422, "validation_error", "body.legs"),
    ("too_many_legs", {"legs": [TWO_LEGS[0]] * 4}, 422, "too_many_legs", "legs"),
    ("tick_model", {**_leg(0), "model": "ticks"}, 422, "invalid_model", "model"),
    ("unknown_timeframe", _leg(1, timeframe="M7"), 422, "unknown_timeframe", "body.legs.1.timeframe"),
    ("unknown_strategy", _leg(1, strategy="nope"), 404, "unknown_strategy", "legs.1"),
    ("bad_params", _leg(1, params={"fast": 30, "slow": 20}), 422, "invalid_params", "legs.1"),
    ("unknown_field", _leg(0, colour="red"), 422, "validation_error", "body.legs.0.colour"),
    ("no_source", _leg(1, bars=None, timeframe=None), 422, "missing_source", "legs.1.timeframe"),
    ("no_range", _leg(1, bars=None), 422, "missing_range", "legs.1.symbol"),
    ("warmup", _leg(1, bars=json_bars(15)), 422, "insufficient_data", "legs.1"),
    ("ragged", _leg(0, bars={**BARS, "close": BARS["close"][:-1]}), 422, "invalid_bars", "legs.0.bars.close"),
    (
        "risk_no_stop",
        _leg(1, sizing={"mode": "risk_percent", "value": 1}),
        422,
        "invalid_sizing",
        "legs.1.sizing.mode",
    ),
    ("unknown_symbol", _leg(1, symbol="NOPE"), 404, "unknown_symbol", "legs.1"),
    (
        "too_many_bars",
        {"legs": [TWO_LEGS[0], {**TWO_LEGS[1], "bars": json_bars(4500)}]},
        422,
        "too_many_bars",
        "legs",
    ),
    ("no_conversion", {"legs": TWO_LEGS, "currency": "CHF"}, 422, "no_conversion", "legs.0.symbol"),
    ("bad_time", {"legs": TWO_LEGS, "from": "yesterday", "to": "2026-01-01"}, 422, "invalid_time", "from"),
    (
        "reversed_range",
        {"legs": TWO_LEGS, "from": "2026-02-01", "to": "2026-01-01"},
        422,
        "empty_range",
        "from",
    ),
    ("bad_currency", {"legs": TWO_LEGS, "currency": "usd"}, 422, "validation_error", "body.currency"),
    (
        "bad_stop_out",
        {"legs": TWO_LEGS, "stop_out_level": -1},
        422,
        "validation_error",
        "body.stop_out_level",
    ),
]


@pytest.mark.parametrize(("case", "body", "status", "code", "field"), BAD, ids=[c[0] for c in BAD])
def test_portfolio_start_bad_input_names_the_leg_and_persists_nothing(
    client: TestClient,
    settings: BacktestingSettings,
    case: str,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    spool = Path(settings.jobs_db_path.parent / "bars")
    before = (client.get("/portfolios").json(), sorted(spool.iterdir()))

    response = client.post("/portfolio/start", json=body)

    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (status, code), response.text
    named = error["details"].get("field") or error["details"]["errors"][0]["field"]
    assert named == field, error
    if field.startswith("legs."):
        assert error["message"].startswith(f"legs[{field.split('.')[1]}]")
    assert (client.get("/portfolios").json(), sorted(spool.iterdir())) == before

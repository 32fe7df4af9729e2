"""Every refused request: a 4xx in the error shape naming the problem, and nothing persisted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.backtesting.settings import BacktestingSettings
from tests.backtesting.api.conftest import json_bars, make_settings, open_client

BARS = json_bars(300)
SMA = {"strategy": "sma_crossover", "params": {"fast": 10, "slow": 20}}
SPACE = {"fast": {"values": [5, 10]}, "slow": {"values": [20, 30]}}
RANGE = {"symbol": "EURUSD", "timeframe": "H1", "from": "2024-01-01", "to": "2024-02-01"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> BacktestingSettings:
    return make_settings(tmp_path_factory.mktemp("bad"), max_bars=1000, max_combinations=50)


@pytest.fixture(scope="module")
def client(settings: BacktestingSettings) -> Iterator[TestClient]:
    with open_client(settings) as c:
        yield c


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


BACKTEST_CASES = [
    ("unknown_strategy", _with(SMA, strategy="nope", bars=BARS), 404, "unknown_strategy"),
    ("fast_not_below_slow", _with(SMA, params={"fast": 30, "slow": 20}, bars=BARS), 422, "invalid_params"),
    ("param_wrong_type", _with(SMA, params={"fast": "ten"}, bars=BARS), 422, "invalid_params"),
    ("param_unknown", _with(SMA, params={"fastest": 3}, bars=BARS), 422, "invalid_params"),
    ("reversed_range", _with(SMA, **{**RANGE, "from": "2024-03-01"}), 422, "empty_range"),
    ("bad_time", _with(SMA, **{**RANGE, "from": "yesterday"}), 422, "invalid_time"),
    ("unknown_timeframe", _with(SMA, **{**RANGE, "timeframe": "M7"}), 422, "unknown_timeframe"),
    ("unknown_symbol", _with(SMA, symbol="NOPE", bars=BARS), 404, "unknown_symbol"),
    ("unknown_symbol_range", _with(SMA, **{**RANGE, "symbol": "NOPE"}), 404, "unknown_symbol"),
    ("warmup", _with(SMA, bars=json_bars(15)), 422, "insufficient_data"),
    ("too_many_bars", _with(SMA, bars=json_bars(1001)), 422, "too_many_bars"),
    ("no_source", SMA, 422, "validation_error"),
    ("ragged", _with(SMA, bars={**BARS, "close": BARS["close"][:-1]}), 422, "invalid_bars"),
    ("high_below_low", _with(SMA, bars={**BARS, "high": [0.0, *BARS["high"][1:]]}), 422, "invalid_bars"),
    ("no_bars", _with(SMA, bars={name: [] for name in BARS}), 422, "invalid_bars"),
    ("unordered", _with(SMA, bars={**BARS, "time": BARS["time"][::-1]}), 422, "invalid_bars"),
    ("null_price", _with(SMA, bars={**BARS, "low": [None, *BARS["low"][1:]]}), 422, "validation_error"),
    ("string_price", _with(SMA, bars={**BARS, "low": ["99.5", *BARS["low"][1:]]}), 422, "validation_error"),
    ("boolean_price", _with(SMA, bars={**BARS, "high": [True, *BARS["high"][1:]]}), 422, "validation_error"),
    ("fractional_time", _with(SMA, bars={**BARS, "time": [0.5, *BARS["time"][1:]]}), 422, "validation_error"),
    (
        "risk_over_100",
        _with(SMA, bars=BARS, sizing={"mode": "risk_percent", "value": 150}),
        422,
        "validation_error",
    ),
    # Found by fuzzing: an unknown mode name was a KeyError and a 500.
    ("unknown_sizing_mode", _with(SMA, bars=BARS, sizing={"mode": "AAA"}), 422, "validation_error"),
    # Lax mode read `false` as the mode numbered 0 (fixed lots) and `true` as epoch second 1.
    ("boolean_sizing_mode", _with(SMA, bars=BARS, sizing={"mode": False}), 422, "validation_error"),
    (
        "string_sizing_value",
        _with(SMA, bars=BARS, sizing={"mode": "fixed", "value": "1"}),
        422,
        "validation_error",
    ),
    ("boolean_time", _with(SMA, **{**RANGE, "from": True}), 422, "validation_error"),
    ("bad_fill", _with(SMA, bars=BARS, fill="tomorrow"), 422, "validation_error"),
    ("bad_balance", _with(SMA, bars=BARS, initial_balance=0), 422, "validation_error"),
    ("unknown_field", _with(SMA, bars=BARS, colour="red"), 422, "validation_error"),
]

SEARCH = {"strategy": "sma_crossover", "space": SPACE, "bars": BARS}
SEARCH_CASES = [
    ("/optimize", _with(SEARCH, strategy="nope"), 404, "unknown_strategy"),
    ("/optimize", _with(SEARCH, metric="Luck"), 422, "unknown_metric"),
    ("/optimize", _with(SEARCH, heatmap=["fast", "colour"]), 422, "invalid_heatmap"),
    (
        "/optimize",
        _with(SEARCH, space={"fast": {"values": [30, 40]}, "slow": {"values": [10]}}),
        422,
        "invalid_params",
    ),
    (
        "/optimize",
        _with(SEARCH, space={"fast": {"min": 1, "max": 100, "step": 1}}),
        422,
        "too_many_combinations",
    ),
    ("/optimize", _with(SEARCH, space={"fast": {"min": 9, "max": 5, "step": 1}}), 422, "validation_error"),
    (
        "/optimize",
        _with(SEARCH, space={"fast": {"min": 1, "max": 5, "step": 1, "values": [3]}}),
        422,
        "validation_error",
    ),
    ("/optimize", _with(SEARCH, space={}), 422, "validation_error"),
    ("/optimize", _with(SEARCH, space={"slow": {"values": [400]}}), 422, "insufficient_data"),
    ("/optimize", _with(SEARCH, method="annealing"), 422, "validation_error"),
    ("/walk-forward", _with(SEARCH, in_sample_bars=200, out_of_sample_bars=200), 422, "insufficient_data"),
    ("/walk-forward", _with(SEARCH, in_sample_bars=15, out_of_sample_bars=50), 422, "insufficient_data"),
    ("/walk-forward", _with(SEARCH, in_sample_bars=100), 422, "validation_error"),
]


def _persisted(client: TestClient, settings: BacktestingSettings) -> tuple[Any, ...]:
    spool = settings.jobs_db_path.parent / "bars"
    return (
        client.get("/backtests").json(),
        client.get("/optimizations").json(),
        client.get("/walk-forwards").json(),
        sorted(Path(spool).iterdir()),
    )


@pytest.mark.parametrize(
    ("case", "body", "status", "code"), BACKTEST_CASES, ids=[c[0] for c in BACKTEST_CASES]
)
def test_backtest_start_bad_input_is_refused_and_persists_nothing(
    client: TestClient, settings: BacktestingSettings, case: str, body: dict[str, Any], status: int, code: str
) -> None:
    before = _persisted(client, settings)

    response = client.post("/backtest/start", json=body)

    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert response.json()["error"]["message"]
    assert _persisted(client, settings) == before == ([], [], [], [])


@pytest.mark.parametrize(
    ("path", "body", "status", "code"), SEARCH_CASES, ids=[f"{c[0]}-{c[3]}" for c in SEARCH_CASES]
)
def test_search_start_bad_input_is_refused_and_persists_nothing(
    client: TestClient, settings: BacktestingSettings, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    response = client.post(path, json=body)

    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert _persisted(client, settings) == ([], [], [], [])


def test_invalid_params_names_the_rule_that_failed(client: TestClient) -> None:
    response = client.post("/backtest/start", json=_with(SMA, params={"fast": 30, "slow": 20}, bars=BARS))

    errors = response.json()["error"]["details"]["errors"]
    assert errors[0]["field"] in ("fast", "slow") and "fast" in errors[0]["message"]


def test_malformed_json_is_a_validation_error(client: TestClient) -> None:
    response = client.post(
        "/backtest/start", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/backtest/123/status", 404, "unknown_job"),
        ("get", "/backtest/123/result", 404, "unknown_job"),
        ("post", "/backtest/123/cancel", 404, "unknown_job"),
        ("delete", "/backtest/123", 404, "unknown_job"),
        ("get", "/optimize/123", 404, "unknown_job"),
        ("get", "/walk-forward/123", 404, "unknown_job"),
        ("get", "/backtest/123/result?max_points=1", 422, "validation_error"),
        ("get", "/backtests?limit=0", 422, "validation_error"),
    ],
)
def test_unknown_ids_and_bad_queries_are_4xx(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    response = getattr(client, method)(path)

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)

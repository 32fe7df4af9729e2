"""Backtest jobs through the HTTP API: result, progress events, cancel, delete, restart."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from fastapi.testclient import TestClient

from services.backtesting.core import BacktestConfig, CostConfig, run_backtest
from services.backtesting.settings import BacktestingSettings
from shared.trading import SizingConfig, SizingMode, build_strategy
from tests.backtesting.api.conftest import json_bars, open_client, run_to_end
from tests.support.waits import wait_job

PARAMS = {"fast": 10, "slow": 20}


def _as_json(value: Any) -> Any:
    """What a value looks like after the API's JSON encoding (NaN -> null, numpy -> lists)."""
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY))


def _start(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"strategy": "sma_crossover", "params": PARAMS, "bars": json_bars(), **fields}
    return run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")


def test_backtest_inline_bars_result_equals_in_process_run(client: TestClient) -> None:
    bars = json_bars(1500)
    costs = {"commission_fraction": 0.001, "spread_points": 2, "slippage_points": 1}
    sizing = {"mode": "equity_fraction", "value": 0.5}
    body = {
        "strategy": "sma_crossover",
        "params": PARAMS,
        "bars": bars,
        "initial_balance": 50_000,
        "costs": costs,
        "sizing": sizing,
        "fill": "this_close",
    }

    job = run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")
    result = client.get(f"/backtest/{job['id']}/result", params={"max_points": 5000}).json()

    assert job["state"] == "completed" and job["percent"] == 100.0
    expected = run_backtest(
        {name: np.asarray(values) for name, values in bars.items()},
        build_strategy("sma_crossover", PARAMS),
        BacktestConfig(
            initial_balance=50_000,
            costs=CostConfig(**costs),
            sizing=SizingConfig(mode=SizingMode.EQUITY_FRACTION, value=0.5),
            fill="this_close",
        ),
    )
    assert result == _as_json(expected.to_dict())
    assert len(result["trades"]["pnl"]) > 10


def test_backtest_result_max_points_thins_the_equity_curve(client: TestClient) -> None:
    job = _start(client)

    thin = client.get(f"/backtest/{job['id']}/result", params={"max_points": 50}).json()
    default = client.get(f"/backtest/{job['id']}/result").json()

    assert 40 <= len(thin["equity"]["time"]) <= 51
    assert thin["equity"]["time"][-1] == default["equity"]["time"][-1] == json_bars()["time"][-1]
    assert len(default["equity"]["time"]) <= 1001  # backtesting.default_equity_points


def test_backtest_progress_and_completion_reach_the_event_stream(client: TestClient) -> None:
    with client.websocket_connect("/ws/events?types=backtest.*") as ws:
        job = _start(client)
        seen: list[dict[str, Any]] = []
        while not any(e["type"] == "backtest.completed" for e in seen):
            event = ws.receive_json()
            if event.get("data", {}).get("job_id") == job["id"]:
                seen.append(event)

    progress = [e["data"] for e in seen if e["type"] == "backtest.progress"]
    assert progress and progress[-1]["percent"] == 100.0
    assert progress[-1]["strategy"] == "sma_crossover"


def test_backtest_cancel_before_it_runs_ends_cancelled_without_result(client: TestClient) -> None:
    # The app's first job waits for its worker process to spawn, so the flag is up before it starts.
    started = client.post(
        "/backtest/start", json={"strategy": "sma_crossover", "params": PARAMS, "bars": json_bars()}
    ).json()
    cancel = client.post(f"/backtest/{started['id']}/cancel")

    job = wait_job(lambda: client.get(f"/backtest/{started['id']}/status").json())

    assert cancel.status_code == 202
    assert job["state"] == "cancelled"
    refused = client.get(f"/backtest/{started['id']}/result")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "result_not_available"
    again = client.post(f"/backtest/{started['id']}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"


def test_backtest_delete_removes_it_from_the_listing(client: TestClient) -> None:
    job = _start(client)

    deleted = client.delete(f"/backtest/{job['id']}")

    assert deleted.status_code == 204
    assert client.get("/backtests").json() == []
    gone = client.get(f"/backtest/{job['id']}/status")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_job"


def test_backtest_result_survives_a_restart(settings: BacktestingSettings) -> None:
    with open_client(settings) as first:
        job = _start(first)
        before = first.get(f"/backtest/{job['id']}/result").json()

    with open_client(settings) as second:
        listed = second.get("/backtests").json()
        after = second.get(f"/backtest/{job['id']}/result").json()

    assert [item["id"] for item in listed] == [job["id"]]
    assert listed[0]["summary"]["return_pct"] == before["metrics"]["return_pct"]
    assert listed[0]["summary"]["trades"] == len(before["trades"]["pnl"])
    assert "bars_file" not in listed[0]["params"] and listed[0]["params"]["bars"] == 2000
    assert after == before


def test_backtest_id_of_another_kind_is_not_found(client: TestClient) -> None:
    job = _start(client)

    response = client.get(f"/optimize/{job['id']}")

    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_job"


def test_strategies_lists_builtins_with_parameter_schemas(client: TestClient) -> None:
    strategies = {s["name"]: s for s in client.get("/strategies").json()}

    assert {"sma_crossover", "ema_crossover", "rsi_mean_reversion", "macd_trend"} <= set(strategies)
    schema = strategies["sma_crossover"]["params_schema"]
    assert {"fast", "slow"} <= set(schema["properties"])

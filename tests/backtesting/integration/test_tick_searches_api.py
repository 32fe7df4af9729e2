"""Optimisation and walk-forward in the tick models through the API: every parameter set of a search scores
what a single tick-model backtest of it scores, and every walk-forward window trades only its own ticks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.trading import build_strategy
from tests.backtesting.api.conftest import make_settings, open_client, run_to_end
from tests.backtesting.tick_market import H1, M1, TICKS, body
from tests.support.data_standin import DataStandIn

SPACE = {"fast": {"values": [5, 8]}, "slow": {"values": [12, 20]}}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # Two search workers: the trials run in the local pool, on ticks shared with them as the bars are.
    settings = make_settings(tmp_path_factory.mktemp("tick-searches"), tick_chunk=100_000, optimize_workers=2)
    store = {("EURUSD", "H1"): H1, ("EURUSD", "M1"): M1}
    with DataStandIn(settings, store, ticks={"EURUSD": TICKS}), open_client(settings) as c:
        yield c


def _backtest(client: TestClient, request: dict[str, Any]) -> dict[str, Any]:
    job = run_to_end(client, "/backtest/start", request, "/backtest/{id}/status")
    assert job["state"] == "completed", job["error"]
    result: dict[str, Any] = client.get(f"/backtest/{job['id']}/result").json()
    return result


@pytest.mark.parametrize("model", ["ticks", "m1_ohlc"])
def test_optimize_tick_model_scores_each_parameter_set_as_its_single_backtest(
    client: TestClient, model: str
) -> None:
    request = {**body("EURUSD", model), "space": SPACE, "metric": "Return [%]", "top_n": 10}

    job = run_to_end(client, "/optimize", request, "/optimize/{id}")
    result = client.get(f"/optimize/{job['id']}").json()["result"]

    assert job["state"] == "completed", job["error"]
    assert job["params"]["config"]["model"] == model
    assert result["evaluated"] == 4
    for ranked in result["top"]:
        single = _backtest(client, {**body("EURUSD", model), "params": ranked["params"]})
        assert ranked["metrics"] == single["metrics"], ranked["params"]
    assert len({r["metrics"]["return_pct"] for r in result["top"]}) > 1  # the parameters matter


def test_walk_forward_m1_ohlc_windows_equal_single_backtests_on_their_own_range(client: TestClient) -> None:
    request = {
        **body("EURUSD", "m1_ohlc"),
        "space": SPACE,
        "metric": "Return [%]",
        "in_sample_bars": 100,
        "out_of_sample_bars": 50,
        # A trade still open closes at the window's last tick: a tick past the window would show.
        "finalize_trades": True,
    }

    job = run_to_end(client, "/walk-forward", request, "/walk-forward/{id}")
    result = client.get(f"/walk-forward/{job['id']}", params={"max_points": 5000}).json()["result"]

    assert job["state"] == "completed", job["error"]
    windows = result["windows"]
    assert [w["out_of_sample"] for w in windows] == [[100, 150], [150, 200], [200, 250], [250, 300]]
    stitched = result["trades"]
    balance = 10_000.0
    for window in windows:
        oos_start, oos_end = window["out_of_sample"]
        lead = min(max(build_strategy("sma_crossover", window["params"]).warmup, 1), oos_start)
        # The window's bars with their warm-up lead, its M1 minutes only, the balance the last one left.
        single = _backtest(
            client,
            {
                **body("EURUSD", "m1_ohlc"),
                "params": window["params"],
                "from": int(H1["time"][oos_start - lead]),
                "to": int(H1["time"][oos_end - 1]),
                "initial_balance": balance,
                "finalize_trades": True,
            },
        )
        oos = window["out_of_sample_metrics"]
        assert oos["trades"] == single["metrics"]["trades"]
        assert oos["return_pct"] == pytest.approx(single["metrics"]["return_pct"], rel=1e-12, abs=1e-12)
        mine = [k for k, bar in enumerate(stitched["entry_bar"]) if oos_start <= bar + 100 < oos_end]
        for name in ("entry_price", "exit_price", "exit_reason", "pnl"):
            assert [stitched[name][k] for k in mine] == single["trades"][name], name
        balance = single["equity"]["equity"][-1]
    assert sum(w["out_of_sample_metrics"]["trades"] for w in windows) > 3

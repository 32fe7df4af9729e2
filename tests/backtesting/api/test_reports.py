"""A finished backtest as files: returns tables in the result, the trades CSV and the HTML report, and the
refusals (unknown id, another kind's id) in the platform's error shape."""

from __future__ import annotations

import csv
import io
import math
from html.parser import HTMLParser
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from tests.backtesting.api.conftest import run_to_end
from tests.support.bars import json_columns, random_walk_bars

EURUSD_LIKE = {
    "point": 0.00001,
    "tick_size": 0.00001,
    "tick_value": 1.0,
    "volume_min": 0.01,
    "volume_step": 0.01,
}


def _bars_at_five_digits(n: int = 3000) -> dict[str, list[Any]]:
    """Hourly bars around 1.0 on a 0.00001 price grid (four months, so several months and weeks)."""
    bars = random_walk_bars(n)
    return json_columns({k: v if k == "time" else np.round(1 + (v - 100) / 1000, 5) for k, v in bars.items()})


def _run(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {
        "strategy": "sma_crossover",
        "params": {"fast": 10, "slow": 30},
        "bars": _bars_at_five_digits(),
        "symbol_facts": EURUSD_LIKE,
        "sizing": {"mode": "fixed", "value": 0.1},
        **fields,
    }
    job = run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")
    assert job["state"] == "completed", job
    return job


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_backtest_result_returns_tables_compound_to_the_run_return(client: TestClient) -> None:
    job = _run(client)

    result = client.get(f"/backtest/{job['id']}/result").json()

    returns, total = result["returns"], result["metrics"]["return_pct"]
    assert [row["key"] for row in returns["months"]][:2] == ["2023-11", "2023-12"]
    for table in ("months", "weeks", "years"):
        growth = math.prod(1 + row["return_pct"] / 100 for row in returns[table])
        assert math.isclose((growth - 1) * 100, total, rel_tol=1e-9, abs_tol=1e-9), table
    assert len(returns["weeks"]) > len(returns["months"]) > 1
    assert len(result["equity"]["close"]) == len(result["equity"]["time"])


def test_backtest_trades_csv_lists_every_trade_at_the_symbols_digits(client: TestClient) -> None:
    job = _run(client)
    trades = client.get(f"/backtest/{job['id']}/result").json()["trades"]

    response = client.get(f"/backtest/{job['id']}/trades.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"backtest-{job['id'][:8]}-sma_crossover" in disposition
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(trades["pnl"]) > 5
    for row, entry, exit_ in zip(rows, trades["entry_price"], trades["exit_price"], strict=True):
        assert row["entry_price"] == f"{entry:.5f}" and row["exit_price"] == f"{exit_:.5f}"
        assert row["direction"] in ("buy", "sell") and row["volume"] == "0.10"
    assert rows[0]["entry_time"].endswith("Z")


def test_backtest_report_html_is_self_contained_with_charts_and_returns(client: TestClient) -> None:
    job = _run(client)

    response = client.get(f"/backtest/{job['id']}/report.html")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-disposition"].endswith('.html"')
    parser = _Tags()
    parser.feed(response.text)
    names = [tag for tag, _ in parser.tags]
    assert "script" not in names and "link" not in names and "img" not in names and "iframe" not in names
    for _, attrs in parser.tags:
        for key in ("src", "href", "xlink:href"):
            assert not (attrs.get(key) or "").lower().startswith(("http:", "https:", "//")), attrs
    assert "http://" not in response.text and "https://" not in response.text
    svgs = [attrs for tag, attrs in parser.tags if tag == "svg"]
    assert [s["aria-label"] for s in svgs] == ["Equity", "Drawdown [%]", "Price and trades"]
    assert names.count("polyline") == 3 and names.count("rect") > 5  # every trade's exit is marked
    assert 'class="returns"' in response.text and "Weekly returns" in response.text
    assert "sma_crossover" in response.text


def test_backtest_report_html_shows_the_runs_warnings(client: TestClient) -> None:
    # A size below the symbol's minimum volume: every entry is skipped and the run says why.
    job = _run(client, sizing={"mode": "fixed", "value": 0.001})

    text = client.get(f"/backtest/{job['id']}/report.html").text

    assert "<h2>Warnings</h2>" in text and "below the symbol" in text and "made no trades" in text


def test_backtest_report_unknown_id_is_404_in_the_error_shape(client: TestClient) -> None:
    for path in ("/backtest/nope/report.html", "/backtest/nope/trades.csv"):
        response = client.get(path)

        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "unknown_job" and error["details"] == {"job_id": "nope"}


def test_backtest_report_of_an_optimisation_id_is_404_not_another_kinds_report(client: TestClient) -> None:
    body = {
        "strategy": "sma_crossover",
        "bars": _bars_at_five_digits(600),
        "space": {"fast": {"values": [5, 10]}, "slow": {"values": [20]}},
    }
    job = run_to_end(client, "/optimize", body, "/optimize/{id}")

    response = client.get(f"/backtest/{job['id']}/report.html")

    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_job"

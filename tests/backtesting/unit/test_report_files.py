"""The report's pieces without HTTP: value formats, the trades CSV, SVG downsampling, and the report's size
for a long run."""

from __future__ import annotations

import csv
import io
import math
from html.parser import HTMLParser

import numpy as np

from services.backtesting.core.report_html import ReportLimits, build_report
from services.backtesting.core.report_svg import line_chart, min_max_downsample
from services.backtesting.core.report_values import digits_of, duration, fixed
from services.backtesting.core.trades_csv import trades_csv


def test_duration_reads_as_a_person_says_it() -> None:
    assert [duration(s) for s in (0, 45, 12_000, 187_200, 90, math.nan)] == [
        "0 s",
        "45 s",
        "3 h 20 min",
        "2 d 4 h",
        "1 min 30 s",
        "\u2013",
    ]


def test_fixed_keeps_prices_on_the_grid_at_digits_and_off_grid_fills_exact() -> None:
    assert digits_of(0.00001) == 5 and digits_of(0.01) == 2 and digits_of(1.0) == 0
    assert fixed(1.1 + 0.00002, 5) == "1.10002"  # float noise is not a digit
    assert fixed(1.100025, 5) == "1.100025"  # a relative spread moved it off the grid: kept whole
    assert fixed(-0.000001, 2) == "-1e-06"
    assert fixed(-0.0, 2) == "0.00" and fixed(math.nan, 5) == ""


def test_trades_csv_one_row_per_trade_with_side_and_volume_decimals() -> None:
    trades = {
        "entry_time": [1_767_225_600, 1_767_312_000],
        "exit_time": [1_767_237_600, 1_767_499_200],
        "size": [0.1, -0.25],
        "entry_price": [1.17001, 1.16990],
        "exit_price": [1.17102, 1.16500],
        "sl": [math.nan, 1.175],
        "tp": [math.nan, math.nan],
        "pnl": [10.1, 122.5],
        "commission": [0.0, 0.7],
        "return_pct": [0.0863, 0.4188],
        "duration_s": [12_000.0, 187_200.0],
        "exit_reason": ["signal", "take_profit"],
    }

    text = trades_csv(trades, point=0.00001, volume_step=0.01)

    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {
        "entry_time": "2026-01-01T00:00:00Z",
        "exit_time": "2026-01-01T03:20:00Z",
        "direction": "buy",
        "volume": "0.10",
        "entry_price": "1.17001",
        "exit_price": "1.17102",
        "sl": "",
        "tp": "",
        "pnl": "10.10",
        "commission": "0.00",
        "return_pct": "0.0863",
        "duration_s": "12000",
        "exit_reason": "signal",
    }
    assert (rows[1]["direction"], rows[1]["volume"], rows[1]["sl"], rows[1]["exit_price"]) == (
        "sell",
        "0.25",
        "1.17500",
        "1.16500",
    )


def test_min_max_downsample_keeps_every_spike_within_the_point_budget() -> None:
    n = 1_000_000
    time = np.arange(n, dtype=np.float64) * 60
    values = np.sin(np.arange(n) / 5000)
    values[123_457], values[876_543] = 50.0, -50.0

    t, v = min_max_downsample(time, values, 2000)

    assert len(t) == len(v) <= 2000
    assert v.max() == 50.0 and v.min() == -50.0
    assert np.all(np.diff(t) >= 0) and t[0] == 0


class _Count(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.points = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "polyline":
            self.points += len((dict(attrs)["points"] or "").split())


def test_line_chart_of_a_million_points_stays_small() -> None:
    n = 1_000_000
    svg = line_chart(np.arange(n) * 60.0, np.cumsum(np.ones(n)), title="Equity", max_points=2000)

    parser = _Count()
    parser.feed(svg)
    assert parser.points <= 2000 and len(svg) < 60_000


def test_build_report_of_a_run_without_trades_or_close_still_renders() -> None:
    job = {"id": "abc", "params": {"strategy": "s", "config": {}}, "finished_ms": None}
    result = {
        "metrics": {"start": 0.0, "end": 3600.0, "duration_s": 3600.0, "trades": 0},
        "warnings": [{"code": "no_trades", "message": "the run made no trades", "count": 0}],
        "trades": {"pnl": []},
        "equity": {"time": [0, 3600], "equity": [100.0, 100.0], "drawdown_pct": [0.0, 0.0]},
    }

    text = build_report(job, result, ReportLimits(chart_points=100, max_trades=10))

    assert text.count("<svg") == 2 and "the run made no trades" in text and "Trades (0)" in text
    assert "finished \u2013" in text

"""The backtest report in the dashboard: returns by month (weeks on demand), human durations, the exports
through the gateway (the HTML report opened offline, its SVG charts drawn; the trades CSV), and the
optimisation view (table sorted by any column, heat map of a chosen metric)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from tests.e2e.offline_report import open_offline
from tests.support.platform import Platform


def _run_backtest(page: Any, fixed_size: str | None = None) -> None:
    page.wait_for_selector("#connection.conn-online")
    # The form takes the service's defaults when they arrive: a size set before would be overwritten.
    with page.expect_response(lambda r: "/backtest/defaults" in r.url, timeout=20_000) as defaults:
        page.click("#tab-backtests")
    defaults.value.finished()
    page.wait_for_selector("#bt-params [data-param=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-timeframe", "H1")
    if fixed_size is not None:
        page.select_option("#bt-sizing", "fixed")
        page.fill("#bt-size", fixed_size)
    page.click("#bt-run")
    page.wait_for_selector("#bt-result:not([hidden])", timeout=120_000)


def test_dashboard_backtest_report_returns_and_exports_open_offline(
    page: Any, platform: Platform, tmp_path: Path
) -> None:
    _run_backtest(page)
    page.wait_for_selector("#bt-returns tbody td[data-return]")
    assert page.eval_on_selector_all("#bt-returns tbody tr", "rows => rows.length") >= 1
    page.click("#bt-weeks-toggle")
    page.wait_for_selector("#bt-weeks tbody tr")
    assert page.eval_on_selector_all("#bt-weeks tbody tr", "rows => rows.length") >= 4
    durations = page.eval_on_selector_all(
        "#bt-trades tbody tr td:nth-child(3)", "cells => cells.map(c => c.textContent)"
    )
    assert durations and all(re.fullmatch(r"\d+ (d|h|min|s)( \d+ (h|min|s))?", d) for d in durations), (
        durations
    )
    assert re.search(r"\(\d+ d( \d+ h)?\)", page.text_content("#bt-period") or "")

    with page.expect_download() as report_download:
        page.click("#bt-export-report")
    report = tmp_path / report_download.value.suggested_filename
    report_download.value.save_as(report)
    with page.expect_download() as csv_download:
        page.click("#bt-export-csv")
    trades = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(trades)

    assert report.name.endswith(".html") and trades.name.endswith(".csv")
    rows = list(csv.DictReader(trades.open(newline="")))
    assert rows and re.fullmatch(r"\d+\.\d{5}", rows[0]["entry_price"])  # EURUSD's five digits

    # The saved file alone, in a browser that may load nothing but files.
    boxes, fetched = open_offline(page.context.browser, report, "report_html_offline.png")
    assert len(boxes) == 3 and all(w > 100 and h > 10 for w, h in boxes), boxes
    assert fetched == []

    # Through the gateway, the API user gets the same files with their headers.
    run_id = platform.http.get("/api/backtesting/backtests").json()[0]["id"]
    response = platform.http.get(f"/api/backtesting/backtest/{run_id}/trades.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="{trades.name}"'
    missing = platform.http.get("/api/backtesting/backtest/nope/report.html")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_job"


def test_dashboard_optimisation_table_sorts_by_any_column_and_heat_map_metric_is_chosen(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#opt-space [data-space=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-timeframe", "H1")
    page.click("#opt-run")
    page.wait_for_selector("#opt-heatmap tbody tr", timeout=120_000)

    keys = page.eval_on_selector_all("#opt-table thead th", "cells => cells.map(c => c.dataset.sort)")
    column = f"#opt-table tbody tr td:nth-child({keys.index('trades') + 1})"
    read = "cells => cells.map(c => Number(c.textContent.replace(/,/g, '')))"
    page.click('#opt-table th[data-sort="trades"] button')
    first = page.eval_on_selector_all(column, read)
    page.click('#opt-table th[data-sort="trades"] button')
    second = page.eval_on_selector_all(column, read)
    assert page.get_attribute('#opt-table th[data-sort="trades"]', "aria-sort") == "ascending"
    assert first == sorted(first, reverse=True) and second == sorted(second) and len(set(first)) > 1

    before = page.text_content("#opt-heatmap caption") or ""
    page.select_option("#opt-heat-metric", "trades")
    caption = page.text_content("#opt-heatmap caption") or ""
    values = page.eval_on_selector_all(
        "#opt-heatmap td[data-value]", "cells => cells.map(c => Number(c.dataset.value))"
    )
    assert before.startswith("sharpe_ratio:") and caption.startswith(
        "trades: fast (rows) \u00d7 slow (columns)"
    )
    assert values and all(v == int(v) for v in values) and sorted(set(values)) == sorted(set(first))


def test_dashboard_backtest_warnings_are_shown_above_the_report(page: Any, platform: Platform) -> None:
    _run_backtest(page, fixed_size="0.001")  # below EURUSD's minimum volume: every entry is skipped

    warning = page.wait_for_selector("#bt-warnings [data-warning=volume_below_minimum]")
    box = warning.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 5
    assert "minimum volume" in (warning.text_content() or "")
    assert page.is_visible("#bt-warnings [data-warning=no_trades]")

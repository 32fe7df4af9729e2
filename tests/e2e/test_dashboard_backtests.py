"""The Backtests panel: a run from the generated form shows progress, the equity chart and the metrics."""

from __future__ import annotations

from typing import Any

from tests.support.platform import Platform


def test_dashboard_backtest_from_form_shows_progress_equity_and_metrics(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#bt-params [data-param=fast]", state="attached", timeout=20_000)
    page.fill("#bt-param-fast", "8")
    page.fill("#bt-param-slow", "21")
    page.select_option("#bt-timeframe", "H1")
    page.click("#bt-run")
    # The data service has no history yet: the panel fills the gaps, then runs the backtest.
    page.wait_for_selector("#bt-result:not([hidden])", timeout=120_000)
    assert page.eval_on_selector("#bt-progress", "p => p.value") == 100
    trades = page.text_content('[data-metric="trades"]')
    assert trades and trades != "\u2013"  # an en dash: the panel's "no value"
    page.wait_for_selector("#bt-equity canvas")
    assert int(page.eval_on_selector("#bt-equity", "box => box.dataset.points")) > 1
    runs = platform.http.get("/api/backtesting/backtests").json()
    assert runs[0]["state"] == "completed"
    assert runs[0]["params"]["params"] == {"fast": 8, "slow": 21, "allow_short": True}


def test_dashboard_invalid_parameters_show_the_rule_that_failed(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#bt-params [data-param=fast]", state="attached", timeout=20_000)
    page.fill("#bt-param-fast", "30")
    page.fill("#bt-param-slow", "10")
    page.click("#bt-run")
    page.wait_for_selector("#bt-status.error-text", timeout=20_000)
    assert "fast" in page.text_content("#bt-status")


def test_dashboard_optimisation_shows_sortable_table_and_heat_map(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#opt-space [data-space=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-timeframe", "H1")
    page.click("#opt-run")
    page.wait_for_selector("#opt-heatmap tbody tr", timeout=120_000)
    assert "combinations evaluated" in page.text_content("#opt-table caption")
    rows = page.eval_on_selector_all("#opt-table tbody tr", "rows => rows.length")
    assert rows > 1
    headers = page.eval_on_selector_all("#opt-table thead th", "cells => cells.map(c => c.textContent)")
    column = headers.index("fast")
    page.click(f"#opt-table thead th:nth-child({column + 1}) button")
    values = page.eval_on_selector_all(
        f"#opt-table tbody tr td:nth-child({column + 1})", "cells => cells.map(c => Number(c.textContent))"
    )
    assert values == sorted(values, reverse=True) and len(set(values)) > 1

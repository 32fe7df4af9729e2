"""The Data panel: a gap fill started from the form runs to the end, and the heat map shows the result."""

from __future__ import annotations

from typing import Any

from tests.support.platform import Platform


def test_dashboard_gap_fill_progress_bar_finishes_and_heat_map_fills(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-data")
    page.wait_for_selector("#gapfill-symbols input[value=EURUSD]:checked")
    page.wait_for_selector("#completeness-table caption")
    page.click("#gapfill-submit")
    page.wait_for_function(
        "document.getElementById('gapfill-status').textContent === 'completed'", timeout=60_000
    )
    assert page.eval_on_selector("#gapfill-progress", "p => p.value") == 100
    page.wait_for_function(
        "[...document.querySelectorAll('#completeness-table tbody tr:first-child td[data-percent]')]"
        ".some(td => Number(td.dataset.percent) === 100)",
        timeout=20_000,
    )
    jobs = platform.http.get("/api/data/gap-fill").json()
    assert jobs and jobs[0]["state"] == "completed"


def test_dashboard_collection_start_shows_stored_ticks(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-data")
    page.click("#collection-start")
    page.wait_for_function(
        "[...document.querySelectorAll('#collection-table td[data-stored]')].some(td => Number(td.dataset.stored) > 0)",
        timeout=30_000,
    )
    page.click("#collection-stop")
    page.wait_for_function(
        "document.getElementById('collection-summary').textContent === 'stopped'", timeout=15_000
    )

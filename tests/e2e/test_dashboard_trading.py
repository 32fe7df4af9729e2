"""Market and Trading panels against the simulated terminal, in a real browser."""

from __future__ import annotations

from typing import Any

from tests.support.platform import Platform


def test_dashboard_chart_loads_bars_and_moves_with_live_ticks(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-market")
    page.wait_for_function("document.getElementById('market-info').textContent.includes('200 bars')")
    page.wait_for_function(
        "Number(document.getElementById('market-chart').dataset.liveUpdates || 0) >= 3", timeout=20_000
    )
    assert page.eval_on_selector(
        "#market-chart", "box => box.clientWidth > 0 && box.clientHeight > 0 && !!box.querySelector('canvas')"
    )


def test_dashboard_places_and_closes_a_paper_order(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    page.wait_for_selector("#order-symbol option", state="attached")
    page.select_option("#order-type", "BUY")
    page.fill("#order-volume", "0.10")
    page.click("#order-submit")
    page.wait_for_function(
        "document.getElementById('order-message').textContent.startsWith('DONE')", timeout=15_000
    )
    page.wait_for_selector("#positions-table tbody tr[data-ticket]", timeout=15_000)
    assert len(platform.http.get("/api/mt5/positions").json()) == 1

    page.fill("#order-volume", "0.015")  # off the 0.01 step: the service's message must be shown
    page.click("#order-submit")
    page.wait_for_function(
        "document.getElementById('order-message').classList.contains('error-text')", timeout=15_000
    )
    assert "10014" in page.text_content("#order-message")

    page.click("#positions-table button[data-action=close]")
    page.wait_for_selector("#positions-table tbody tr:not([data-ticket])", timeout=15_000)
    assert platform.http.get("/api/mt5/positions").json() == []
    deals = platform.http.get("/api/mt5/history/deals", params={"from": 0}).json()
    assert [d["entry"] for d in deals if d["symbol"]] == [0, 1]


def test_dashboard_default_pattern_list_is_accepted(page: Any, platform: Platform) -> None:
    """The default list sent `3WHITESOLDIERS`, which the pattern service refused (422) on every load."""
    page.wait_for_selector("#connection.conn-online")
    with page.expect_response(lambda r: "/api/pattern/patterns/detect" in r.url, timeout=30_000) as reply:
        page.click("#tab-market")
        page.click("#market-form button[type=submit]")

    assert reply.value.status == 200, reply.value.text()

"""Numbers a trader can read: prices at the symbol's digits, money, volumes, durations, UTC dates, and table
headers aligned with their cells (issue 16)."""

from __future__ import annotations

import re
from typing import Any

from tests.support.platform import Platform

# Per cell of every body row with as many cells as the header: how far the header's text edge is from the
# cell's (the right edge in a right-aligned column, the left one otherwise), in pixels.
HEADER_OFFSETS = """table => {
  const box = (cell) => { const r = document.createRange(); r.selectNodeContents(cell); return r.getBoundingClientRect(); };
  const heads = [...table.querySelectorAll("thead th")], out = [];
  for (const row of table.querySelectorAll("tbody tr")) {
    const cells = [...row.children];
    if (cells.length !== heads.length) continue;
    cells.forEach((cell, i) => {
      if (!heads[i].textContent.trim() || !cell.textContent.trim()) return;
      const right = getComputedStyle(cell).textAlign === "right", h = box(heads[i]), c = box(cell);
      out.push({ column: heads[i].textContent, right, offset: right ? h.right - c.right : h.left - c.left });
    });
  }
  return out;
}"""
DURATION = re.compile(r"^(\d+ ms|\d+ (d|h|min|s)( \d+ (h|min|s))?)$")
UTC = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")


def _misaligned(page: Any, selector: str) -> list[dict[str, Any]]:
    offsets = page.eval_on_selector(selector, HEADER_OFFSETS)
    assert offsets, f"{selector} has no cells to compare"
    return [o for o in offsets if abs(o["offset"]) > 1]


def _digits(platform: Platform, symbol: str) -> int:
    return next(s["digits"] for s in platform.http.get("/api/mt5/symbols").json() if s["name"] == symbol)


def test_dashboard_services_headers_align_with_cells_and_uptime_reads_human(
    page: Any, platform: Platform
) -> None:
    page.wait_for_function(
        "document.querySelectorAll('#services-table [data-state=\"ONLINE\"]').length === 7"
    )

    assert _misaligned(page, "#services-table") == []
    numeric = {o["column"] for o in page.eval_on_selector("#services-table", HEADER_OFFSETS) if o["right"]}
    assert numeric == {"PID", "Port", "Uptime", "Restarts"}
    uptime = page.text_content('tr[data-service="data"] td:nth-child(5)')
    assert DURATION.match(uptime), uptime


def test_dashboard_trading_prints_prices_at_symbol_digits_volumes_and_money(
    page: Any, platform: Platform
) -> None:
    order = {"symbol": "EURUSD", "type": "BUY", "volume": 0.1, "client_order_id": "e2e-formats"}
    assert platform.http.post("/api/mt5/orders", json=order).status_code == 200
    digits = _digits(platform, "EURUSD")
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    row = "#positions-table tbody tr[data-ticket]"
    page.wait_for_selector(row, timeout=15_000)

    cells = page.eval_on_selector_all(f"{row} td", "cells => cells.map(c => c.textContent)")
    assert cells[3] == "0.10"  # the volume at EURUSD's 0.01 step
    assert UTC.match(cells[4].split(" (")[0]), cells[4]  # opened at, in the market's time (and how long ago)
    for opened_or_current in cells[5:7]:
        assert re.fullmatch(rf"\d\.\d{{{digits}}}", opened_or_current), opened_or_current
    for money in cells[9:12]:  # swap, commission, profit: 2 currency digits
        assert re.fullmatch(r"-?\d+\.\d\d", money), money
    page.wait_for_selector("#deals-table tbody tr")
    deal = page.eval_on_selector_all(
        "#deals-table tbody tr:first-child td", "cells => cells.map(c => c.textContent)"
    )
    assert UTC.match(deal[0]), deal[0]
    assert re.fullmatch(rf"\d\.\d{{{digits}}}", deal[6]), deal[6]
    balance = page.text_content('[data-kpi="Balance"]')
    assert re.fullmatch(r"[\d,]+\.\d\d [A-Z]{3}", balance), balance
    for table in ("#positions-table", "#deals-table"):
        assert _misaligned(page, table) == [], table
    ticket = page.get_attribute(row, "data-ticket")
    platform.http.post(f"/api/mt5/positions/{ticket}/close", json={"client_order_id": "e2e-formats-close"})


def test_dashboard_backtest_result_reads_as_durations_counts_percentages_and_prices(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#bt-params [data-param=fast]", state="attached", timeout=20_000)
    # The defaults answer the sizing mode by name; the select shows it as such.
    page.wait_for_function("document.getElementById('bt-sizing').value === 'equity_fraction'")
    page.select_option("#bt-symbol", "EURUSD")
    page.select_option("#bt-timeframe", "H1")
    page.click("#bt-run")
    page.wait_for_selector("#bt-result:not([hidden])", timeout=120_000)

    metric = lambda key: page.text_content(f'#bt-metrics-table [data-metric="{key}"]')  # noqa: E731
    assert DURATION.match(metric("duration_s")) and " d" in metric("duration_s"), metric("duration_s")
    assert re.fullmatch(r"\d+", metric("trades")), metric("trades")
    assert re.fullmatch(r"-?\d+\.\d\d %", metric("return_pct")), metric("return_pct")
    assert UTC.match(metric("start")), metric("start")
    assert re.fullmatch(r"[\d,]+\.\d\d", metric("equity_final")), metric("equity_final")
    digits = _digits(platform, "EURUSD")
    trade = page.eval_on_selector_all(
        "#bt-trades tbody tr:first-child td", "cells => cells.map(c => c.textContent)"
    )
    assert UTC.match(trade[0]), trade[0]
    assert DURATION.match(trade[2]), trade[2]
    assert re.fullmatch(rf"\d\.\d{{{digits}}}", trade[4]), trade[4]
    assert re.fullmatch(r"-?\d+\.\d\d %", trade[7]), trade[7]
    page.click("#bt-result details:nth-of-type(2) summary")
    page.wait_for_selector("#bt-runs tbody tr")
    for table in ("#bt-trades", "#bt-runs"):
        assert _misaligned(page, table) == [], table

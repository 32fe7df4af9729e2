"""The trading cockpit in a real browser on the replay market: the market watch's live quotes, one-click
trading (a double click opens once), the positions table's fields, the deal history's filters and totals,
and a strategy instance's view with its signal log."""

from __future__ import annotations

import time
from typing import Any

from tests.support.platform import Platform

WATCH = "#watch-table tr[data-symbol=EURUSD]"
POSITION = "#positions-table tbody tr[data-ticket]"


def _money(value: float) -> str:
    text = f"{value:,.2f}"
    return "0.00" if text == "-0.00" else text


def _poll(what: Any, timeout_s: float = 60) -> Any:
    """`what()` once it is truthy, within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_cockpit_market_watch_quotes_move_with_live_ticks(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    page.wait_for_selector(f"{WATCH} td[data-field=bid]")

    page.wait_for_function(
        f"Number(document.querySelector('{WATCH} td[data-field=bid]').dataset.liveTicks || 0) >= 3",
        timeout=20_000,
    )
    page.wait_for_function(
        f"document.querySelector('{WATCH} td[data-field=change]').textContent.includes('%')"
    )

    bid = float(page.text_content(f"{WATCH} td[data-field=bid]").replace(",", ""))
    ask = float(page.text_content(f"{WATCH} td[data-field=ask]").replace(",", ""))
    spread = int(page.text_content(f"{WATCH} td[data-field=spread]"))
    assert 0 < bid < ask and spread >= 1


def test_cockpit_volume_off_step_disables_one_click_trading(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    page.wait_for_selector(f"{WATCH} input[data-field=volume]")

    page.fill(f"{WATCH} input[data-field=volume]", "0.015")

    assert page.is_disabled(f"{WATCH} button[data-action=buy]")
    assert "steps of 0.01" in page.text_content(f"{WATCH} [data-field=volume-problem]")
    page.fill(f"{WATCH} input[data-field=volume]", "0.02")
    assert page.is_enabled(f"{WATCH} button[data-action=buy]")


def test_cockpit_double_click_buy_opens_exactly_one_position_then_close(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    page.wait_for_selector(f"{WATCH} input[data-field=volume]")
    page.fill(f"{WATCH} input[data-field=volume]", "0.03")

    page.dblclick(f"{WATCH} button[data-action=buy]")

    page.wait_for_function(
        "document.getElementById('watch-message').textContent.startsWith('DONE')", timeout=15_000
    )
    page.wait_for_selector(POSITION, timeout=15_000)
    (position,) = platform.http.get("/api/mt5/positions").json()
    entries = [
        d for d in platform.http.get("/api/mt5/history/deals").json() if d["symbol"] and d["entry"] == 0
    ]
    assert len(entries) == 1, entries
    row = f'#positions-table tbody tr[data-ticket="{position["ticket"]}"]'
    field = lambda name: page.text_content(f"{row} [data-field={name}]")  # noqa: E731
    assert (field("symbol"), field("side"), field("volume")) == ("EURUSD", "BUY", "0.03")
    assert field("price_open").replace(",", "") == f"{position['price_open']:.5f}"
    assert "UTC" in field("time") and "ago" in field("time")
    assert (field("magic"), field("owner")) == ("0", "manual")
    assert field("commission") == _money(position["commission"])
    assert field("swap") == _money(position["swap"])

    page.click(f"{row} button[data-action=close]")
    page.wait_for_selector(f"{POSITION}", state="detached", timeout=15_000)
    assert platform.http.get("/api/mt5/positions").json() == []


def test_cockpit_deal_history_filter_and_totals_match_the_api(page: Any, platform: Platform) -> None:
    for symbol, volume in (("EURUSD", 0.02), ("GBPUSD", 0.05)):
        order = {"symbol": symbol, "type": "BUY", "volume": volume}
        ticket = platform.http.post("/api/mt5/orders", json=order).json()["order"]
        position = _poll(
            lambda t=ticket: [p for p in platform.http.get("/api/mt5/positions").json() if p["ticket"] == t]
        )
        assert platform.http.post(f"/api/mt5/positions/{position[0]['ticket']}/close").status_code == 200
    # The panel's first reads (every symbol) are held back until the filtered one has been drawn: an
    # answer to an older read arriving late must not replace the filtered table.
    held: list[Any] = []
    page.route(
        "**/api/mt5/history/deals?*",
        lambda route: route.continue_() if "symbol=" in route.request.url else held.append(route),
    )
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    page.wait_for_selector("#deals-symbol option[value=EURUSD]", state="attached")
    page.wait_for_function("document.getElementById('deals-from').value !== ''")

    page.select_option("#deals-symbol", "EURUSD")
    with page.expect_response(lambda r: "/api/mt5/history/deals" in r.url and "symbol=EURUSD" in r.url):
        page.click("#deals-filter button[type=submit]")
    only_eurusd = (
        "() => { const cells = [...document.querySelectorAll('#deals-table tbody tr td:nth-child(3)')];"
        " return cells.length > 0 && cells.every(td => td.textContent === 'EURUSD'); }"
    )
    page.wait_for_function(only_eurusd)
    assert held, "the panel's first read of every symbol's deals was not held back"
    for route in held:
        with page.expect_response(lambda r, url=route.request.url: r.url == url) as late:
            route.continue_()
        late.value.finished()
    page.evaluate("() => new Promise((done) => setTimeout(done, 0))")  # the page's handlers have run
    assert page.evaluate(only_eurusd)

    params = {
        "from": page.input_value("#deals-from"),
        "to": f"{page.input_value('#deals-to')}T23:59:59",
        "symbol": "EURUSD",
    }
    deals = [
        d for d in platform.http.get("/api/mt5/history/deals", params=params).json() if d["type"] in (0, 1)
    ]
    assert deals and {d["symbol"] for d in deals} == {"EURUSD"}
    total = lambda key: sum(d[key] for d in deals)  # noqa: E731
    shown = lambda key: page.text_content(f"#deals-totals [data-total={key}]")  # noqa: E731
    assert shown("count") == str(len(deals))
    assert shown("volume") == f"{total('volume'):.2f}"
    assert shown("profit") == _money(total("profit"))
    assert shown("commission") == _money(total("commission"))
    assert shown("net") == _money(total("profit") + total("commission") + total("swap") + total("fee"))
    assert page.locator("#deals-table tbody tr").count() == len(deals)


def test_cockpit_instance_view_shows_a_started_instance_s_signals(page: Any, platform: Platform) -> None:
    spec = {
        "strategy": "ema_crossover",
        "params": {"fast": 3, "slow": 8},
        "symbol": "EURUSD",
        "timeframe": "M1",
    }
    instance = platform.http.post("/api/strategy/strategies", json=spec).json()["id"]
    assert platform.http.post(f"/api/strategy/strategies/{instance}/start").status_code == 200
    # Collection backfills the last hour and publishes it as `candle.closed` with `backfill`: the running
    # instance logs each as skipped, never trading it.
    assert platform.http.post("/api/data/collection/start", json={"symbols": ["EURUSD"]}).status_code == 200
    signals = _poll(lambda: platform.http.get(f"/api/strategy/strategies/{instance}/signals").json())
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-strategies")

    page.click(f'#st-instances tbody tr[data-instance="{instance}"] td:first-child')

    page.wait_for_selector(
        f'#st-detail[data-instance="{instance}"] #st-signal-log li[data-kind]', timeout=15_000
    )
    assert page.locator("#st-signal-log li[data-kind=skipped]").count() >= 1
    assert "skipped: backfill (" in page.text_content("#st-signal-log")  # a run: one entry, counted
    assert signals[0]["kind"] == "skipped" and signals[0]["reason"] == "backfill"
    assert page.text_content("#st-detail [data-kpi=floating]") == "0.00"
    page.wait_for_selector("#st-equity canvas")
    assert page.eval_on_selector("#st-equity", "c => c.clientWidth > 0 && c.clientHeight > 0")
    platform.http.post("/api/data/collection/stop")
    platform.http.post(f"/api/strategy/strategies/{instance}/stop")


def test_cockpit_refused_order_is_shown_once_where_it_was_sent(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    page.wait_for_selector("#order-symbol option", state="attached")
    page.fill("#order-volume", "0.015")  # off the 0.01 step: the terminal refuses it (10014)

    page.click("#order-submit")

    page.wait_for_function(
        "document.getElementById('order-message').classList.contains('error-text')", timeout=15_000
    )
    assert "10014" in page.text_content("#order-message")
    # The terminal's order.rejected has reached the page (the Events panel lists each event it gets after
    # the other listeners have run) and was not shown again as a toast.
    page.wait_for_selector(
        '#events-table tr.event[data-type="order.rejected"]', state="attached", timeout=15_000
    )
    assert page.locator("#toasts .toast", has_text="order rejected").count() == 0
    # Another client's refusal is news to this page: it is toasted.
    other = {"symbol": "EURUSD", "type": "BUY", "volume": 0.015, "comment": "script"}
    assert platform.http.post("/api/mt5/orders", json=other).status_code == 422
    page.wait_for_selector("#toasts .toast:has-text('order rejected')", timeout=15_000)

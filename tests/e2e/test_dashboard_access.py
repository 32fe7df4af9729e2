"""Access and state in a real browser: the login screen, staleness, toasts, the log view, the events table.

The throttle test is last: once it has spent the address's failures, the module's platform refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.support.platform import API_KEY, Platform

KEY_STORAGE = "mt5p.apiKey"


@pytest.fixture()
def bare(browser: Any, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab opened without `?token=`, as a new user opens the dashboard."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(platform.url())
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _sign_in(tab: Any, key: str) -> str:
    tab.fill("#login-key", key)
    tab.click("#login-form button[type=submit]")
    tab.wait_for_function(
        "document.getElementById('login-message').textContent !== '' || document.body.dataset.auth === 'in'"
    )
    return tab.text_content("#login-message") or ""


def test_new_tab_without_key_shows_the_login_screen_and_no_data(bare: Any) -> None:
    bare.wait_for_selector("#login-key", state="visible")
    assert not bare.is_visible("main")
    assert not bare.is_visible("#platform-status")
    assert bare.eval_on_selector_all("#services-table tbody tr", "rows => rows.length") == 0


def test_wrong_key_is_refused_with_a_message(bare: Any) -> None:
    message = _sign_in(bare, "not-the-key")
    assert "wrong" in message.lower()
    assert bare.is_visible("#login-key") and not bare.is_visible("main")
    assert bare.evaluate(f"sessionStorage.getItem('{KEY_STORAGE}')") is None


def test_right_key_logs_in_with_all_online_and_logout_returns_to_login(bare: Any) -> None:
    _sign_in(bare, API_KEY)
    bare.wait_for_selector("#connection.conn-online")
    bare.wait_for_function("document.getElementById('platform-status').textContent === '7/7 online'")
    session = bare.wait_for_selector("#market-session:not([hidden])")
    assert session.text_content() == "market open · replay \u00d71"  # the tests' replay starts on a Wednesday
    assert not bare.is_visible("#login-key")
    bare.click("#logout")
    bare.wait_for_selector("#login-key", state="visible")
    assert bare.evaluate(f"sessionStorage.getItem('{KEY_STORAGE}')") is None
    assert not bare.is_visible("main")
    assert bare.eval_on_selector_all("#services-table tbody tr", "rows => rows.length") == 0
    assert "token=" not in bare.url


def test_stopping_a_service_makes_its_panels_stale_in_market_time_and_starting_clears_it(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    assert not page.is_visible(".stale-note")
    platform.http.post("/api/services/mt5/stop")
    try:
        page.wait_for_selector("#panel-trading.stale", timeout=20_000)
        note = page.text_content('.stale-note[data-for="panel-trading"]') or ""
        assert "mt5" in note and "as of 2026-11-18" in note  # the replay market's time, not the wall clock's
        assert page.is_visible('.stale-note[data-for="panel-trading"]')
        assert page.get_attribute("#panel-backtests", "class") in (None, "")  # backtests do not need mt5
        page.click("#tab-market")
        page.wait_for_selector("#panel-market.stale")
        page.screenshot(path=str(ARTIFACTS / "service_stopped_stale.png"), full_page=True)
    finally:
        platform.http.post("/api/services/mt5/start")
    page.wait_for_selector("#panel-market:not(.stale)", timeout=30_000)
    assert not page.is_visible(".stale-note")
    assert page.get_attribute("#panel-trading", "class") in (None, "")


def test_hub_down_makes_everything_stale_and_not_green_until_it_reconnects(page: Any) -> None:
    sockets: list[Any] = []
    blocked = {"on": False}

    def relay(ws: Any) -> None:
        if blocked["on"]:
            ws.close()
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/ws/events.*"), relay)
    page.reload()
    page.wait_for_selector("#connection.conn-online")
    page.wait_for_selector("#platform-status.ok")
    blocked["on"] = True
    sockets[-1].close()
    page.wait_for_selector("#panel-services.stale")
    assert "as of" in (page.text_content('.stale-note[data-for="panel-services"]') or "")
    assert page.get_attribute("#platform-status", "class") != "badge ok"
    page.screenshot(path=str(ARTIFACTS / "hub_down_stale.png"), full_page=True)
    blocked["on"] = False
    page.wait_for_selector("#connection.conn-online", timeout=15_000)
    page.wait_for_selector("#panel-services:not(.stale)")
    page.wait_for_selector("#platform-status.ok")


def test_duplicate_toasts_collapse_into_one_with_a_count(page: Any) -> None:
    page.wait_for_selector('tr[data-service="data"] [data-state="ONLINE"]')
    for expected in (1, 2, 3):
        page.click('tr[data-service="data"] button[data-action="start"]')  # already running → 409
        page.wait_for_function(
            f"[...document.querySelectorAll('.toast')].some(t => t.dataset.count === '{expected}')"
        )
    assert page.eval_on_selector_all(".toast", "ts => ts.length") == 1
    assert "\u00d73" in (page.text_content(".toast") or "")
    page.screenshot(path=str(ARTIFACTS / "toasts_collapsed.png"))
    page.click(".toast .toast-close")
    page.wait_for_selector(".toast", state="detached")


def test_log_view_is_newest_first_hides_health_checks_and_filters_text(page: Any) -> None:
    page.wait_for_selector('tr[data-service="backend-api"]')
    page.select_option("#log-service", "backend-api")
    page.wait_for_selector("#log-lines .log-line")
    assert page.is_checked("#log-hide-health")

    def lines() -> list[str]:
        return page.eval_on_selector_all("#log-lines .log-line", "ls => ls.map(l => l.textContent)")

    shown = lines()
    assert not any('/health "HTTP' in line and " 200 " in line for line in shown)
    stamps = [line[:23] for line in shown if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", line)]
    assert len(stamps) > 3 and stamps == sorted(stamps, reverse=True)
    assert page.eval_on_selector_all("#log-lines .log-line.lvl-INFO", "ls => ls.length") > 0
    page.uncheck("#log-hide-health")
    page.wait_for_function(
        "[...document.querySelectorAll('#log-lines .log-line')].some(l => l.textContent.includes('/health'))"
    )
    page.fill("#log-filter", "ONLINE")
    page.wait_for_function(
        "[...document.querySelectorAll('#log-lines .log-line')].every(l => l.textContent.includes('ONLINE'))"
    )
    assert len(lines()) > 0


def test_events_table_filters_by_type_and_expands_a_row_to_its_json(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-events")
    page.wait_for_selector('#events-type-filter input[data-event-type="backtest.completed"]')
    page.click("#events-types-none")
    page.check('#events-type-filter input[data-event-type="service.status"]')
    page.click("#events-clear")
    platform.http.post("/api/services/ai/restart")
    page.wait_for_function(
        "[...document.querySelectorAll('#events-table tbody tr.event')].some(r => r.textContent.includes('ai: STARTING → ONLINE'))",
        timeout=30_000,
    )
    types = set(
        page.eval_on_selector_all("#events-table tbody tr.event", "rs => rs.map(r => r.dataset.type)")
    )
    assert types == {"service.status"}
    assert not page.is_visible("#events-table .event-raw")
    page.click("#events-table tbody tr.event >> nth=0")
    raw = page.text_content("#events-table .event-raw pre") or ""
    assert '"service":"ai"' in raw


def test_order_refused_by_a_risk_rule_is_shown_once_under_the_form_not_again_as_a_toast(page: Any) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-trading")
    page.wait_for_selector("#order-symbol option", state="attached")
    page.select_option("#order-type", "BUY")
    page.fill("#order-volume", "50")  # above the risk rule's max_volume_per_order
    page.click("#order-submit")
    page.wait_for_function(
        "document.getElementById('order-message').classList.contains('error-text')", timeout=15_000
    )
    assert "volume" in (page.text_content("#order-message") or "")
    # The events table shows the order.rejected event has reached the page: by then a toast would be up.
    page.click("#tab-events")
    page.wait_for_selector('#events-table tr.event[data-type="order.rejected"]', timeout=15_000)
    assert page.eval_on_selector_all(".toast", "ts => ts.length") == 0


def test_login_throttled_after_repeated_wrong_keys_shows_the_retry_after(bare: Any) -> None:
    for _ in range(30):
        message = _sign_in(bare, "still-not-the-key")
        if "retry" in message.lower():
            break
    assert re.search(r"retry in \d+ s", message), message
    assert bare.is_disabled("#login-form button[type=submit]")

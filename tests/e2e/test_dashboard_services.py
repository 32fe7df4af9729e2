"""The Services panel and the event stream, in a real browser."""

from __future__ import annotations

from typing import Any

from tests.support.platform import API_KEY, Platform


def _state(page: Any, name: str) -> str:
    return page.get_attribute(f'tr[data-service="{name}"] [data-state]', "data-state")


def test_dashboard_signs_in_with_token_and_shows_all_seven_online(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.wait_for_function(
        "document.querySelectorAll('#services-table [data-state=\"ONLINE\"]').length === 7"
    )
    names = page.eval_on_selector_all("#services-table tbody tr", "rows => rows.map(r => r.dataset.service)")
    assert sorted(names) == sorted(["backend-api", "data", "mt5", "pattern", "strategy", "ai", "backtesting"])
    assert "token=" not in page.url  # the key leaves the address bar once stored
    assert page.text_content("#platform-status") == "7/7 online"


def test_dashboard_restart_button_walks_the_service_through_its_states(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.wait_for_selector('tr[data-service="pattern"] [data-state="ONLINE"]')
    old_pid = platform.statuses()["pattern"]["pid"]
    page.click('tr[data-service="pattern"] button[data-action="restart"]')
    page.wait_for_function(
        "[...document.querySelectorAll('#events-table tr.event')].some(r => r.textContent.includes('pattern: STOPPED → STARTING'))"
    )
    page.wait_for_selector('tr[data-service="pattern"] [data-state="ONLINE"]', timeout=30_000)
    transitions = page.eval_on_selector_all(
        "#events-table tr.event[data-type='service.status'] td.summary",
        "cells => cells.map(c => c.textContent).filter(t => t.startsWith('pattern: '))"
        ".map(t => t.split(' → ')[1].split(' ')[0]).reverse()",
    )
    assert transitions[-3:] == ["STOPPED", "STARTING", "ONLINE"]
    assert platform.statuses()["pattern"]["pid"] != old_pid


def test_dashboard_shows_service_errors_as_messages(page: Any, platform: Platform) -> None:
    page.wait_for_selector('tr[data-service="data"] [data-state="ONLINE"]')
    page.click('tr[data-service="data"] button[data-action="start"]')  # already running → 409 with a message
    page.wait_for_selector(".toast", timeout=5000)
    assert "already ONLINE" in page.text_content(".toast")


def test_dashboard_event_stream_filters_and_pauses(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-events")
    page.click("#events-types-none")
    page.check('#events-type-filter input[data-event-type="service.status"]')
    page.click("#events-clear")
    platform.http.post("/api/services/ai/restart")
    page.wait_for_selector("#events-table tr.event[data-type='service.status']", timeout=20_000)
    types = set(page.eval_on_selector_all("#events-table tr.event", "rows => rows.map(r => r.dataset.type)"))
    assert types == {"service.status"}
    page.click("#events-pause")
    before = page.eval_on_selector_all("#events-table tr.event", "rows => rows.length")
    platform.http.post("/api/services/ai/restart")
    platform.wait_state("ai", "ONLINE")
    assert page.eval_on_selector_all("#events-table tr.event", "rows => rows.length") == before


def test_dashboard_runs_under_its_content_security_policy(browser: Any, platform: Platform) -> None:
    context = browser.new_context()
    tab = context.new_page()
    violations: list[str] = []
    tab.on(
        "console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    tab.on("pageerror", lambda exc: violations.append(str(exc)))
    try:
        tab.goto(f"{platform.url()}/?token={API_KEY}")
        tab.locator('#services-table [data-state="ONLINE"]').nth(6).wait_for(timeout=30_000)
        tab.locator("#connection.conn-online").wait_for()
    finally:
        context.close()
    assert violations == []

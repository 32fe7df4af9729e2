"""The Strategies panel: create an instance from its parameter schema, start and stop it."""

from __future__ import annotations

from typing import Any

from tests.support.platform import Platform


def test_dashboard_creates_starts_and_stops_a_strategy_instance(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-strategies")
    page.wait_for_selector("#st-params [data-param]", state="attached", timeout=20_000)
    page.select_option("#st-strategy", "ema_crossover")
    page.wait_for_selector("#st-param-fast", state="attached")
    page.click("#st-create")
    page.wait_for_function(
        "document.getElementById('st-message').textContent.includes('created')", timeout=15_000
    )
    row = "#st-instances tbody tr[data-instance]"
    page.wait_for_selector(row)
    instance = page.get_attribute(row, "data-instance")
    page.click(f'{row} button[data-action="start"]')
    page.wait_for_selector(f'{row} [data-state="running"]', timeout=15_000)
    assert platform.http.get(f"/api/strategy/strategies/{instance}").json()["state"] == "running"
    page.click(f'{row} button[data-action="stop"]')
    page.wait_for_selector(f'{row} [data-state="stopped"]', timeout=15_000)


def test_dashboard_invalid_instance_shows_the_service_message(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-strategies")
    page.wait_for_selector("#st-params [data-param]", state="attached", timeout=20_000)
    page.select_option("#st-strategy", "sma_crossover")
    page.wait_for_selector("#st-param-fast", state="attached")
    page.fill("#st-param-fast", "50")
    page.fill("#st-param-slow", "10")
    page.click("#st-create")
    page.wait_for_selector("#st-message.error-text", timeout=15_000)
    assert "fast" in page.text_content("#st-message")

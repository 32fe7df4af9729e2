"""The Alerts panel on a replayed market: rules made in the browser, listed, switched off and on; the
market crossing a level sends a signed message to a local HTTP receiver and the delivery shows in the log."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import REPLAY
from tests.support.alert_receivers import HttpReceiver, http_receiver
from tests.support.platform import Platform, write_config
from tests.support.waits import wait_until

SECRET = "e2e-alerts-secret-0123456789"


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, receiver: HttpReceiver) -> Iterator[Platform]:
    """The browser tests' replay market, with the webhook channel pointed at the local receiver."""
    config = write_config(tmp_path_factory.mktemp("e2e-alerts"), overrides={"mt5": REPLAY})
    env = {"NOTIFY_WEBHOOK_URL": receiver.url + "/hook", "ALERTS_WEBHOOK_SECRET": SECRET}
    running = Platform(config, env=env).start()
    try:
        running.wait_all_online(90)
        yield running
    finally:
        running.stop()


def create_cross_rule(page: Any, name: str, level: float) -> None:
    page.select_option("#al-kind", "price_cross")
    page.select_option("#al-symbol", "EURUSD")
    page.fill("#al-level", repr(level))
    page.fill("#al-cooldown", "0")
    page.fill("#al-name", name)
    page.click("#al-create")
    page.wait_for_selector(f'#al-rules tbody tr:has-text("{name}")', timeout=15_000)


def test_dashboard_alert_rule_fires_on_the_replayed_market(
    page: Any, platform: Platform, receiver: HttpReceiver
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-alerts")
    page.wait_for_selector('#al-channels input[value="webhook"]', state="attached", timeout=20_000)
    page.wait_for_selector('#al-symbol option[value="EURUSD"]', state="attached", timeout=20_000)

    # A refusal is shown with the field it names, and nothing is created.
    page.fill("#al-level", "-1")
    page.click("#al-create")
    page.wait_for_selector("#al-message.error-text", timeout=10_000)
    assert "level" in page.text_content("#al-message")
    assert platform.http.get("/api/alerts/rules").json() == []

    # Two levels just above and below the replayed bid: the market's next move of two points crosses one.
    point = platform.http.get("/api/mt5/symbols/EURUSD").json()["point"]
    bid = platform.http.get("/api/mt5/symbols/EURUSD/tick").json()["bid"]
    create_cross_rule(page, "above", round(bid + 2 * point, 5))
    create_cross_rule(page, "below", round(bid - 2 * point, 5))
    create_cross_rule(page, "far", 9.0)

    far = page.get_attribute('#al-rules tbody tr:has-text("far")', "data-rule")
    switch = f'#al-rules tr[data-rule="{far}"] input[data-action="toggle"]'
    page.click(switch)
    wait_until(
        lambda: not platform.http.get(f"/api/alerts/rules/{far}").json()["rule"]["enabled"], 10, "rule off"
    )
    page.wait_for_selector(f"{switch}:not(:checked)")
    page.click(switch)
    wait_until(lambda: platform.http.get(f"/api/alerts/rules/{far}").json()["rule"]["enabled"], 10, "rule on")

    page.wait_for_selector('#al-deliveries-body tr[data-status="sent"]', timeout=120_000)
    row = page.text_content('#al-deliveries-body tr[data-status="sent"]')
    assert "EURUSD crossed" in row and "webhook" in row
    request = wait_until(lambda: receiver.received and receiver.received[0], 10, "the webhook call")
    assert (
        request.headers["X-Signature"]
        == "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    )
    assert request.json()["event"]["source"] == "mt5" and request.json()["title"].startswith("EURUSD crossed")

    page.click(f'#al-rules tr[data-rule="{far}"] button[data-action="delete"]')
    page.wait_for_selector(f'#al-rules tr[data-rule="{far}"]', state="detached", timeout=10_000)

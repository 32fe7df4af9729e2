"""Alerts through real processes: rules made over the API (bad input refused with the one error shape,
nothing written), ticks published by a child crossing a level, the signed message received by a local
HTTP receiver, and the delivery in the log; secrets never in a response or the log."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.alert_receivers import HttpReceiver, http_receiver
from tests.support.platform import Platform, write_config
from tests.support.waits import wait_until

pytestmark = pytest.mark.integration
SECRET = "alerts-hmac-secret-9876543210"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, HttpReceiver]]:
    directory: Path = tmp_path_factory.mktemp("alerts")
    config = write_config(
        directory,
        overrides={"orchestrator": {"health_interval_s": 0.3, "backoff_initial_s": 0.2}},
        modules={"ai": "tests.support.emitter_service"},
    )
    with http_receiver() as receiver:
        env = {"NOTIFY_WEBHOOK_URL": receiver.url + "/hook", "ALERTS_WEBHOOK_SECRET": SECRET}
        platform = Platform(config, env=env).start()
        try:
            platform.wait_all_online(90)
            yield platform, receiver
        finally:
            platform.stop()


def emit_ticks(platform: Platform, symbol: str, bids: list[float]) -> None:
    """Ticks published by a child (the emitter in the ai slot), relayed by the hub, a millisecond apart."""
    headers = {"X-Internal-Token": platform.internal_token()}
    now = int(time.time() * 1000)
    with httpx.Client(base_url=platform.url("ai"), headers=headers, timeout=10) as child:
        for i, bid in enumerate(bids):
            tick = {
                "symbol": symbol,
                "time": (now + i) // 1000,
                "time_msc": now + i,
                "bid": bid,
                "ask": bid + 0.0002,
                "last": 0.0,
                "volume": 0,
                "flags": 6,
                "volume_real": 0.0,
            }
            assert child.post("/emit", json={"count": 1, "type": "tick", "data": tick}).status_code == 200


def rule(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "price_cross",
        "symbol": "EURUSD",
        "level": 1.1,
        "channels": ["webhook"],
        "cooldown_s": 0,
        **fields,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "price_cross", "symbol": "EURUSD", "level": 1.1}, "channels"),
        (rule(level=-1), "level"),
        (rule(kind="nope"), "kind"),
        (rule(channels=["sms"]), "channels"),
        (
            {
                "kind": "indicator",
                "symbol": "EURUSD",
                "timeframe": "M7",
                "op": "<",
                "value": 30,
                "channels": ["webhook"],
            },
            "timeframe",
        ),
        (rule(cooldown_s=10**9), "cooldown_s"),
        (rule(extra=1), "extra"),
    ],
)
def test_bad_rules_are_refused_naming_the_field_and_nothing_is_written(
    running: tuple[Platform, HttpReceiver], body: dict[str, Any], field: str
) -> None:
    platform, _ = running
    before = platform.http.get("/api/alerts/rules").json()
    response = platform.http.post("/api/alerts/rules", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and field in response.text
    assert platform.http.get("/api/alerts/rules").json() == before


def test_a_channel_without_settings_is_refused(running: tuple[Platform, HttpReceiver]) -> None:
    platform, _ = running
    response = platform.http.post("/api/alerts/rules", json=rule(channels=["webhook", "telegram"]))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "channel_not_configured"
    assert response.json()["error"]["details"] == {"field": "channels", "configured": ["webhook"]}
    assert platform.http.get("/api/alerts/channels").json() == {"configured": ["webhook"]}


def test_unknown_rules_are_404_and_bad_queries_422(running: tuple[Platform, HttpReceiver]) -> None:
    platform, _ = running
    assert (
        platform.http.patch("/api/alerts/rules/99999", json={"enabled": False}).json()["error"]["code"]
        == "unknown_rule"
    )
    assert platform.http.delete("/api/alerts/rules/99999").status_code == 404
    assert platform.http.patch("/api/alerts/rules/1", json={"enabled": "maybe"}).status_code == 422
    assert platform.http.get("/api/alerts/rules/0").status_code == 422
    assert platform.http.get("/api/alerts/deliveries", params={"limit": 0}).status_code == 422


def test_ticks_crossing_a_level_reach_the_webhook_signed_and_are_logged(
    running: tuple[Platform, HttpReceiver],
) -> None:
    platform, receiver = running
    created = platform.http.post("/api/alerts/rules", json=rule(name="eurusd 1.1", direction="up"))
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    assert created.json()["rule"]["enabled"] is True

    emit_ticks(platform, "EURUSD", [1.0990, 1.1010])

    request = wait_until(
        lambda: next((r for r in receiver.received if r.json()["rule"]["id"] == rule_id), None),
        30,
        "the webhook call",
    )
    signature = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Signature"] == signature
    body = request.json()
    assert body["title"] == "EURUSD crossed 1.1 up" and body["event"]["type"] == "tick"
    assert body["event"]["source"] == "ai" and body["event"]["data"]["bid"] == 1.1010
    log = wait_until(
        lambda: [d for d in platform.http.get("/api/alerts/deliveries", params={"rule_id": rule_id}).json()],
        10,
        "the log",
    )
    assert [(d["channel"], d["status"], d["attempts"]) for d in log] == [("webhook", "sent", 1)]
    assert platform.http.get(f"/api/alerts/rules/{rule_id}").json()["last_fired_ms"] is not None

    # Switched off, the rule stays silent; a second rule proves the later ticks were evaluated.
    assert (
        platform.http.patch(f"/api/alerts/rules/{rule_id}", json={"enabled": False}).json()["rule"]["enabled"]
        is False
    )
    sentinel = platform.http.post("/api/alerts/rules", json=rule(level=1.2, name="sentinel")).json()["id"]
    emit_ticks(platform, "EURUSD", [1.0990, 1.2010])
    wait_until(
        lambda: platform.http.get("/api/alerts/deliveries", params={"rule_id": sentinel}).json(),
        30,
        "the sentinel",
    )
    assert len(platform.http.get("/api/alerts/deliveries", params={"rule_id": rule_id}).json()) == 1

    assert platform.http.delete(f"/api/alerts/rules/{rule_id}").status_code == 204
    assert rule_id not in [r["id"] for r in platform.http.get("/api/alerts/rules").json()]


def test_secrets_are_in_no_response_and_no_log(running: tuple[Platform, HttpReceiver]) -> None:
    platform, receiver = running
    for path in ("/api/alerts/channels", "/api/alerts/rules", "/api/alerts/deliveries", "/openapi.json"):
        text = platform.http.get(path).text
        assert SECRET not in text and receiver.url not in text
    logs = platform.config.parent / "logs"
    for file in logs.glob("*.log"):
        assert SECRET not in file.read_text(errors="replace"), file

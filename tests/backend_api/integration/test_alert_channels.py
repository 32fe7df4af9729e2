"""Alert channels against real local receivers: a signed webhook retried after a 500, a stand-in of
Telegram's Bot API, an SMTP server that requires STARTTLS and a login; every outcome in the delivery log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.backend_api.core.alerts.channels import Channel, EmailChannel, TelegramChannel, WebhookChannel
from services.backend_api.core.alerts.delivery import Dispatcher
from services.backend_api.core.alerts.message import AlertMessage
from services.backend_api.core.alerts.store import AlertStore, Delivery
from shared.log import RedactingFilter
from tests.support.alert_receivers import http_receiver, self_signed_cert, smtp_receiver

SECRET = "webhook-secret-0123456789"
TOKEN = "123456:bot-token-abcdefghij"
MESSAGE = AlertMessage(
    rule_id=7,
    rule_name="eurusd level",
    event_type="tick",
    title="EURUSD crossed 1.1 up",
    text="bid 1.1001",
    symbol="EURUSD",
    event={"type": "tick", "data": {"symbol": "EURUSD", "bid": 1.1001}},
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AlertStore]:
    s = AlertStore(tmp_path / "alerts.sqlite", deliveries_kept=100)
    yield s
    s.close()


def deliver(
    store: AlertStore, make_channel: Any, *, attempts: int = 3
) -> tuple[list[Delivery], list[float], list[Any]]:
    """Send MESSAGE on one channel through a real dispatcher; the log, the backoff waits and the events."""
    waits: list[float] = []
    events: list[Any] = []

    async def no_wait(delay: float) -> None:
        waits.append(delay)

    async def scenario() -> list[Delivery]:
        async with httpx.AsyncClient(timeout=5) as client:
            channel: Channel = make_channel(client)
            dispatcher = Dispatcher(
                {channel.name: channel},
                store,
                publish=lambda t, d: events.append((t, d)),
                redact=RedactingFilter([SECRET, TOKEN, "smtp-pass"]).redact,
                queue_size=10,
                attempts=attempts,
                backoff_initial_s=1.0,
                backoff_max_s=30.0,
                timeout_s=5.0,
                clock_ms=lambda: 1_000,
                sleep=no_wait,
            )
            dispatcher.start()
            try:
                await dispatcher.submit(
                    MESSAGE, [channel.name, "telegram" if channel.name != "telegram" else "email"]
                )
                async with asyncio.timeout(20):
                    while len(rows := store.deliveries(limit=10)) < 2:
                        await asyncio.sleep(0.02)
                return rows
            finally:
                await dispatcher.aclose()

    return asyncio.run(scenario()), waits, events


def test_webhook_is_signed_and_retried_after_a_500(store: AlertStore) -> None:
    with http_receiver([(500, {"error": "busy"}), (200, {"ok": True})]) as receiver:
        rows, waits, events = deliver(store, lambda c: WebhookChannel(c, receiver.url + "/hook", SECRET))
    assert len(receiver.received) == 2
    request = receiver.received[-1]
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Signature"] == expected
    assert request.json()["title"] == "EURUSD crossed 1.1 up" and request.json()["rule"]["id"] == 7
    sent = next(r for r in rows if r.channel == "webhook")
    assert (sent.status, sent.attempts, sent.reason) == ("sent", 2, "")
    assert waits == [1.0]
    # A rule's channel that is not configured is logged as failed, not silently dropped.
    other = next(r for r in rows if r.channel != "webhook")
    assert (other.status, other.reason) == ("failed", "channel not configured")
    assert {t for t, _ in events} == {"alert.delivery"}


def test_webhook_that_keeps_failing_is_logged_failed_with_the_reason(store: AlertStore) -> None:
    with http_receiver([(503, {})]) as receiver:
        rows, waits, _ = deliver(store, lambda c: WebhookChannel(c, receiver.url + "/" + SECRET, SECRET))
    failed = next(r for r in rows if r.channel == "webhook")
    assert (failed.status, failed.attempts, failed.reason) == ("failed", 3, "HTTP 503")
    assert waits == [1.0, 2.0]  # exponential backoff between the three tries


def test_webhook_unreachable_reason_names_no_secret(store: AlertStore) -> None:
    with http_receiver() as receiver:
        url = receiver.url
    rows, _, _ = deliver(store, lambda c: WebhookChannel(c, url + "/" + SECRET, SECRET), attempts=1)
    failed = next(r for r in rows if r.channel == "webhook")
    assert failed.status == "failed" and failed.reason == "ConnectError" and SECRET not in failed.reason


def test_telegram_stand_in_receives_the_message_and_a_refusal_is_logged(store: AlertStore) -> None:
    with http_receiver() as receiver:
        rows, _, _ = deliver(store, lambda c: TelegramChannel(c, receiver.url, TOKEN, "-1001"))
    assert receiver.received[0].path == f"/bot{TOKEN}/sendMessage"
    assert receiver.received[0].json() == {"chat_id": "-1001", "text": "EURUSD crossed 1.1 up\nbid 1.1001"}
    assert next(r for r in rows if r.channel == "telegram").status == "sent"


def test_telegram_refusal_is_failed_with_its_description(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "refused.sqlite", deliveries_kept=100)
    try:
        with http_receiver([(400, {"ok": False, "description": "Bad Request: chat not found"})]) as receiver:
            rows, _, _ = deliver(store, lambda c: TelegramChannel(c, receiver.url, TOKEN, "nope"), attempts=2)
    finally:
        store.close()
    failed = next(r for r in rows if r.channel == "telegram")
    assert failed.status == "failed" and failed.reason == "Telegram HTTP 400: Bad Request: chat not found"
    assert TOKEN not in failed.reason


def test_email_over_starttls_with_login(store: AlertStore, tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    with smtp_receiver(cert, key, user="trader", password="smtp-pass") as smtp:

        def channel(_: httpx.AsyncClient) -> EmailChannel:
            return EmailChannel(
                host="127.0.0.1",
                port=smtp.port,
                starttls=True,
                ca_file=cert,
                user="trader",
                password="smtp-pass",
                from_addr="alerts@example.test",
                to=["me@example.test"],
                timeout_s=5,
            )

        rows, _, _ = deliver(store, channel)
    assert next(r for r in rows if r.channel == "email").status == "sent"
    assert smtp.logins == ["trader"] and smtp.tls_sessions == 1
    sender, recipients, content = smtp.messages[0]
    assert (sender, recipients) == ("alerts@example.test", ["me@example.test"])
    assert b"Subject: EURUSD crossed 1.1 up" in content and b"bid 1.1001" in content


def test_email_refused_login_is_failed_with_the_smtp_code(store: AlertStore, tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    with smtp_receiver(cert, key, user="trader", password="right") as smtp:
        rows, _, _ = deliver(
            store,
            lambda _: EmailChannel(
                host="127.0.0.1",
                port=smtp.port,
                starttls=True,
                ca_file=cert,
                user="trader",
                password="smtp-pass",
                from_addr="a@example.test",
                to=["b@example.test"],
                timeout_s=5,
            ),
            attempts=1,
        )
    failed = next(r for r in rows if r.channel == "email")
    assert (failed.status, failed.reason) == ("failed", "SMTP 535") and smtp.messages == []


def test_email_to_a_server_with_an_untrusted_certificate_is_failed(store: AlertStore, tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    with smtp_receiver(cert, key, user="trader", password="smtp-pass") as smtp:
        rows, _, _ = deliver(
            store,
            lambda _: EmailChannel(
                host="127.0.0.1",
                port=smtp.port,
                starttls=True,
                ca_file=None,  # the system's CAs do not know the self-signed certificate
                user="trader",
                password="smtp-pass",
                from_addr="a@example.test",
                to=["b@example.test"],
                timeout_s=5,
            ),
            attempts=1,
        )
    failed = next(r for r in rows if r.channel == "email")
    assert failed.status == "failed" and failed.reason == "SMTP SSLCertVerificationError"
    assert smtp.logins == [] and smtp.messages == []


def test_a_hanging_channel_delays_neither_another_channel_nor_the_caller(store: AlertStore) -> None:
    """The webhook's server accepts and never answers; Telegram's stand-in still gets its message, and
    messages beyond the webhook's full queue are logged as failed at once instead of waiting."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    hanging_url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"

    async def scenario(telegram_url: str) -> list[Delivery]:
        async with httpx.AsyncClient(timeout=None) as client:
            dispatcher = Dispatcher(
                {
                    "webhook": WebhookChannel(client, hanging_url, SECRET),
                    "telegram": TelegramChannel(client, telegram_url, TOKEN, "-1001"),
                },
                store,
                publish=lambda t, d: None,
                redact=lambda text: text,
                queue_size=1,
                attempts=1,
                backoff_initial_s=1.0,
                backoff_max_s=1.0,
                timeout_s=3600.0,  # the webhook's one try outlasts the test: it is cancelled at the end
                clock_ms=lambda: 1_000,
            )
            dispatcher.start()
            try:
                # Webhook: one being sent (forever), one queued, one refused; Telegram sends each in turn.
                for sent in range(1, 4):
                    await dispatcher.submit(MESSAGE, ["webhook", "telegram"])
                    async with asyncio.timeout(20):
                        while sum(r.channel == "telegram" for r in store.deliveries(limit=10)) < sent:
                            await asyncio.sleep(0.02)
                return store.deliveries(limit=10)
            finally:
                await dispatcher.aclose()

    try:
        with http_receiver() as receiver:
            rows = asyncio.run(scenario(receiver.url))
    finally:
        silent.close()
    assert sorted((r.channel, r.status) for r in rows) == [
        ("telegram", "sent"),
        ("telegram", "sent"),
        ("telegram", "sent"),
        ("webhook", "failed"),
    ]
    assert next(r for r in rows if r.channel == "webhook").reason == "queue full: the channel is behind"

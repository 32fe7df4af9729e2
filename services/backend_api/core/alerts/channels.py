"""The alert channels: a signed webhook, a Telegram bot, e-mail over SMTP with STARTTLS.

A channel's `send` makes one try and raises `ChannelError` with a reason fit for the delivery log; retries,
timeouts and the log are the dispatcher's. Secrets (webhook key, bot token, SMTP password) stay inside the
channel: reasons are built from status codes and exception types, and the dispatcher redacts them again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import httpx
import orjson

from services.backend_api.core.alerts.message import AlertMessage

SIGNATURE_HEADER = "X-Signature"


class ChannelError(Exception):
    """One try failed; the message says why (never a secret)."""


class Channel(Protocol):
    name: str

    async def send(self, message: AlertMessage) -> None: ...


def sign(body: bytes, secret: str) -> str:
    """The `X-Signature` of a webhook body: `sha256=` and the hex HMAC-SHA256 of the body with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _transport_reason(exc: httpx.HTTPError) -> str:
    # httpx's messages may quote the URL, which holds the bot token or the webhook's own secret path.
    return (
        f"{type(exc).__name__}: no answer" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
    )


class WebhookChannel:
    name = "webhook"

    def __init__(self, client: httpx.AsyncClient, url: str, secret: str | None) -> None:
        self._client, self._url, self._secret = client, url, secret

    async def send(self, message: AlertMessage) -> None:
        body = orjson.dumps(message.payload())
        headers = {"Content-Type": "application/json"}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(body, self._secret)
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(_transport_reason(exc)) from None
        if response.status_code >= 300:
            raise ChannelError(f"HTTP {response.status_code}")


class TelegramChannel:
    name = "telegram"

    def __init__(self, client: httpx.AsyncClient, api_base_url: str, token: str, chat_id: str) -> None:
        self._client = client
        self._url = f"{api_base_url.rstrip('/')}/bot{token}/sendMessage"
        self._chat_id = chat_id

    async def send(self, message: AlertMessage) -> None:
        try:
            response = await self._client.post(
                self._url, json={"chat_id": self._chat_id, "text": message.plain()}
            )
        except httpx.HTTPError as exc:
            raise ChannelError(_transport_reason(exc)) from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 300 or not (isinstance(answer, dict) and answer.get("ok") is True):
            description = answer.get("description") if isinstance(answer, dict) else None
            raise ChannelError(f"Telegram HTTP {response.status_code}: {str(description or 'not ok')[:200]}")


class EmailChannel:
    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        starttls: bool,
        ca_file: Path | None,
        user: str | None,
        password: str | None,
        from_addr: str,
        to: list[str],
        timeout_s: float,
    ) -> None:
        self._host, self._port, self._starttls, self._ca_file = host, port, starttls, ca_file
        self._user, self._password = user, password
        self._from, self._to, self._timeout_s = from_addr, to, timeout_s

    async def send(self, message: AlertMessage) -> None:
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = message.title, self._from, ", ".join(self._to)
        mail.set_content(message.plain())
        # smtplib blocks; its socket timeout bounds the thread.
        await asyncio.to_thread(self._send_blocking, mail)

    def _send_blocking(self, mail: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
                if self._starttls:
                    context = ssl.create_default_context(cafile=self._ca_file)
                    smtp.starttls(context=context)
                if self._user:
                    smtp.login(self._user, self._password or "")
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(f"SMTP {exc.smtp_code}") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise ChannelError(f"SMTP {type(exc).__name__}") from None

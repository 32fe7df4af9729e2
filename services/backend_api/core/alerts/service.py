"""Building the alert objects from settings, and the rule operations the API calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import numpy as np

from services.backend_api.core.alerts.channels import Channel, EmailChannel, TelegramChannel, WebhookChannel
from services.backend_api.core.alerts.delivery import Dispatcher
from services.backend_api.core.alerts.engine import AlertEngine, Event
from services.backend_api.core.alerts.rules import RuleRead, RuleSpec
from services.backend_api.core.alerts.store import AlertStore, Delivery
from services.backend_api.settings import BackendSettings
from shared.contracts.data import DataClient
from shared.errors import ConflictError, InvalidInputError
from shared.event_payloads import Publish
from shared.utils import get_timestamp_ms


def build_channels(settings: BackendSettings, client: httpx.AsyncClient) -> dict[str, Channel]:
    """The channels whose settings and secrets are present; the others are off."""
    alerts, secrets = settings.alerts, settings.secrets
    channels: dict[str, Channel] = {}
    if secrets.notify_webhook_url is not None:
        secret = secrets.alerts_webhook_secret
        channels["webhook"] = WebhookChannel(
            client,
            secrets.notify_webhook_url.get_secret_value(),
            secret.get_secret_value() if secret else None,
        )
    if secrets.alerts_telegram_bot_token is not None and alerts.telegram.chat_id:
        channels["telegram"] = TelegramChannel(
            client,
            alerts.telegram.api_base_url,
            secrets.alerts_telegram_bot_token.get_secret_value(),
            alerts.telegram.chat_id,
        )
    email = alerts.email
    if email.host and email.to:
        password = secrets.alerts_smtp_password
        channels["email"] = EmailChannel(
            host=email.host,
            port=email.port,
            starttls=email.starttls,
            ca_file=(settings.base_dir / email.ca_file) if email.ca_file else None,
            user=email.user,
            password=password.get_secret_value() if password else None,
            from_addr=email.from_addr,
            to=email.to,
            timeout_s=alerts.send_timeout_s,
        )
    return channels


@dataclass
class Alerts:
    """What the API works with: the store, the engine (its rule cache) and the dispatcher."""

    store: AlertStore
    engine: AlertEngine
    dispatcher: Dispatcher
    max_rules: int
    deliveries_listed: int

    async def create(self, spec: RuleSpec, now_ms: int) -> RuleRead:
        """Persist a rule and start evaluating it."""
        missing = [c for c in spec.channels if c not in self.dispatcher.configured]
        if missing:
            raise InvalidInputError(
                f"channels not configured: {', '.join(missing)}",
                code="channel_not_configured",
                details={"field": "channels", "configured": sorted(self.dispatcher.configured)},
            )
        if await self.store.worker.run(self.store.count_rules) >= self.max_rules:
            raise ConflictError(
                f"at most {self.max_rules} alert rules (alerts.max_rules)",
                code="too_many_rules",
                details={"max_rules": self.max_rules},
            )
        rule = await self.store.worker.run(self.store.add_rule, spec, now_ms)
        self.engine.rule_saved(rule)
        return rule

    async def set_enabled(self, rule_id: int, enabled: bool) -> RuleRead:
        rule = await self.store.worker.run(self.store.set_enabled, rule_id, enabled)
        self.engine.rule_saved(rule)
        return rule

    async def delete(self, rule_id: int) -> None:
        await self.store.worker.run(self.store.delete_rule, rule_id)
        self.engine.rule_deleted(rule_id)

    async def rules(self) -> list[RuleRead]:
        return await self.store.worker.run(self.store.rules)

    async def rule(self, rule_id: int) -> RuleRead:
        return await self.store.worker.run(self.store.rule, rule_id)

    async def deliveries(self, *, limit: int, rule_id: int | None) -> list[Delivery]:
        return await self.store.worker.run(self.store.deliveries, limit=limit, rule_id=rule_id)


@asynccontextmanager
async def running_alerts(
    settings: BackendSettings,
    *,
    publish: Publish,
    listen: Callable[[Callable[[Event], None]], None],
    redact: Callable[[str], str],
) -> AsyncIterator[Alerts]:
    """The alert objects, started (rules loaded, the engine listening, channel workers running), then stopped."""
    alerts = settings.alerts
    store = AlertStore(settings.data_dir / alerts.db, deliveries_kept=alerts.deliveries_kept)
    client = httpx.AsyncClient(timeout=httpx.Timeout(alerts.send_timeout_s), follow_redirects=False)
    data = DataClient.from_settings(settings, timeout_s=alerts.data_timeout_s)

    async def closes(symbol: str, timeframe: str, to_s: int, count: int) -> np.ndarray:
        return (await data.bars(symbol, timeframe, to_s=to_s, count=count))["close"]

    dispatcher = Dispatcher(
        build_channels(settings, client),
        store,
        publish=publish,
        redact=redact,
        queue_size=alerts.delivery_queue_size,
        attempts=alerts.attempts,
        backoff_initial_s=alerts.backoff_initial_s,
        backoff_max_s=alerts.backoff_max_s,
        timeout_s=alerts.send_timeout_s,
        clock_ms=get_timestamp_ms,
    )
    engine = AlertEngine(
        store,
        dispatcher,
        closes=closes,
        max_event_age_s=alerts.max_event_age_s,
        queue_size=alerts.event_queue_size,
        indicator_bars=alerts.indicator_bars,
        clock_ms=get_timestamp_ms,
    )
    try:
        await engine.load()
        listen(engine.on_event)
        dispatcher.start()
        engine.start()
        yield Alerts(store, engine, dispatcher, alerts.max_rules, alerts.deliveries_listed)
    finally:
        await engine.aclose()
        await dispatcher.aclose()
        await client.aclose()
        await data.aclose()
        store.close()

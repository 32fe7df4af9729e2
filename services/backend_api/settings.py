"""backend-api's settings: the shared sections plus `alerts` (rules, channels, delivery)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.config import PlatformSettings, Section


class TelegramSection(Section):
    """The bot token is the secret `ALERTS_TELEGRAM_BOT_TOKEN` in `.env`."""

    api_base_url: str = Field(
        default="https://api.telegram.org", description="Telegram's Bot API (a local stand-in in tests)"
    )
    chat_id: str | None = Field(default=None, description="where the bot posts; none: channel off")


class EmailSection(Section):
    """The SMTP password is the secret `ALERTS_SMTP_PASSWORD` in `.env`."""

    host: str | None = Field(default=None, description="SMTP server; none: channel off")
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(default=True, description="upgrade the connection with STARTTLS before logging in")
    ca_file: Path | None = Field(
        default=None, description="CA bundle that signs the server's certificate; none: the system's"
    )
    user: str | None = Field(default=None, description="SMTP login; none: no login")
    from_addr: str = "mt5-platform@localhost"
    to: list[str] = Field(default_factory=list, description="recipients; empty: channel off")


class AlertsSection(Section):
    """Alert rules, their channels and their delivery (the webhook URL is `NOTIFY_WEBHOOK_URL` in `.env`)."""

    enabled: bool = True
    db: Path = Field(default=Path("alerts/alerts.sqlite"), description="relative to data_dir")
    max_event_age_s: float = Field(
        default=120.0,
        gt=0,
        description="an event older than this by the market's clock (platform events: by its time stamp) "
        "never fires an alert; backfilled candles and patterns never do",
    )
    event_queue_size: int = Field(default=10_000, ge=10, description="events waiting for rule evaluation")
    delivery_queue_size: int = Field(default=1_000, ge=1, description="messages waiting to be sent")
    attempts: int = Field(default=4, ge=1, le=20, description="tries per message and channel")
    backoff_initial_s: float = Field(default=1.0, gt=0, description="wait before the 2nd try, doubled after")
    backoff_max_s: float = Field(default=30.0, gt=0)
    send_timeout_s: float = Field(default=10.0, gt=0, description="bound on one try of one channel")
    data_timeout_s: float = Field(
        default=10.0, gt=0, description="bound on reading closes for indicator rules"
    )
    indicator_bars: int = Field(
        default=300, ge=50, le=100_000, description="closes read for an indicator rule (warm-up included)"
    )
    deliveries_listed: int = Field(
        default=200, ge=1, le=10_000, description="GET /api/alerts/deliveries default"
    )
    deliveries_kept: int = Field(
        default=10_000, ge=100, description="delivery log rows kept (oldest dropped)"
    )
    max_rules: int = Field(default=500, ge=1)
    telegram: TelegramSection = TelegramSection()
    email: EmailSection = EmailSection()


class BackendSettings(PlatformSettings):
    alerts: AlertsSection = AlertsSection()

"""Settings: `config.json` (every non-secret setting) overlaid by the environment, validated at start-up.

Precedence, highest first: environment variables (`MT5P_<SECTION>__<KEY>`, e.g.
`MT5P_TRADING__MODE=live`), then `.env` beside the config file, then `config.json`. Secrets never live in
config.json; they come from the environment or `.env` (see `.env.example`) and are `SecretStr`, so they
print as `**********`.

Each service extends `PlatformSettings` with its own section in its `settings.py`; the sections here are
the ones every service reads.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_ENV = "MT5P_CONFIG"
INTERNAL_TOKEN_ENV = "MT5P_INTERNAL_TOKEN"
SERVICE_NAMES = ("backend-api", "data", "mt5", "pattern", "strategy", "ai", "backtesting")


class ConfigError(Exception):
    """An invalid or missing setting; the message names the key and the file."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SystemSection(Section):
    environment: Literal["development", "production", "test"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    data_dir: Path = Path("database")
    log_dir: Path = Path("logs")
    log_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    log_backup_count: int = Field(default=5, ge=0, le=100)
    allow_remote_bind: bool = False
    request_head_timeout_s: float = Field(default=5.0, gt=0, description="a request head must arrive within")
    max_concurrency: int = Field(default=2048, ge=16, description="connections or requests; then 503")
    disk_full_hold_s: float = Field(
        default=10.0, ge=0, description="a full disk is over once writes succeed this long with no refusal"
    )


class ServiceSection(Section):
    module: str = Field(pattern=r"^[A-Za-z_][\w.]*$")
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    url: str | None = Field(default=None, description="external mode: where the service answers")
    auto_start: bool = True
    auto_restart: bool = True

    @property
    def base_url(self) -> str:
        if self.url:
            return self.url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"


class OrchestratorSection(Section):
    mode: Literal["spawn", "external"] = "spawn"
    health_interval_s: float = Field(default=5.0, gt=0)
    health_timeout_s: float = Field(default=2.0, gt=0)
    health_failures: int = Field(default=3, ge=1)
    health_lag_tolerance_s: float = Field(
        default=1.0,
        gt=0,
        description="a failed check while backend-api's loop lagged this much is not counted",
    )
    loop_lag_sample_s: float = Field(default=0.1, gt=0)
    startup_grace_s: float = Field(default=30.0, gt=0)
    startup_poll_s: float = Field(default=0.1, gt=0)
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=60.0, gt=0)
    backoff_reset_after_s: float = Field(default=60.0, gt=0)
    restart_budget: int = Field(default=5, ge=0, description="failures allowed within restart_window_s")
    restart_window_s: float = Field(default=300.0, gt=0)
    stop_timeout_s: float = Field(default=10.0, gt=0)
    proxy_timeout_s: float = Field(default=30.0, gt=0)
    proxy_connect_timeout_s: float = Field(default=10.0, gt=0)
    proxy_pool_timeout_s: float = Field(default=30.0, gt=0, description="wait for a free pooled connection")
    proxy_max_connections: int = Field(default=512, ge=1, description="gateway connections to all children")
    proxy_max_keepalive: int = Field(default=128, ge=0)
    auth_max_failures: int = Field(default=20, ge=1, description="per client address within the window")
    auth_failure_window_s: float = Field(default=60.0, gt=0)


class DatabaseSection(Section):
    url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite files under data_dir")
    tick_partitioning: Literal["month", "day", "none"] = "month"


class TradingSection(Section):
    mode: Literal["paper", "live"] = "paper"
    symbols: list[str] = Field(default_factory=lambda: ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD"], min_length=1)
    timeframes: list[str] = Field(default_factory=lambda: ["M1", "M5", "M15", "M30", "H1", "H4", "D1"])

    @field_validator("timeframes")
    @classmethod
    def _known_timeframes(cls, value: list[str]) -> list[str]:
        from shared.market.timeframes import get_timeframe

        return [get_timeframe(v).name for v in value]


class MonitoringSection(Section):
    metrics_enabled: bool = True
    event_queue_size: int = Field(default=10_000, ge=10, description="per WebSocket client")
    ws_send_timeout_s: float = Field(default=5.0, gt=0)
    ws_send_batch: int = Field(default=64, ge=1, description="events sent to one client per turn")
    ws_max_lost_events: int = Field(
        default=50_000, ge=0, description="events a client may lose without catching up before it is cut"
    )
    ws_compression: bool = Field(default=False, description="permessage-deflate: costs CPU per client")
    heartbeat_interval_s: float = Field(default=15.0, gt=0)


BodyFamily = Literal["default", "bars", "import"]


class BodyLimitsSection(Section):
    """The largest request body each family of routes accepts."""

    default_bytes: int = Field(default=1 << 20, ge=1024, description="ordinary JSON requests")
    bars_bytes: int = Field(
        default=128 << 20,
        ge=1024,
        description="routes taking bars in the body (pattern, backtesting, ai): 1,000,000 bars of JSON fit",
    )
    import_bytes: int = Field(
        default=1 << 30, ge=1024, description="data's CSV import (spooled to disk as it arrives)"
    )

    def limit(self, family: BodyFamily) -> int:
        return {"default": self.default_bytes, "bars": self.bars_bytes, "import": self.import_bytes}[family]


class Secrets(BaseSettings):
    """Secrets and per-machine overrides, from the environment or `.env` only."""

    # An empty line copied from .env.example (MT5_LOGIN=) means "not set", not an invalid value.
    model_config = SettingsConfigDict(extra="ignore", env_file=None, env_ignore_empty=True)

    api_key: SecretStr | None = None
    database_url: SecretStr | None = None
    mt5_login: int | None = None
    mt5_password: SecretStr | None = None
    mt5_server: str | None = None
    mt5_path: str | None = None
    mt5_live_trading_confirm: str | None = None
    notify_webhook_url: SecretStr | None = None
    # Alert channels (backend-api): the webhook's HMAC key, the Telegram bot's token, the SMTP password.
    alerts_webhook_secret: SecretStr | None = None
    alerts_telegram_bot_token: SecretStr | None = None
    alerts_smtp_password: SecretStr | None = None


class PlatformSettings(BaseSettings):
    """The sections every service reads. Unknown top-level sections belong to other services."""

    model_config = SettingsConfigDict(
        extra="ignore", env_prefix="MT5P_", env_nested_delimiter="__", frozen=True
    )
    json_path: ClassVar[Path | None] = None

    system: SystemSection = SystemSection()
    services: dict[str, ServiceSection]
    orchestrator: OrchestratorSection = OrchestratorSection()
    database: DatabaseSection = DatabaseSection()
    trading: TradingSection = TradingSection()
    monitoring: MonitoringSection = MonitoringSection()
    body_limits: BodyLimitsSection = BodyLimitsSection()

    config_file: Path = Field(default=Path("config.json"), exclude=True)
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)

    @field_validator("services")
    @classmethod
    def _all_services_present(cls, value: dict[str, ServiceSection]) -> dict[str, ServiceSection]:
        missing = [name for name in SERVICE_NAMES if name not in value]
        if missing:
            raise ValueError(f"missing service entries: {', '.join(missing)}")
        ports = [s.port for s in value.values()]
        if len(set(ports)) != len(ports):
            raise ValueError("two services share a port")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if cls.json_path is not None:
            sources.append(JsonConfigSettingsSource(settings_cls, json_file=cls.json_path))
        return tuple(sources)

    # Paths in config.json are relative to the config file, so a temp config gets temp folders.
    @property
    def base_dir(self) -> Path:
        return self.config_file.resolve().parent

    @property
    def data_dir(self) -> Path:
        return (self.base_dir / self.system.data_dir).resolve()

    @property
    def log_dir(self) -> Path:
        return (self.base_dir / self.system.log_dir).resolve()

    def service(self, name: str) -> ServiceSection:
        try:
            return self.services[name]
        except KeyError:
            raise ConfigError(f"{self.config_file}: services.{name} is not configured") from None

    @property
    def database_url(self) -> str | None:
        if self.secrets.database_url is not None:
            return self.secrets.database_url.get_secret_value()
        return self.database.url


S = TypeVar("S", bound=PlatformSettings)


def config_path(path: str | Path | None = None) -> Path:
    """The config file to use: the argument, else $MT5P_CONFIG, else config.json at the project root."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(CONFIG_ENV) or PROJECT_ROOT / "config.json")


def load_config(path: str | Path | None = None, model: type[S] = PlatformSettings) -> S:  # type: ignore[assignment]
    """Load and validate settings; raise ConfigError naming the key and the file when something is wrong."""
    file = config_path(path).resolve()
    if not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    env_file = file.parent / ".env"
    loaded = type(model.__name__, (model,), {"json_path": file})
    try:
        secrets_ = Secrets(_env_file=env_file if env_file.is_file() else None)  # type: ignore[call-arg]
        return loaded(
            config_file=file,
            secrets=secrets_,
            _env_file=env_file if env_file.is_file() else None,
        )
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file)) from None
    except ValueError as exc:  # malformed JSON surfaces as ValueError from the JSON source
        raise ConfigError(f"{file}: {exc}") from None


def _describe(exc: ValidationError, file: Path) -> str:
    lines = [f"invalid configuration in {file} (or its MT5P_* environment overrides):"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {key}: {err['msg']}")
    return "\n".join(lines)


def get_service_config(name: str, settings: PlatformSettings | None = None) -> ServiceSection:
    """The `services.<name>` section (loading the default config when none is given)."""
    return (settings or load_config()).service(name)


def _read_or_create_secret(path: Path) -> str:
    """A random token kept in a 0600 file, created on first use."""
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


def resolve_api_key(settings: PlatformSettings) -> str:
    """The gateway's API key: $API_KEY, else one generated at first start and kept in data_dir/.api_key."""
    if settings.secrets.api_key is not None:
        return settings.secrets.api_key.get_secret_value()
    return _read_or_create_secret(settings.data_dir / ".api_key")


def resolve_internal_token(settings: PlatformSettings) -> str:
    """The token children require: $MT5P_INTERNAL_TOKEN (set by the supervisor), else data_dir/.internal_token."""
    return os.environ.get(INTERNAL_TOKEN_ENV) or _read_or_create_secret(settings.data_dir / ".internal_token")


def dump_config(settings: Any) -> dict[str, Any]:
    """The settings as JSON-ready data, secrets excluded."""
    return settings.model_dump(mode="json", exclude={"secrets", "config_file"})

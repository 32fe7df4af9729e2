"""The mt5 service's settings: the `mt5` section of config.json on top of the platform's sections.

Every default makes the service work with the committed config.json unchanged: a simulated terminal on
real time with a paper account. Credentials of a real terminal are never here; they come from the
environment (`MT5_LOGIN`, `MT5_PASSWORD`, `MT5_SERVER`, `MT5_PATH`, see .env.example).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from services.mt5.core.adapters.mt5linux import is_loopback
from services.mt5.core.risk_guard import RiskLimits
from services.mt5.core.simulated.broker_accounting import PaperAccountSettings
from shared.config import PlatformSettings, Section
from shared.errors import InvalidInputError
from shared.market.symbols import DEFAULT_SYMBOLS, SymbolSpec
from shared.utils import parse_time_s


class SimulatedSection(Section):
    """The embedded simulated terminal: a deterministic market and a paper account."""

    seed: int = Field(default=0, ge=0, description="the market's seed: same seed, same ticks")
    clock: Literal["real", "replay"] = "real"
    replay_start: str | int | None = Field(
        default=None, description="replay clock start, ISO-8601 or epoch seconds; None: the start-up time"
    )
    replay_speed: float = Field(default=1.0, gt=0, le=1_000_000, description="market seconds per second")
    replay_hold_timeout_s: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="longest wall time the replay clock waits at a new bar for a registered holder (the "
        "strategy service) to release it; a dead or slow holder cannot freeze the market for longer per bar",
    )
    replay_hold_lease_s: float = Field(
        default=30.0,
        gt=0,
        le=86_400,
        description="a replay clock hold registration not renewed for this long is dropped",
    )
    symbols: list[SymbolSpec] = Field(default_factory=lambda: list(DEFAULT_SYMBOLS), min_length=1)
    account: PaperAccountSettings = PaperAccountSettings()

    @field_validator("replay_start")
    @classmethod
    def _parseable_start(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            try:
                parse_time_s(value, field="replay_start")
            except InvalidInputError as exc:  # pydantic reports ValueError with the key's path
                raise ValueError(exc.message) from None
        return value

    @field_validator("symbols")
    @classmethod
    def _unique_names(cls, value: list[SymbolSpec]) -> list[SymbolSpec]:
        names = [s.name for s in value]
        if len(set(names)) != len(names):
            raise ValueError("two symbols share a name")
        return value

    @property
    def replay_start_ms(self) -> int | None:
        return None if self.replay_start is None else parse_time_s(self.replay_start) * 1000


class Metatrader5Section(Section):
    """A real terminal through the MetaTrader5 module (also applied by the mt5linux bridge)."""

    symbol_suffix: str = Field(default="", max_length=16, description='the broker\'s suffix, e.g. "m"')
    symbol_map: dict[str, str] = Field(default_factory=dict, description="platform name -> broker name")
    server_time_offset_s: int | Literal["auto"] = Field(
        default=0,
        description='broker server time minus UTC, or "auto" to measure it from the newest tick at connect '
        "and again after every weekend (daylight saving)",
    )
    timeout_ms: int = Field(default=60_000, ge=1_000)
    portable: bool = False
    activity_interval_ms: int = Field(
        default=500,
        ge=50,
        le=60_000,
        description="how often positions, orders and new deals are compared with the last look, to publish "
        "what happened in the terminal (SL/TP, stop-out, by hand, other programs) as order/position events",
    )


class Mt5LinuxSection(Section):
    """The rpyc bridge to a terminal under Wine."""

    host: str = "127.0.0.1"
    port: int = Field(default=18812, ge=1, le=65535)
    allow_remote: bool = Field(default=False, description="accept a non-loopback host (trusted tunnel only)")

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> Mt5LinuxSection:
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is not a loopback address; the rpyc bridge gives whoever reaches it "
                "control of the terminal: keep it on 127.0.0.1 or set allow_remote behind a trusted tunnel"
            )
        return self


class Mt5Section(Section):
    adapter: Literal["simulated", "metatrader5", "mt5linux"] = "simulated"
    simulated: SimulatedSection = SimulatedSection()
    metatrader5: Metatrader5Section = Metatrader5Section()
    mt5linux: Mt5LinuxSection = Mt5LinuxSection()
    risk: RiskLimits = RiskLimits()

    sync_interval_ms: int = Field(
        default=100, ge=10, description="how often the paper broker is settled and its events published"
    )
    probe_interval_s: float = Field(default=5.0, gt=0, description="terminal connection check period")
    reconnect_initial_s: float = Field(default=1.0, gt=0)
    reconnect_max_s: float = Field(default=60.0, gt=0)

    tick_event_interval_ms: int = Field(
        default=250, ge=0, description="at most one `tick` event per symbol per interval; 0 disables them"
    )
    tick_event_symbols: list[str] | None = Field(
        default=None, description="symbols whose ticks are published; None: trading.symbols"
    )

    max_price_distance_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="farthest a request's price, stop-limit, SL or TP may be from the market, as a fraction "
        "of the market price (1.0: a whole price away); farther is refused (10015/10016)",
    )

    client_id_recovery_slack_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="at start, an order stamped up to this much before a dead process's client id claim "
        "still counts as that claim's order (a real terminal's clock is not the service's)",
    )

    max_ticks_per_request: int = Field(default=2_000_000, ge=1)
    max_bars_per_request: int = Field(default=100_000, ge=1)
    max_tick_range_days: float = Field(default=31.0, gt=0, description="longest from..to span of GET /ticks")

    @model_validator(mode="after")
    def _backoff_order(self) -> Mt5Section:
        if self.reconnect_initial_s > self.reconnect_max_s:
            raise ValueError("reconnect_initial_s must not exceed reconnect_max_s")
        return self


class Mt5Settings(PlatformSettings):
    """Platform settings plus the `mt5` section."""

    mt5: Mt5Section = Mt5Section()

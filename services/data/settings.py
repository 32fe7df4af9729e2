"""Settings of the data service: the `data` section of config.json on top of the platform's sections."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.config import PlatformSettings, Section


class CollectionSection(Section):
    """On-the-fly tick collection from the mt5 service."""

    auto_start: bool = Field(
        default=False, description="start collecting at service start even if never started by request"
    )
    symbols: list[str] | None = Field(default=None, description="default: trading.symbols")
    poll_interval_ms: int = Field(default=100, ge=10, le=60_000)
    poll_max_ticks: int = Field(default=20_000, ge=100, description="ticks asked of the terminal per poll")
    batch_max_ticks: int = Field(default=1_000, ge=1)
    batch_max_s: float = Field(default=1.0, gt=0)
    tick_event_interval_ms: int = Field(default=250, ge=0, description="throttle of `tick` events per symbol")
    backfill_max_s: int = Field(
        default=3_600,
        ge=0,
        description="how far back collection reaches, whatever is stored (rounded down to the day)",
    )
    retry_max_s: float = Field(default=5.0, gt=0, description="backoff cap while the mt5 service is down")
    stall_after_s: float = Field(
        default=60.0,
        gt=0,
        description="market seconds of open market (weekends do not count) without a new tick after which "
        "a running collector reports itself stalled",
    )
    stall_min_wall_s: float = Field(
        default=5.0,
        ge=0,
        description="wall seconds without a new tick a stall also needs, so a fast replay's market minute "
        "between two polls is not one",
    )


class LimitsSection(Section):
    """Bounds on one request, so a careless query cannot exhaust memory."""

    max_bars_per_request: int = Field(default=1_000_000, ge=1)
    max_ticks_per_request: int = Field(default=2_000_000, ge=1)
    max_range_days: int = Field(default=3_700, ge=1, description="completeness and gap-fill ranges")


class GapFillSection(Section):
    """How gap fill asks the terminal for history."""

    chunk_bars: int = Field(default=50_000, ge=1, description="bars per request to the mt5 service")
    tick_chunk_s: int = Field(default=3_600, ge=1, description="seconds of ticks per request")
    request_timeout_s: float = Field(default=60.0, gt=0)
    workers: int = Field(default=2, ge=1, le=16)


class ImportSection(Section):
    """The times `POST /import` accepts: a line outside them is refused (a stray date would otherwise
    become the store's newest or oldest tick)."""

    earliest_year: int = Field(default=1970, ge=1970, le=9998, description="lines before Jan 1 of it")
    future_margin_s: int = Field(
        default=86_400, ge=0, description="how far past the service's clock (UTC now) a line may be"
    )


# Seconds inside the time zones' range (UTC-12 .. UTC+14), or "auto".
ServerTimeSetting = Annotated[int, Field(ge=-12 * 3600, le=14 * 3600)] | Literal["auto"]


class _BrokerTimeView(BaseModel):
    """The one key of the mt5 section's `metatrader5` part the data service reads (the rest is mt5's)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    server_time_offset_s: ServerTimeSetting = 0


class _Mt5View(BaseModel):
    """What the data service reads of the mt5 service's section: the broker's server-time offset, the
    default of `POST /import` (an MT5 export is stamped in the same server time as the terminal)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    metatrader5: _BrokerTimeView = _BrokerTimeView()


class MarketSection(Section):
    """How the service follows the mt5 service's market (its world and clock, `GET /clock` of mt5)."""

    clock_check_interval_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="how often the market's world and clock are re-read, so a restarted mt5 service on "
        "another clock (real time vs a replay) is followed within this period",
    )


class DataSection(Section):
    market: MarketSection = MarketSection()
    collection: CollectionSection = CollectionSection()
    limits: LimitsSection = LimitsSection()
    imports: ImportSection = ImportSection()
    gap_fill: GapFillSection = GapFillSection()
    storage_dir: Path = Field(default=Path("data"), description="under system.data_dir")

    @field_validator("storage_dir")
    @classmethod
    def _relative(cls, value: Path) -> Path:
        if value.is_absolute() or ".." in value.parts:
            raise ValueError("must be a relative path inside system.data_dir")
        return value


class DataSettings(PlatformSettings):
    """The platform settings plus the data service's section."""

    data: DataSection = DataSection()
    mt5: _Mt5View = _Mt5View()

    @property
    def storage_root(self) -> Path:
        """Where the tick partitions, the catalog, the jobs and the collection state live."""
        return self.data_dir / self.data.storage_dir

    @property
    def collection_symbols(self) -> list[str]:
        return self.data.collection.symbols or list(self.trading.symbols)

"""The pattern service's settings: the shared sections plus `pattern` (limits, data client, live detection)."""

from __future__ import annotations

from pydantic import Field, field_validator

from shared.config import PlatformSettings, Section
from shared.errors import InvalidInputError
from shared.market.timeframes import get_timeframe


class LiveSection(Section):
    """Which closed candles are checked for patterns as they arrive from the data service."""

    enabled: bool = True
    symbols: list[str] | None = Field(default=None, description="default: trading.symbols")
    timeframes: list[str] = Field(default_factory=lambda: ["M1", "M5"])
    patterns: list[str] | None = Field(
        default=None, description='pattern specs such as "ENGULFING" or "CDLMORNINGSTAR(0.4)"; default: all'
    )

    @field_validator("timeframes")
    @classmethod
    def _known_timeframes(cls, value: list[str]) -> list[str]:
        return [get_timeframe(v).name for v in value]

    @field_validator("patterns")
    @classmethod
    def _known_patterns(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        from services.pattern.core.catalog import Catalog
        from services.pattern.core.spec import parse_specs

        try:
            parse_specs(",".join(value), Catalog.candlesticks())
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None
        return value


class PatternSection(Section):
    default_count: int = Field(
        default=500, ge=1, description="bars returned when neither from nor count is given"
    )
    max_bars: int = Field(default=1_000_000, ge=1, description="per request, sent or read")
    max_specs: int = Field(default=64, ge=1, description="indicators or patterns per request")
    warmup_lookbacks: int = Field(
        default=20,
        ge=1,
        description="history read before an indicator window, in multiples of the largest look-back",
    )
    data_timeout_s: float = Field(default=10.0, gt=0)
    reconnect_initial_s: float = Field(default=0.2, gt=0)
    reconnect_max_s: float = Field(default=5.0, gt=0)
    live: LiveSection = LiveSection()


class PatternSettings(PlatformSettings):
    pattern: PatternSection = PatternSection()

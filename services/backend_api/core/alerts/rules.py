"""Alert rules: what a trader asks to be told about, as typed models (the API's create/read bodies)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.market.timeframes import get_timeframe

ChannelName = Literal["webhook", "telegram", "email"]
PlatformTrigger = Literal[
    "fill", "sl_tp", "stop_out", "margin_call", "strategy_stopped", "service_error", "job_failed"
]
Indicator = Literal["RSI", "SMA", "EMA", "WMA", "MOM", "ROC", "CMO"]
SYMBOL_PATTERN = r"^[A-Za-z0-9._#-]{1,32}$"


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=100)
    channels: list[ChannelName] = Field(min_length=1, max_length=3)
    cooldown_s: float = Field(default=300.0, ge=0, le=7 * 86400, description="least time between two firings")
    enabled: bool = True

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[ChannelName]) -> list[ChannelName]:
        return list(dict.fromkeys(value))


class PriceCrossRule(RuleBase):
    """The bid crosses `level` (from the previous tick's bid), upwards, downwards or either."""

    kind: Literal["price_cross"]
    symbol: str = Field(pattern=SYMBOL_PATTERN)
    level: float = Field(gt=0)
    direction: Literal["up", "down", "any"] = "any"

    _level_finite = field_validator("level")(_finite)

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class IndicatorRule(RuleBase):
    """`indicator(period)` of the closes enters `op value` on a closed candle (e.g. RSI(14) < 30)."""

    kind: Literal["indicator"]
    symbol: str = Field(pattern=SYMBOL_PATTERN)
    timeframe: str
    indicator: Indicator = "RSI"
    period: int = Field(default=14, ge=2, le=500)
    op: Literal["<", ">"]
    value: float

    _value_finite = field_validator("value")(_finite)

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        return get_timeframe(value).name


class PatternRule(RuleBase):
    """The pattern service detects a candlestick pattern (any, when a field is left out)."""

    kind: Literal["pattern"]
    symbol: str | None = Field(default=None, pattern=SYMBOL_PATTERN)
    timeframe: str | None = None
    pattern: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,40}$", description="e.g. ENGULFING")
    direction: Literal["bullish", "bearish"] | None = None

    @field_validator("symbol", "pattern")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else None

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str | None) -> str | None:
        return get_timeframe(value).name if value else None


class EventRule(RuleBase):
    """A platform event: a fill, an SL/TP hit, a stop-out, a margin call, an instance stopped by its risk
    rules or an error, a service in ERROR, a failed job."""

    kind: Literal["event"]
    trigger: PlatformTrigger


RuleSpec = Annotated[PriceCrossRule | IndicatorRule | PatternRule | EventRule, Field(discriminator="kind")]


class RuleRead(BaseModel):
    id: int
    created_ms: int
    last_fired_ms: int | None
    rule: RuleSpec


class RuleToggle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool

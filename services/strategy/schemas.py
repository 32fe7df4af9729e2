"""Request and response models of the strategy service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.strategy.core.config import DEFAULT_SIZING, RiskConfig
from shared.json_input import refuse_coercion
from shared.market.names import SymbolName, TimeframeName
from shared.trading.sizing import SizingConfig

SizingInput = Annotated[SizingConfig, refuse_coercion(SizingConfig)]
RiskInput = Annotated[RiskConfig, refuse_coercion(RiskConfig)]


class InstanceCreate(BaseModel):
    """A new instance of a strategy on one symbol and timeframe (created stopped)."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(
        min_length=1, max_length=64, description="a name from GET /strategies", examples=["sma_crossover"]
    )
    params: dict[str, Any] = Field(default_factory=dict, description="validated against its JSON Schema")
    symbol: SymbolName
    timeframe: TimeframeName
    sizing: SizingInput = Field(
        default=DEFAULT_SIZING,
        description='{"mode": "fixed" (lots) | "equity_fraction" | "risk_percent", "value": ...}',
    )
    risk: RiskInput = RiskConfig()


class InstanceUpdate(BaseModel):
    """New params, sizing or risk of a stopped instance; what is left out stays."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] | None = None
    sizing: SizingInput | None = None
    risk: RiskInput | None = None


class StopRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="stopped by request", max_length=200)


class SignalEntryRead(BaseModel):
    """One entry of an instance's signal log: a decision (`kind` signal; `refused` says why it was not
    placed) or a candle not acted on (`kind` skipped, warming_up or daily_loss; `reason` and `details` say
    why)."""

    time_ms: int = Field(description="when it was recorded (epoch ms, the service's clock)")
    bar_time: int = Field(description="open time of the (last) candle it is about (epoch s)")
    count: int = Field(description="candles it stands for: a run skipped for one reason is one entry")
    first_bar_time: int = Field(description="open time of the run's first candle (epoch s)")
    kind: Literal["signal", "skipped", "warming_up", "daily_loss"]
    direction: str | None = Field(description="long, short or flat (decisions only)")
    action: str | None = Field(description="buy, sell, close..., or none (decisions only)")
    reason: str
    refused: str | None = Field(description="the refusal's code when the decision was not carried out")
    details: dict[str, Any]

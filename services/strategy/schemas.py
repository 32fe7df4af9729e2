"""Request and response models of the strategy service."""

from __future__ import annotations

from typing import Annotated, Any

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

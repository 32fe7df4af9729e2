"""What an instance is configured with: sizing and risk rules (validated, immutable)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.trading.sizing import SizingConfig, SizingMode

DEFAULT_SIZING = SizingConfig(mode=SizingMode.FIXED, value=0.01)


def live_sizing(sizing: SizingConfig) -> SizingConfig:
    """`sizing` if a live instance can use it: "all_in" needs the backtest's cash model, so it is refused."""
    if sizing.mode == SizingMode.ALL_IN:
        raise ValueError("mode: all_in is for backtests; use fixed, equity_fraction or risk_percent")
    return sizing


# A sanity bound on the input, as `le=100` is for ATR multiples: a million points is 10.0 on a 5-digit FX
# pair and 10,000 on a 2-digit index, past any real stop; 1e308 would overflow the price arithmetic. How
# far a stop may really be from the market is the mt5 service's `mt5.max_price_distance_fraction`.
MAX_DISTANCE_POINTS = 1_000_000


class RiskConfig(BaseModel):
    """Per-instance risk rules. Distances are in points or in ATR multiples; None disables a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sl_points: float | None = Field(
        default=None, gt=0, le=MAX_DISTANCE_POINTS, description="stop-loss distance, points"
    )
    tp_points: float | None = Field(
        default=None, gt=0, le=MAX_DISTANCE_POINTS, description="take-profit distance, points"
    )
    sl_atr: float | None = Field(default=None, gt=0, le=100, description="stop-loss distance, ATRs")
    tp_atr: float | None = Field(default=None, gt=0, le=100, description="take-profit distance, ATRs")
    atr_period: int = Field(default=14, ge=1, le=500)
    max_open_positions: int = Field(default=1, ge=1, le=100, description="positions of this instance")
    daily_loss_limit: float | None = Field(
        default=None, gt=0, description="account money lost in a UTC day (closed and open) that stops it"
    )
    close_on_daily_loss: bool = Field(default=True, description="close the positions when the limit trips")

    @model_validator(mode="after")
    def _one_distance_each(self) -> RiskConfig:
        if self.sl_points is not None and self.sl_atr is not None:
            raise ValueError("sl_atr: give sl_points or sl_atr, not both")
        if self.tp_points is not None and self.tp_atr is not None:
            raise ValueError("tp_atr: give tp_points or tp_atr, not both")
        return self

    @property
    def uses_atr(self) -> bool:
        return self.sl_atr is not None or self.tp_atr is not None

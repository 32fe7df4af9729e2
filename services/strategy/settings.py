"""The strategy service's settings: the `strategy` section of config.json on top of the platform's sections.

Every default makes the service work with the committed config.json unchanged.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveFloat, field_validator, model_validator

from shared.config import PlatformSettings, Section
from shared.market.timeframes import get_timeframe


class StrategySection(Section):
    """Live instances: where user strategies live, magic numbers, history, and the peers' clients."""

    strategy_folders: list[Path] = Field(
        default_factory=list, description="folders of user strategy modules, relative to the config file"
    )
    magic_base: int = Field(
        default=20_240_000, ge=1, le=2**31 - 1, description="first magic number given to an instance"
    )
    magic_range: int = Field(
        default=1_000_000, ge=1, description="magic numbers [base, base + range) belong to this platform"
    )
    history_bars: int = Field(
        default=500,
        ge=2,
        description="least bars kept per instance; more when the strategy's warm-up needs it",
    )
    warmup_factor: int = Field(
        default=5,
        ge=1,
        description="bars kept in multiples of the warm-up, so recursive indicators (EMA, RSI) converge",
    )
    resend_window_s: float = Field(
        default=30.0,
        ge=0,
        description="an order left unsent by a crash is sent on restart only if it is this young",
    )
    deviation_points: int = Field(default=20, ge=0, description="accepted slippage of market orders")
    trades_listed: int = Field(default=100, ge=1, le=10_000, description="trades in GET /strategies/{id}")
    signals_kept: int = Field(
        default=200,
        ge=1,
        le=10_000,
        description="signal log entries kept per instance (decisions, refusals, skipped candles) for "
        "GET /strategies/{id}/signals; older ones are dropped",
    )
    mt5_timeout_s: float = Field(default=10.0, gt=0)
    data_timeout_s: float = Field(default=10.0, gt=0)
    reconnect_initial_s: float = Field(default=0.2, gt=0)
    reconnect_max_s: float = Field(default=5.0, gt=0)
    candle_max_age_bars: float = Field(
        default=0.5,
        gt=0,
        le=100,
        description="a live instance acts on a closed candle only while the market's clock is at most this "
        "many of its bars past its close (trading hours); older candles are recorded as skipped",
    )
    candle_max_age_s: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description='per timeframe, the bound in seconds instead of candle_max_age_bars, e.g. {"H1": 300}',
    )

    replay_lockstep: bool = Field(
        default=True,
        description="on the simulated terminal's replay clock, the market waits at each new bar of the "
        "running instances' streams until their candle is handled (orders answered), so market orders "
        "fill at the tick the tick-model backtest fills them at",
    )

    @field_validator("candle_max_age_s")
    @classmethod
    def _timeframe_names(cls, value: dict[str, float]) -> dict[str, float]:
        return {get_timeframe(name).name: seconds for name, seconds in value.items()}

    @model_validator(mode="after")
    def _range_fits(self) -> StrategySection:
        if self.magic_base + self.magic_range > 2**31:
            raise ValueError("magic_base + magic_range must not exceed 2**31")
        return self


class StrategySettings(PlatformSettings):
    """Platform settings plus the `strategy` section."""

    strategy: StrategySection = StrategySection()

    @property
    def strategy_folders(self) -> list[Path]:
        return [(self.base_dir / folder).resolve() for folder in self.strategy.strategy_folders]

"""The backtesting service's settings: the `backtesting` section of config.json on the platform base."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from services.backtesting.core.config import CostConfig
from services.backtesting.core.overfitting_report import OverfittingSettings
from shared.config import PlatformSettings, Section
from shared.trading.sizing import SizingConfig, SizingMode


def _cpu_count() -> int:
    return os.cpu_count() or 1


class BacktestingSection(Section):
    """Job pool, strategy folder, limits and defaults of backtests."""

    workers: int = Field(default_factory=_cpu_count, ge=1, description="job processes (default: CPU count)")
    optimize_workers: int = Field(
        default_factory=_cpu_count, ge=1, description="processes one optimisation job fans out to"
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description="where a search's combinations run: `local` processes (optimize_workers), or a Ray cluster",
    )
    ray_address: str = Field(
        default="local",
        description='executor ray: the head\'s "host:port" (or "auto"); "local" starts Ray inside each job',
    )
    ray_max_retries: int = Field(
        default=2, ge=0, description="executor ray: times a batch is sent again after its worker was lost"
    )
    indicator_cache_mb: int = Field(
        default=256, ge=0, description="per search worker: indicator series kept for the next combinations"
    )
    strategies_folder: Path | None = Field(
        default=None, description="user strategy modules (relative to the config file); none = built-ins only"
    )
    max_bars: int = Field(default=20_000_000, ge=100, description="largest series one job accepts")
    max_combinations: int = Field(default=100_000, ge=1, description="largest optimisation grid")
    max_ticks: int = Field(
        default=50_000_000, ge=1_000, description="most ticks one tick-model job reads (24 bytes each)"
    )
    tick_chunk: int = Field(
        default=1_000_000, ge=1_000, description="ticks per read from the data service (within its own limit)"
    )
    max_trials: int = Field(
        default=10_000,
        ge=1,
        description="most trials one tpe, cmaes or nsga2 search (or in-sample search) runs",
    )
    default_costs: CostConfig = CostConfig()
    default_leverage: float = Field(
        default=100.0,
        gt=0,
        le=1000,
        description="leverage of a request that gives none when the mt5 service's account cannot be read",
    )
    default_sizing: SizingConfig = Field(
        default=SizingConfig(mode=SizingMode.EQUITY_FRACTION, value=1.0),
        description="sizing of a request that gives none: a position worth the equity, in the symbol's steps",
    )
    stored_equity_points: int = Field(
        default=10_000, ge=2, description="equity curve points kept with a result"
    )
    default_equity_points: int = Field(
        default=1_000, ge=2, description="equity curve points returned when max_points is not given"
    )
    report_chart_points: int = Field(
        default=2_000, ge=10, description="points per chart of the HTML report (min/max per time bucket)"
    )
    report_max_trades: int = Field(
        default=5_000, ge=0, description="trades listed and marked in the HTML report (the CSV has all)"
    )
    data_timeout_s: float = Field(
        default=30.0, gt=0, description="bound on fetching bars before a job starts"
    )
    max_portfolio_legs: int = Field(
        default=10, ge=1, le=100, description="legs one portfolio request may have"
    )
    portfolio_currency: str = Field(
        default="USD",
        pattern="^[A-Z]{3}$",
        description="account currency of a portfolio request that gives none",
    )
    portfolio_stop_out_level: float = Field(
        default=50.0,
        ge=0,
        le=1000,
        description="margin level % at which a portfolio's most losing position is closed (the paper broker's)",
    )
    jobs_db: Path = Field(default=Path("backtesting/jobs.sqlite"), description="relative to data_dir")
    progress_interval_s: float = Field(default=0.25, ge=0, description="least time between progress events")
    overfitting: OverfittingSettings = Field(
        default=OverfittingSettings(), description="deflated Sharpe ratio and PBO of every optimisation"
    )

    @field_validator("executor")
    @classmethod
    def _ray_installed(cls, value: str) -> str:
        # Checked at start, not when the first job fails; find_spec looks without importing (ray takes ~1 s).
        if value == "ray" and importlib.util.find_spec("ray") is None:
            raise ValueError("executor ray needs Ray: pip install 'mt5-trading-platform[ray]'")
        return value


class BacktestingSettings(PlatformSettings):
    backtesting: BacktestingSection = BacktestingSection()

    @property
    def jobs_db_path(self) -> Path:
        return (self.data_dir / self.backtesting.jobs_db).resolve()

    @property
    def strategies_path(self) -> Path | None:
        folder = self.backtesting.strategies_folder
        return None if folder is None else (self.base_dir / folder).resolve()

"""Response models of the backtesting service; its request models are core's (`core/requests.py`), which
the launcher takes as they are."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.backtesting.core.config import CostConfig, SymbolFacts
from shared.jobs import JobRead
from shared.trading.sizing import SizingConfig


class BacktestListItem(JobRead):
    summary: dict[str, Any] | None = Field(default=None, description="headline metrics once completed")


class RunDefaults(BaseModel):
    """What a run request's omitted account, sizing and costs fields become, and where each came from."""

    initial_balance: float
    leverage: float
    leverage_source: Literal["account", "config"]
    sizing: SizingConfig
    costs: CostConfig
    symbol_facts: SymbolFacts | None


class StrategyInfo(BaseModel):
    name: str
    description: str
    params_schema: dict[str, Any]

"""Strategies a backtest can run, with the JSON Schema of their parameters (the backtest form's source)."""

from __future__ import annotations

from fastapi import APIRouter

from services.backtesting.api.deps import RegistryDep
from services.backtesting.schemas import StrategyInfo

router = APIRouter(tags=["strategies"])


@router.get("/strategies", response_model=list[StrategyInfo])
async def list_strategies(registry: RegistryDep) -> list[dict[str, object]]:
    return registry.describe()

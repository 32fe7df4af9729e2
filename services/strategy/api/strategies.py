"""Strategies and their live instances: create, list, read, start, stop, edit, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.strategy.api.deps import InstancesDep
from services.strategy.schemas import InstanceCreate, InstanceUpdate, SignalEntryRead, StopRequest

router = APIRouter(prefix="/strategies", tags=["strategies"])
InstanceId = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[0-9a-f]+$")]


@router.get("")
async def list_strategies(instances: InstancesDep) -> dict[str, Any]:
    """Available strategies with their parameter JSON Schemas, the instances, and the last reconciliation."""
    return await instances.overview()


@router.post("", status_code=201)
async def create_instance(body: InstanceCreate, instances: InstancesDep) -> dict[str, Any]:
    """Create a stopped instance; unknown strategy or symbol and invalid parameters are refused."""
    return await instances.create(
        strategy=body.strategy,
        params=body.params,
        symbol=body.symbol,
        timeframe=body.timeframe,
        sizing=body.sizing,
        risk=body.risk,
    )


@router.get("/{instance_id}")
async def get_instance(instance_id: InstanceId, instances: InstancesDep) -> dict[str, Any]:
    """State, open positions and P&L, daily P&L, last signals and recent orders."""
    return await instances.detail(instance_id)


@router.get("/{instance_id}/signals", response_model=list[SignalEntryRead])
async def instance_signals(
    instance_id: InstanceId,
    instances: InstancesDep,
    limit: Annotated[
        int | None,
        Query(ge=1, le=10_000, description="newest entries; default and most: strategy.signals_kept"),
    ] = None,
) -> list[dict[str, Any]]:
    """The instance's signal log, newest first: its decisions (refused ones with the refusal) and the
    candles it did not act on (warming up, skipped as backfill or stale), each with why."""
    return await instances.signals(instance_id, limit)


@router.post("/{instance_id}/start")
async def start_instance(instance_id: InstanceId, instances: InstancesDep) -> dict[str, Any]:
    """Start: adopt the instance's open positions, then act on every closed candle (409 if running)."""
    return await instances.start(instance_id)


@router.post("/{instance_id}/stop")
async def stop_instance(
    instance_id: InstanceId, instances: InstancesDep, body: StopRequest | None = None
) -> dict[str, Any]:
    """Stop acting on candles; open positions stay open."""
    return await instances.stop(instance_id, (body or StopRequest()).reason)


@router.patch("/{instance_id}")
async def update_instance(
    instance_id: InstanceId, body: InstanceUpdate, instances: InstancesDep
) -> dict[str, Any]:
    """Change params, sizing or risk of a stopped instance (409 while running)."""
    return await instances.update(instance_id, params=body.params, sizing=body.sizing, risk=body.risk)


@router.delete("/{instance_id}", status_code=204)
async def delete_instance(instance_id: InstanceId, instances: InstancesDep) -> Response:
    """Delete a stopped instance (409 while running)."""
    await instances.delete(instance_id)
    return Response(status_code=204)

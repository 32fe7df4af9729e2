"""Alert rules (create, list, switch on/off, delete), the configured channels and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from services.backend_api.api.deps import AlertsDep
from services.backend_api.core.alerts.rules import RuleRead, RuleSpec, RuleToggle
from services.backend_api.schemas import AlertChannels, DeliveryRead
from shared.utils import get_timestamp_ms

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
RuleId = Annotated[int, Path(ge=1, le=2**31)]


@router.get("/channels", response_model=AlertChannels)
async def channels(alerts: AlertsDep) -> AlertChannels:
    return AlertChannels(configured=sorted(alerts.dispatcher.configured))


@router.get("/rules", response_model=list[RuleRead])
async def list_rules(alerts: AlertsDep) -> list[RuleRead]:
    return await alerts.rules()


@router.post("/rules", response_model=RuleRead, status_code=201)
async def create_rule(alerts: AlertsDep, rule: Annotated[RuleSpec, Body()]) -> RuleRead:
    return await alerts.create(rule, get_timestamp_ms())


@router.get("/rules/{rule_id}", response_model=RuleRead)
async def get_rule(alerts: AlertsDep, rule_id: RuleId) -> RuleRead:
    return await alerts.rule(rule_id)


@router.patch("/rules/{rule_id}", response_model=RuleRead)
async def toggle_rule(alerts: AlertsDep, rule_id: RuleId, body: RuleToggle) -> RuleRead:
    return await alerts.set_enabled(rule_id, body.enabled)


@router.delete("/rules/{rule_id}", status_code=204)
async def delete_rule(alerts: AlertsDep, rule_id: RuleId) -> Response:
    await alerts.delete(rule_id)
    return Response(status_code=204)


@router.get("/deliveries", response_model=list[DeliveryRead])
async def deliveries(
    alerts: AlertsDep,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    rule_id: Annotated[int | None, Query(ge=1, le=2**31)] = None,
) -> list[DeliveryRead]:
    """The newest deliveries first (`alerts.deliveries_listed` by default)."""
    rows = await alerts.deliveries(limit=limit or alerts.deliveries_listed, rule_id=rule_id)
    return [DeliveryRead(**row.to_dict()) for row in rows]

"""Typed dependencies: the objects the lifespan built."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.strategy.core.instances import InstanceService


async def get_instances(request: Request) -> InstanceService:
    return request.app.state.instances


InstancesDep = Annotated[InstanceService, Depends(get_instances)]

"""A child's OpenAPI schema rewritten for clients of the gateway."""

from __future__ import annotations

import copy
from typing import Any

from services.backend_api.core.api_docs import through_gateway

CHILD: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "MT5 Platform — mt5", "version": "2.0.0"},
    "paths": {"/account": {"get": {"operationId": "account"}}},
    "components": {"schemas": {"AccountRead": {"type": "object"}}},
}


def test_through_gateway_serves_child_paths_under_prefix() -> None:
    original = copy.deepcopy(CHILD)

    schema = through_gateway(CHILD, "/api/mt5")

    assert schema["servers"] == [{"url": "/api/mt5", "description": "the gateway"}]
    assert {k: v for k, v in schema.items() if k != "servers"} == CHILD  # paths resolve against the server
    assert original == CHILD  # the child's schema is not changed in place

"""OpenAPI schemas as a client of the gateway sees them: a child's operations under `/api/<service>`.

A child's own schema describes calls to its internal address; through the gateway the same paths are called
under the service's prefix, which the schema's `servers` says (Swagger UI's "Try it out" follows it).
The API key is not declared as a security requirement: schemathesis would then send invalid keys to every
operation, and the gateway's failed-authentication throttle (429) would stop the fuzz tests' valid calls.
"""

from __future__ import annotations

from typing import Any


def through_gateway(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A child's schema as the gateway serves it: its paths called under `prefix`."""
    return {**schema, "servers": [{"url": prefix, "description": "the gateway"}]}

"""Domain exceptions. Cores raise these; the service app factory maps them to the one JSON error shape:

{"error": {"code": "unknown_symbol", "message": "...", "details": {...}}}
"""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Base of every error a client should see. Subclasses fix the HTTP status and a default code."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.details = details or {}

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequestError(PlatformError):
    status_code = 400
    code = "bad_request"


class NotFoundError(PlatformError):
    status_code = 404
    code = "not_found"


class ConflictError(PlatformError):
    status_code = 409
    code = "conflict"


class InvalidInputError(PlatformError):
    """Well-formed JSON whose values break a rule (a field, a range, a parameter)."""

    status_code = 422
    code = "invalid_input"


class UnauthorizedError(PlatformError):
    status_code = 401
    code = "unauthorized"


class ForbiddenError(PlatformError):
    status_code = 403
    code = "forbidden"


class BodyTooLargeError(PlatformError):
    status_code = 413
    code = "body_too_large"


class ServiceUnavailableError(PlatformError):
    status_code = 503
    code = "service_unavailable"


class UpstreamTimeoutError(PlatformError):
    status_code = 504
    code = "upstream_timeout"

"""Typed HTTP transport for one service calling another directly (not through the gateway).

It adds the internal token, decodes Arrow bodies into structured arrays, and turns failures into
domain errors, the same way for the async client (services) and the blocking one (worker processes):
an unreachable service is a 503 `<service>_unavailable`, a slow one a 504, a failed one (5xx) or one that
refuses our token (401/403: the caller did nothing wrong, the callee is unusable to us) a 503
`<service>_error`, and the callee's other 4xx pass through with its code, so the caller's client sees
what actually went wrong. The endpoints themselves are spoken by the contract layer (`shared/contracts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import numpy as np

from shared.columnar import ARROW_MEDIA_TYPE, decode_arrow_with_metadata
from shared.config import PlatformSettings, resolve_internal_token
from shared.errors import PlatformError, ServiceUnavailableError, UpstreamTimeoutError
from shared.service_app import INTERNAL_TOKEN_HEADER

_ARROW_HEADERS = {"Accept": ARROW_MEDIA_TYPE}


class ServiceClient:
    """Async client of one platform service, e.g. `ServiceClient(settings, "mt5")`."""

    def __init__(self, settings: PlatformSettings, service: str, *, timeout_s: float = 30.0) -> None:
        self.service = service
        self._client = httpx.AsyncClient(
            base_url=settings.service(service).base_url,
            headers={INTERNAL_TOKEN_HEADER: resolve_internal_token(settings)},
            timeout=httpx.Timeout(timeout_s, connect=2.0),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise transport_error(self.service, exc) from None
        if response.status_code >= 400:
            raise _as_error(self.service, response)
        return response

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return (await self.request("GET", path, params=params)).json()

    async def post_json(self, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return (await self.request("POST", path, json=body, params=params)).json()

    async def get_array(self, path: str, dtype: np.dtype, params: dict[str, Any] | None = None) -> np.ndarray:
        """GET a bulk series in the binary columnar form (Arrow IPC) as a structured array."""
        return (await self.get_array_with_metadata(path, dtype, params))[0]

    async def get_array_with_metadata(
        self, path: str, dtype: np.dtype, params: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[bytes, bytes]]:
        """`get_array`, and the stream's schema metadata (e.g. the data service's bar coverage)."""
        response = await self.request(
            "GET", path, params={**(params or {}), "format": "arrow"}, headers=_ARROW_HEADERS
        )
        return decode_arrow_with_metadata(response.content, dtype)


class SyncServiceClient:
    """Blocking client of one platform service, for worker processes (which have no event loop); it counts
    its requests."""

    def __init__(self, service: str, base_url: str, token: str, *, timeout_s: float = 60.0) -> None:
        self.service = service
        self.requests = 0
        self._client = httpx.Client(
            base_url=base_url,
            headers={INTERNAL_TOKEN_HEADER: token},
            timeout=httpx.Timeout(timeout_s, connect=2.0),
        )

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.requests += 1
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise transport_error(self.service, exc) from None
        if response.status_code >= 400:
            raise _as_error(self.service, response)
        return response

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def get_array(self, path: str, dtype: np.dtype, params: dict[str, Any] | None = None) -> np.ndarray:
        """GET a bulk series in the binary columnar form (Arrow IPC) as a structured array."""
        response = self.request(
            "GET", path, params={**(params or {}), "format": "arrow"}, headers=_ARROW_HEADERS
        )
        return decode_arrow_with_metadata(response.content, dtype)[0]


def transport_error(service: str, exc: httpx.TransportError) -> PlatformError:
    """The domain error for a request that got no answer: a timeout is a 504, anything else a 503."""
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeoutError(f"{service} did not answer in time", details={"service": service})
    return ServiceUnavailableError(
        f"{service} is not reachable ({type(exc).__name__})",
        code=f"{service}_unavailable",
        details={"service": service},
    )


def _as_error(service: str, response: httpx.Response) -> PlatformError:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        error = {"code": "upstream_error", "message": response.text[:200]}
    return upstream_error(service, response.status_code, error)


def upstream_error(service: str, status: int, error: Mapping[str, Any]) -> PlatformError:
    """The domain error for a service's error object (`{code, message, details}`) answered with `status`:
    a 4xx passes through with its code; a 5xx, or a refusal of our token (401/403), becomes this caller's
    503 `<service>_error`."""
    try:
        code, message, details = str(error["code"]), str(error["message"]), dict(error.get("details") or {})
    except (KeyError, TypeError, ValueError):
        code, message, details = "upstream_error", str(error)[:200], {}
    if status >= 500 or status in (401, 403):
        return ServiceUnavailableError(
            f"{service} failed: {message}",
            code=f"{service}_error",
            details={**details, "service": service, "status": status, "code": code},
        )
    return PlatformError(message, code=code, details={**details, "service": service}, status_code=status)

"""Every service's `GET /health`, as the supervisor probes it (no token: health is public)."""

from __future__ import annotations

import httpx


class HealthProbe:
    """Asks services whether they are healthy; one connection pool for all of them."""

    def __init__(self, timeout_s: float, *, keep_alive: bool = True) -> None:
        limits = httpx.Limits() if keep_alive else httpx.Limits(max_keepalive_connections=0)
        self._client = httpx.AsyncClient(timeout=timeout_s, limits=limits)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def healthy(self, base_url: str) -> bool:
        """True when the service at `base_url` answers its health check with 200."""
        try:
            response = await self._client.get(f"{base_url}/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

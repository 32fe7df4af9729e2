"""The gateway's proxy: forwards a request to a child service and streams its answer back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from shared.errors import ServiceUnavailableError, UpstreamTimeoutError
from shared.service_app import INTERNAL_TOKEN_HEADER

# Hop-by-hop headers (RFC 9110 §7.6.1) and the client's credentials never travel to a child.
_DROP_REQUEST = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "authorization",
        "x-api-key",
        INTERNAL_TOKEN_HEADER,
    }
)
_DROP_RESPONSE = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        # The gateway's own server adds these to every answer; the child's copies would make them twice.
        "date",
        "server",
    }
)


def _end_to_end(headers: list[tuple[str, str]], always_dropped: frozenset[str]) -> list[tuple[str, str]]:
    """`headers` without hop-by-hop ones: the fixed list and any the sender named in `Connection`
    (RFC 9110 §7.6.1). Repeated headers stay repeated (several `set-cookie` are several cookies)."""
    named = {token.strip().lower() for k, v in headers if k.lower() == "connection" for token in v.split(",")}
    return [(k, v) for k, v in headers if k.lower() not in always_dropped and k.lower() not in named]


def gateway_location(location: str, base_url: str, prefix: str) -> str:
    """A child's redirect target as the client must follow it: under `prefix` on the gateway, never at the
    child's own address (which is internal and may not even be reachable from the client)."""
    try:
        target = httpx.URL(location)
    except httpx.InvalidURL:
        return location
    base = httpx.URL(base_url)
    if target.is_relative_url:
        # "account" or "../x" resolve against the gateway's path as they would against the child's.
        return prefix + location if location.startswith("/") else location
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return location  # somewhere else entirely
    path = target.raw_path.decode("ascii")
    base_path = base.raw_path.decode("ascii").rstrip("/")
    return prefix + path.removeprefix(base_path) if path.startswith(base_path + "/") else prefix + path


@dataclass(slots=True)
class ProxiedResponse:
    status_code: int
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes]
    close: httpx.Response


class Proxy:
    """One pooled HTTP client for all children; adds the internal token to every forwarded request."""

    def __init__(
        self,
        internal_token: str,
        *,
        timeout_s: float,
        connect_timeout_s: float,
        pool_timeout_s: float,
        max_connections: int,
        max_keepalive: int,
    ) -> None:
        self._token = internal_token
        # A burst beyond `max_connections` waits for a pooled connection (up to `pool_timeout_s`) rather than
        # failing; connects get time for a child whose accept queue is busy with that burst.
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s, pool=pool_timeout_s),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def forward(
        self,
        *,
        service: str,
        base_url: str,
        method: str,
        path: str,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes],
    ) -> ProxiedResponse:
        out_headers = _end_to_end(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers], _DROP_REQUEST
        )
        out_headers.append((INTERNAL_TOKEN_HEADER, self._token))
        url = httpx.URL(f"{base_url}/{path}", query=query)
        has_body = method not in ("GET", "HEAD", "DELETE", "OPTIONS")
        request = self._client.build_request(
            method, url, headers=out_headers, content=body if has_body else None
        )
        response = await self._send(service, request, stream=True)
        kept = _end_to_end(response.headers.multi_items(), _DROP_RESPONSE)
        kept = [
            (k, gateway_location(v, base_url, f"/api/{service}") if k.lower() == "location" else v)
            for k, v in kept
        ]
        return ProxiedResponse(response.status_code, kept, response.aiter_raw(), response)

    async def fetch(self, *, service: str, base_url: str, path: str) -> httpx.Response:
        """GET `path` of a child for the gateway itself (read whole, not streamed to a client)."""
        request = self._client.build_request(
            "GET", f"{base_url}/{path}", headers={INTERNAL_TOKEN_HEADER: self._token}
        )
        return await self._send(service, request, stream=False)

    async def _send(self, service: str, request: httpx.Request, *, stream: bool) -> httpx.Response:
        """Send to a child, its failure to answer mapped to the gateway's 503 / 504."""
        try:
            return await self._client.send(request, stream=stream)
        except httpx.TimeoutException:
            raise UpstreamTimeoutError(
                f"{service} did not answer in time", details={"service": service}
            ) from None
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(
                f"{service} is not reachable: {type(exc).__name__}", details={"service": service}
            ) from None

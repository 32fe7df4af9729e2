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
    }
)


@dataclass(slots=True)
class ProxiedResponse:
    status_code: int
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes]
    close: httpx.Response


class Proxy:
    """One pooled HTTP client for all children; adds the internal token to every forwarded request."""

    def __init__(self, internal_token: str, timeout_s: float) -> None:
        self._token = internal_token
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=2.0),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
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
        out_headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in headers
            if k.decode("latin-1").lower() not in _DROP_REQUEST
        ]
        out_headers.append((INTERNAL_TOKEN_HEADER, self._token))
        url = httpx.URL(f"{base_url}/{path}", query=query)
        has_body = method not in ("GET", "HEAD", "DELETE", "OPTIONS")
        request = self._client.build_request(
            method, url, headers=out_headers, content=body if has_body else None
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise UpstreamTimeoutError(
                f"{service} did not answer in time", details={"service": service}
            ) from None
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(
                f"{service} is not reachable: {type(exc).__name__}", details={"service": service}
            ) from None
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROP_RESPONSE]
        return ProxiedResponse(response.status_code, kept, response.aiter_raw(), response)

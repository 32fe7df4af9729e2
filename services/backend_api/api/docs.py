"""Each service's OpenAPI in Swagger UI through the gateway: `/api/docs` (backend-api's own) and
`/api/{service}/docs`, with Swagger UI's files served from this machine (nothing from a CDN).

The pages are behind the API key like everything but `/health`; a browser cannot send a header when it
opens a page, so these pages alone also take the key as `?token=` (see `DOCS_PAGE`). The page's script
keeps it in the tab's session storage, removes it from the address bar, and sends it as `X-API-Key` with
every request Swagger UI makes: the schema's and each "Try it out".
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.backend_api.api.deps import ProxyDep, SupervisorDep
from services.backend_api.api.gateway import running_target
from services.backend_api.core.api_docs import through_gateway

router = APIRouter()

# The pages that accept the key as `?token=` (services/backend_api/api/auth.py).
DOCS_PAGE = re.compile(r"/api/(?:[^/]+/)?docs")
# Swagger UI's files, from a PyPI package that ships them (a dependency in pyproject.toml).
SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_UI_PREFIX = "/swagger-ui"
# Nothing but this origin (Swagger UI draws its icons as data: images).
DOCS_CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} — API docs</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script type="module" src="/static/js/docs.js"></script>
</body>
</html>
"""


def docs_page(title: str, openapi_url: str) -> HTMLResponse:
    """Swagger UI on the schema at `openapi_url`; the page carries no key (its script reads the address)."""
    page = _PAGE.format(title=escape(title), openapi_url=escape(openapi_url), assets=SWAGGER_UI_PREFIX)
    # no-referrer: the files this page loads before its script strips `?token=` would carry the key.
    headers = {"Content-Security-Policy": DOCS_CSP, "Referrer-Policy": "no-referrer"}
    return HTMLResponse(page, headers=headers)


@router.get("/api/docs", include_in_schema=False)
async def own_docs(request: Request) -> HTMLResponse:
    return docs_page("backend-api", request.app.openapi_url)


@router.get("/api/{service}/docs", include_in_schema=False)
async def service_docs(service: str, supervisor: SupervisorDep) -> HTMLResponse:
    supervisor.status(service)  # 404 unknown_service; a stopped one's page says its schema cannot load
    return docs_page(service, f"/api/{service}/openapi.json")


@router.get("/api/{service}/openapi.json", include_in_schema=False, response_model=None)
async def service_openapi(
    service: str, supervisor: SupervisorDep, proxy: ProxyDep
) -> dict[str, Any] | Response:
    """The child's schema with the gateway as its server and the API key as its security."""
    status = running_target(supervisor, service)
    answer = await proxy.fetch(service=service, base_url=status.url, path="openapi.json")
    if answer.status_code != 200:  # the child's own refusal, in the platform's error shape
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))
    return through_gateway(answer.json(), f"/api/{service}")

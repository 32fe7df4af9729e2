"""Each service's OpenAPI docs through the gateway: the schema as a gateway client calls it, the page behind
the key, the Swagger UI files served by backend-api itself."""

from __future__ import annotations

import re

import httpx

from tests.support.platform import API_KEY, Platform

# Anything a page would load from another host: a CDN, a validator badge, a font.
EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def _error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def test_service_openapi_through_gateway_is_served_under_its_prefix(platform: Platform) -> None:
    schema = platform.http.get("/api/mt5/openapi.json")

    assert schema.status_code == 200
    body = schema.json()
    assert body["servers"] == [{"url": "/api/mt5", "description": "the gateway"}]
    assert "/account" in body["paths"]  # the child's own paths, under the server's prefix
    assert body["info"]["title"] == "MT5 Platform — mt5"
    assert httpx.get(f"{platform.url()}/api/mt5/openapi.json").status_code == 401


def test_docs_page_needs_the_key_and_takes_it_once_in_the_query(platform: Platform) -> None:
    base = platform.url()

    anonymous = httpx.get(f"{base}/api/mt5/docs")
    wrong = httpx.get(f"{base}/api/mt5/docs", params={"token": API_KEY[:-1]})
    page = httpx.get(f"{base}/api/mt5/docs", params={"token": API_KEY})
    own = httpx.get(f"{base}/api/docs", params={"token": API_KEY})

    assert anonymous.status_code == 401 and _error(anonymous)["code"] == "unauthorized"
    assert wrong.status_code == 401
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'data-openapi-url="/api/mt5/openapi.json"' in page.text
    assert own.status_code == 200 and 'data-openapi-url="/openapi.json"' in own.text
    for response in (page, own):
        assert API_KEY not in response.text  # the page reads the key from its own address, never echoed
        assert not EXTERNAL_URL.search(response.text), response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_query_key_is_taken_by_the_docs_pages_only(platform: Platform) -> None:
    base = platform.url()
    for path in ("/api/status", "/api/mt5/account", "/api/mt5/openapi.json", "/openapi.json"):
        assert httpx.get(f"{base}{path}", params={"token": API_KEY}).status_code == 401, path


def test_swagger_ui_files_are_served_locally_without_the_key(platform: Platform) -> None:
    base = platform.url()
    page = platform.http.get("/api/mt5/docs").text
    assets = re.findall(r"""(?:src|href)="(/[^"]+)\"""", page)

    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = httpx.get(f"{base}{asset}")  # no data in them, like the dashboard's own files
        assert response.status_code == 200 and response.content, asset


def test_docs_of_an_unknown_service_is_404_and_fastapi_cdn_pages_are_gone(platform: Platform) -> None:
    unknown = platform.http.get("/api/nosuch/docs")
    assert unknown.status_code == 404 and _error(unknown)["code"] == "unknown_service"
    assert platform.http.get("/api/nosuch/openapi.json").status_code == 404
    for path in ("/docs", "/redoc", "/api/mt5/redoc"):
        assert platform.http.get(path).status_code == 404, path

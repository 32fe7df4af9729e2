"""A service's OpenAPI docs through the gateway in a real browser that may not leave loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import artifacts_dir
from tests.support.platform import API_KEY, Platform

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class OfflineTab:
    """A tab whose every request off loopback is aborted and remembered, with its console's CSP refusals."""

    def __init__(self, browser: Any) -> None:
        # No bypass_csp: the docs page must work under its own Content-Security-Policy.
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.left_loopback: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
            return
        self.left_loopback.append(url)
        route.abort()


@pytest.fixture()
def offline(browser: Any, platform: Platform, request: pytest.FixtureRequest) -> Iterator[OfflineTab]:
    tab = OfflineTab(browser)
    yield tab
    artifacts_dir().mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(artifacts_dir() / f"{request.node.name}.png"), full_page=True)
    tab.context.close()


def test_mt5_docs_render_and_try_it_out_goes_through_the_gateway_offline(
    offline: OfflineTab, platform: Platform
) -> None:
    page = offline.page
    page.goto(f"{platform.url()}/api/mt5/docs?token={API_KEY}")

    operation = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/account"])')
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/mt5/account") as answered:
        operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status")

    assert answered.value.status == 200
    assert status.inner_text().strip() == "200"
    assert "token=" not in page.url  # the key leaves the address bar once stored, as on the dashboard
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("MT5 Platform — mt5")
    assert offline.left_loopback == [], offline.left_loopback
    assert offline.errors == [], offline.errors


def test_dashboard_links_each_service_to_its_docs(offline: OfflineTab, platform: Platform) -> None:
    page = offline.page
    page.goto(f"{platform.url()}/?token={API_KEY}")
    page.wait_for_selector('tr[data-service="backtesting"] a[data-docs]')

    links = {
        row.get_attribute("data-service"): row.locator("a[data-docs]").get_attribute("href")
        for row in page.locator("#services-table tbody tr").all()
    }
    assert links["backend-api"] == f"/api/docs?token={API_KEY}"
    assert links["data"] == f"/api/data/docs?token={API_KEY}"
    assert len(links) == 7

    with page.context.expect_page() as opened:
        page.locator('tr[data-service="data"] a[data-docs]').click()
    docs = opened.value
    docs.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert "MT5 Platform — data" in docs.locator(".swagger-ui .info .title").inner_text()
    assert offline.left_loopback == [], offline.left_loopback

"""Browser tests: Playwright for Python driving Debian's chromium against a real platform."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import PROJECT_ROOT
from tests.support.platform import API_KEY, Platform, write_config

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no network beyond loopback: keep chromium from trying.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while
# it is open, and tests collected after the browser tests call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: run_tests.sh installs Debian's chromium as root")
        pytest.skip("chromium is not installed (run_tests.sh installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# The market of the browser tests: a replay at real speed from a Wednesday noon, so live ticks move and
# orders fill on any day (the real FX market is closed at weekends), and the forms' dates follow it.
REPLAY = {"simulated": {"clock": "replay", "replay_start": "2026-11-18T12:00:00Z", "replay_speed": 1}}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    config = write_config(tmp_path_factory.mktemp("e2e"), overrides={"mt5": REPLAY})
    running = Platform(config).start()
    try:
        running.wait_all_online(90)
        yield running
    finally:
        running.stop()


@pytest.fixture()
def page(browser: object, platform: Platform, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh page signed in with the token URL the start script prints; screenshot kept afterwards."""
    # Playwright's waits evaluate JavaScript, which the dashboard's CSP forbids; the CSP itself is
    # checked by test_dashboard_runs_under_its_content_security_policy.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)  # type: ignore[attr-defined]
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{platform.url()}/?token={API_KEY}")
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def artifacts_dir() -> Path:
    return ARTIFACTS

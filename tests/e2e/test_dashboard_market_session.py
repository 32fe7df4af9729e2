"""The top bar says whether the market is open, and at a weekend when it opens: a first start on a Saturday
shows Friday's quotes, and without this the dashboard did not say why nothing moved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import REPLAY
from tests.support.platform import Platform, write_config

SATURDAY = {"simulated": {**REPLAY["simulated"], "replay_start": "2026-11-21T12:00:00Z"}}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A replay from a Saturday noon: the FX market stays closed until Sunday 22:00 UTC."""
    config = write_config(tmp_path_factory.mktemp("e2e-weekend"), overrides={"mt5": SATURDAY})
    running = Platform(config).start()
    try:
        running.wait_all_online(90)
        yield running
    finally:
        running.stop()


def test_top_bar_says_the_market_is_closed_and_when_it_opens(page: Any, platform: Platform) -> None:
    badge = page.wait_for_selector("#market-session:not([hidden])", timeout=20_000)

    assert badge.text_content() == "market closed · opens Sun 22:00 UTC · replay \u00d71"
    assert badge.get_attribute("data-open") == "false"
    clock = platform.http.get("/api/mt5/clock").json()
    assert clock["market_open"] is False

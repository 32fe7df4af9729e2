"""The path a trader walks, in one browser session on a fast replayed market: fill the data, backtest, see
the trades on the chart, export the report and open it offline, start an instance, watch its trades appear
live on its chart and in its trade list, and receive an alert when the market crosses a level."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chart_checks import dataset, wait_chart_shows
from tests.e2e.conftest import ARTIFACTS, REPLAY
from tests.e2e.offline_report import open_offline
from tests.e2e.test_dashboard_alerts import create_cross_rule
from tests.support.alert_receivers import HttpReceiver, http_receiver
from tests.support.platform import Platform, write_config
from tests.support.waits import wait_until

SECRET = "e2e-whole-path-secret-0123456789"
# An M1 candle every 3 s: an instance trading crossovers of 2- and 3-bar EMAs fills within a minute.
SPEED = 20
INSTANCE = {"fast": "2", "slow": "3"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, receiver: HttpReceiver) -> Iterator[Platform]:
    """The browser tests' replayed market at SPEED, the webhook channel pointed at the local receiver."""
    fast = {"simulated": {**REPLAY["simulated"], "replay_speed": SPEED}}
    # A candle is acted on only while it is young by the market's clock; at SPEED a loaded machine's
    # reaction time is SPEED times longer in market time, so the bound is a few bars, not half of one.
    overrides = {"mt5": fast, "strategy": {"candle_max_age_bars": 5}}
    config = write_config(tmp_path_factory.mktemp("e2e-whole-path"), overrides=overrides)
    env = {"NOTIFY_WEBHOOK_URL": receiver.url + "/hook", "ALERTS_WEBHOOK_SECRET": SECRET}
    running = Platform(config, env=env).start()
    try:
        running.wait_all_online(90)
        yield running
    finally:
        running.stop()


def shot(page: Any, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"whole_path_{step}.png"), full_page=True)


def fill_data(page: Any) -> None:
    page.click("#tab-data")
    page.wait_for_selector("#gapfill-symbols input[value=EURUSD]:checked")
    page.click("#gapfill-submit")
    page.wait_for_function(
        "document.getElementById('gapfill-status').textContent === 'completed'", timeout=90_000
    )
    page.click("#collection-start")  # live candles, which the instance trades on
    page.wait_for_function(
        "[...document.querySelectorAll('#collection-table td[data-stored]')].some(td => Number(td.dataset.stored) > 0)",
        timeout=30_000,
    )
    shot(page, "1_data")


def backtest_and_see_its_trades(page: Any, platform: Platform) -> None:
    with page.expect_response(lambda r: "/backtest/defaults" in r.url, timeout=20_000) as defaults:
        page.click("#tab-backtests")
    defaults.value.finished()
    page.wait_for_selector("#bt-params [data-param=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-timeframe", "H1")
    page.click("#bt-run")
    page.wait_for_selector("#bt-price[data-trades]", timeout=120_000)
    run = platform.http.get("/api/backtesting/backtests").json()[0]
    trades = platform.http.get(f"/api/backtesting/backtest/{run['id']}/result").json()["trades"]
    n = len(trades["entry_time"])
    assert n >= 2
    shown = dataset(page, "#bt-price")
    assert shown["trades"] == str(n) and shown["markers"] == str(2 * n)

    k = n // 2
    page.click("#bt-result details:nth-of-type(2) summary")  # the trades table
    page.click(f'#bt-trades tr[data-trade="{k}"]')
    page.wait_for_function(f"document.getElementById('bt-price').dataset.selectedTrade === '{k}'")
    whole = trades["exit_time"][-1] - trades["entry_time"][0]
    wait_chart_shows(page, "bt-price", trades["entry_time"][k], trades["exit_time"][k], whole)
    shot(page, "2_backtest_trades")


def export_and_open_offline(page: Any, tmp_path: Path) -> None:
    with page.expect_download() as download:
        page.click("#bt-export-report")
    report = tmp_path / download.value.suggested_filename
    download.value.save_as(report)
    boxes, fetched = open_offline(page.context.browser, report, "whole_path_3_report_offline.png")
    assert len(boxes) == 3 and all(w > 100 and h > 10 for w, h in boxes), boxes
    assert fetched == []


def start_instance(page: Any, platform: Platform) -> tuple[str, int]:
    """An instance made in the Strategies panel, its view opened before it starts: every fill comes live."""
    page.click("#tab-strategies")
    page.wait_for_selector("#st-params [data-param]", state="attached", timeout=20_000)
    page.select_option("#st-strategy", "ema_crossover")
    page.wait_for_selector("#st-param-fast", state="attached")
    for name, value in INSTANCE.items():
        page.fill(f"#st-param-{name}", value)
    page.select_option("#st-symbol", "EURUSD")
    page.select_option("#st-timeframe", "M1")
    page.select_option("#st-sizing", "fixed")
    page.fill("#st-size", "0.01")
    page.click("#st-create")
    page.wait_for_function(
        "document.getElementById('st-message').textContent.includes('created')", timeout=15_000
    )
    row = "#st-instances tbody tr[data-instance]"
    page.wait_for_selector(row)
    instance = page.get_attribute(row, "data-instance")
    assert instance
    page.click(f"{row} td:first-child")
    page.wait_for_selector(f'#st-detail[data-instance="{instance}"] #st-price canvas', timeout=20_000)
    page.wait_for_selector('#st-price[data-trades="0"]', timeout=20_000)
    page.click(f'{row} button[data-action="start"]')
    page.wait_for_selector(f'{row} [data-state="running"]', timeout=15_000)
    shot(page, "4_instance_started")
    return instance, platform.http.get(f"/api/strategy/strategies/{instance}").json()["magic"]


def see_its_trades_live(page: Any, platform: Platform, magic: int) -> None:
    # A closed trade and the one that reversed it: two positions, three deals at least.
    page.wait_for_function(
        "Number(document.getElementById('st-price').dataset.trades) >= 2"
        " && document.querySelectorAll('#st-trades tbody tr[data-deal]').length >= 3",
        timeout=150_000,
    )
    assert int(dataset(page, "#st-price")["liveUpdates"]) > 0  # the bars follow the market too
    deals = [d for d in platform.http.get("/api/mt5/history/deals").json() if d["magic"] == magic]
    positions = {d["position_id"] for d in deals if d["type"] in (0, 1) and d["entry"] == 0}
    shown = dataset(page, "#st-price")
    # The chart may be a fill behind the terminal: it is redrawn when the fill's event arrives.
    assert 2 <= int(shown["trades"]) <= len(positions)
    assert int(shown["markers"]) == 2 * int(shown["trades"])

    first = page.locator("#st-trades tbody tr[data-deal]").last  # newest first: the last row is the oldest
    position = first.get_attribute("data-position")
    shown = dataset(page, "#st-price")
    latest = int(shown["visibleTo"]) - int(shown["visibleFrom"])  # the latest bars, shown when it opened
    first.click()
    page.wait_for_function(
        "document.getElementById('st-price').dataset.selectedTrade === '0'"
        " && document.querySelector('#st-trades tr.selected') !== null"
    )
    entry = next(d for d in deals if str(d["position_id"]) == position and d["entry"] == 0)
    bar = entry["time"] // 60 * 60  # the M1 bar it was filled in
    wait_chart_shows(page, "st-price", bar, bar, latest)
    shot(page, "5_instance_trades")


def receive_an_alert(page: Any, platform: Platform, receiver: HttpReceiver) -> None:
    page.click("#tab-alerts")
    page.wait_for_selector('#al-channels input[value="webhook"]', state="attached", timeout=20_000)
    page.wait_for_selector('#al-symbol option[value="EURUSD"]', state="attached", timeout=20_000)
    point = platform.http.get("/api/mt5/symbols/EURUSD").json()["point"]
    bid = platform.http.get("/api/mt5/symbols/EURUSD/tick").json()["bid"]
    create_cross_rule(page, "above", round(bid + 2 * point, 5))
    create_cross_rule(page, "below", round(bid - 2 * point, 5))
    page.wait_for_selector('#al-deliveries-body tr[data-status="sent"]', timeout=60_000)
    request = wait_until(lambda: receiver.received and receiver.received[0], 10, "the webhook call")
    assert (
        request.headers["X-Signature"]
        == "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    )
    assert request.json()["title"].startswith("EURUSD crossed")
    shot(page, "6_alert")


def test_whole_path_data_backtest_report_live_instance_and_alert(
    page: Any, platform: Platform, receiver: HttpReceiver, tmp_path: Path
) -> None:
    page.wait_for_selector("#connection.conn-online")
    fill_data(page)
    backtest_and_see_its_trades(page, platform)
    export_and_open_offline(page, tmp_path)
    instance, magic = start_instance(page, platform)
    see_its_trades_live(page, platform, magic)
    receive_an_alert(page, platform, receiver)
    page.click("#tab-strategies")
    page.click(f'#st-instances tr[data-instance="{instance}"] button[data-action="stop"]')
    page.wait_for_selector(f'#st-instances tr[data-instance="{instance}"] [data-state="stopped"]')

"""The Backtests form's modelling mode: a 1-minute OHLC run fetches the M1 history it needs, and its
trades are marked on the price chart as any run's are."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import ARTIFACTS
from tests.support.platform import Platform


def test_dashboard_m1_ohlc_backtest_fetches_m1_history_and_marks_its_trades(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#bt-params [data-param=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-strategy", "donchian_breakout")  # its entries carry an ATR stop-loss
    page.wait_for_selector("#bt-params [data-param=stop_atr]", state="attached")
    page.select_option("#bt-timeframe", "H1")
    page.select_option("#bt-model", "m1_ohlc")
    page.click("#bt-run")
    # H1 and then M1 history are gap-filled by the panel before the run is accepted.
    page.wait_for_selector("#bt-price[data-trades]", timeout=240_000)

    run = platform.http.get("/api/backtesting/backtests").json()[0]
    trades = platform.http.get(f"/api/backtesting/backtest/{run['id']}/result").json()["trades"]
    n = len(trades["entry_time"])
    shown = page.eval_on_selector("#bt-price", "box => ({...box.dataset})")
    assert run["params"]["config"]["model"] == "m1_ohlc"
    assert n >= 3 and len(trades["entry_time_msc"]) == n
    # Marked on the bars that hold the fill ticks.
    assert all(
        t // 1000 - t // 1000 % 3600 == bar
        for t, bar in zip(trades["entry_time_msc"], trades["entry_time"], strict=True)
    )
    assert shown["trades"] == str(n) and shown["markers"] == str(2 * n)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#bt-price").screenshot(path=str(ARTIFACTS / "backtest-m1-ohlc-trades.png"))

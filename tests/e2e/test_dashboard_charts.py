"""Charts drawn by lightweight-charts (served by backend-api from the locked npm package): the Market panel's
candles from the replayed terminal, scroll-back, legends; the Backtests panel's trades on the price chart;
and the figures for a 100,000-bar chart (printed, never asserted)."""

from __future__ import annotations

from typing import Any

from tests.e2e.chart_checks import dataset, wait_chart_shows
from tests.support.platform import API_KEY, Platform

LEGEND_BAR = r"/ UTC  O [0-9.]+  H [0-9.]+  L [0-9.]+  C [0-9.]+  V \d+/"


def test_market_chart_draws_terminal_candles_with_legends_and_loads_older_bars_on_scroll(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-market")
    page.wait_for_function("document.getElementById('market-info').textContent.includes('200 bars')")
    page.wait_for_selector("#market-chart canvas")
    page.wait_for_selector('#market-chart .chart-legend[data-pane="1"] .legend-item', timeout=20_000)
    shown = dataset(page, "#market-chart")
    symbol = page.eval_on_selector("#market-symbol", "s => s.value")
    rates = platform.http.get(f"/api/mt5/rates/{symbol}/M5", params={"count": 202}).json()["columns"]
    # The chart's bars are the terminal's (a new M5 bar may have opened since: the first one is among them).
    assert shown["bars"] == "200" and int(shown["firstTime"]) in rates["time"]
    legend = page.text_content('#market-chart .chart-legend[data-pane="0"]')
    assert page.evaluate(f"t => {LEGEND_BAR}.test(t)", legend), legend
    assert "SMA_20" in legend and "BBANDS_20_2_2 upperband" in legend
    assert "RSI_14" in page.text_content('#market-chart .chart-legend[data-pane="1"]')

    box = page.locator("#market-chart").bounding_box()
    page.mouse.move(box["x"] + 120, box["y"] + 80)  # the crosshair's bar, not the latest one
    hovered = page.text_content('#market-chart .chart-legend[data-pane="0"] .legend-bar')
    assert page.evaluate(f"t => {LEGEND_BAR}.test(t)", hovered), hovered

    first = int(shown["firstTime"])
    with page.expect_request(lambda r: f"/api/data/ohlc/{symbol}/M5" in r.url, timeout=20_000) as asked:
        for _ in range(3):  # drag the chart to the right: older bars come into view
            page.mouse.move(box["x"] + 150, box["y"] + box["height"] / 3)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] - 150, box["y"] + box["height"] / 3, steps=12)
            page.mouse.up()
    assert f"to={first - 1}" in asked.value.url
    page.wait_for_function(
        "Number(document.getElementById('market-chart').dataset.bars) > 200", timeout=20_000
    )
    assert int(dataset(page, "#market-chart")["firstTime"]) < first


def test_backtest_trades_are_marked_on_the_price_chart_and_a_row_click_moves_the_chart_to_it(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#bt-params [data-param=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-strategy", "donchian_breakout")  # its entries carry an ATR stop-loss
    page.wait_for_selector("#bt-params [data-param=stop_atr]", state="attached")
    page.select_option("#bt-timeframe", "H1")
    page.click("#bt-run")
    page.wait_for_selector("#bt-price[data-trades]", timeout=120_000)
    run = platform.http.get("/api/backtesting/backtests").json()[0]
    trades = platform.http.get(f"/api/backtesting/backtest/{run['id']}/result").json()["trades"]
    n = len(trades["entry_time"])
    assert n >= 3
    shown = dataset(page, "#bt-price")
    assert shown["trades"] == str(n) and shown["markers"] == str(2 * n)  # an entry and an exit each
    with_stops = sum(
        1 for sl, tp in zip(trades["sl"], trades["tp"], strict=True) if sl is not None or tp is not None
    )
    assert with_stops > 0 and shown["stopLevels"] == str(with_stops)
    assert int(shown["bars"]) > 100

    k = n // 2
    page.click("#bt-result details:nth-of-type(2) summary")  # the trades table
    page.click(f'#bt-trades tr[data-trade="{k}"]')
    page.wait_for_function(f"document.getElementById('bt-price').dataset.selectedTrade === '{k}'")
    whole = trades["exit_time"][-1] - trades["entry_time"][0]
    wait_chart_shows(page, "bt-price", trades["entry_time"][k], trades["exit_time"][k], whole)
    assert page.eval_on_selector(f'#bt-trades tr[data-trade="{k}"]', "r => r.classList.contains('selected')")
    page.locator("#bt-price").screenshot(path="test-artifacts/e2e/backtest-trades-on-chart.png")


def test_chart_area_says_what_to_run_when_the_library_is_not_installed(page: Any, platform: Platform) -> None:
    page.route(
        "**/static/vendor/lightweight-charts/**", lambda route: route.fulfill(status=404, body="not found")
    )
    page.reload()
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-market")

    page.wait_for_selector("#market-chart .chart-missing")

    assert "scripts/fetch_dashboard_assets.py" in page.text_content("#market-chart")


def test_market_chart_runs_under_the_content_security_policy(browser: Any, platform: Platform) -> None:
    context = browser.new_context()  # no bypass_csp: the chart library must live with the dashboard's CSP
    tab = context.new_page()
    violations: list[str] = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    tab.on("pageerror", lambda exc: violations.append(str(exc)))
    try:
        tab.goto(f"{platform.url()}/?token={API_KEY}#market")
        tab.locator("#market-chart canvas").first.wait_for(timeout=30_000)
        tab.locator('#market-chart .chart-legend[data-pane="1"] .legend-item').first.wait_for(timeout=20_000)
        tab.mouse.move(300, 400)
    finally:
        context.close()
    assert violations == []


# 100,000 synthetic M1 bars into a PriceChart: first paint is setData until two animation frames later (the
# chart drawn); pan frames are the intervals between animation frames while the time scale scrolls each frame.
MEASURE = """async () => {
  const { PriceChart } = await import('/static/js/price_chart.js');
  const box = document.createElement('div');
  box.style.width = '1200px'; box.style.height = '600px';
  document.body.prepend(box);
  const chart = await PriceChart.open(box, { digits: 5 });
  const n = 100000, t0 = 1700000000, cols = { time: [], open: [], high: [], low: [], close: [], tick_volume: [] };
  let p = 1.1;
  for (let i = 0; i < n; i++) {
    const o = p; p += Math.sin(i / 50) * 0.0004 + (((i * 7919) % 13) - 6) * 0.00005;
    cols.time.push(t0 + i * 60); cols.open.push(o); cols.close.push(p);
    cols.high.push(Math.max(o, p) + 0.0002); cols.low.push(Math.min(o, p) - 0.0002); cols.tick_volume.push(10 + (i % 40));
  }
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  await frame();
  const start = performance.now();
  chart.setBars(cols);
  await frame(); await frame();
  const firstPaint = performance.now() - start;
  const ts = chart.chart.timeScale(), intervals = [];
  let last = performance.now();
  for (let k = 1; k <= 240; k++) {
    ts.scrollToPosition(-k * 40, false);
    await frame();
    const now = performance.now(); intervals.push(now - last); last = now;
  }
  intervals.sort((a, b) => a - b);
  const q = (f) => intervals[Math.min(intervals.length - 1, Math.floor(f * intervals.length))];
  return { bars: Number(box.dataset.bars), firstPaint, p50: q(0.5), p95: q(0.95), max: intervals[intervals.length - 1] };
}"""


def test_chart_with_100k_bars_first_paint_and_pan_frame_times(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")

    figures = page.evaluate(MEASURE)

    assert figures["bars"] == 100_000
    print(
        f"\n100,000-bar chart: first paint {figures['firstPaint']:.0f} ms; pan frame time "
        f"p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, max {figures['max']:.1f} ms"
    )

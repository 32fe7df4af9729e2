// The one door to TradingView's lightweight-charts (v5, Apache-2.0): served from /static/vendor/, where
// scripts/fetch_dashboard_assets.py installs it (no CDN: the dashboard works offline). Also the charts'
// theme, read from style.css's variables, and the small line/area charts (equity, drawdown).
//
//   library()                              → the library's module, or null when it is not installed
//   createThemedChart(lib, box, options)   → a chart in `box` that follows the box's size
//   lineChart(box, series, {percent, area}) → equity-style lines; series: [{name, time: [s], values: []}]

import { el } from "./ui.js";

const LIBRARY_URL = "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";
// Bar length of each timeframe the dashboard offers, in seconds.
export const TIMEFRAME_S = { M1: 60, M5: 300, M15: 900, M30: 1800, H1: 3600, H4: 14400, D1: 86400 };
export const SERIES_COLORS = ["#4ea1ff", "#f0b429", "#c792ea", "#7ee2c5", "#ff9b98", "#ffd166"];

let loading = null;

// Imported on first use, so a missing file costs the charts, not the whole dashboard.
export function library() {
  if (!loading) loading = import(LIBRARY_URL).catch(() => null);
  return loading;
}

// What the chart area says instead of going blank when the library is not installed.
export function showMissing(box) {
  box.replaceChildren(el("p", { class: "chart-missing" },
    "The chart library is not installed. Run ", el("code", {}, "python scripts/fetch_dashboard_assets.py"),
    " (scripts/bootstrap_venv.sh runs it) and reload the page."));
}

export function theme() {
  const css = getComputedStyle(document.documentElement), v = (name) => css.getPropertyValue(name).trim();
  return { bg: "#0c1116", text: v("--muted"), line: v("--line"), grid: "#1e2732", up: v("--up"), down: v("--down"), accent: v("--accent"), warn: v("--warn") };
}

const charts = new WeakMap();  // box → its chart, removed when the box gets a new one

// A chart filling `box`, replacing the box's previous chart (and content).
export function createThemedChart(lib, box, options = {}) {
  charts.get(box)?.remove();
  box.replaceChildren();
  for (const key of Object.keys(box.dataset)) delete box.dataset[key];  // the previous chart's state
  const t = theme();
  const chart = lib.createChart(box, {
    autoSize: true,  // the library's ResizeObserver keeps the canvas at the box's size
    // The attribution (required by the licence) is in the page's footer: the logo would inject an inline
    // <style>, which the dashboard's Content-Security-Policy refuses.
    layout: { background: { type: lib.ColorType.Solid, color: t.bg }, textColor: t.text, attributionLogo: false,
      fontFamily: "system-ui, sans-serif", panes: { separatorColor: t.line, enableResize: true } },
    grid: { vertLines: { color: t.grid }, horzLines: { color: t.grid } },
    rightPriceScale: { borderColor: t.line },
    timeScale: { borderColor: t.line, timeVisible: true, secondsVisible: false },
    crosshair: { mode: lib.CrosshairMode.Normal },
    ...options,
  });
  charts.set(box, chart);
  return chart;
}

export async function lineChart(box, series, { percent = false, area = false } = {}) {
  const lib = await library();
  if (!lib) { showMissing(box); return null; }
  const t = theme(), chart = createThemedChart(lib, box);
  const priceFormat = percent ? { type: "custom", formatter: (v) => `${v.toFixed(2)} %` } : { type: "price", precision: 2, minMove: 0.01 };
  series.forEach((s, k) => {
    const color = area ? t.down : SERIES_COLORS[k % SERIES_COLORS.length];
    const options = { color, lineColor: color, lineWidth: 2, title: s.name, priceFormat,
      topColor: "rgba(239,83,80,.05)", bottomColor: "rgba(239,83,80,.35)", invertFilledArea: true };
    const line = chart.addSeries(area ? lib.AreaSeries : lib.LineSeries, options);
    line.setData(s.time.map((time, i) => (s.values[i] === null ? { time } : { time, value: s.values[i] })));
  });
  chart.timeScale().fitContent();
  box.dataset.points = String(series.reduce((n, s) => n + s.time.length, 0));
  return chart;
}

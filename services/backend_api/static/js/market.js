// Market panel: symbol/timeframe pickers, a live candlestick chart, indicators and pattern markers; scrolling
// back loads older bars from the data service's store (the terminal's when the store has none).

import { get, post } from "./api.js";
import { theme, TIMEFRAME_S } from "./chart_lib.js";
import { PriceChart } from "./price_chart.js";
import { on } from "./hub.js";
import { loadSymbols, priceDigits } from "./format.js";
import { attempt, el } from "./ui.js";

let chart = null;
let symbolsShown = false;
let catalog = {};

const selected = () => ({
  symbol: document.getElementById("market-symbol").value,
  timeframe: document.getElementById("market-timeframe").value,
});

function build() {
  document.getElementById("panel-market").replaceChildren(
    el("form", { class: "card row", id: "market-form", "aria-label": "Chart settings" },
      el("label", { for: "market-symbol" }, "Symbol"), el("select", { id: "market-symbol" }),
      el("label", { for: "market-timeframe" }, "Timeframe"),
      el("select", { id: "market-timeframe" }, Object.keys(TIMEFRAME_S).map((tf) => el("option", { value: tf, selected: tf === "M5" }, tf))),
      el("label", { for: "market-count" }, "Bars"), el("input", { id: "market-count", type: "number", min: 20, max: 2000, value: 200, class: "w-6" }),
      el("label", { for: "market-indicators" }, "Indicators"),
      el("input", { id: "market-indicators", list: "indicator-names", value: "SMA(20),BBANDS(20,2,2),RSI(14)", class: "w-16" }),
      el("datalist", { id: "indicator-names" }),
      el("label", { for: "market-patterns" }, "Patterns"),
      el("input", { id: "market-patterns", value: "CDLENGULFING,CDLHAMMER,CDLSHOOTINGSTAR,CDLMORNINGSTAR,CDLEVENINGSTAR,CDL3WHITESOLDIERS,CDL3BLACKCROWS", class: "w-16" }),
      el("label", {}, el("input", { type: "checkbox", id: "market-levels", checked: true }), " support/resistance"),
      el("button", { type: "submit" }, "Load")),
    el("div", { class: "card" },
      el("div", { class: "chart-box tall", id: "market-chart", role: "img", "aria-label": "Candlestick chart" }),
      el("p", { id: "market-info", "aria-live": "polite" })),
  );
  document.getElementById("market-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  for (const id of ["market-symbol", "market-timeframe"]) document.getElementById(id).addEventListener("change", load);
}

// The bars before `firstTime`: the data service's stored history, else the terminal's.
async function olderBars(symbol, timeframe, count, firstTime) {
  const stored = await attempt(() => get(`/api/data/ohlc/${symbol}/${timeframe}?to=${firstTime - 1}&count=${count}`));
  if (stored && stored.count) return stored.columns;
  const terminal = await attempt(() => get(`/api/mt5/rates/${symbol}/${timeframe}?to=${firstTime - 1}&count=${count}`));
  return terminal ? terminal.columns : null;
}

async function load() {
  const { symbol, timeframe } = selected();
  const count = Number(document.getElementById("market-count").value) || 200;
  const rates = await attempt(() => get(`/api/mt5/rates/${symbol}/${timeframe}?count=${count}`));
  if (!rates) return;
  if (!chart) {
    chart = await PriceChart.open(document.getElementById("market-chart"), {
      loadOlder: (first) => olderBars(selected().symbol, selected().timeframe, Number(document.getElementById("market-count").value) || 200, first),
    });
    if (!chart) return;
    chart.onExtended = () => {
      const s = selected();
      document.getElementById("market-info").textContent = `${s.symbol} ${s.timeframe}: ${chart.bars.length} bars (older ones from history)`;
      analyse(chart.columns());
    };
  }
  chart.setDigits(priceDigits(symbol));
  chart.setBars(rates.columns);
  chart.showLatest();
  document.getElementById("market-info").textContent = `${symbol} ${timeframe}: ${rates.count} bars from the terminal`;
  await analyse(chart.columns());
}

function analyse(bars) {
  return Promise.all([indicators(bars), patterns(bars), levels(bars)]);
}

async function indicators(bars) {
  const specs = document.getElementById("market-indicators").value.trim();
  if (!specs) { chart.setIndicators([], []); return; }
  const result = await attempt(() => post("/api/pattern/indicators/compute", { bars, indicators: specs }));
  if (!result) return;
  const overlays = [], panes = [];
  for (const spec of result.indicators) {
    const series = Object.entries(spec.columns).map(([output, column]) => ({ name: `${spec.label} ${output}`, values: result.columns[column] }));
    const group = catalog[spec.name] ? catalog[spec.name].group : "";
    if (group === "Overlap Studies") overlays.push(...series);
    else panes.push({ name: spec.label, series });
  }
  chart.setIndicators(overlays, panes);
}

async function patterns(bars) {
  const names = document.getElementById("market-patterns").value.trim();
  if (!names) { chart.setMarkers([]); return; }
  const result = await attempt(() => post("/api/pattern/patterns/detect", { bars, patterns: names }));
  if (!result) return;
  const c = theme(), look = { bullish: ["belowBar", "arrowUp", c.up], bearish: ["aboveBar", "arrowDown", c.down] };
  chart.setMarkers(result.detections.map((d) => {
    const [position, shape, color] = look[d.direction] || ["aboveBar", "circle", c.text];
    return { time: d.time, position, shape, color, text: d.label };
  }));
}

async function levels(bars) {
  if (!document.getElementById("market-levels").checked) { chart.setLevels([]); return; }
  const result = await attempt(() => post("/api/pattern/chart-patterns/analyze", { bars }));
  if (result) chart.setLevels(result.levels.slice(0, 6).map((l) => ({ price: l.price, label: `${l.kind || "level"} ×${l.touches ?? ""}` })));
}

export function init() {
  build();
  on("tick", (event) => {
    const d = event.data, { symbol, timeframe } = selected();
    if (!chart || d.symbol !== symbol) return;
    chart.applyTick(d.time_msc, d.bid, TIMEFRAME_S[timeframe]);
  });
  on("candle.closed", (event) => {
    const d = event.data, { symbol, timeframe } = selected();
    if (chart && d.symbol === symbol && d.timeframe === timeframe) chart.upsertBar(d.bar);
  });
}

export async function show() {
  if (!symbolsShown) {
    const list = await attempt(loadSymbols);
    if (!list) return;
    symbolsShown = true;
    document.getElementById("market-symbol").replaceChildren(...list.map((s) => el("option", { value: s.name }, s.name)));
    const described = await attempt(() => get("/api/pattern/indicators"));
    if (described) {
      catalog = Object.fromEntries(described.map((i) => [i.name, i]));
      document.getElementById("indicator-names").replaceChildren(...described.map((i) => el("option", { value: i.name }, i.display_name)));
    }
  }
  load();
}

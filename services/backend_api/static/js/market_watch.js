// Market watch: bid, ask, spread (points) and the day's change of each symbol, live from the hub's `tick`
// events, with one-click buy and sell (volume pre-validated against the symbol's min, max and step;
// optional SL/TP). Each click is one intent with one client order id (orders.js): a double click opens once.

import { get } from "./api.js";
import { on } from "./hub.js";
import { loadSymbols, NONE, percent, price, volume } from "./format.js";
import { refusalText, sendOnce } from "./orders.js";
import { el, num, thead } from "./ui.js";

const rows = new Map();  // symbol → { quote, dayOpen, day, cells, inputs }
let onFilled = () => {};

const DAY_S = 86400;

// Why `value` is not a volume of `symbol`, or "" when it is (MT5 refuses it with 10014 otherwise).
function volumeProblem(value, spec) {
  const v = Number(value);
  if (value === "" || !Number.isFinite(v)) return "enter a volume";
  if (v < spec.volume_min - 1e-9) return `at least ${spec.volume_min}`;
  if (v > spec.volume_max + 1e-9) return `at most ${spec.volume_max}`;
  const steps = (v - spec.volume_min) / spec.volume_step;
  if (Math.abs(steps - Math.round(steps)) > 1e-6) return `in steps of ${spec.volume_step}`;
  return "";
}

export function build(afterFill) {
  onFilled = afterFill;
  return el("div", { class: "card table-wrap", id: "market-watch" },
    el("h2", {}, "Market watch"),
    el("table", { class: "grid", id: "watch-table" }),
    el("p", { id: "watch-message", role: "status", "aria-live": "polite" }));
}

function renderRow(spec) {
  const name = spec.name;
  const cell = (field) => el("td", { class: "num", "data-field": field }, NONE);
  const cells = { bid: cell("bid"), ask: cell("ask"), spread: cell("spread"), change: cell("change") };
  const vol = el("input", {
    type: "number", class: "w-6", value: String(spec.volume_min), min: spec.volume_min, max: spec.volume_max,
    step: spec.volume_step, "aria-label": `volume of ${name}`, "data-field": "volume",
  });
  const sl = el("input", { type: "number", step: "any", class: "w-7", placeholder: "SL", "aria-label": `SL of ${name}` });
  const tp = el("input", { type: "number", step: "any", class: "w-7", placeholder: "TP", "aria-label": `TP of ${name}` });
  const hint = el("span", { class: "error-text", "data-field": "volume-problem" });
  const side = (type, label) => el("button", { type: "button", class: type === "BUY" ? "buy" : "sell", "data-action": type.toLowerCase(), onclick: () => trade(name, type) }, label);
  const buttons = [side("SELL", "Sell"), side("BUY", "Buy")];
  const validate = () => {
    const problem = volumeProblem(vol.value, spec);
    hint.textContent = problem;
    vol.setAttribute("aria-invalid", String(Boolean(problem)));
    for (const b of buttons) b.disabled = Boolean(problem);
  };
  vol.addEventListener("input", validate);
  validate();
  rows.set(name, { spec, quote: null, dayOpen: null, dayEnd: null, loadingDay: false, cells, inputs: { vol, sl, tp } });
  return el("tr", { "data-symbol": name },
    el("th", { scope: "row" }, name), cells.bid, cells.ask, cells.spread, cells.change,
    el("td", {}, vol, " ", hint), el("td", {}, sl), el("td", {}, tp), el("td", {}, buttons[0], " ", buttons[1]));
}

// The day's open by the market's clock: the open of the symbol's current D1 bar (the terminal's day, not
// necessarily a UTC one), as MT5's market watch compares against. Read again once a tick is past that day.
async function loadDayOpen(row, tickTime) {
  row.loadingDay = true;
  try {
    const rates = await get(`/api/mt5/rates/${row.spec.name}/D1?count=1`);
    const n = rates.columns.time.length;
    row.dayOpen = n ? rates.columns.open[n - 1] : null;
    row.dayEnd = n ? rates.columns.time[n - 1] + DAY_S : tickTime + 60;
  } catch {
    row.dayOpen = null;  // the change stays "–" rather than wrong; asked again a market minute later
    row.dayEnd = tickTime + 60;
  } finally {
    row.loadingDay = false;
  }
  paint(row);
}

function paint(row) {
  const q = row.quote, name = row.spec.name;
  if (!q) return;
  row.cells.bid.textContent = price(q.bid, name);
  row.cells.ask.textContent = price(q.ask, name);
  row.cells.spread.textContent = String(Math.round((q.ask - q.bid) / row.spec.point));
  if (row.dayOpen) {
    const change = ((q.bid - row.dayOpen) / row.dayOpen) * 100;
    row.cells.change.textContent = percent(change);
    row.cells.change.className = `num ${change >= 0 ? "up" : "down"}`;
  }
}

function applyQuote(row, d) {
  row.quote = { bid: d.bid, ask: d.ask, time: d.time };
  if (!row.loadingDay && !(d.time < row.dayEnd)) loadDayOpen(row, d.time);
  paint(row);
}

function onTick(event) {
  const row = rows.get(event.data.symbol);
  if (!row) return;
  applyQuote(row, event.data);
  // How many live quotes the row has shown: the browser tests read it.
  row.cells.bid.dataset.liveTicks = String(Number(row.cells.bid.dataset.liveTicks || 0) + 1);
}

async function trade(symbol, type) {
  const row = rows.get(symbol), message = document.getElementById("watch-message");
  const { vol, sl, tp } = row.inputs;
  const body = { symbol, type, volume: Number(vol.value), sl: Number(sl.value) || 0, tp: Number(tp.value) || 0, deviation: 20 };
  try {
    const result = await sendOnce(`watch:${symbol}:${type}`, body);
    if (result === null) return;  // the same click is already on its way
    message.className = "";
    message.textContent = `${result.retcode_name}: ${type} ${volume(result.volume, symbol)} ${symbol} at ${price(result.price, symbol)} (order ${result.order})`;
    onFilled();
  } catch (err) {
    message.className = "error-text";
    message.textContent = `${type} ${symbol} refused: ${refusalText(err)}`;
  }
}

export async function show() {
  if (rows.size) return;
  let list;
  try { list = await loadSymbols(); } catch { return; }  // the Trading panel's own calls show the failure
  document.getElementById("watch-table").replaceChildren(
    thead(["Symbol", num("Bid"), num("Ask"), num("Spread (points)"), num("Day change"), "Volume", "SL", "TP", "One click"]),
    el("tbody", {}, list.map(renderRow)));
  // The latest quotes at once; live ticks take over from there.
  await Promise.all(list.map(async (spec) => {
    try {
      const tick = await get(`/api/mt5/symbols/${spec.name}/tick`);
      const row = rows.get(spec.name);
      if (!row.quote) applyQuote(row, tick);
    } catch { /* no quote yet: the row waits for the first tick event */ }
  }));
}

export function init() {
  on("tick", onTick);
}

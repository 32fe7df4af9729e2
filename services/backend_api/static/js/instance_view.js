// One strategy instance's view (Strategies panel): realised and floating P&L, its equity curve, its trades
// (the deals of its magic number), open positions, orders, and its signal log, refused and skipped
// candles included, each with why. The instance's price chart with its trades is not drawn here.

import { get, marketNowMs } from "./api.js";
import { count, dateTime, money, price, stopPrice, volume } from "./format.js";
import { lineChart } from "./chart_lib.js";
import { on } from "./hub.js";
import { attempt, el, num, thead } from "./ui.js";

const SIGNALS_SHOWN = 100;
const SIDES = { 0: "BUY", 1: "SELL" };
const ENTRIES = ["IN", "OUT", "INOUT", "OUT_BY"];
let current = null;  // the instance shown
let pending = null;

const byId = (id) => document.getElementById(id);
const net = (d) => d.profit + d.commission + d.swap + d.fee;

// The instance's equity curve: its realised P&L after each deal, then now with the floating P&L added.
function drawEquity(box, times, values) {
  lineChart(box, [{ name: "realised + floating P&L", time: times, values }]);
}

function equityPoints(deals, floating, nowS) {
  const times = [], values = [];
  let total = 0;
  // The chart needs strictly increasing times: deals of the same second are one point, their sum.
  const add = (time, value) => {
    if (times.length && times[times.length - 1] >= time) values[values.length - 1] = value;
    else { times.push(time); values.push(value); }
  };
  for (const d of deals) {
    total += net(d);
    add(d.time, total);
  }
  add(Math.max(nowS, times.length ? times[times.length - 1] : nowS), total + (floating || 0));
  return { times, values };
}

// What a signal log entry says: the decision and, when it was not carried out or the candle was not acted
// on, why.
export function signalText(s) {
  if (s.kind === "signal") {
    const what = `${s.direction} ${s.action === "none" ? "no order" : s.action} (${s.reason})`;
    return s.refused ? `${what} refused: ${s.refused}` : what;
  }
  const details = Object.entries(s.details || {}).map(([k, v]) => `${k} ${v}`);
  if (s.count > 1) details.unshift(`${s.count} candles since ${dateTime(s.first_bar_time)}`);
  const label = s.kind === "skipped" ? `skipped: ${s.reason}` : s.reason;
  return details.length ? `${label} (${details.join(", ")})` : label;
}

const empty = (columns, text) => el("tr", {}, el("td", { colspan: columns }, text));

function kpi(label, value, field) {
  return el("div", { class: "kpi" }, el("div", { class: "label" }, label), el("div", { class: "value", "data-kpi": field }, value));
}

function render(d, deals, signals, nowMs) {
  const trades = deals.filter((x) => x.type === 0 || x.type === 1);
  const realised = trades.reduce((total, x) => total + net(x), 0);
  const box = byId("st-detail");
  box.hidden = false;
  box.dataset.instance = d.id;
  box.dataset.market = `${d.symbol} ${d.timeframe}`;
  const floating = d.open_pnl === null ? `unavailable (${d.positions_error})` : money(d.open_pnl);
  const equityBox = el("div", { class: "chart-box small", id: "st-equity", role: "img", "aria-label": `Equity curve of ${d.id}` });
  box.replaceChildren(
    el("h2", {}, `Instance ${d.id}: ${d.strategy} on ${d.symbol} ${d.timeframe}`),
    el("p", {}, `state ${d.state}${d.reason ? ` (${d.reason})` : ""}; magic ${d.magic}`),
    el("div", { class: "kpis" },
      kpi("Realised P&L", money(realised), "realised"), kpi("Floating P&L", floating, "floating"),
      kpi("Deals", count(trades.length), "deals"), kpi("Open positions", count((d.positions || []).length), "positions")),
    equityBox,
    el("table", { class: "grid", id: "st-positions" },
      el("caption", {}, "Open positions"),
      thead([num("Ticket"), "Side", num("Volume"), num("Open"), num("SL"), num("TP"), num("Profit")]),
      el("tbody", {}, (d.positions || []).length ? d.positions.map((p) => el("tr", {}, el("td", { class: "num" }, p.ticket), el("td", {}, SIDES[p.type]),
        el("td", { class: "num" }, volume(p.volume, d.symbol)), el("td", { class: "num" }, price(p.price_open, d.symbol)),
        el("td", { class: "num" }, stopPrice(p.sl, d.symbol)), el("td", { class: "num" }, stopPrice(p.tp, d.symbol)),
        el("td", { class: `num ${p.profit >= 0 ? "up" : "down"}` }, money(p.profit)))) : empty(7, "No open positions"))),
    el("table", { class: "grid", id: "st-trades" },
      el("caption", {}, "Trades (its deals, newest first)"),
      thead(["Time", num("Deal"), "Side", "Entry", num("Volume"), num("Price"), num("Commission"), num("Swap"), num("Profit"), "Comment"]),
      el("tbody", {}, trades.length ? trades.slice().reverse().map((x) => el("tr", { "data-deal": x.ticket },
        el("td", {}, dateTime(x.time)), el("td", { class: "num" }, x.ticket), el("td", {}, SIDES[x.type]), el("td", {}, ENTRIES[x.entry] ?? x.entry),
        el("td", { class: "num" }, volume(x.volume, x.symbol)), el("td", { class: "num" }, price(x.price, x.symbol)),
        el("td", { class: "num" }, money(x.commission)), el("td", { class: "num" }, money(x.swap)),
        el("td", { class: `num ${x.profit >= 0 ? "up" : "down"}` }, money(x.profit)), el("td", {}, x.comment))) : empty(10, "No trades yet"))),
    el("table", { class: "grid" },
      el("caption", {}, "Orders"),
      thead(["Bar", "Action", "Client id", "Status"]),
      el("tbody", {}, d.orders.length ? d.orders.map((o) => el("tr", {}, el("td", {}, dateTime(o.bar_time)), el("td", {}, o.action), el("td", {}, o.client_id), el("td", {}, o.status)))
        : empty(4, "No orders yet"))),
    el("h3", {}, "Signals (newest first)"),
    el("ol", { class: "events", id: "st-signal-log", "aria-label": `Signals of ${d.id}` },
      signals.length ? signals.map((s) => el("li", { "data-kind": s.kind, class: s.refused ? "signal-refused" : s.kind === "signal" ? "" : "signal-skipped" },
        el("span", { class: "type" }, `bar ${dateTime(s.bar_time)}`), signalText(s)))
        : el("li", {}, "No signals yet: an instance logs its decisions and the candles it skips, with why.")),
  );
  const { times, values } = equityPoints(trades, d.open_pnl, nowMs / 1000);
  drawEquity(equityBox, times, values);
}

export const shown = () => current;

export async function open(id) {
  current = id;
  for (const row of document.querySelectorAll("#st-instances tbody tr")) row.setAttribute("aria-selected", String(row.dataset.instance === id));
  await refresh();
}

async function refresh() {
  const id = current;
  if (!id) return;
  const d = await attempt(() => get(`/api/strategy/strategies/${id}`));
  if (!d || current !== id) return;
  const [deals, signals, nowMs] = await Promise.all([
    attempt(() => get(`/api/mt5/history/deals?magic=${d.magic}`)),
    attempt(() => get(`/api/strategy/strategies/${id}/signals?limit=${SIGNALS_SHOWN}`)),
    marketNowMs(),
  ]);
  if (current === id) render(d, deals || [], signals || [], nowMs);
}

// Events can come many times a second; the view is read again at most every 500 ms. A candle of the
// instance's market counts too: a skipped candle is logged without a `signal` event.
function scheduleRefresh(event) {
  const box = byId("st-detail");
  if (!current || pending || box.hidden) return;
  const d = event.data || {};
  if (event.type === "signal" && d.instance !== current) return;
  if (event.type === "candle.closed" && `${d.symbol} ${d.timeframe}` !== box.dataset.market) return;
  pending = setTimeout(() => { pending = null; refresh(); }, 500);
}

export function init() {
  const types = ["signal", "candle.closed", "strategy.status", "position.opened", "position.closed", "position.modified"];
  for (const type of types) on(type, scheduleRefresh);
}

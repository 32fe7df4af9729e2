// One strategy instance's view (Strategies panel): realised and floating P&L, its equity curve, its trades
// (the deals of its magic number), open positions, orders, and its signal log, refused and skipped
// candles included, each with why; and its price chart with its trades (trade_chart.js), fed live: ticks
// and closed candles move the bars, new fills redraw only the trades; a click on a deal shows its trade.

import { get, marketNowMs } from "./api.js";
import { count, dateTime, money, price, stopPrice, volume } from "./format.js";
import { lineChart, TIMEFRAME_S } from "./chart_lib.js";
import { on } from "./hub.js";
import { instanceTrades } from "./instance_trades.js";
import { openTradeChart } from "./trade_chart.js";
import { attempt, el, num, thead } from "./ui.js";

const SIGNALS_SHOWN = 100;
const CHART_BARS = 300;  // bars shown at least, before the first trade's when it is older
const CHART_MAX_BARS = 2000;  // older trades than this are reached by scrolling back
const ORDER_LEAD_S = 3600;
const SIDES = { 0: "BUY", 1: "SELL" };
const ENTRIES = ["IN", "OUT", "INOUT", "OUT_BY"];
let current = null;  // the instance shown
let pending = null;
// The instance's price chart, opened once per instance shown and kept across refreshes:
// { id, symbol, timeframe, view (null until open), trades (the latest, for clicks) }.
let chart = null;

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

// The detail card's parts: the summary and the tables are drawn again on each refresh, the chart is not.
function skeleton(id) {
  byId("st-detail").replaceChildren(
    el("div", { id: "st-summary" }),
    el("div", { class: "chart-box", id: "st-price", role: "img", "aria-label": `Price chart with the trades of ${id}` }),
    el("div", { id: "st-tables" }));
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
  byId("st-summary").replaceChildren(
    el("h2", {}, `Instance ${d.id}: ${d.strategy} on ${d.symbol} ${d.timeframe}`),
    el("p", {}, `state ${d.state}${d.reason ? ` (${d.reason})` : ""}; magic ${d.magic}`),
    el("div", { class: "kpis" },
      kpi("Realised P&L", money(realised), "realised"), kpi("Floating P&L", floating, "floating"),
      kpi("Deals", count(trades.length), "deals"), kpi("Open positions", count((d.positions || []).length), "positions")),
    equityBox);
  byId("st-tables").replaceChildren(
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
      el("tbody", {}, trades.length ? trades.slice().reverse().map((x) => el("tr", { "data-deal": x.ticket, "data-position": x.position_id, tabindex: 0 },
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

// The instance's trades on its chart: opened on the first refresh, then only the trades are redrawn.
async function drawTrades(d, deals, nowMs) {
  // The orders that opened its positions were set up at their entry deals' time or just before.
  const first = Math.floor((deals.length ? deals[0].time : nowMs / 1000) - ORDER_LEAD_S);
  const [orders, positions] = await Promise.all([
    attempt(() => get(`/api/mt5/history/orders?from=${first}`)),
    attempt(() => get(`/api/mt5/positions?symbol=${d.symbol}`)),
  ]);
  if (!orders || !positions || !chart || chart.id !== d.id) return;
  const barS = TIMEFRAME_S[d.timeframe], nowS = Math.floor(nowMs / 1000);
  const mine = (x) => x.magic === d.magic;
  const trades = instanceTrades({ deals, orders: orders.filter(mine), positions: positions.filter(mine), nowS, barS });
  chart.trades = trades;
  if (chart.view) { chart.view.setTrades(trades); return; }
  if (chart.opening) return;
  chart.opening = true;
  const from = Math.max(Math.min(trades.entry_time[0] ?? nowS, nowS - CHART_BARS * barS), nowS - CHART_MAX_BARS * barS);
  const opened = chart;
  const view = await openTradeChart(byId("st-price"), { symbol: d.symbol, timeframe: d.timeframe, from, to: nowS, trades, source: "terminal" });
  if (chart !== opened) return;
  chart.opening = false;  // a chart that could not open is tried again on the next refresh
  if (!view) return;
  chart.view = view;
  view.setTrades(chart.trades);  // fills that arrived while the chart was opening
}

// A click on a deal shows the trade (its position) it belongs to.
function focusDeal(row) {
  if (!chart || !chart.view || !chart.trades) return;
  const i = chart.trades.position.indexOf(Number(row.dataset.position));
  if (i < 0) return;
  for (const other of document.querySelectorAll("#st-trades tr.selected")) other.classList.remove("selected");
  row.classList.add("selected");
  chart.view.focus(i);
}

export const shown = () => current;

export async function open(id) {
  current = id;
  for (const row of document.querySelectorAll("#st-instances tbody tr")) row.setAttribute("aria-selected", String(row.dataset.instance === id));
  if (!chart || chart.id !== id) {
    chart?.view?.chart.remove();
    chart = { id, view: null, trades: null, opening: false };
    skeleton(id);
  }
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
  if (current !== id) return;
  Object.assign(chart, { symbol: d.symbol, timeframe: d.timeframe });
  render(d, deals || [], signals || [], nowMs);
  await drawTrades(d, deals || [], nowMs);
}

// The chart's bars follow the market between refreshes: ticks move the last bar, closed candles replace it.
function onTick(event) {
  const d = event.data || {};
  if (chart?.view && d.symbol === chart.symbol) chart.view.chart.applyTick(d.time_msc, d.bid, TIMEFRAME_S[chart.timeframe]);
}

function onCandle(event) {
  const d = event.data || {};
  if (chart?.view && d.symbol === chart.symbol && d.timeframe === chart.timeframe && !d.backfill) chart.view.chart.upsertBar(d.bar);
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
  on("tick", onTick);
  on("candle.closed", onCandle);
  const detail = byId("st-detail");
  detail.addEventListener("click", (e) => { const row = e.target.closest("#st-trades tr[data-position]"); if (row) focusDeal(row); });
  detail.addEventListener("keydown", (e) => {
    const row = e.target.closest("#st-trades tr[data-position]");
    if (row && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); focusDeal(row); }
  });
}

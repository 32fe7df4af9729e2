// Portfolio sub-form of the Backtests panel: legs (symbol, timeframe, strategy, params, lots) added and
// removed, one account and range; the result's combined and per-leg equity, per-leg metrics and the
// correlation matrix of the legs' daily returns.

import { get, post, setMarketRange } from "./api.js";
import { on } from "./hub.js";
import { lineChart } from "./chart_lib.js";
import { count, metric, number, percent } from "./format.js";
import { endedJobEvent } from "./job_end.js";
import { attempt, el, num, thead } from "./ui.js";

const TIMEFRAMES = ["M5", "M15", "M30", "H1", "H4", "D1"];
const byId = (id) => document.getElementById(id);
let choices = { strategies: [], symbols: [] };
let pending = null;  // { id, retry }: the job the form waits for, or the gap fill before a retry
let nextLeg = 0;

function options(values, selected) {
  return values.map((v) => el("option", { value: v, selected: v === selected }, v));
}

function legRow(symbol, strategy = "sma_crossover") {
  const n = nextLeg++;
  const row = el("div", { class: "row mt", "data-leg": n },
    el("label", { for: `pf-symbol-${n}` }, "Symbol"), el("select", { id: `pf-symbol-${n}`, "data-field": "symbol" }, options(choices.symbols, symbol)),
    el("label", { for: `pf-timeframe-${n}` }, "Timeframe"), el("select", { id: `pf-timeframe-${n}`, "data-field": "timeframe" }, options(TIMEFRAMES, "H1")),
    el("label", { for: `pf-strategy-${n}` }, "Strategy"), el("select", { id: `pf-strategy-${n}`, "data-field": "strategy" }, options(choices.strategies, strategy)),
    el("label", { for: `pf-params-${n}` }, "Params (JSON)"), el("input", { id: `pf-params-${n}`, "data-field": "params", value: "{}", class: "w-8" }),
    el("label", { for: `pf-lots-${n}` }, "Lots"), el("input", { id: `pf-lots-${n}`, "data-field": "lots", type: "number", step: "any", value: 0.1, class: "w-5" }),
    el("button", { type: "button", class: "pf-remove", "aria-label": `remove leg ${n}` }, "Remove"));
  row.querySelector(".pf-remove").addEventListener("click", () => {
    if (byId("pf-legs").children.length > 1) row.remove();
  });
  return row;
}

function addLeg() {
  const taken = [...document.querySelectorAll("#pf-legs [data-field=symbol]")].map((s) => s.value);
  const symbol = choices.symbols.find((s) => !taken.includes(s)) || choices.symbols[0];
  byId("pf-legs").append(legRow(symbol));
}

function card() {
  return el("form", { class: "card", id: "pf-form", "aria-label": "Portfolio" },
    el("h2", {}, "Portfolio"),
    el("p", {}, "Several legs on one account: shared equity, margin and stop-out; profits converted to the account currency."),
    el("div", { id: "pf-legs" }),
    el("div", { class: "row mt" },
      el("button", { type: "button", id: "pf-add" }, "Add leg"),
      el("label", { for: "pf-from" }, "From"), el("input", { id: "pf-from", type: "date" }),
      el("label", { for: "pf-to" }, "To"), el("input", { id: "pf-to", type: "date" }),
      el("label", { for: "pf-balance" }, "Balance"), el("input", { id: "pf-balance", type: "number", value: 10000, class: "w-7" }),
      el("label", { for: "pf-currency" }, "Currency"), el("input", { id: "pf-currency", value: "USD", maxlength: 3, class: "w-5" }),
      el("label", { for: "pf-leverage" }, "Leverage"), el("input", { id: "pf-leverage", type: "number", value: 100, class: "w-5" }),
      el("label", { for: "pf-stop-out" }, "Stop-out %"), el("input", { id: "pf-stop-out", type: "number", value: 50, class: "w-5" }),
      el("button", { type: "submit", id: "pf-run" }, "Run portfolio")),
    el("progress", { id: "pf-progress", class: "progress", max: 100, value: 0, "aria-label": "Portfolio progress" }),
    el("p", { id: "pf-status", role: "status", "aria-live": "polite" }),
    el("div", { id: "pf-result", hidden: true },
      el("div", { class: "kpis", id: "pf-metrics" }),
      el("div", { class: "chart-box small", id: "pf-equity", role: "img", "aria-label": "Combined and per-leg equity" }),
      el("div", { class: "table-wrap" }, el("table", { class: "grid", id: "pf-legs-table" })),
      el("div", { class: "table-wrap" }, el("table", { class: "grid", id: "pf-correlation" }))));
}

function body() {
  const legs = [...document.querySelectorAll("#pf-legs [data-leg]")].map((row) => {
    const f = (name) => row.querySelector(`[data-field=${name}]`).value;
    let params;
    try { params = JSON.parse(f("params") || "{}"); } catch { throw new Error(`leg ${f("symbol")}: params are not JSON`); }
    return { symbol: f("symbol"), timeframe: f("timeframe"), strategy: f("strategy"), params, sizing: { mode: "fixed", value: Number(f("lots")) } };
  });
  return {
    legs, from: `${byId("pf-from").value}T00:00:00Z`, to: `${byId("pf-to").value}T23:59:59Z`,
    initial_balance: Number(byId("pf-balance").value), currency: byId("pf-currency").value.toUpperCase(),
    leverage: Number(byId("pf-leverage").value), stop_out_level: Number(byId("pf-stop-out").value),
  };
}

// `filled`: the legs' histories gap-filled for this run; one the fill could not complete is shown, not
// filled again and again.
async function run(filled = new Set()) {
  const status = byId("pf-status"), progress = byId("pf-progress");
  status.className = "";
  status.textContent = "submitting…";
  try {
    const job = await post("/api/backtesting/portfolio/start", body());
    progress.value = 0;
    status.textContent = `portfolio ${job.id} queued`;
    follow(job.id, `/api/backtesting/portfolio/${job.id}/status`, () => showResult(job.id));
  } catch (err) {
    const d = err.details || {};
    const key = `${d.symbol} ${d.timeframe}`;
    if (err.code === "history_incomplete" && d.symbol && d.timeframe && !filled.has(key)) {
      // A leg's history is not stored yet: fill its gaps, then submit again (one leg at a time).
      status.textContent = `${err.message} — filling the gaps first…`;
      const fill = await attempt(() => post("/api/data/gap-fill", { symbols: [d.symbol], timeframes: [d.timeframe], from: body().from, to: body().to }));
      if (fill) follow(fill.id, `/api/data/gap-fill/${fill.id}`, () => run(new Set([...filled, key])));
      return;
    }
    status.className = "error-text";
    status.textContent = err.message;
  }
}

async function follow(id, statusPath, done) {
  pending = { id, done };
  const ended = await endedJobEvent(id, statusPath);
  if (ended) onJobEvent(ended);  // it checks the job is still the one pending
}

function onJobEvent(event) {
  const d = event.data;
  if (!pending || d.job_id !== pending.id) return;
  const status = byId("pf-status"), kind = event.type.split(".")[0];
  if (event.type.endsWith(".progress")) {
    byId("pf-progress").value = d.percent;
    status.textContent = `${kind}: ${count(d.percent)} %`;
  } else if (event.type.endsWith(".completed")) {
    const { done } = pending;
    pending = null;
    byId("pf-progress").value = 100;
    status.textContent = `${kind} completed`;
    done();
  } else {
    pending = null;
    status.className = "error-text";
    status.textContent = `${kind} failed: ${d.reason}`;
  }
}

const HEADLINE = [["return_pct", "Return"], ["sharpe_ratio", "Sharpe"], ["max_drawdown_pct", "Max drawdown"], ["trades", "Trades"], ["equity_final", "Final equity"]];

async function showResult(id) {
  const r = await attempt(() => get(`/api/backtesting/portfolio/${id}/result?max_points=600`));
  if (!r) return;
  byId("pf-result").hidden = false;
  const m = r.combined.metrics;
  byId("pf-metrics").replaceChildren(...HEADLINE.map(([k, label]) => el("div", { class: "kpi" }, el("div", { class: "label" }, label), el("div", { class: "value", "data-metric": k }, metric(k, m[k])))));
  lineChart(byId("pf-equity"), [
    { name: "combined", time: r.combined.equity.time, values: r.combined.equity.equity },
    ...r.legs.map((leg) => ({ name: leg.label, time: leg.equity.time, values: leg.equity.equity })),
  ]);
  byId("pf-legs-table").replaceChildren(
    el("caption", {}, "Per leg (balance + the leg's P&L)"),
    thead(["Leg", num("Return"), num("Sharpe"), num("Max drawdown"), num("Trades")]),
    el("tbody", {}, r.legs.map((leg) => el("tr", { "data-leg-result": leg.label },
      el("td", {}, leg.label), el("td", { class: "num" }, percent(leg.metrics.return_pct)), el("td", { class: "num" }, number(leg.metrics.sharpe_ratio)),
      el("td", { class: "num" }, percent(leg.metrics.max_drawdown_pct)), el("td", { class: "num" }, count(leg.metrics.trades))))));
  const c = r.correlation;
  byId("pf-correlation").replaceChildren(
    el("caption", {}, "Correlation of the legs' daily returns"),
    thead(["", ...c.labels.map((label) => num(label))]),
    el("tbody", {}, c.matrix.map((row, i) => el("tr", {}, el("th", { scope: "row" }, c.labels[i]),
      row.map((v) => el("td", { class: "num", "data-corr": v === null ? "" : v.toFixed(2) }, v === null ? "–" : v.toFixed(2)))))));
}

// Adds the card to `panel` (after the backtest form's cards) and listens for its jobs.
export function mount(panel) {
  panel.append(card());
  byId("pf-add").addEventListener("click", addLeg);
  byId("pf-form").addEventListener("submit", (e) => { e.preventDefault(); run(); });
  for (const kind of ["portfolio", "gapfill"]) {
    for (const suffix of ["progress", "completed", "failed"]) on(`${kind}.${suffix}`, onJobEvent);
  }
}

// The choices the legs offer, and two legs to start from, once the panel has loaded them.
export function fill(strategies, symbols) {
  choices = { strategies, symbols };
  byId("pf-legs").replaceChildren();
  addLeg();
  addLeg();
  return setMarketRange("pf-from", "pf-to", 30, 1);
}

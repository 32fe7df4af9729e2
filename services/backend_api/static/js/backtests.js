// Backtests panel: a form generated from the strategy's schema, progress from events, results (equity,
// drawdown, metrics, trades), comparison of two runs, optimisation (sortable table, heat map), walk-forward.

import { get, post, setMarketRange } from "./api.js";
import { on } from "./hub.js";
import { lineChart } from "./chart_lib.js";
import { openTradeChart } from "./trade_chart.js";
import { numericParams, schemaFields, schemaValues } from "./schema_form.js";
import { count, dateTime, duration, loadSymbols, metric, money, number, percent, price, volume } from "./format.js";
import { showRankedCombinations } from "./optimization.js";
import * as portfolio from "./portfolio.js";
import { onTrial, searchBody, searchControls, watchTrials } from "./search_form.js";
import { chance, showSearchResult } from "./search_view.js";
import { endedJobEvent } from "./job_end.js";
import { showReport } from "./report.js";
import { attempt, el, num, thead, toast } from "./ui.js";

let strategies = {};
const waiting = new Map();  // job id → what to do when it finishes

function panel() { return document.getElementById("panel-backtests"); }
const byId = (id) => document.getElementById(id);

function build() {
  const day = (d) => d.toISOString().slice(0, 10);
  panel().replaceChildren(
    el("form", { class: "card", id: "bt-form", "aria-label": "Backtest" },
      el("h2", {}, "Backtest"),
      el("div", { class: "row" },
        el("label", { for: "bt-strategy" }, "Strategy"), el("select", { id: "bt-strategy" }),
        el("label", { for: "bt-symbol" }, "Symbol"), el("select", { id: "bt-symbol" }),
        el("label", { for: "bt-timeframe" }, "Timeframe"), el("select", { id: "bt-timeframe" }, ["M5", "M15", "M30", "H1", "H4", "D1"].map((tf) => el("option", { value: tf, selected: tf === "M15" }, tf))),
        el("label", { for: "bt-from" }, "From"), el("input", { id: "bt-from", type: "date", value: day(new Date(Date.now() - 30 * 86400e3)) }),
        el("label", { for: "bt-to" }, "To"), el("input", { id: "bt-to", type: "date", value: day(new Date(Date.now() - 86400e3)) })),
      el("div", { class: "row mt", id: "bt-params" }),
      el("div", { class: "row mt" },
        el("label", { for: "bt-balance" }, "Balance"), el("input", { id: "bt-balance", type: "number", value: 10000, class: "w-7" }),
        // Leverage, sizing and costs start from the service's defaults (GET /backtest/defaults: the account's
        // leverage, backtesting.default_sizing and default_costs), so the form and the API agree.
        el("label", { for: "bt-leverage" }, "Leverage"), el("input", { id: "bt-leverage", type: "number", value: 100, class: "w-5" }),
        el("label", { for: "bt-sizing" }, "Sizing"), el("select", { id: "bt-sizing" }, ["fixed", "equity_fraction", "risk_percent", "all_in"].map((m) => el("option", { value: m, selected: m === "equity_fraction" }, m))),
        el("label", { for: "bt-size" }, "Size"), el("input", { id: "bt-size", type: "number", step: "any", value: 1, class: "w-5" }),
        el("label", { for: "bt-spread" }, "Spread (points)"), el("input", { id: "bt-spread", type: "number", value: 0, class: "w-5" }),
        el("label", { for: "bt-commission" }, "Commission / lot"), el("input", { id: "bt-commission", type: "number", step: "any", value: 0, class: "w-5" }),
        // The modelling mode: bars (backtesting.py's rules), MT5's 1-minute OHLC walk, or the stored ticks
        // with the paper broker's rules; backtests, optimisations and walk-forwards all run in it.
        el("label", { for: "bt-model" }, "Model"), el("select", { id: "bt-model", title: "How prices move inside a bar" },
          [["bars", "Bars"], ["m1_ohlc", "1-minute OHLC"], ["ticks", "Every tick (stored ticks)"]].map(([value, label]) => el("option", { value }, label))),
        el("button", { type: "submit", id: "bt-run" }, "Run backtest")),
      el("progress", { id: "bt-progress", class: "progress", max: 100, value: 0, "aria-label": "Backtest progress" }),
      el("p", { id: "bt-status", role: "status", "aria-live": "polite" })),
    el("div", { class: "card", id: "bt-result", hidden: true },
      el("h2", {}, "Result"),
      el("div", { class: "warnings", id: "bt-warnings", role: "alert", hidden: true }),
      el("div", { class: "kpis", id: "bt-metrics" }),
      el("div", { id: "bt-report" }),
      el("div", { class: "chart-box", id: "bt-price", role: "img", "aria-label": "Price chart with the run's trades" }),
      el("div", { class: "chart-box small", id: "bt-equity", role: "img", "aria-label": "Equity curve" }),
      el("div", { class: "chart-box small", id: "bt-drawdown", role: "img", "aria-label": "Drawdown curve" }),
      el("details", {}, el("summary", {}, "All metrics"), el("table", { class: "grid", id: "bt-metrics-table" })),
      el("details", {}, el("summary", {}, "Trades (click one to see it on the chart)"), el("div", { class: "table-wrap" }, el("table", { class: "grid", id: "bt-trades" })))),
    el("div", { class: "card" },
      el("h2", {}, "Runs"),
      el("div", { class: "row" }, el("button", { type: "button", id: "bt-compare" }, "Compare the two selected")),
      el("div", { class: "table-wrap" }, el("table", { class: "grid", id: "bt-runs" })),
      el("div", { id: "bt-comparison" })),
    el("form", { class: "card", id: "opt-form", "aria-label": "Optimisation" },
      el("h2", {}, "Optimise / walk-forward"),
      el("div", { class: "row", id: "opt-space" }),
      el("div", { class: "row mt" },
        el("label", { for: "opt-metric" }, "Rank by"),
        el("select", { id: "opt-metric" }, ["Sharpe Ratio", "Return [%]", "Profit Factor", "SQN", "Calmar Ratio"].map((m) => el("option", { value: m }, m))),
        ...searchControls(),
        el("button", { type: "submit", id: "opt-run" }, "Optimise"),
        el("label", { for: "wf-is" }, "In-sample bars"), el("input", { id: "wf-is", type: "number", value: 600, class: "w-6" }),
        el("label", { for: "wf-oos" }, "Out-of-sample bars"), el("input", { id: "wf-oos", type: "number", value: 200, class: "w-6" }),
        el("label", {}, el("input", { type: "checkbox", id: "wf-anchored" }), " anchored"),
        el("button", { type: "button", id: "wf-run" }, "Walk forward")),
      el("progress", { id: "opt-progress", class: "progress", max: 100, value: 0, "aria-label": "Optimisation progress" }),
      el("p", { id: "opt-status", role: "status", "aria-live": "polite" }),
      el("p", { id: "opt-trial", "aria-live": "polite" }),
      el("div", { class: "row" }, el("div", { id: "opt-pareto", hidden: true }), el("div", { id: "opt-overfitting", hidden: true })),
      el("div", { class: "warnings", id: "opt-warnings", role: "alert", hidden: true }),
      el("div", { class: "table-wrap" }, el("table", { class: "grid", id: "opt-table" })),
      el("div", { id: "opt-heatmap-view" }),
      el("div", { class: "table-wrap" }, el("table", { class: "grid", id: "wf-windows" })),
      el("div", { class: "chart-box small", id: "wf-equity", role: "img", "aria-label": "Stitched out-of-sample equity", hidden: true })),
  );
  byId("bt-strategy").addEventListener("change", renderParams);
  byId("bt-symbol").addEventListener("change", loadDefaults);
  byId("bt-form").addEventListener("submit", (e) => { e.preventDefault(); runBacktest(); });
  byId("bt-compare").addEventListener("click", compare);
  byId("opt-form").addEventListener("submit", (e) => { e.preventDefault(); search("/api/backtesting/optimize", "opt"); });
  byId("wf-run").addEventListener("click", () => search("/api/backtesting/walk-forward", "wf"));
}

async function loadDefaults() {
  const symbol = byId("bt-symbol").value;
  const d = await attempt(() => get(`/api/backtesting/backtest/defaults${symbol ? `?symbol=${encodeURIComponent(symbol)}` : ""}`));
  if (!d) return;
  byId("bt-balance").value = d.initial_balance;
  byId("bt-leverage").value = d.leverage;
  byId("bt-sizing").value = d.sizing.mode;
  byId("bt-size").value = d.sizing.value;
  byId("bt-spread").value = d.costs.spread_points;
  byId("bt-commission").value = d.costs.commission_per_lot;
}

// Why signals did not become trades (skipped entries by cause, runs without trades), or nothing.
function showWarnings(box, warnings) {
  box.hidden = !warnings || !warnings.length;
  box.replaceChildren(...(warnings || []).map((w) => el("p", { "data-warning": w.code }, `⚠ ${w.message}`)));
}

function renderParams() {
  const s = strategies[byId("bt-strategy").value];
  byId("bt-params").replaceChildren(el("strong", {}, "Parameters"), ...schemaFields(s.params_schema, "bt-param"));
  byId("opt-space").replaceChildren(el("strong", {}, "Search"), ...numericParams(s.params_schema).slice(0, 2).map(([name, p]) => {
    const d = p.default ?? 1, step = p.type === "integer" ? Math.max(1, Math.round(d / 4)) : d / 4;
    return el("span", { class: "field", "data-space": name, "data-type": p.type },
      el("label", {}, `${p.title || name} from `), el("input", { type: "number", step: "any", value: d - 2 * step, class: "w-5", "aria-label": `${name} from`, "data-bound": "min" }),
      el("label", {}, " to "), el("input", { type: "number", step: "any", value: d + 2 * step, class: "w-5", "aria-label": `${name} to`, "data-bound": "max" }),
      el("label", {}, " step "), el("input", { type: "number", step: "any", value: step, class: "w-5", "aria-label": `${name} step`, "data-bound": "step" }));
  }));
}

function market() {
  return {
    strategy: byId("bt-strategy").value, params: schemaValues(byId("bt-params")),
    symbol: byId("bt-symbol").value, timeframe: byId("bt-timeframe").value,
    from: `${byId("bt-from").value}T00:00:00Z`, to: `${byId("bt-to").value}T23:59:59Z`,
    initial_balance: Number(byId("bt-balance").value), leverage: Number(byId("bt-leverage").value),
    sizing: { mode: byId("bt-sizing").value, value: Number(byId("bt-size").value) },
    costs: { spread_points: Number(byId("bt-spread").value), commission_per_lot: Number(byId("bt-commission").value) },
    model: byId("bt-model").value,
  };
}

// History the data service does not have yet is fetched with a gap fill first, then the job is retried.
// `filled`: the timeframes already gap-filled for this submit (m1_ohlc may need its M1 bars after the
// chart's); one a gap fill could not complete is shown, not asked for again and again.
async function submitWithHistory(submit, progress, status, filled = new Set()) {
  status.className = "";
  status.textContent = "submitting…";
  try {
    await submit();
  } catch (err) {
    const m = market();
    // The timeframe the error names: the m1_ohlc model also needs the M1 bars of the range.
    const timeframe = (err.details && err.details.timeframe) || m.timeframe;
    if (err.code !== "history_incomplete" || filled.has(timeframe)) {
      status.className = "error-text";
      status.textContent = err.code === "history_incomplete" ? `still incomplete after a gap fill: ${err.message}` : err.message;
      return;
    }
    status.textContent = `${err.message} — filling the gaps first…`;
    const job = await attempt(() => post("/api/data/gap-fill", { symbols: [m.symbol], timeframes: [timeframe], from: m.from, to: m.to }));
    if (job) track(job.id, `/api/data/gap-fill/${job.id}`, { progress, status, done: () => submitWithHistory(submit, progress, status, new Set([...filled, timeframe])) });
  }
}

function runBacktest() {
  const progress = byId("bt-progress"), status = byId("bt-status");
  return submitWithHistory(async () => {
    const job = await post("/api/backtesting/backtest/start", market());
    progress.value = 0;
    status.textContent = `backtest ${job.id} queued`;
    track(job.id, `/api/backtesting/backtest/${job.id}/status`, { progress, status, done: () => showResult(job.id) });
  }, progress, status);
}

async function track(id, statusPath, entry) {
  waiting.set(id, entry);
  const ended = await endedJobEvent(id, statusPath);
  if (ended && waiting.get(id) === entry) onJobEvent(ended);
}

function onJobEvent(event) {
  const d = event.data, w = waiting.get(d.job_id), kind = event.type.split(".")[0];
  if (!w) return;
  if (event.type.endsWith(".progress")) {
    w.progress.value = d.percent;
    w.status.textContent = `${kind}: ${count(d.percent)} % ${d.message || ""}`;
  } else if (event.type.endsWith(".completed")) {
    waiting.delete(d.job_id);
    w.progress.value = 100;
    w.status.textContent = `${kind} completed`;
    w.done();
  } else {
    waiting.delete(d.job_id);
    w.status.className = "error-text";
    w.status.textContent = `${kind} failed: ${d.reason}`;
  }
}

const HEADLINE = [["return_pct", "Return"], ["buy_hold_return_pct", "Buy & hold"], ["sharpe_ratio", "Sharpe"], ["max_drawdown_pct", "Max drawdown"],
  ["trades", "Trades"], ["win_rate_pct", "Win rate"], ["profit_factor", "Profit factor"], ["equity_final", "Final equity"]];

async function showResult(id) {
  const [job, r] = await Promise.all([attempt(() => get(`/api/backtesting/backtest/${id}/status`)),
    attempt(() => get(`/api/backtesting/backtest/${id}/result?max_points=800`)), attempt(loadSymbols)]);
  if (!r) return;
  const symbol = job && job.params.symbol;  // none for inline bars: prices at the default digits
  const m = r.metrics;
  byId("bt-result").hidden = false;
  showWarnings(byId("bt-warnings"), r.warnings);
  byId("bt-metrics").replaceChildren(...HEADLINE.map(([k, label]) => el("div", { class: "kpi" }, el("div", { class: "label" }, label), el("div", { class: "value", "data-metric": k }, metric(k, m[k])))));
  byId("bt-metrics-table").replaceChildren(el("tbody", {}, Object.entries(m).map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", { class: "num", "data-metric": k }, typeof v === "number" || v === null ? metric(k, v) : String(v))))));
  showReport(byId("bt-report"), id, r);
  lineChart(byId("bt-equity"), [{ name: "equity", time: r.equity.time, values: r.equity.equity }]);
  lineChart(byId("bt-drawdown"), [{ name: "drawdown %", time: r.equity.time, values: r.equity.drawdown_pct }], { area: true, percent: true });
  const t = r.trades, n = t.entry_time.length;
  // Inline-bar runs have no symbol to read bars for: no price chart then.
  const priceBox = byId("bt-price");
  priceBox.hidden = !symbol;
  const view = symbol ? await openTradeChart(priceBox, { symbol, timeframe: job.params.timeframe, from: job.params.from, to: job.params.to, trades: t }) : null;
  const select = (row, i) => {
    for (const other of byId("bt-trades").querySelectorAll("tr.selected")) other.classList.remove("selected");
    row.classList.add("selected");
    if (view) view.focus(i);
  };
  byId("bt-trades").replaceChildren(
    thead(["Entry", "Exit", "Duration", num("Size"), num("Entry price"), num("Exit price"), num("P&L"), num("Return"), "Exit reason", num("SL"), num("TP")]),
    el("tbody", {}, Array.from({ length: Math.min(n, 300) }, (_, i) => {
      const row = el("tr", { "data-trade": i, tabindex: 0 },
        el("td", {}, dateTime(t.entry_time[i])), el("td", {}, dateTime(t.exit_time[i])), el("td", {}, duration(t.duration_s[i])), el("td", { class: "num" }, volume(t.size[i], symbol)),
        el("td", { class: "num" }, price(t.entry_price[i], symbol)), el("td", { class: "num" }, price(t.exit_price[i], symbol)),
        el("td", { class: `num ${t.pnl[i] >= 0 ? "up" : "down"}` }, money(t.pnl[i])), el("td", { class: "num" }, percent(t.return_pct[i])), el("td", {}, t.exit_reason[i]),
        el("td", { class: "num" }, price(t.sl[i], symbol)), el("td", { class: "num" }, price(t.tp[i], symbol)));
      row.addEventListener("click", () => select(row, i));
      row.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(row, i); } });
      return row;
    })));
  listRuns();
}

async function listRuns() {
  const runs = await attempt(() => get("/api/backtesting/backtests"));
  if (!runs) return;
  byId("bt-runs").replaceChildren(
    thead(["", "When", "Strategy", "Symbol", "State", num("Return"), num("Sharpe"), num("Trades"), ""]),
    el("tbody", {}, runs.map((run) => {
      const s = run.summary || {};
      return el("tr", { "data-run": run.id },
        el("td", {}, el("input", { type: "checkbox", value: run.id, "aria-label": `select run ${run.id}` })),
        el("td", {}, dateTime(run.created_ms / 1000)), el("td", {}, run.params.strategy), el("td", {}, `${run.params.symbol || "inline"} ${run.params.timeframe || ""}`),
        el("td", {}, run.state), el("td", { class: "num" }, percent(s.return_pct)), el("td", { class: "num" }, number(s.sharpe_ratio)), el("td", { class: "num" }, count(s.trades)),
        el("td", {}, el("button", { type: "button", onclick: () => showResult(run.id) }, "Show")));
    })));
}

async function compare() {
  const ids = [...document.querySelectorAll("#bt-runs input:checked")].map((i) => i.value);
  if (ids.length !== 2) { toast("select exactly two runs to compare"); return; }
  const results = await Promise.all(ids.map((id) => attempt(() => get(`/api/backtesting/backtest/${id}/result?max_points=500`))));
  if (results.some((r) => !r)) return;
  const box = el("div", { class: "chart-box small", id: "bt-compare-chart", role: "img", "aria-label": "Equity of both runs" });
  byId("bt-comparison").replaceChildren(
    el("table", { class: "grid", id: "bt-compare-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Metric"), ids.map((id, k) => el("th", { scope: "col", class: "num" }, `run ${k + 1} (${id.slice(0, 8)})`)))),
      el("tbody", {}, HEADLINE.map(([key, label]) => el("tr", {}, el("th", { scope: "row" }, label), results.map((r) => el("td", { class: "num" }, metric(key, r.metrics[key]))))))),
    box);
  lineChart(box, results.map((r, k) => ({ name: `run ${k + 1}`, time: r.equity.time, values: r.equity.equity })));
}

function space() {
  const out = {};
  for (const field of document.querySelectorAll("#opt-space [data-space]")) {
    const get_ = (b) => Number(field.querySelector(`[data-bound=${b}]`).value);
    // A blank step leaves the range continuous (for the Optuna samplers).
    const step = field.querySelector("[data-bound=step]").value.trim();
    out[field.dataset.space] = { min: get_("min"), max: get_("max"), ...(step ? { step: Number(step) } : {}) };
  }
  return out;
}

function search(path, kind) {
  const m = market(), sp = space(), names = Object.keys(sp);
  const body = { ...m, params: Object.fromEntries(Object.entries(m.params).filter(([k]) => !(k in sp))), space: sp, ...searchBody() };
  // Every combination of the grid (up to the API's 1000) comes back, so any metric can be mapped.
  if (kind === "opt") Object.assign(body, { top_n: 1000, heatmap: names.length === 2 ? names : null });
  else Object.assign(body, { in_sample_bars: Number(byId("wf-is").value), out_of_sample_bars: Number(byId("wf-oos").value), anchored: byId("wf-anchored").checked });
  const progress = byId("opt-progress"), status = byId("opt-status");
  return submitWithHistory(async () => {
    const job = await post(path, body);
    progress.value = 0;
    status.textContent = `${kind === "opt" ? "optimisation" : "walk-forward"} ${job.id} queued`;
    if (kind === "opt") watchTrials(job.id);
    const resultPath = kind === "opt" ? `/api/backtesting/optimize/${job.id}` : `/api/backtesting/walk-forward/${job.id}`;
    track(job.id, resultPath, { progress, status, done: async () => {
      const finished = await attempt(() => get(resultPath));
      if (finished && finished.result) (kind === "opt" ? showOptimization : showWalkForward)(finished.result);
    } });
  }, progress, status);
}

function showOptimization(result) {
  showWarnings(byId("opt-warnings"), result.warnings);
  showRankedCombinations(result);
  showSearchResult(result);
}

function showWalkForward(result) {
  showWarnings(byId("opt-warnings"), result.warnings);
  byId("wf-windows").replaceChildren(
    el("caption", {}, `${result.windows.length} windows; stitched out-of-sample return ${percent(result.metrics.return_pct)}`),
    thead([num("#"), "In-sample bars", "Out-of-sample bars", "Chosen parameters", num("IS score"), num("IS deflated Sharpe"), num("IS PBO"), num("OOS return"), num("OOS trades")]),
    el("tbody", {}, result.windows.map((w, i) => el("tr", {},
      el("td", { class: "num" }, i + 1), el("td", {}, `${w.in_sample[0]}–${w.in_sample[1]}`), el("td", {}, `${w.out_of_sample[0]}–${w.out_of_sample[1]}`),
      el("td", {}, JSON.stringify(w.params)), el("td", { class: "num" }, number(w.in_sample_score, 3)),
      el("td", { class: "num", "data-overfit": "dsr" }, chance(w.in_sample_overfitting?.deflated_sharpe_ratio)),
      el("td", { class: "num", "data-overfit": "pbo" }, chance(w.in_sample_overfitting?.pbo)),
      el("td", { class: "num" }, percent(w.out_of_sample_metrics.return_pct)), el("td", { class: "num" }, count(w.out_of_sample_metrics.trades))))));
  const box = byId("wf-equity");
  box.hidden = false;
  lineChart(box, [{ name: "stitched out-of-sample equity", time: result.equity.time, values: result.equity.equity }]);
}

export function init() {
  build();
  portfolio.mount(panel());
  for (const kind of ["backtest", "optimization", "walk_forward", "gapfill"]) {
    for (const suffix of ["progress", "completed", "failed"]) on(`${kind}.${suffix}`, onJobEvent);
  }
  on("optimization.trial", onTrial);
}

export async function show() {
  if (!Object.keys(strategies).length) {
    const list = await attempt(() => get("/api/backtesting/strategies"));
    if (!list) return;
    strategies = Object.fromEntries(list.map((s) => [s.name, s]));
    byId("bt-strategy").replaceChildren(...list.map((s) => el("option", { value: s.name, title: s.description, selected: s.name === "sma_crossover" }, s.name)));
    const symbols = await attempt(loadSymbols);
    if (symbols) byId("bt-symbol").replaceChildren(...symbols.map((s) => el("option", { value: s.name }, s.name)));
    if (symbols) portfolio.fill(list.map((s) => s.name), symbols.map((s) => s.name));
    renderParams();
    loadDefaults();
    setMarketRange("bt-from", "bt-to", 30, 1);
  }
  listRuns();
}

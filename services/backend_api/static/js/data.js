// Data panel: collection start/stop and status, a completeness heat map, gap fill with progress, statistics.

import { get, marketNowMs, post, setMarketRange } from "./api.js";
import { on } from "./hub.js";
import { count, dateTime, day, duration, loadSymbols, NONE, number, percent } from "./format.js";
import { attempt, el, num, thead } from "./ui.js";

let symbols = [];
let activeJob = null;
let timer = null;

function panel() { return document.getElementById("panel-data"); }

function build() {
  const today = new Date(), weekAgo = new Date(Date.now() - 7 * 86400e3);
  const day = (d) => d.toISOString().slice(0, 10);
  panel().replaceChildren(
    el("div", { class: "card" },
      el("h2", {}, "Collection"),
      el("div", { class: "row" },
        el("button", { type: "button", id: "collection-start" }, "Start collection"),
        el("button", { type: "button", id: "collection-stop" }, "Stop collection"),
        el("span", { id: "collection-summary", "aria-live": "polite" })),
      el("div", { class: "table-wrap" }, el("table", { class: "grid", id: "collection-table" }))),
    el("div", { class: "card" },
      el("h2", {}, "Completeness"),
      el("form", { class: "row", id: "completeness-form", "aria-label": "Completeness" },
        el("label", { for: "completeness-tf" }, "Timeframe"),
        el("select", { id: "completeness-tf" }, ["M1", "M5", "M15", "M30", "H1", "H4", "D1"].map((tf) => el("option", { value: tf, selected: tf === "M5" }, tf))),
        el("label", { for: "completeness-days" }, "Days"), el("input", { id: "completeness-days", type: "number", min: 1, max: 120, value: 14, class: "w-5" }),
        el("button", { type: "submit" }, "Show")),
      el("div", { class: "table-wrap" }, el("table", { class: "grid heat", id: "completeness-table" }))),
    el("form", { class: "card", id: "gapfill-form", "aria-label": "Gap fill" },
      el("h2", {}, "Gap fill"),
      el("div", { class: "row" },
        el("fieldset", { id: "gapfill-symbols", class: "row" }, el("legend", {}, "Symbols")),
        el("label", { for: "gapfill-tfs" }, "Timeframes"),
        el("select", { id: "gapfill-tfs", multiple: true, size: 3 }, ["M1", "M5", "M15", "M30", "H1", "H4", "D1"].map((tf) => el("option", { value: tf, selected: tf === "M5" || tf === "H1" }, tf))),
        el("label", { for: "gapfill-from" }, "From"), el("input", { id: "gapfill-from", type: "date", value: day(weekAgo) }),
        el("label", { for: "gapfill-to" }, "To"), el("input", { id: "gapfill-to", type: "date", value: day(today) }),
        el("button", { type: "submit", id: "gapfill-submit" }, "Fill gaps"),
        el("button", { type: "button", id: "gapfill-cancel", disabled: true }, "Cancel")),
      el("progress", { id: "gapfill-progress", class: "progress", max: 100, value: 0, "aria-label": "Gap fill progress" }),
      el("p", { id: "gapfill-status", role: "status", "aria-live": "polite" })),
    el("div", { class: "card" }, el("h2", {}, "Statistics"), el("div", { class: "table-wrap" }, el("table", { class: "grid", id: "statistics-table" })), el("p", { id: "statistics-size" })),
  );
  document.getElementById("collection-start").addEventListener("click", () => attempt(() => post("/api/data/collection/start", {}), "collection started").then(status));
  document.getElementById("collection-stop").addEventListener("click", () => attempt(() => post("/api/data/collection/stop"), "collection stopped").then(status));
  document.getElementById("completeness-form").addEventListener("submit", (e) => { e.preventDefault(); heatmap(); });
  document.getElementById("gapfill-form").addEventListener("submit", (e) => { e.preventDefault(); gapFill(); });
  document.getElementById("gapfill-cancel").addEventListener("click", () => activeJob && attempt(() => post(`/api/data/gap-fill/${activeJob}/cancel`), "cancel requested"));
}

async function status() {
  const s = await attempt(() => get("/api/data/collection/status"));
  if (!s) return;
  document.getElementById("collection-summary").textContent = s.running ? `running, ${number(s.ticks_per_s, 1)} ticks/s` : "stopped";
  document.getElementById("collection-table").replaceChildren(
    thead(["Symbol", "Running", "Last tick", num("Lag"), num("Ticks/s"), num("Stored"), "Error"]),
    el("tbody", {}, s.symbols.map((r) => el("tr", { "data-symbol": r.symbol },
      el("th", { scope: "row" }, r.symbol), el("td", {}, r.running ? "yes" : "no"),
      el("td", {}, r.last_tick_msc ? dateTime(r.last_tick_msc / 1000) : NONE), el("td", { class: "num" }, duration(r.lag_ms != null ? r.lag_ms / 1000 : null)),
      el("td", { class: "num" }, number(r.ticks_per_s, 1)), el("td", { class: "num", "data-stored": r.stored_ticks }, count(r.stored_ticks)),
      el("td", { class: "error-text" }, r.error || "")))));
}

function color(percent, expected) {
  if (!expected) return "#26303c";
  const hue = Math.round((percent / 100) * 130);  // red → green
  return `hsl(${hue} 55% 32%)`;
}

async function heatmap() {
  const tf = document.getElementById("completeness-tf").value, days = Number(document.getElementById("completeness-days").value) || 14;
  const to = Math.floor((await marketNowMs()) / 1000), from = to - days * 86400;
  const reports = await Promise.all(symbols.map((s) => attempt(() => get(`/api/data/completeness/${s}/${tf}?from=${from}&to=${to}`))));
  const dayList = (reports.find(Boolean) || { days: [] }).days.map((d) => d.day);
  const table = document.getElementById("completeness-table");
  table.replaceChildren(
    el("caption", {}, `${tf} bars stored per day (grey: market closed)`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Symbol"), dayList.map((d) => el("th", { scope: "col", class: "num" }, day(d).slice(5))))),
    el("tbody", {}, symbols.map((s, i) => el("tr", {}, el("th", { scope: "row" }, s),
      (reports[i] ? reports[i].days : []).map((d) => {
        const label = d.expected ? `${s} ${day(d.day)}: ${count(d.actual)}/${count(d.expected)} bars (${percent(d.percent)})` : "market closed";
        const cell = el("td", { class: "num", title: label, "aria-label": label, "data-percent": d.expected ? d.percent : "" }, d.expected ? `${Math.round(d.percent)}` : "");
        cell.style.setProperty("--cell", color(d.percent, d.expected));
        return cell;
      })))));
}

async function gapFill() {
  const chosen = [...document.querySelectorAll("#gapfill-symbols input:checked")].map((i) => i.value);
  const tfs = [...document.getElementById("gapfill-tfs").selectedOptions].map((o) => o.value);
  const from = document.getElementById("gapfill-from").value, to = document.getElementById("gapfill-to").value;
  const job = await attempt(() => post("/api/data/gap-fill", { symbols: chosen, timeframes: tfs, from: `${from}T00:00:00Z`, to: `${to}T23:59:59Z` }));
  if (!job) return;
  activeJob = job.id;
  document.getElementById("gapfill-progress").value = 0;
  document.getElementById("gapfill-status").textContent = `job ${job.id}: ${job.state}`;
  document.getElementById("gapfill-cancel").disabled = false;
}

function onProgress(event) {
  const d = event.data;
  if (d.job_id !== activeJob) return;
  const bar = document.getElementById("gapfill-progress");
  if (event.type === "gapfill.progress") {
    bar.value = d.percent;
    document.getElementById("gapfill-status").textContent = `${count(d.percent)} % — ${d.ranges_done ?? 0}/${d.ranges_total ?? "?"} ranges${d.eta_s != null ? `, about ${duration(d.eta_s)} left` : ""}`;
  } else {
    if (event.type === "gapfill.completed") bar.value = 100;
    document.getElementById("gapfill-status").textContent = event.type === "gapfill.completed" ? "completed" : `failed: ${d.reason}`;
    document.getElementById("gapfill-cancel").disabled = true;
    activeJob = null;
    heatmap();
    statistics();
  }
}

async function statistics() {
  const s = await attempt(() => get("/api/data/statistics"));
  if (!s) return;
  const cell = (v) => {
    if (v && typeof v === "object") return v.percent !== undefined ? percent(v.percent) : JSON.stringify(v);
    if (typeof v !== "number") return v;
    return v > 1e9 ? dateTime(v > 1e11 ? v / 1000 : v) : Number.isInteger(v) ? count(v) : number(v);
  };
  const numeric = (v) => (typeof v === "number" && v <= 1e9) || Boolean(v && typeof v === "object" && v.percent !== undefined);
  const rows = (s.bars || []).map((b) => el("tr", {}, Object.values(b).map((v) => el("td", { class: numeric(v) ? "num" : undefined }, cell(v)))));
  const first = (s.bars || [])[0] || {};
  document.getElementById("statistics-table").replaceChildren(
    thead(Object.keys(first).map((h) => (numeric(first[h]) ? num(h) : h))), el("tbody", {}, rows));
  document.getElementById("statistics-size").textContent = `database size: ${number((s.size_bytes || 0) / 1048576, 1)} MiB`;
}

export function init() {
  build();
  for (const type of ["gapfill.progress", "gapfill.completed", "gapfill.failed"]) on(type, onProgress);
}

export async function show() {
  if (!symbols.length) {
    const list = await attempt(loadSymbols);
    if (list) symbols = list.map((s) => s.name);
    document.getElementById("gapfill-symbols").append(...symbols.map((s) => el("label", {}, el("input", { type: "checkbox", value: s, checked: s === symbols[0] }), ` ${s}`)));
    await setMarketRange("gapfill-from", "gapfill-to", 7);
  }
  status();
  heatmap();
  statistics();
  clearInterval(timer);
  timer = setInterval(() => { if (!panel().hidden) status(); }, 2000);
}

// The readable part of a backtest result: the period in words, returns by year × month as a heat table
// (trading weeks on demand), and the exports the backtesting service builds (GET /backtest/{id}/report.html,
// a self-contained HTML file, and /trades.csv), downloaded with the API key like every other call.

import { ApiError, apiKey } from "./api.js";
import { dateTime, duration, NONE, percent } from "./format.js";
import { attempt, el } from "./ui.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// A file from the API as the browser's download: the name the service gives in Content-Disposition.
async function download(path) {
  const response = await fetch(path, { headers: { "X-API-Key": apiKey() } });
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { body = null; }
    throw new ApiError(response.status, body);
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: name ? name[1] : path.split("/").pop() });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// Green for a gain, red for a loss, stronger the further from 0 (relative to the largest move shown).
function heatCell(value, scale) {
  if (value === null || value === undefined) return el("td", { class: "num" }, NONE);
  const cell = el("td", { class: "num", "data-return": value }, percent(value));
  const strength = scale ? Math.min(Math.abs(value) / scale, 1) : 0;
  cell.style.setProperty("--cell", `hsl(${value >= 0 ? 130 : 0} 55% ${Math.round(30 - 14 * (1 - strength))}% / ${0.25 + 0.75 * strength})`);
  return cell;
}

function monthTable(returns) {
  const months = new Map(returns.months.map((r) => [r.key, r.return_pct]));
  const scale = Math.max(0, ...[...months.values(), ...returns.weeks.map((w) => w.return_pct)].filter(Number.isFinite).map(Math.abs));
  return el("table", { class: "grid heat", id: "bt-returns" },
    el("caption", {}, "Monthly returns (UTC months; the year column compounds them)"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Year"), MONTHS.map((m) => el("th", { scope: "col", class: "num" }, m)), el("th", { scope: "col", class: "num" }, "Year"))),
    el("tbody", {}, returns.years.map((y) => el("tr", { "data-year": y.key }, el("th", { scope: "row" }, y.key),
      MONTHS.map((_, i) => heatCell(months.get(`${y.key}-${String(i + 1).padStart(2, "0")}`), scale)),
      heatCell(y.return_pct, Math.max(scale, Math.abs(y.return_pct || 0)))))));
}

function weekTable(returns) {
  const scale = Math.max(0, ...returns.weeks.map((w) => Math.abs(w.return_pct)).filter(Number.isFinite));
  return el("table", { class: "grid heat", id: "bt-weeks" },
    el("caption", {}, "Weekly returns (the market's trading weeks)"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Week"), el("th", { scope: "col" }, "Opened"), el("th", { scope: "col", class: "num" }, "Return"))),
    el("tbody", {}, returns.weeks.map((w) => el("tr", {}, el("th", { scope: "row" }, w.key), el("td", {}, dateTime(w.start_s)), heatCell(w.return_pct, scale)))));
}

// Fill `box` with the report of backtest `id` (its result `r`).
export function showReport(box, id, r) {
  const m = r.metrics;
  const weeks = el("div", { class: "table-wrap", hidden: true });
  const weeksButton = el("button", { type: "button", id: "bt-weeks-toggle", "aria-expanded": "false" }, "Weekly returns");
  weeksButton.addEventListener("click", () => {
    const open = weeks.hidden;
    if (open && !weeks.firstChild) weeks.append(weekTable(r.returns));
    weeks.hidden = !open;
    weeksButton.setAttribute("aria-expanded", String(open));
  });
  const base = `/api/backtesting/backtest/${encodeURIComponent(id)}`;
  box.replaceChildren(
    el("p", { id: "bt-period" }, `${dateTime(m.start)} to ${dateTime(m.end)} (${duration(m.duration_s)}); trades last ${duration(m.avg_trade_duration_s)} on average, ${duration(m.max_trade_duration_s)} at most`),
    el("div", { class: "row" },
      el("button", { type: "button", id: "bt-export-report", onclick: () => attempt(() => download(`${base}/report.html`)) }, "Export report"),
      el("button", { type: "button", id: "bt-export-csv", onclick: () => attempt(() => download(`${base}/trades.csv`)) }, "Trades CSV"),
      r.returns ? weeksButton : null),
    r.returns ? el("div", { class: "table-wrap" }, monthTable(r.returns)) : el("p", {}, "This run was stored before returns tables existed."),
    weeks);
}

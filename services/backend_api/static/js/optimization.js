// The optimisation result: a heat map of any metric over any two searched parameters, and the ranked
// combinations as a table sortable by any column. Both read the result's `top` list (the dashboard asks
// for up to 1000 combinations, the API's most), so the map shows every combination of a grid that size.

import { metric, NONE, number } from "./format.js";
import { el } from "./ui.js";

const byId = (id) => document.getElementById(id);
// Metrics the table shows beside the parameters and the ranking score.
const COLUMNS = [["return_pct", "Return"], ["max_drawdown_pct", "Max drawdown"], ["win_rate_pct", "Win rate"], ["trades", "Trades"]];

function sortableTable(result, rows, keys) {
  let sortKey = "score", asc = false;
  const value = (row, key) => (key === "score" ? row.score : key in row.params ? row.params[key] : row.metrics[key]);
  const render = () => {
    const sorted = [...rows].sort((a, b) => {
      const va = value(a, sortKey), vb = value(b, sortKey);
      if (va === vb) return 0;
      if (va === null || va === undefined) return 1;  // undefined values last, either way
      if (vb === null || vb === undefined) return -1;
      return (asc ? 1 : -1) * (va < vb ? -1 : 1);
    });
    const th = (key, label) => el("th", { scope: "col", class: "num", "data-sort": key, "aria-sort": sortKey === key ? (asc ? "ascending" : "descending") : "none" },
      el("button", { type: "button", onclick: () => { asc = sortKey === key ? !asc : false; sortKey = key; render(); } }, label));
    byId("opt-table").replaceChildren(
      el("caption", {}, `${result.evaluated} combinations evaluated, ${result.invalid} invalid; ranked by ${result.metric}`),
      el("thead", {}, el("tr", {}, keys.map((k) => th(k, k)), th("score", result.metric), COLUMNS.map(([k, label]) => th(k, label)))),
      el("tbody", {}, sorted.map((r) => el("tr", {}, keys.map((k) => el("td", { class: "num" }, r.params[k])), el("td", { class: "num" }, number(r.score, 3)),
        COLUMNS.map(([k]) => el("td", { class: "num" }, metric(k, r.metrics[k])))))));
  };
  render();
}

// Each cell holds the chosen metric of the best-ranked combination with those two values (`rows` come
// ranked best first), so a third parameter's other values do not overwrite it.
function heatMap(result, rows, axes) {
  const box = byId("opt-heatmap-view");
  const choice = { metric: result.metric, x: result.heatmap ? result.heatmap.x : axes[0], y: result.heatmap ? result.heatmap.y : axes[1] };
  const select = (id, label, options, key) => {
    const node = el("select", { id }, options.map((o) => el("option", { value: o, selected: o === choice[key] }, o)));
    node.addEventListener("change", () => { choice[key] = node.value; draw(); });
    return [el("label", { for: id }, label), node];
  };
  const table = el("table", { class: "grid heat", id: "opt-heatmap" });
  const draw = () => {
    const { x, y } = choice, key = choice.metric;
    const xs = [...new Set(rows.map((r) => r.params[x]))].sort((a, b) => a - b);
    const ys = [...new Set(rows.map((r) => r.params[y]))].sort((a, b) => a - b);
    const cells = new Map();
    for (const r of rows) {
      const at = `${r.params[x]}|${r.params[y]}`;
      if (!cells.has(at)) cells.set(at, r.metrics[key]);
    }
    const finite = [...cells.values()].filter((v) => Number.isFinite(v)), lo = Math.min(...finite), hi = Math.max(...finite);
    table.replaceChildren(
      el("caption", {}, `${key}: ${x} (rows) × ${y} (columns)${result.evaluated > rows.length ? `, best ${rows.length} of ${result.evaluated} combinations` : ""}`),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, `${x} \\ ${y}`), ys.map((v) => el("th", { scope: "col", class: "num" }, v)))),
      el("tbody", {}, xs.map((xv) => el("tr", {}, el("th", { scope: "row" }, xv), ys.map((yv) => {
        const v = cells.get(`${xv}|${yv}`);
        const defined = Number.isFinite(v);
        const cell = el("td", { class: "num", title: defined ? String(v) : "no result", "data-value": defined ? v : null }, defined ? metric(key, v) : NONE);
        if (defined) cell.style.setProperty("--cell", `hsl(${Math.round(((v - lo) / (hi - lo || 1)) * 130)} 55% 32%)`);
        return cell;
      })))));
  };
  const metrics = Object.keys(rows[0].metrics);
  if (!metrics.includes(choice.metric)) choice.metric = metrics[0];
  box.replaceChildren(
    el("div", { class: "row" }, ...select("opt-heat-metric", "Heat map of", metrics, "metric"),
      ...select("opt-heat-x", "rows", axes, "x"), ...select("opt-heat-y", "columns", axes, "y")),
    el("div", { class: "table-wrap" }, table));
  draw();
}

export function showRankedCombinations(result) {
  const rows = result.top, keys = Object.keys(rows[0] ? rows[0].params : {});
  sortableTable(result, rows, keys);
  // Axes: the parameters that were searched (more than one value among the combinations).
  const axes = keys.filter((k) => new Set(rows.map((r) => r.params[k])).size > 1);
  if (axes.length < 2) { byId("opt-heatmap-view").replaceChildren(); return; }
  heatMap(result, rows, axes);
}

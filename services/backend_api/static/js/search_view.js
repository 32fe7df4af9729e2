// Beside the ranked combinations: the Pareto front of a multi-objective search as an inline SVG scatter
// (every ranked trial in grey, the non-dominated ones highlighted and joined), and the overfitting block
// (deflated Sharpe ratio and probability of backtest overfitting) when the result carries it.

import { NONE, number } from "./format.js";
import { el } from "./ui.js";

const byId = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const W = 420, H = 260, PAD = 44;

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function scatter(result) {
  const [mx, my] = result.objectives.map((o) => o.metric);
  const all = result.top.map((r) => [r.metrics[mx], r.metrics[my]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const front = result.pareto_front.map((p) => p.values);
  const pts = [...all, ...front];
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => PAD + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * PAD), sy = (y) => H - PAD - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * PAD);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, id: "opt-pareto-plot", role: "img", "aria-label": `Pareto front: ${mx} against ${my}` });
  root.append(svg("line", { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: "axis" }), svg("line", { x1: PAD, y1: PAD, x2: PAD, y2: H - PAD, class: "axis" }),
    svg("text", { x: W / 2, y: H - 8, "text-anchor": "middle", class: "axis-label" }, mx),
    svg("text", { x: 12, y: H / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${H / 2})`, class: "axis-label" }, my),
    svg("text", { x: PAD, y: H - PAD + 14, class: "tick" }, number(x0, 2)), svg("text", { x: W - PAD, y: H - PAD + 14, "text-anchor": "end", class: "tick" }, number(x1, 2)),
    svg("text", { x: PAD - 4, y: H - PAD, "text-anchor": "end", class: "tick" }, number(y0, 2)), svg("text", { x: PAD - 4, y: PAD + 4, "text-anchor": "end", class: "tick" }, number(y1, 2)));
  for (const [x, y] of all) root.append(svg("circle", { cx: sx(x), cy: sy(y), r: 2.5, class: "trial" }));
  root.append(svg("polyline", { points: front.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" "), class: "front" }));
  result.pareto_front.forEach((p, k) => {
    const dot = svg("circle", { cx: sx(p.values[0]), cy: sy(p.values[1]), r: 4.5, class: "front-point", "data-front": k });
    dot.append(svg("title", {}, `${JSON.stringify(p.params)}: ${mx} ${number(p.values[0], 3)}, ${my} ${number(p.values[1], 3)}`));
    root.append(dot);
  });
  return root;
}

// A probability (0..1) as a percentage; null (the result's warnings say why) as the panels' no value.
export const chance = (p) => (p === null || p === undefined ? NONE : `${number(100 * p, 1)} %`);

function overfitting(o) {
  const pbo = o.pbo === null || o.pbo === undefined ? NONE : `${chance(o.pbo)} over ${o.pbo_splits} splits`;
  return el("dl", { class: "kpis", id: "opt-overfitting-values" },
    el("div", {}, el("dt", {}, `Deflated Sharpe (${o.trials} trials)`), el("dd", { "data-overfit": "dsr" }, chance(o.deflated_sharpe_ratio))),
    el("div", {}, el("dt", {}, "Best Sharpe (daily)"), el("dd", {}, number(o.best_sharpe, 3))),
    el("div", {}, el("dt", {}, "Expected max Sharpe"), el("dd", {}, number(o.expected_max_sharpe, 3))),
    el("div", {}, el("dt", {}, `PBO (${o.pbo_trials} trials)`), el("dd", { "data-overfit": "pbo" }, pbo)));
}

export function showSearchResult(result) {
  const pareto = byId("opt-pareto");
  const front = result.pareto_front && result.pareto_front.length && result.objectives.length >= 2;
  pareto.hidden = !front;
  pareto.replaceChildren(...(front ? [el("h3", {}, `Pareto front (${result.pareto_front.length} non-dominated trials)`), scatter(result)] : []));
  const box = byId("opt-overfitting");
  box.hidden = !result.overfitting;
  box.replaceChildren(...(result.overfitting ? [el("h3", {}, "Overfitting of the best result"), overfitting(result.overfitting)] : []));
}

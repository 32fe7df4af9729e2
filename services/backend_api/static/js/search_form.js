// The optimisation form's search controls: sampler, trial budget, seed, objectives (each with a direction;
// two or more give a Pareto front with tpe or nsga2) and constraints ("fast < slow"); and the live trial
// line fed by `optimization.trial` events (trial n of N, best so far).

import { number } from "./format.js";
import { el } from "./ui.js";

const byId = (id) => document.getElementById(id);
const SAMPLERS = [["grid", "grid"], ["random", "random (of the grid)"], ["tpe", "TPE (Optuna)"], ["cmaes", "CMA-ES (Optuna)"], ["nsga2", "NSGA-II (Optuna)"]];
export const OBJECTIVE_METRICS = ["Sharpe Ratio", "Return [%]", "Max. Drawdown [%]", "Profit Factor", "SQN", "Calmar Ratio", "Win Rate [%]"];
let watched = null;  // the optimisation job whose trials the line shows

const direction = (id) => el("select", { id, "aria-label": "direction", "data-direction": "" },
  el("option", { value: "maximize" }, "maximise"), el("option", { value: "minimize" }, "minimise"));

function objectiveRow() {
  const k = document.querySelectorAll("#opt-objectives [data-objective]").length + 1;
  const row = el("span", { class: "field", "data-objective": "" },
    el("select", { id: `opt-objective-${k}`, "aria-label": `objective ${k + 1}` },
      OBJECTIVE_METRICS.map((m) => el("option", { value: m, selected: m === "Max. Drawdown [%]" }, m))),
    direction(`opt-direction-${k}`),
    el("button", { type: "button", class: "link", "aria-label": "remove objective", onclick: () => row.remove() }, "×"));
  // Drawdowns are negative percentages: the shallowest is the largest, so maximise.
  byId("opt-objectives").append(row);
}

// Controls placed after the "Rank by" select, whose metric is the first objective.
export function searchControls() {
  return [
    direction("opt-direction-0"),
    el("span", { id: "opt-objectives", class: "row" }),
    el("button", { type: "button", id: "opt-add-objective", onclick: objectiveRow }, "+ objective"),
    el("label", { for: "opt-sampler" }, "Sampler"),
    el("select", { id: "opt-sampler" }, SAMPLERS.map(([v, label]) => el("option", { value: v }, label))),
    el("label", { for: "opt-trials" }, "Trials"), el("input", { id: "opt-trials", type: "number", min: 1, value: 100, class: "w-5" }),
    el("label", { for: "opt-seed" }, "Seed"), el("input", { id: "opt-seed", type: "number", value: 0, class: "w-5" }),
    el("label", { for: "opt-constraints" }, "Constraints"),
    el("input", { id: "opt-constraints", type: "text", placeholder: "fast < slow", class: "w-9", title: "comparisons of parameters, separated by commas" }),
  ];
}

// The request fields of the search: they replace `metric` with the objectives.
export function searchBody() {
  const objectives = [{ metric: byId("opt-metric").value, direction: byId("opt-direction-0").value },
    ...[...document.querySelectorAll("#opt-objectives [data-objective]")].map((row) => ({
      metric: row.querySelector("select").value, direction: row.querySelector("[data-direction]").value }))];
  const constraints = byId("opt-constraints").value.split(",").map((c) => c.trim()).filter(Boolean);
  return { sampler: byId("opt-sampler").value, n_trials: Number(byId("opt-trials").value), seed: Number(byId("opt-seed").value), objectives, constraints };
}

export function watchTrials(jobId) {
  watched = jobId;
  byId("opt-trial").textContent = "";
}

export function onTrial(event) {
  const d = event.data;
  if (d.job_id !== watched) return;
  byId("opt-progress").value = (100 * d.done) / d.total;
  const best = d.best_values ? `best so far ${d.best_values.map((v) => number(v, 3)).join(" / ")} at ${JSON.stringify(d.best_params)}` : "no result yet";
  const line = byId("opt-trial");
  line.dataset.done = d.done;
  line.textContent = `trial ${d.done} of ${d.total} (${d.state}); ${best}`;
}

// Models panel: train with a progress bar, the registry with metrics, predict on the latest bars.

import { del, get, post, setMarketRange } from "./api.js";
import { on } from "./hub.js";
import { count, dateTime, loadSymbols, number } from "./format.js";
import { attempt, el, num, thead } from "./ui.js";

const TYPES = ["random_forest", "hist_gradient_boosting", "logistic_regression", "mlp", "lstm"];
const FEATURES = {
  returns_1: { name: "returns", window: 1 }, returns_5: { name: "returns", window: 5 }, returns_20: { name: "returns", window: 20 },
  rsi: { name: "rsi", period: 14 }, macd: { name: "macd" }, atr: { name: "atr", period: 14 },
  bollinger_width: { name: "bollinger_width", period: 20 }, volatility: { name: "volatility", window: 20 },
  time_of_day: { name: "time_of_day" }, day_of_week: { name: "day_of_week" },
};
let jobId = null;
const byId = (id) => document.getElementById(id);

function build() {
  const day = (d) => d.toISOString().slice(0, 10);
  document.getElementById("panel-models").replaceChildren(
    el("form", { class: "card", id: "ml-form", "aria-label": "Train a model" },
      el("h2", {}, "Train"),
      el("div", { class: "row" },
        el("label", { for: "ml-name" }, "Name"), el("input", { id: "ml-name", value: "eurusd-direction", class: "w-16" }),
        el("label", { for: "ml-type" }, "Model"), el("select", { id: "ml-type" }, TYPES.map((t) => el("option", { value: t }, t))),
        el("label", { for: "ml-symbol" }, "Symbol"), el("select", { id: "ml-symbol" }),
        el("label", { for: "ml-timeframe" }, "Timeframe"), el("select", { id: "ml-timeframe" }, ["M15", "M30", "H1", "H4"].map((tf) => el("option", { value: tf, selected: tf === "H1" }, tf))),
        el("label", { for: "ml-from" }, "From"), el("input", { id: "ml-from", type: "date", value: day(new Date(Date.now() - 60 * 86400e3)) }),
        el("label", { for: "ml-to" }, "To"), el("input", { id: "ml-to", type: "date", value: day(new Date(Date.now() - 86400e3)) })),
      el("fieldset", { class: "row mt", id: "ml-features" }, el("legend", {}, "Features"),
        Object.keys(FEATURES).map((key) => el("label", {}, el("input", { type: "checkbox", value: key, checked: !key.startsWith("time") && key !== "day_of_week" }), ` ${key}`))),
      el("div", { class: "row mt" },
        el("label", { for: "ml-horizon" }, "Label: direction over"), el("input", { id: "ml-horizon", type: "number", min: 1, value: 1, class: "w-5" }), el("span", {}, "bars, threshold"),
        el("input", { id: "ml-threshold", type: "number", step: "any", value: 0, class: "w-6", "aria-label": "threshold" }),
        el("label", { for: "ml-seed" }, "Seed"), el("input", { id: "ml-seed", type: "number", value: 42, class: "w-5" }),
        el("label", { for: "ml-hyper" }, "Hyperparameters (JSON)"), el("input", { id: "ml-hyper", value: "{}", class: "w-16" }),
        el("button", { type: "submit", id: "ml-train" }, "Train")),
      el("progress", { id: "ml-progress", class: "progress", max: 100, value: 0, "aria-label": "Training progress" }),
      el("p", { id: "ml-status", role: "status", "aria-live": "polite" })),
    el("div", { class: "card table-wrap" }, el("h2", {}, "Registry"), el("table", { class: "grid", id: "ml-registry" })),
    el("div", { class: "card table-wrap", id: "ml-prediction", hidden: true }),
  );
  byId("ml-form").addEventListener("submit", (e) => { e.preventDefault(); train(); });
}

async function train(afterGapFill = false) {
  const status = byId("ml-status");
  let hyper;
  try { hyper = JSON.parse(byId("ml-hyper").value || "{}"); } catch { status.className = "error-text"; status.textContent = "hyperparameters: not valid JSON"; return; }
  const body = {
    name: byId("ml-name").value, model_type: byId("ml-type").value, symbol: byId("ml-symbol").value, timeframe: byId("ml-timeframe").value,
    from: `${byId("ml-from").value}T00:00:00Z`, to: `${byId("ml-to").value}T23:59:59Z`,
    features: [...document.querySelectorAll("#ml-features input:checked")].map((i) => FEATURES[i.value]),
    label: { kind: "direction", horizon: Number(byId("ml-horizon").value), threshold: Number(byId("ml-threshold").value) },
    hyperparameters: hyper, seed: Number(byId("ml-seed").value),
  };
  status.className = "";
  try {
    const job = await post("/api/ai/models/train", body);
    jobId = job.id;
    byId("ml-progress").value = 0;
    status.textContent = `training job ${job.id} queued`;
  } catch (err) {
    if (!afterGapFill && ["too_few_bars", "insufficient_data", "history_incomplete", "empty_range"].includes(err.code)) {
      status.textContent = `${err.message} — fetching the history first…`;
      const fill = await attempt(() => post("/api/data/gap-fill", { symbols: [body.symbol], timeframes: [body.timeframe], from: body.from, to: body.to }));
      if (fill) jobId = `gapfill:${fill.id}`;
      return;
    }
    status.className = "error-text";
    status.textContent = `${err.message}${err.details && err.details.field ? ` (${err.details.field})` : ""}`;
  }
}

function onEvent(event) {
  const d = event.data, status = byId("ml-status");
  if (event.type.startsWith("gapfill.") && jobId === `gapfill:${d.job_id}`) {
    if (event.type === "gapfill.completed") { jobId = null; train(true); }
    else if (event.type === "gapfill.failed") { status.className = "error-text"; status.textContent = `history could not be fetched: ${d.reason}`; }
    return;
  }
  if (d.job_id !== jobId) return;
  if (event.type === "model.progress") {
    byId("ml-progress").value = d.percent;
    status.textContent = `${count(d.percent)} % ${d.message || ""}`;
  } else if (event.type === "model.completed") {
    byId("ml-progress").value = 100;
    status.textContent = "trained and registered";
    jobId = null;
    registry();
  } else if (event.type === "model.failed") {
    status.className = "error-text";
    status.textContent = `training failed: ${d.reason}`;
    jobId = null;
  }
}

async function registry() {
  const models = await attempt(() => get("/api/ai/models"));
  if (!models) return;
  byId("ml-registry").replaceChildren(
    thead(["Name", num("Version"), "Type", "Market", num("Accuracy"), num("Majority"), num("ROC AUC"), num("Trading return"), num("Baseline return"), "Created", ""]),
    el("tbody", {}, models.length ? models.map((m) => {
      const h = m.headline || {};
      return el("tr", { "data-model": m.id },
        el("td", {}, m.name), el("td", { class: "num" }, m.version), el("td", {}, m.model_type), el("td", {}, `${m.symbol || "inline"} ${m.timeframe || ""}`),
        el("td", { class: "num", "data-metric": "accuracy" }, number(h.accuracy, 3)), el("td", { class: "num" }, number(h.baseline_accuracy, 3)),
        el("td", { class: "num" }, number(h.roc_auc, 3)), el("td", { class: "num" }, number(h.trading_return, 4)), el("td", { class: "num" }, number(h.baseline_return, 4)),
        el("td", {}, dateTime(m.created_ms / 1000)),
        el("td", {},
          el("button", { type: "button", "data-action": "predict", onclick: () => predict(m) }, "Predict latest"), " ",
          el("button", { type: "button", onclick: () => attempt(() => del(`/api/ai/models/${m.id}`), "model deleted").then(registry) }, "Delete")));
    }) : el("tr", {}, el("td", { colspan: 11 }, "No models yet"))));
}

async function predict(model) {
  const p = await attempt(() => post(`/api/ai/models/${model.id}/predict`, { symbol: model.symbol, timeframe: model.timeframe, count: 20 }));
  if (!p) return;
  const box = byId("ml-prediction"), classes = Object.keys(p.probabilities || {});
  box.hidden = false;
  box.replaceChildren(
    el("h2", {}, `Predictions of ${model.name} v${model.version} on the latest ${model.symbol} ${model.timeframe} bars`),
    el("table", { class: "grid", id: "ml-predictions" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Bar"), el("th", { scope: "col" }, "Class"), classes.map((c) => el("th", { scope: "col", class: "num" }, `P(${c})`)))),
      el("tbody", {}, (p.time || []).map((t, i) => el("tr", {}, el("td", {}, dateTime(t)), el("td", {}, p.class ? p.class[i] : number(p.prediction[i], 5)),
        classes.map((c) => el("td", { class: "num" }, number(p.probabilities[c][i], 3))))))));
}

export function init() {
  build();
  for (const type of ["model.progress", "model.completed", "model.failed", "gapfill.completed", "gapfill.failed"]) on(type, onEvent);
}

export async function show() {
  if (!byId("ml-symbol").options.length) {
    const symbols = await attempt(loadSymbols);
    if (symbols) byId("ml-symbol").replaceChildren(...symbols.map((s) => el("option", { value: s.name }, s.name)));
    setMarketRange("ml-from", "ml-to", 60, 1);
  }
  registry();
}

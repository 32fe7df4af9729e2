// Strategies panel: live instances with state, position and P&L; create from a parameter schema;
// start/stop; a live feed of their signals; clicking an instance opens its view (instance_view.js).

import { del, get, post } from "./api.js";
import { on } from "./hub.js";
import { schemaFields, schemaValues } from "./schema_form.js";
import { dateTime, loadSymbols, money, timeOfDay } from "./format.js";
import * as instanceView from "./instance_view.js";
import { attempt, el, num, thead } from "./ui.js";

let strategies = {};
let pending = null;
const byId = (id) => document.getElementById(id);

function build() {
  document.getElementById("panel-strategies").replaceChildren(
    el("form", { class: "card", id: "st-form", "aria-label": "New strategy instance" },
      el("h2", {}, "New instance"),
      el("div", { class: "row" },
        el("label", { for: "st-strategy" }, "Strategy"), el("select", { id: "st-strategy" }),
        el("label", { for: "st-symbol" }, "Symbol"), el("select", { id: "st-symbol" }),
        el("label", { for: "st-timeframe" }, "Timeframe"), el("select", { id: "st-timeframe" }, ["M1", "M5", "M15", "M30", "H1", "H4", "D1"].map((tf) => el("option", { value: tf, selected: tf === "M15" }, tf)))),
      el("div", { class: "row mt", id: "st-params" }),
      el("div", { class: "row mt" },
        el("label", { for: "st-sizing" }, "Sizing"), el("select", { id: "st-sizing" }, ["fixed", "risk_percent", "equity_fraction"].map((m) => el("option", { value: m }, m))),
        el("label", { for: "st-size" }, "Size"), el("input", { id: "st-size", type: "number", step: "any", value: 0.01, class: "w-5" }),
        el("label", { for: "st-sl" }, "SL points"), el("input", { id: "st-sl", type: "number", step: "any", value: 200, class: "w-6" }),
        el("label", { for: "st-tp" }, "TP points"), el("input", { id: "st-tp", type: "number", step: "any", value: 400, class: "w-6" }),
        el("label", { for: "st-loss" }, "Daily loss limit"), el("input", { id: "st-loss", type: "number", step: "any", placeholder: "none", class: "w-6" }),
        el("button", { type: "submit", id: "st-create" }, "Create")),
      el("p", { id: "st-message", role: "status", "aria-live": "polite" })),
    el("div", { class: "card table-wrap" }, el("h2", {}, "Instances"), el("table", { class: "grid", id: "st-instances" })),
    el("div", { class: "card", id: "st-detail", hidden: true }),
    el("div", { class: "card" }, el("h2", {}, "Signals"), el("ol", { class: "events", id: "st-signals", "aria-label": "Strategy signals" })),
  );
  byId("st-strategy").addEventListener("change", renderParams);
  byId("st-form").addEventListener("submit", (e) => { e.preventDefault(); create(); });
}

function renderParams() {
  const s = strategies[byId("st-strategy").value];
  byId("st-params").replaceChildren(el("strong", {}, "Parameters"), ...schemaFields(s.params_schema, "st-param"));
}

async function create() {
  const optional = (id) => (byId(id).value === "" ? null : Number(byId(id).value));
  const body = {
    strategy: byId("st-strategy").value, params: schemaValues(byId("st-params")), symbol: byId("st-symbol").value,
    timeframe: byId("st-timeframe").value, sizing: { mode: byId("st-sizing").value, value: Number(byId("st-size").value) },
    risk: { sl_points: optional("st-sl"), tp_points: optional("st-tp"), daily_loss_limit: optional("st-loss") },
  };
  const message = byId("st-message");
  try {
    const created = await post("/api/strategy/strategies", body);
    message.className = "";
    message.textContent = `instance ${created.id} created (stopped)`;
    refresh();
  } catch (err) {
    message.className = "error-text";
    message.textContent = err.message;
  }
}

// The summary the service keeps of the instance's last closed candle (see the runner's _record).
function lastSignal(s) {
  if (!s) return "–";
  const at = s.bar_time ? `${dateTime(s.bar_time)} ` : "";
  if (s.warming_up) return `${at}warming up (${s.bars} bars)`;
  if (s.skipped) return `${at}skipped: ${s.skipped}`;
  if (s.daily_loss !== undefined) return `${at}daily loss limit`;
  const names = { entry_long: "enter long", exit_long: "exit long", entry_short: "enter short", exit_short: "exit short" };
  const fired = Object.entries(names).filter(([key]) => s.signals && s.signals[key]).map(([, label]) => label);
  return `${at}${fired.length ? fired.join(", ") : "no signal"}`;
}

async function refresh() {
  const overview = await attempt(() => get("/api/strategy/strategies"));
  if (!overview) return;
  const rows = overview.instances.map((i) => {
    const act = (verb, fn) => el("button", { type: "button", "data-action": verb, onclick: fn }, verb);
    // A click anywhere on the row but its buttons opens the instance's view.
    return el("tr", { "data-instance": i.id, "aria-selected": String(instanceView.shown() === i.id), onclick: (e) => { if (!e.target.closest("button")) instanceView.open(i.id); } },
      el("td", {}, i.id), el("td", {}, i.strategy), el("td", {}, `${i.symbol} ${i.timeframe}`),
      el("td", {}, el("span", { class: `badge state-${i.state === "running" ? "ONLINE" : i.state === "error" ? "ERROR" : "STOPPED"}`, "data-state": i.state }, i.state)),
      el("td", {}, i.reason || ""), el("td", { "data-field": "last-signal" }, lastSignal(i.last_signal)),
      el("td", { class: "num" }, money(i.daily && i.daily.pnl)),
      el("td", {},
        act("start", () => attempt(() => post(`/api/strategy/strategies/${i.id}/start`), "instance started").then(refresh)), " ",
        act("stop", () => attempt(() => post(`/api/strategy/strategies/${i.id}/stop`, { reason: "stopped from the dashboard" }), "instance stopped").then(refresh)), " ",
        act("details", () => instanceView.open(i.id)), " ",
        act("delete", () => attempt(() => del(`/api/strategy/strategies/${i.id}`), "instance deleted").then(refresh))));
  });
  byId("st-instances").replaceChildren(
    thead(["Id", "Strategy", "Market", "State", "Reason", "Last signal", num("Daily P&L"), "Actions"]),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 8 }, "No instances yet"))));
}

function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; if (!document.getElementById("panel-strategies").hidden) refresh(); }, 500);
}

export function init() {
  build();
  instanceView.init();
  on("signal", (event) => {
    const d = event.data;
    const list = byId("st-signals");
    list.prepend(el("li", { "data-instance": d.instance }, el("span", { class: "type" }, `${timeOfDay(event.ts)} ${d.instance}`),
      `${d.symbol} ${d.timeframe} bar ${dateTime(d.bar_time)}: ${d.direction || ""} ${d.action || ""} — ${d.reason || ""}`));
    while (list.children.length > 200) list.lastChild.remove();
    scheduleRefresh();
  });
  on("strategy.status", scheduleRefresh);
}

export async function show() {
  if (!Object.keys(strategies).length) {
    const overview = await attempt(() => get("/api/strategy/strategies"));
    if (!overview) return;
    strategies = Object.fromEntries(overview.strategies.map((s) => [s.name, s]));
    byId("st-strategy").replaceChildren(...overview.strategies.map((s) => el("option", { value: s.name, title: s.description }, s.name)));
    const symbols = await attempt(loadSymbols);
    if (symbols) byId("st-symbol").replaceChildren(...symbols.map((s) => el("option", { value: s.name }, s.name)));
    renderParams();
  }
  refresh();
}

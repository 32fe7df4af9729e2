// Alerts panel: rules (price cross, indicator, pattern, platform event) with channels, cooldown and an
// on/off switch; create and delete; the delivery log, live from `alert.delivery` events.

import { del, get, patch, post } from "./api.js";
import { on } from "./hub.js";
import { loadSymbols, timeOfDay } from "./format.js";
import { attempt, el, num, thead } from "./ui.js";

const byId = (id) => document.getElementById(id);
const TIMEFRAMES = ["M1", "M5", "M15", "M30", "H1", "H4", "D1"];
const TRIGGERS = {
  fill: "order filled", sl_tp: "SL/TP hit", stop_out: "stop-out", margin_call: "margin call",
  strategy_stopped: "strategy stopped by its rules", service_error: "service in ERROR", job_failed: "job failed",
};
// Which form groups each kind of rule uses.
const GROUPS = { price_cross: ["al-g-symbol", "al-g-cross"], indicator: ["al-g-symbol", "al-g-tf", "al-g-indicator"],
  pattern: ["al-g-symbol", "al-g-tf", "al-g-pattern"], event: ["al-g-event"] };
let channels = [];

const select = (id, options, selected) => el("select", { id }, options.map(([value, label]) => el("option", { value, selected: value === selected }, label)));
const pairs = (values) => values.map((v) => [v, v]);
const group = (id, ...children) => el("span", { id, class: "row" }, ...children);

function build() {
  byId("panel-alerts").replaceChildren(
    el("form", { class: "card", id: "al-form", "aria-label": "New alert rule" },
      el("h2", {}, "New alert rule"),
      el("div", { class: "row" },
        el("label", { for: "al-kind" }, "When"),
        select("al-kind", [["price_cross", "price crosses a level"], ["indicator", "indicator condition"], ["pattern", "candlestick pattern"], ["event", "platform event"]], "price_cross"),
        group("al-g-symbol", el("label", { for: "al-symbol" }, "Symbol"), el("select", { id: "al-symbol" })),
        group("al-g-tf", el("label", { for: "al-timeframe" }, "Timeframe"), select("al-timeframe", pairs(TIMEFRAMES), "M1")),
        group("al-g-cross",
          el("label", { for: "al-level" }, "Level"), el("input", { id: "al-level", type: "number", step: "any", class: "w-7", required: true }),
          el("label", { for: "al-direction" }, "Direction"), select("al-direction", [["any", "either way"], ["up", "upwards"], ["down", "downwards"]], "any")),
        group("al-g-indicator",
          select("al-indicator", pairs(["RSI", "SMA", "EMA", "WMA", "MOM", "ROC", "CMO"]), "RSI"),
          el("label", { for: "al-period" }, "Period"), el("input", { id: "al-period", type: "number", min: 2, max: 500, value: 14, class: "w-5" }),
          select("al-op", [["<", "<"], [">", ">"]], "<"),
          el("label", { for: "al-value" }, "Value"), el("input", { id: "al-value", type: "number", step: "any", value: 30, class: "w-6" })),
        group("al-g-pattern",
          el("label", { for: "al-pattern" }, "Pattern"), el("input", { id: "al-pattern", placeholder: "any, e.g. ENGULFING", class: "w-8" }),
          select("al-pdirection", [["", "any direction"], ["bullish", "bullish"], ["bearish", "bearish"]], "")),
        group("al-g-event", el("label", { for: "al-trigger" }, "Event"), select("al-trigger", Object.entries(TRIGGERS), "fill"))),
      el("div", { class: "row mt" },
        el("fieldset", { id: "al-channels" }, el("legend", {}, "Channels")),
        el("label", { for: "al-cooldown" }, "Cooldown s"), el("input", { id: "al-cooldown", type: "number", min: 0, value: 300, class: "w-6" }),
        el("label", { for: "al-name" }, "Name"), el("input", { id: "al-name", maxlength: 100, class: "w-8" }),
        el("button", { type: "submit", id: "al-create" }, "Create")),
      el("p", { id: "al-message", role: "status", "aria-live": "polite" })),
    el("div", { class: "card table-wrap" }, el("h2", {}, "Rules"), el("table", { class: "grid", id: "al-rules" })),
    el("div", { class: "card table-wrap" }, el("h2", {}, "Delivery log"), el("table", { class: "grid", id: "al-deliveries" })),
  );
  byId("al-kind").addEventListener("change", showGroups);
  byId("al-form").addEventListener("submit", (e) => { e.preventDefault(); create(); });
  showGroups();
}

function showGroups() {
  const wanted = GROUPS[byId("al-kind").value];
  for (const id of ["al-g-symbol", "al-g-tf", "al-g-cross", "al-g-indicator", "al-g-pattern", "al-g-event"]) byId(id).hidden = !wanted.includes(id);
}

function body() {
  const kind = byId("al-kind").value;
  const common = {
    kind, name: byId("al-name").value, cooldown_s: Number(byId("al-cooldown").value),
    channels: [...byId("al-channels").querySelectorAll("input:checked")].map((c) => c.value),
  };
  const symbol = byId("al-symbol").value;
  const timeframe = byId("al-timeframe").value;
  if (kind === "price_cross") return { ...common, symbol, level: Number(byId("al-level").value), direction: byId("al-direction").value };
  if (kind === "indicator") {
    return { ...common, symbol, timeframe, indicator: byId("al-indicator").value, period: Number(byId("al-period").value),
      op: byId("al-op").value, value: Number(byId("al-value").value) };
  }
  if (kind === "pattern") return { ...common, symbol, timeframe, pattern: byId("al-pattern").value || null, direction: byId("al-pdirection").value || null };
  return { ...common, trigger: byId("al-trigger").value };
}

async function create() {
  const message = byId("al-message");
  try {
    const created = await post("/api/alerts/rules", body());
    message.className = "";
    message.textContent = `rule ${created.id} created`;
    refreshRules();
  } catch (err) {
    message.className = "error-text";
    message.textContent = err.details && err.details.field ? `${err.message} (${err.details.field})` : err.message;
  }
}

function describe(r) {
  if (r.kind === "price_cross") return `${r.symbol} crosses ${r.level} ${r.direction === "any" ? "" : r.direction}`.trim();
  if (r.kind === "indicator") return `${r.symbol} ${r.timeframe}: ${r.indicator}(${r.period}) ${r.op} ${r.value}`;
  if (r.kind === "pattern") return `${r.symbol || "any symbol"} ${r.timeframe || ""}: ${r.pattern || "any pattern"} ${r.direction || ""}`.replace(/\s+/g, " ");
  return TRIGGERS[r.trigger] || r.trigger;
}

async function refreshRules() {
  const rules = await attempt(() => get("/api/alerts/rules"));
  if (!rules) return;
  const rows = rules.map(({ id, rule, last_fired_ms: fired }) => el("tr", { "data-rule": id },
    el("td", { class: "num" }, id), el("td", {}, rule.name || ""), el("td", {}, describe(rule)),
    el("td", {}, rule.channels.join(", ")), el("td", { class: "num" }, rule.cooldown_s),
    el("td", { "data-field": "fired" }, fired ? timeOfDay(fired) : "never"),
    el("td", {}, el("input", { type: "checkbox", role: "switch", "aria-label": `rule ${id} on`, "data-action": "toggle", checked: rule.enabled,
      onchange: (e) => attempt(() => patch(`/api/alerts/rules/${id}`, { enabled: e.target.checked }), e.target.checked ? "rule on" : "rule off").then(refreshRules) })),
    el("td", {}, el("button", { type: "button", class: "danger", "data-action": "delete",
      onclick: () => attempt(() => del(`/api/alerts/rules/${id}`), "rule deleted").then(refreshRules) }, "delete"))));
  byId("al-rules").replaceChildren(
    thead([num("Id"), "Name", "Condition", "Channels", num("Cooldown s"), "Last fired", "On", "Actions"]),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 8 }, "No rules yet"))));
}

const deliveryRow = (d) => el("tr", { "data-delivery": d.id, "data-status": d.status },
  el("td", {}, timeOfDay(d.time_ms)), el("td", {}, d.rule_name || (d.rule_id === null ? "" : `rule ${d.rule_id}`)), el("td", {}, d.title),
  el("td", {}, d.channel), el("td", {}, el("span", { class: `badge state-${d.status === "sent" ? "ONLINE" : "ERROR"}` }, d.status)),
  el("td", {}, d.reason), el("td", { class: "num" }, d.attempts));

async function refreshDeliveries() {
  const rows = await attempt(() => get("/api/alerts/deliveries?limit=200"));
  if (!rows) return;
  byId("al-deliveries").replaceChildren(
    thead(["Time", "Rule", "Message", "Channel", "Status", "Why", num("Tries")]),
    el("tbody", { id: "al-deliveries-body" }, rows.map(deliveryRow)));
}

export function init() {
  build();
  on("alert.delivery", (event) => {
    const tbody = byId("al-deliveries-body");
    if (!tbody || tbody.querySelector(`[data-delivery="${event.data.id}"]`)) return;
    tbody.prepend(deliveryRow(event.data));
    while (tbody.children.length > 200) tbody.lastChild.remove();
    if (!byId("panel-alerts").hidden) refreshRules();
  });
}

export async function show() {
  if (!channels.length) {
    const answer = await attempt(() => get("/api/alerts/channels"));
    channels = answer ? answer.configured : [];
    byId("al-channels").replaceChildren(el("legend", {}, "Channels"),
      ...(channels.length ? channels.map((c, i) => el("label", { class: "field" }, el("input", { type: "checkbox", value: c, checked: i === 0 }), c))
        : [el("span", { class: "error-text" }, "no channel configured (see README: alerts)")]));
    const symbols = await attempt(loadSymbols);
    if (symbols) byId("al-symbol").replaceChildren(...symbols.map((s) => el("option", { value: s.name }, s.name)));
  }
  refreshRules();
  refreshDeliveries();
}

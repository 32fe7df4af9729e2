// Services panel: the seven services with live state, actions and log tails.

import { apiKey, get, post } from "./api.js";
import { on } from "./hub.js";
import { count, duration } from "./format.js";
import * as logs from "./logs.js";
import { attempt, el } from "./ui.js";

const services = new Map();
let hubUp = false;  // while the hub is down the states shown may be old: nothing here is green
const ORDER = ["backend-api", "data", "mt5", "pattern", "strategy", "ai", "backtesting"];
const rank = (name) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);

function render() {
  const body = document.querySelector("#services-table tbody");
  const ordered = [...services.values()].sort((a, b) => rank(a.name) - rank(b.name));
  body.replaceChildren(...ordered.map(row));
  const select = document.getElementById("log-service");
  if (select.options.length !== services.size) {
    select.replaceChildren(...ordered.map((s) => el("option", { value: s.name }, s.name)));
  }
  const states = [...services.values()].map((s) => s.state);
  const badge = document.getElementById("platform-status");
  const online = states.filter((s) => s === "ONLINE").length;
  badge.textContent = `${online}/${states.length} online`;
  badge.className = `badge ${hubUp && online === states.length ? "ok" : "degraded"}`;
}

function row(s) {
  const self = s.name === "backend-api";
  const act = (verb) => el("button", {
    type: "button", "data-action": verb, "aria-label": `${verb} ${s.name}`, disabled: self,
    onclick: () => attempt(() => post(`/api/services/${s.name}/${verb}`), `${s.name}: ${verb} requested`).then(refresh),
  }, verb);
  return el("tr", { "data-service": s.name },
    el("th", { scope: "row" }, s.name),
    el("td", {}, el("span", { class: `badge state-${s.state}`, "data-state": s.state }, s.state)),
    el("td", { class: "num" }, s.pid ?? "–"),
    el("td", { class: "num" }, s.port),
    el("td", { class: "num" }, duration(s.uptime_s)),
    el("td", { class: "num" }, count(s.restarts)),
    el("td", { class: "error-text" }, s.last_error || ""),
    el("td", {}, act("start"), " ", act("stop"), " ", act("restart"), " ",
      el("a", { href: `/api${self ? "" : `/${s.name}`}/docs?token=${encodeURIComponent(apiKey())}`,
        target: "_blank", rel: "noopener", "data-docs": true }, "API docs")),
  );
}

export async function refresh() {
  const list = await attempt(() => get("/api/services"));
  if (!list) return;
  for (const s of list) services.set(s.name, s);
  render();
}

export function init() {
  on("hub.snapshot", (event) => {
    for (const s of event.data.services) services.set(s.name, { ...services.get(s.name), ...s });
    render();
  });
  on("service.status", (event) => {
    const d = event.data;
    const current = services.get(d.service) || { name: d.service };
    services.set(d.service, { ...current, state: d.to, pid: d.pid, restarts: d.restarts, last_error: d.to === "ONLINE" ? null : d.reason });
    render();
    if (d.to === "ONLINE") refresh();
  });
  on("hub.connection", (event) => {
    hubUp = event.data.connected;
    if (hubUp) refresh(); else render();
  });
  logs.init();
  setInterval(() => { for (const s of services.values()) if (hubUp && s.state === "ONLINE" && s.uptime_s != null) s.uptime_s += 1; render(); }, 1000);
  refresh().then(logs.showLogs);
}

// Staleness: a panel shows data from some services, live through the hub. When the hub connection is down
// or one of those services is not ONLINE, the panel is dimmed and says since when its data is old ("as of"),
// in the market's time where it shows market data, else in local time; it clears on reconnect.

import { get } from "./api.js";
import { on } from "./hub.js";
import { dateTime } from "./format.js";
import { el } from "./ui.js";

// The one table of which panel depends on which services (every panel also depends on the hub).
export const DEPENDS = {
  "panel-services": { services: [], market: false },
  "panel-market": { services: ["mt5", "pattern"], market: true },
  "panel-trading": { services: ["mt5"], market: true },
  "panel-strategies": { services: ["strategy"], market: false },
  "panel-backtests": { services: ["backtesting", "data"], market: false },
  "panel-models": { services: ["ai", "data"], market: false },
  "panel-data": { services: ["data"], market: true },
  "panel-events": { services: [], market: false },
};

let connected = null;  // null until the first connection attempt has an outcome: nothing to call stale yet
const states = new Map();  // service → state, from the hub's snapshot and service.status events
const since = new Map();  // panel id → { wallMs, marketMs } of the moment its data stopped being live
let marketOffsetMs = null;  // the market's clock minus the wall clock (a replay runs in another year)

function reasons(deps) {
  const why = connected === false ? ["hub disconnected"] : [];
  for (const name of deps.services) {
    const state = states.get(name);
    if (state && state !== "ONLINE") why.push(`${name} is ${state}`);
  }
  return why;
}

function asOf(moment, market) {
  if (market && moment.marketMs !== null) return dateTime(moment.marketMs / 1000);
  return `${new Date(moment.wallMs).toLocaleString()} (local time)`;
}

function update() {
  document.body.classList.toggle("hub-down", connected === false);
  for (const [id, deps] of Object.entries(DEPENDS)) {
    const section = document.getElementById(id), note = document.querySelector(`.stale-note[data-for="${id}"]`);
    if (!section || !note) continue;
    const why = reasons(deps);
    if (!why.length) {
      since.delete(id);
      section.classList.remove("stale");
      note.hidden = true;
      continue;
    }
    if (!since.has(id)) {
      const wallMs = Date.now();
      since.set(id, { wallMs, marketMs: marketOffsetMs === null ? null : wallMs + marketOffsetMs });
    }
    section.classList.add("stale");
    note.textContent = `Stale: ${why.join(", ")} — as of ${asOf(since.get(id), deps.market)}`;
    note.hidden = false;
  }
}

export function init() {
  for (const id of Object.keys(DEPENDS)) {
    const section = document.getElementById(id);
    if (section) section.before(el("p", { class: "stale-note", "data-for": id, role: "status", hidden: true }));
  }
  on("hub.connection", (event) => { connected = event.data.connected; update(); });
  on("hub.snapshot", (event) => {
    for (const s of event.data.services) states.set(s.name, s.state);
    update();
  });
  on("service.status", (event) => { states.set(event.data.service, event.data.to); update(); });
  // Ticks carry the market's time: they keep the offset right under a replay at any speed.
  on("tick", (event) => { if (event.data.time_msc) marketOffsetMs = event.data.time_msc - Date.now(); });
  get("/api/mt5/clock").then((clock) => { marketOffsetMs ??= clock.now_ms - Date.now(); }, () => {});
}

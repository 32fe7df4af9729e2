// Events panel: the live stream as a table (time, type, source, symbol, summary), filtered by type with one
// checkbox per catalog type and by symbol, pausable, bounded; a row expands to its raw JSON.

import { get } from "./api.js";
import { on } from "./hub.js";
import { eventJson, price, timeOfDay } from "./format.js";
import { attempt, el } from "./ui.js";

const MAX = 500;
// High-rate or content-free types start unchecked: the market watch shows ticks, heartbeats say nothing.
const OFF_BY_DEFAULT = new Set(["tick", "heartbeat"]);
const hiddenTypes = new Set(OFF_BY_DEFAULT);
let symbols = [];
let paused = false;
let count = 0;

// A line a person reads; the raw JSON is one click away.
const SUMMARY = {
  "service.status": (d) => `${d.service}: ${d.from} → ${d.to}${d.reason ? ` (${d.reason})` : ""}`,
  tick: (d) => `bid ${price(d.bid, d.symbol)} ask ${price(d.ask, d.symbol)}`,
  "candle.closed": (d) => `${d.timeframe} close ${price(d.close, d.symbol)}${d.backfill ? " (backfill)" : ""}`,
  "hub.snapshot": (d) => `${d.services.length} services: ${d.services.map((s) => `${s.name} ${s.state}`).join(", ")}`,
};

function genericSummary(data) {
  if (!data || typeof data !== "object") return String(data ?? "");
  return Object.entries(data)
    .filter(([key, value]) => key !== "symbol" && value !== null && typeof value !== "object")
    .slice(0, 6)
    .map(([key, value]) => `${key}=${typeof value === "number" ? Number(value.toPrecision(10)) : value}`)
    .join(", ");
}

function summary(event) {
  try {
    return (SUMMARY[event.type] || genericSummary)(event.data);
  } catch {
    return genericSummary(event.data);  // a payload without the fields a summary expects
  }
}

function matches(event) {
  if (hiddenTypes.has(event.type)) return false;
  const symbol = event.data && event.data.symbol;
  return !symbols.length || !symbol || symbols.includes(String(symbol).toUpperCase());
}

function toggle(row) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("event-raw")) {
    next.remove();
    row.setAttribute("aria-expanded", "false");
    return;
  }
  row.after(el("tr", { class: "event-raw" }, el("td", { colspan: 5 }, el("pre", {}, eventJson(row.event)))));
  row.setAttribute("aria-expanded", "true");
}

function eventRow(event) {
  const symbol = event.data && event.data.symbol;
  const row = el("tr", {
    class: "event", "data-type": event.type, tabindex: 0, "aria-expanded": "false",
    onclick: () => toggle(row), onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(row); } },
  },
  el("td", { class: "num" }, timeOfDay(event.ts || Date.now())), el("td", { class: "type" }, event.type),
  el("td", {}, event.source || ""), el("td", {}, symbol || ""), el("td", { class: "summary" }, summary(event)));
  row.event = event.data;
  return row;
}

function trim(body) {
  while (body.querySelectorAll("tr.event").length > MAX) {
    const last = body.lastElementChild;
    if (last.classList.contains("event-raw")) last.previousElementSibling.remove();
    last.remove();
  }
}

async function buildTypeFilter() {
  const catalog = await attempt(() => get("/api/event-types"));
  if (!catalog) return;
  const box = document.getElementById("event-type-boxes");
  box.replaceChildren(...catalog.map((t) => el("label", { class: "chip", title: `${t.description} (${t.publishers})` },
    el("input", {
      type: "checkbox", "data-event-type": t.type, checked: !hiddenTypes.has(t.type),
      onchange: (e) => { if (e.target.checked) hiddenTypes.delete(t.type); else hiddenTypes.add(t.type); },
    }), ` ${t.type}`)));
}

function setAll(checked) {
  for (const input of document.querySelectorAll("#event-type-boxes input")) {
    input.checked = checked;
    if (checked) hiddenTypes.delete(input.dataset.eventType); else hiddenTypes.add(input.dataset.eventType);
  }
}

export function init() {
  const body = document.querySelector("#events-table tbody");
  on("*", (event) => {
    if (paused || event.type === "hub.connection" || !matches(event)) return;
    count += 1;
    document.getElementById("events-count").textContent = `${count} shown`;
    body.prepend(eventRow(event));
    trim(body);
  });
  document.getElementById("events-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    symbols = document.getElementById("events-symbols").value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
  });
  document.getElementById("events-types-all").addEventListener("click", () => setAll(true));
  document.getElementById("events-types-none").addEventListener("click", () => setAll(false));
  const pause = document.getElementById("events-pause");
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
  });
  document.getElementById("events-clear").addEventListener("click", () => { body.replaceChildren(); count = 0; });
  buildTypeFilter();
}

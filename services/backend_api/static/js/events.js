// Events panel: the live stream with type/symbol filters, pausable.

import { on } from "./hub.js";
import { eventJson, timeOfDay } from "./format.js";
import { el } from "./ui.js";

const MAX = 500;
let paused = false;
let filter = { types: [], symbols: [] };
let count = 0;

function matches(event) {
  const typeOk = !filter.types.length || filter.types.some((t) => t === event.type || (t.endsWith("*") && event.type.startsWith(t.slice(0, -1))));
  const symbol = event.data && event.data.symbol;
  const symbolOk = !filter.symbols.length || !symbol || filter.symbols.includes(String(symbol).toUpperCase());
  return typeOk && symbolOk;
}

function split(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

export function init() {
  const list = document.getElementById("events-list");
  on("*", (event) => {
    if (paused || event.type === "hub.connection" || !matches(event)) return;
    count += 1;
    document.getElementById("events-count").textContent = `${count} shown`;
    const time = timeOfDay(event.ts || Date.now());
    list.prepend(el("li", { "data-type": event.type }, el("span", { class: "type" }, `${time} ${event.source || ""} ${event.type}`), eventJson(event.data)));
    while (list.children.length > MAX) list.lastChild.remove();
  });
  document.getElementById("events-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    filter = {
      types: split(document.getElementById("events-types").value),
      symbols: split(document.getElementById("events-symbols").value).map((s) => s.toUpperCase()),
    };
  });
  const pause = document.getElementById("events-pause");
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
  });
  document.getElementById("events-clear").addEventListener("click", () => { list.replaceChildren(); count = 0; });
}

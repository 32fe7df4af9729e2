// The log view under the Services table: newest record first, the supervisor's health polls hidden by
// default (the API leaves them out, so the tail is of lines worth reading), a text filter, level colours.

import { get } from "./api.js";
import { attempt, el } from "./ui.js";

const LINES = 200;
// A record starts with "<date> <time> <LEVEL> "; the lines after it (a traceback) belong to it.
const RECORD_START = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) /;
let records = [];  // { level, text }, newest first

const byId = (id) => document.getElementById(id);

function group(lines) {
  const grouped = [];
  for (const line of lines) {
    const start = RECORD_START.exec(line);
    if (start || !grouped.length) grouped.push({ level: start ? start[1] : "", text: line });
    else grouped[grouped.length - 1].text += `\n${line}`;
  }
  return grouped.reverse();
}

function render() {
  const needle = byId("log-filter").value.trim().toLowerCase();
  const shown = needle ? records.filter((r) => r.text.toLowerCase().includes(needle)) : records;
  byId("log-lines").replaceChildren(...(shown.length
    ? shown.map((r) => el("div", { class: `log-line${r.level ? ` lvl-${r.level}` : ""}` }, r.text))
    : [el("div", { class: "log-empty" }, records.length ? "(no line matches the filter)" : "(empty)")]));
}

export async function showLogs() {
  const name = byId("log-service").value;
  if (!name) return;
  const params = new URLSearchParams({ lines: LINES, source: byId("log-source").value, hide_health: byId("log-hide-health").checked });
  const tail = await attempt(() => get(`/api/services/${encodeURIComponent(name)}/logs?${params}`));
  if (!tail) return;
  records = group(tail.lines);
  render();
}

export function init() {
  byId("log-refresh").addEventListener("click", showLogs);
  for (const id of ["log-service", "log-source", "log-hide-health"]) byId(id).addEventListener("change", showLogs);
  byId("log-filter").addEventListener("input", render);
}

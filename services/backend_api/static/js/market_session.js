// The market's session in the top bar: open, or closed and when it opens (at a weekend the quotes stay at
// Friday's close and orders are refused as market_closed); a replay also says its speed.

import { get } from "./api.js";
import { on } from "./hub.js";

const REFRESH_MS = { real: 60_000, replay: 15_000 };  // a replay crosses a session's edge sooner
let timer = null;

function label(clock) {
  const replay = clock.clock === "replay" ? ` · replay ×${clock.speed}` : "";
  if (clock.market_open) return `market open${replay}`;
  const opens = new Date(clock.next_open_ms);
  const day = opens.toLocaleDateString("en-GB", { weekday: "short", timeZone: "UTC" });
  return `market closed · opens ${day} ${opens.toISOString().slice(11, 16)} UTC${replay}`;
}

async function refresh() {
  clearTimeout(timer);
  const badge = document.getElementById("market-session");
  const clock = await get("/api/mt5/clock").catch(() => null);
  if (!clock || clock.market_open == null) {
    badge.hidden = true;  // the mt5 service is down (the staleness notes say so) or does not tell
  } else {
    badge.textContent = label(clock);
    badge.dataset.open = String(clock.market_open);
    badge.hidden = false;
  }
  timer = setTimeout(refresh, REFRESH_MS[clock ? clock.clock : "real"]);
}

export function init() {
  on("hub.connection", (event) => { if (event.data.connected) refresh(); });
  refresh();
}

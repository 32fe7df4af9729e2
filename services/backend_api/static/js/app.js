// Entry point: the login screen first; then tabs (keyboard-friendly), the hub connection, each panel's init.

import { signIn } from "./auth.js";
import { connect } from "./hub.js";
import { loadSymbols } from "./format.js";
import * as alerts from "./alerts.js";
import * as backtests from "./backtests.js";
import * as data from "./data.js";
import * as events from "./events.js";
import * as market from "./market.js";
import * as marketSession from "./market_session.js";
import * as models from "./models.js";
import * as servicesPanel from "./services.js";
import * as staleness from "./staleness.js";
import * as strategiesPanel from "./strategies.js";
import * as trading from "./trading.js";

const panels = { services: servicesPanel, market, trading, strategies: strategiesPanel, backtests, models, data, events, alerts };
const started = new Set();

function selectTab(button) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab === button;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
  }
  const name = button.id.replace("tab-", "");
  if (panels[name] && panels[name].show) panels[name].show();
  history.replaceState(null, "", `#${name}`);
}

function initTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (e) => {
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      selectTab(next);
    });
  });
  const wanted = document.getElementById(`tab-${location.hash.slice(1)}`);
  selectTab(wanted || tabs[0]);
}

// Nothing asks the API for data before the tab holds a key it accepts.
await signIn();
staleness.init();
marketSession.init();
for (const [name, panel] of Object.entries(panels)) {
  if (!started.has(name)) { panel.init(); started.add(name); }
}
initTabs();
connect();
// Symbol digits for every panel; a failure here is shown by the first panel that needs them (it asks again).
loadSymbols().catch(() => {});

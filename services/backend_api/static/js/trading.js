// Trading panel: the market watch (one-click trading), account, positions with live P&L and their owning
// strategy instance, pending orders, the order form, the kill switch, and the deal history.

import { del, get, marketNowMs, patch, post } from "./api.js";
import * as dealHistory from "./deal_history.js";
import { on } from "./hub.js";
import * as marketWatch from "./market_watch.js";
import { refusalText, sendOnce, sentHere } from "./orders.js";
import { loadOwners, ownerName } from "./owners.js";
import { dateTime, duration, loadSymbols, money, NONE, number, price, priceDigits, setCurrencyDigits, stopPrice, volume } from "./format.js";
import { attempt, el, num, thead, toast } from "./ui.js";

const TYPES = ["BUY", "SELL", "BUY_LIMIT", "SELL_LIMIT", "BUY_STOP", "SELL_STOP"];
const TYPE_NAMES = { 0: "BUY", 1: "SELL", 2: "BUY_LIMIT", 3: "SELL_LIMIT", 4: "BUY_STOP", 5: "SELL_STOP" };
let pending = null;
let dealsDue = false;  // a deal may have happened since the deal history was last read

function panel() {
  return document.getElementById("panel-trading");
}

function build() {
  panel().replaceChildren(
    marketWatch.build(() => refresh()),
    el("div", { class: "card" },
      el("h2", {}, "Account"),
      el("div", { class: "kpis", id: "account-kpis" }),
      el("div", { class: "row mt" },
        el("span", { id: "halt-state", class: "badge" }, "…"),
        el("button", { type: "button", id: "halt-toggle", class: "danger" }, "Halt trading"))),
    el("form", { class: "card", id: "order-form", "aria-label": "New order" },
      el("h2", {}, "New order"),
      el("div", { class: "row" },
        el("label", { for: "order-symbol" }, "Symbol"), el("select", { id: "order-symbol", name: "symbol" }),
        el("label", { for: "order-type" }, "Type"), el("select", { id: "order-type", name: "type" }, TYPES.map((t) => el("option", { value: t }, t))),
        el("label", { for: "order-volume" }, "Volume"), el("input", { id: "order-volume", name: "volume", type: "number", step: "any", value: "0.10", required: true, class: "w-6" }),
        el("label", { for: "order-price" }, "Price"), el("input", { id: "order-price", name: "price", type: "number", step: "any", placeholder: "market", class: "w-8" }),
        el("label", { for: "order-sl" }, "SL"), el("input", { id: "order-sl", name: "sl", type: "number", step: "any", class: "w-8" }),
        el("label", { for: "order-tp" }, "TP"), el("input", { id: "order-tp", name: "tp", type: "number", step: "any", class: "w-8" }),
        el("button", { type: "submit", id: "order-submit" }, "Send")),
      el("p", { id: "order-message", role: "status", "aria-live": "polite" })),
    el("div", { class: "card table-wrap" }, el("h2", {}, "Open positions"), el("table", { class: "grid", id: "positions-table" })),
    el("div", { class: "card table-wrap" }, el("h2", {}, "Pending orders"), el("table", { class: "grid", id: "orders-table" })),
    dealHistory.build(),
  );
  document.getElementById("order-form").addEventListener("submit", submitOrder);
  document.getElementById("halt-toggle").addEventListener("click", toggleHalt);
}

function inputNumber(id) {
  const v = document.getElementById(id).value;
  return v === "" ? 0 : Number(v);
}

async function submitOrder(e) {
  e.preventDefault();
  const button = document.getElementById("order-submit"), message = document.getElementById("order-message");
  const body = {
    symbol: document.getElementById("order-symbol").value, type: document.getElementById("order-type").value,
    volume: inputNumber("order-volume"), price: inputNumber("order-price"), sl: inputNumber("order-sl"), tp: inputNumber("order-tp"),
    deviation: 20,
  };
  button.disabled = true;
  try {
    const result = await sendOnce("order-form", body);
    if (result === null) return;  // this form's order is already on its way
    message.className = "";
    message.textContent = `${result.retcode_name}: order ${result.order}${result.deal ? `, deal ${result.deal}` : ""} at ${price(result.price, body.symbol)}`;
    refresh();
  } catch (err) {
    message.className = "error-text";
    message.textContent = refusalText(err);
  } finally {
    button.disabled = false;
  }
}

async function toggleHalt() {
  const status = await attempt(() => get("/api/mt5/trading/status"));
  if (!status) return;
  if (status.halted) await attempt(() => post("/api/mt5/trading/resume"), "trading resumed");
  else await attempt(() => post("/api/mt5/trading/halt", { reason: "kill switch from the dashboard" }), "trading halted");
  refreshStatus();
}

async function refreshStatus() {
  const status = await attempt(() => get("/api/mt5/trading/status"));
  if (!status) return;
  const badge = document.getElementById("halt-state");
  badge.textContent = status.halted ? `HALTED${status.reason ? `: ${status.reason}` : ""}` : `trading on (${status.mode})`;
  badge.className = `badge ${status.halted ? "state-ERROR" : "ok"}`;
  document.getElementById("halt-toggle").textContent = status.halted ? "Resume trading" : "Halt trading";
}

function renderAccount(a) {
  const kpi = (label, value) => el("div", { class: "kpi" }, el("div", { class: "label" }, label), el("div", { class: "value", "data-kpi": label }, value));
  setCurrencyDigits(a.currency_digits);
  document.getElementById("account-kpis").replaceChildren(
    kpi("Balance", `${money(a.balance)} ${a.currency}`), kpi("Equity", money(a.equity)), kpi("Profit", money(a.profit)),
    kpi("Margin", money(a.margin)), kpi("Free margin", money(a.margin_free)), kpi("Margin level", a.margin ? `${number(a.margin_level)} %` : NONE),
  );
}

const SIDES = { 0: "BUY", 1: "SELL" };

// When a position opened: the market's time (UTC) and how long ago by the market's clock.
function openedAt(p, nowMs) {
  return `${dateTime(p.time)} (${duration(Math.max(0, nowMs / 1000 - p.time))} ago)`;
}

function renderPositions(list, nowMs) {
  const rows = list.map((p) => {
    const inputPrice = (v) => (v ? v.toFixed(priceDigits(p.symbol)) : "");  // an input takes no grouping
    const sl = el("input", { type: "number", step: "any", value: inputPrice(p.sl), "aria-label": `SL of ${p.ticket}`, class: "w-7" });
    const tp = el("input", { type: "number", step: "any", value: inputPrice(p.tp), "aria-label": `TP of ${p.ticket}`, class: "w-7" });
    const part = el("input", { type: "number", step: "any", placeholder: "all", "aria-label": `volume to close of ${p.ticket}`, class: "w-5" });
    return el("tr", { "data-ticket": p.ticket },
      el("td", { class: "num" }, p.ticket), el("td", { "data-field": "symbol" }, p.symbol), el("td", { "data-field": "side" }, SIDES[p.type]),
      el("td", { class: "num", "data-field": "volume" }, volume(p.volume, p.symbol)), el("td", { "data-field": "time" }, openedAt(p, nowMs)),
      el("td", { class: "num", "data-field": "price_open" }, price(p.price_open, p.symbol)),
      el("td", { class: "num", "data-field": "price_current" }, price(p.price_current, p.symbol)),
      el("td", {}, sl), el("td", {}, tp),
      el("td", { class: "num", "data-field": "swap" }, money(p.swap)), el("td", { class: "num", "data-field": "commission" }, money(p.commission)),
      el("td", { class: `num ${p.profit >= 0 ? "up" : "down"}`, "data-profit": "" }, money(p.profit)),
      el("td", { class: "num", "data-field": "magic" }, p.magic), el("td", { "data-field": "owner" }, ownerName(p.magic) || NONE),
      el("td", {},
        el("button", { type: "button", onclick: () => attempt(() => patch(`/api/mt5/positions/${p.ticket}`, { sl: Number(sl.value) || 0, tp: Number(tp.value) || 0 }), "SL/TP saved").then(refresh) }, "Save SL/TP"), " ",
        part, " ",
        el("button", { type: "button", "data-action": "close", onclick: (e) => {
          e.currentTarget.disabled = true;  // one close per click; the refreshed table brings a new button
          attempt(() => post(`/api/mt5/positions/${p.ticket}/close`, { ...(part.value ? { volume: Number(part.value) } : {}), client_order_id: `ui-${crypto.randomUUID()}` }), "position closed").then(refresh);
        } }, "Close")),
    );
  });
  document.getElementById("positions-table").replaceChildren(
    thead([num("Ticket"), "Symbol", "Side", num("Volume"), "Opened (market time)", num("Open price"), num("Current"), "SL", "TP",
      num("Swap"), num("Commission"), num("Profit"), num("Magic"), "Instance", "Actions"]),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 15 }, "No open positions"))));
}

function renderOrders(list) {
  const rows = list.map((o) => el("tr", { "data-ticket": o.ticket },
    el("td", { class: "num" }, o.ticket), el("td", {}, o.symbol), el("td", {}, TYPE_NAMES[o.type]),
    el("td", { class: "num" }, volume(o.volume_current, o.symbol)), el("td", { class: "num" }, price(o.price_open, o.symbol)),
    el("td", { class: "num" }, stopPrice(o.sl, o.symbol)), el("td", { class: "num" }, stopPrice(o.tp, o.symbol)),
    el("td", {}, el("button", { type: "button", onclick: () => attempt(() => del(`/api/mt5/orders/${o.ticket}`), "order cancelled").then(refresh) }, "Cancel"))));
  document.getElementById("orders-table").replaceChildren(
    thead([num("Ticket"), "Symbol", "Type", num("Volume"), num("Price"), num("SL"), num("TP"), ""]),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 8 }, "No pending orders"))));
}

export async function refresh({ deals = true } = {}) {
  const [account, positions, orders, nowMs] = await Promise.all([
    attempt(() => get("/api/mt5/account")), attempt(() => get("/api/mt5/positions")),
    attempt(() => get("/api/mt5/orders")), marketNowMs(), loadOwners(),
  ]);
  if (account) renderAccount(account);
  if (positions) renderPositions(positions, nowMs);
  if (orders) renderOrders(orders);
  if (deals) {
    dealsDue = false;
    dealHistory.refresh();
  }
}

// Events can arrive many times a second; refresh at most every 500 ms.
// account.updated comes with every price move while positions are open: it refreshes the figures, and the
// deal history only when an order or position event said a deal may have been done.
function scheduleRefresh(event) {
  if (event.type !== "account.updated") dealsDue = true;
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    if (!panel().hidden) refresh({ deals: dealsDue });
  }, 500);
}

async function loadSymbolList() {
  const list = await attempt(loadSymbols);
  if (!list) return;
  const select = document.getElementById("order-symbol");
  if (select) select.replaceChildren(...list.map((s) => el("option", { value: s.name }, s.name)));
  return list;
}

export function init() {
  build();
  marketWatch.init();
  dealHistory.init();
  for (const type of ["account.updated", "position.opened", "position.modified", "position.closed", "order.placed", "order.filled", "order.cancelled"]) on(type, scheduleRefresh);
  // A refusal of an order sent from this page is shown where it was sent; the toast is for the others'.
  on("order.rejected", (e) => { if (!sentHere(e.data)) toast(`order rejected: ${e.data.comment || e.data.reason || ""}`); });
}

export async function show() {
  await loadSymbolList();  // prices and volumes are printed at the symbols' digits and steps
  marketWatch.show();
  refresh();
  dealHistory.show();
  refreshStatus();
}

// Deal history: filters (symbol, strategy instance, date range in market time: the days the market's clock
// says, so a replay of 2024 offers 2024) and totals, from the mt5 service's GET /history/deals.

import { get, setMarketRange } from "./api.js";
import { count, dateTime, loadSymbols, money, NONE, price, volume } from "./format.js";
import { loadOwners, ownerName } from "./owners.js";
import { attempt, el, num, thead } from "./ui.js";

const SHOWN = 200;  // rows drawn; the totals cover every deal the filter matches
const TYPES = { 0: "BUY", 1: "SELL", 2: "BALANCE" };
const ENTRIES = ["IN", "OUT", "INOUT", "OUT_BY"];
const byId = (id) => document.getElementById(id);

export function build() {
  return el("div", { class: "card table-wrap", id: "deal-history" },
    el("h2", {}, "Deal history"),
    el("form", { class: "row", id: "deals-filter", "aria-label": "Deal filters" },
      el("label", { for: "deals-symbol" }, "Symbol"), el("select", { id: "deals-symbol" }, el("option", { value: "" }, "all")),
      el("label", { for: "deals-instance" }, "Instance"), el("select", { id: "deals-instance" }, el("option", { value: "" }, "all")),
      el("label", { for: "deals-from" }, "From"), el("input", { id: "deals-from", type: "date" }),
      el("label", { for: "deals-to" }, "To"), el("input", { id: "deals-to", type: "date" }),
      el("button", { type: "submit" }, "Apply")),
    el("div", { class: "kpis mt", id: "deals-totals", "aria-label": "Totals of the trades shown" }),
    el("table", { class: "grid mt", id: "deals-table" }));
}

// Totals of the trading deals (a BALANCE deal is a deposit or withdrawal, not a trade's result).
export function dealTotals(deals) {
  const trades = deals.filter((d) => d.type === 0 || d.type === 1);
  const sum = (key) => trades.reduce((total, d) => total + d[key], 0);
  const totals = { count: trades.length, volume: sum("volume"), profit: sum("profit"), commission: sum("commission"), swap: sum("swap"), fee: sum("fee") };
  return { ...totals, net: totals.profit + totals.commission + totals.swap + totals.fee };
}

function query() {
  const params = new URLSearchParams({ from: byId("deals-from").value || "0" });
  if (byId("deals-to").value) params.set("to", `${byId("deals-to").value}T23:59:59`);  // the whole last day
  if (byId("deals-symbol").value) params.set("symbol", byId("deals-symbol").value);
  if (byId("deals-instance").value) params.set("magic", byId("deals-instance").value);
  return `/api/mt5/history/deals?${params}`;
}

function render(deals) {
  const t = dealTotals(deals);
  const kpi = (label, value, field) => el("div", { class: "kpi" }, el("div", { class: "label" }, label), el("div", { class: "value", "data-total": field }, value));
  byId("deals-totals").replaceChildren(
    kpi("Trades", count(t.count), "count"), kpi("Volume", volume(t.volume), "volume"), kpi("Profit", money(t.profit), "profit"),
    kpi("Commission", money(t.commission), "commission"), kpi("Swap", money(t.swap), "swap"), kpi("Net", money(t.net), "net"));
  const rows = deals.slice(-SHOWN).reverse().map((d) => el("tr", { "data-deal": d.ticket },
    el("td", {}, dateTime(d.time)), el("td", { class: "num" }, d.ticket), el("td", {}, d.symbol || NONE), el("td", {}, TYPES[d.type] ?? d.type),
    el("td", {}, ENTRIES[d.entry] ?? d.entry), el("td", { class: "num" }, d.symbol ? volume(d.volume, d.symbol) : NONE),
    el("td", { class: "num" }, d.symbol ? price(d.price, d.symbol) : NONE),
    el("td", { class: "num" }, money(d.commission)), el("td", { class: "num" }, money(d.swap)),
    el("td", { class: `num ${d.profit >= 0 ? "up" : "down"}` }, money(d.profit)),
    el("td", { class: "num" }, d.magic || NONE), el("td", {}, d.symbol ? ownerName(d.magic) : ""), el("td", {}, d.comment)));
  byId("deals-table").replaceChildren(
    el("caption", {}, deals.length > SHOWN ? `newest ${SHOWN} of ${deals.length} deals` : `${deals.length} deals`),
    thead(["Time", num("Deal"), "Symbol", "Type", "Entry", num("Volume"), num("Price"), num("Commission"), num("Swap"), num("Profit"), num("Magic"), "Instance", "Comment"]),
    el("tbody", {}, rows));
}

let latest = 0;  // the newest read: an older answer arriving after it (another filter's) is not drawn

export async function refresh() {
  const mine = ++latest;
  const deals = await attempt(() => get(query()));
  if (deals && mine === latest) render(deals);
}

// The filters' choices: the symbols, the instances (by magic number), the last week of market days.
export async function show() {
  const [symbols, owners] = await Promise.all([attempt(loadSymbols), loadOwners({ fresh: true })]);
  const keep = (select, options) => {
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "all"), ...options);
    select.value = chosen;
  };
  if (symbols) keep(byId("deals-symbol"), symbols.map((s) => el("option", { value: s.name }, s.name)));
  keep(byId("deals-instance"), owners.map((i) => el("option", { value: i.magic }, `${i.id} ${i.strategy} (${i.symbol} ${i.timeframe})`)));
  if (!byId("deals-from").value) await setMarketRange("deals-from", "deals-to", 7);
  await refresh();
}

export function init() {
  byId("deals-filter").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
}

// How every panel prints a value, so that a number reads the same everywhere: prices at their symbol's
// digits, money at the account currency's, volumes at the symbol's volume step, counts as integers,
// percentages with two decimals, durations and UTC dates as a person says them.
// Symbol facts come from the mt5 service's GET /symbols, fetched once for the whole page.

import { get } from "./api.js";

export const NONE = "–";  // an en dash: the panels' "no value"
// One decimal separator everywhere, the one the order form and the API use.
const LOCALE = "en-US";
// A price of no known symbol (an inline backtest, a symbol the terminal does not list): FX majors' digits.
const DEFAULT_PRICE_DIGITS = 5;
const DEFAULT_VOLUME_STEP = 0.01;

const specs = new Map();
let loading = null;
let currencyDigits = 2;

// The terminal's symbols (a list), fetched on the first call and shared by every later one; a failed
// fetch is forgotten so the next call tries again.
export function loadSymbols() {
  if (!loading) {
    loading = get("/api/mt5/symbols").then((list) => {
      for (const s of list) specs.set(s.name, s);
      return list;
    }, (err) => { loading = null; throw err; });
  }
  return loading;
}

// The account currency's digits (MT5's currency_digits), used by money() from then on.
export function setCurrencyDigits(digits) {
  if (Number.isInteger(digits)) currencyDigits = digits;
}

const missing = (value) => value === null || value === undefined || value === "" || !Number.isFinite(Number(value));

function fixed(value, digits) {
  if (missing(value)) return NONE;
  const text = Number(value).toLocaleString(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;  // -0.001 at two digits is 0.00, not -0.00
}

// Decimals a step needs: 0.01 → 2, 0.25 → 2, 1 → 0.
function stepDecimals(step) {
  for (let d = 0; d < 8; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) return d;
  return 8;
}

export const priceDigits = (symbol) => specs.get(symbol)?.digits ?? DEFAULT_PRICE_DIGITS;
export const volumeDecimals = (symbol) => stepDecimals(specs.get(symbol)?.volume_step ?? DEFAULT_VOLUME_STEP);

export const price = (value, symbol) => fixed(value, priceDigits(symbol));
// MT5 reads a stop-loss or take-profit of 0 as "none".
export const stopPrice = (value, symbol) => (Number(value) === 0 ? NONE : price(value, symbol));
export const volume = (value, symbol) => fixed(value, volumeDecimals(symbol));
export const money = (value) => fixed(value, currencyDigits);
export const count = (value) => (missing(value) ? NONE : fixed(Math.round(Number(value)), 0));
export const percent = (value) => (missing(value) ? NONE : `${fixed(value, 2)} %`);
// Ratios, scores, probabilities: plain numbers at a stated precision.
export const number = (value, digits = 2) => fixed(value, digits);

const UNITS = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];

// "850 ms", "45 s", "12 min", "2 h 5 min", "3 d 4 h": the largest unit and the next one when it is not 0.
export function duration(seconds) {
  if (missing(seconds)) return NONE;
  const s = Number(seconds);
  if (Math.abs(s) < 1) return `${Math.round(s * 1000)} ms`;
  let rest = Math.round(Math.abs(s));
  const first = UNITS.findIndex(([, size]) => rest >= size);
  const [name, size] = UNITS[first], n = Math.floor(rest / size);
  rest -= n * size;
  const parts = [`${n} ${name}`];
  const next = UNITS[first + 1];
  if (next && Math.floor(rest / next[1])) parts.push(`${Math.floor(rest / next[1])} ${next[0]}`);
  return `${s < 0 ? "-" : ""}${parts.join(" ")}`;
}

// "2026-05-01 12:34:56 UTC" from epoch seconds.
export function dateTime(epochSeconds) {
  if (missing(epochSeconds)) return NONE;
  return `${new Date(Number(epochSeconds) * 1000).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

// "2026-05-01" from epoch seconds (a day is a UTC day).
export function day(epochSeconds) {
  return missing(epochSeconds) ? NONE : new Date(Number(epochSeconds) * 1000).toISOString().slice(0, 10);
}

// "12:34:56.789 UTC" from epoch milliseconds: the time of a live event.
export function timeOfDay(epochMs) {
  return `${new Date(epochMs).toISOString().slice(11, 23)} UTC`;
}

// A backtest metric as its kind reads (metrics.py: `_s` durations in seconds, `_pct` percentages, start/end
// epoch seconds).
export function metric(key, value) {
  if (key === "start" || key === "end") return dateTime(value);
  if (key.endsWith("_s")) return duration(value);
  if (key.endsWith("_pct")) return percent(value);
  if (key === "trades" || key.startsWith("max_consecutive")) return count(value);
  if (key.startsWith("equity_") || key === "commissions") return money(value);
  return number(value);
}

const PRICE_KEYS = new Set(["bid", "ask", "last", "price", "price_open", "price_current", "open", "high", "low", "close", "sl", "tp"]);
const MONEY_KEYS = new Set(["profit", "balance", "equity", "margin", "margin_free", "commission", "swap", "pnl", "daily_pnl"]);

// An event's data as JSON, its prices at the symbol's digits, money and volumes likewise, and other
// fractions without float noise (0.30000000000000004 → 0.3). Still JSON: the log stays machine-readable.
export function eventJson(data) {
  const symbol = data && typeof data === "object" ? data.symbol : undefined;
  const write = (value, key) => {
    if (Array.isArray(value)) return `[${value.map((v) => write(v, key)).join(",")}]`;
    if (value && typeof value === "object") {
      return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${write(v, k)}`).join(",")}}`;
    }
    if (typeof value !== "number" || !Number.isFinite(value) || Number.isInteger(value)) return JSON.stringify(value);
    if (PRICE_KEYS.has(key)) return value.toFixed(priceDigits(symbol));
    if (MONEY_KEYS.has(key)) return value.toFixed(currencyDigits);
    if (key === "volume") return value.toFixed(volumeDecimals(symbol));
    return String(Number(value.toPrecision(10)));
  };
  return write(data, "");
}

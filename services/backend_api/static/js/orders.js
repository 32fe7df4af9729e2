// Sending an order from the dashboard, once per intent. Each intent (a click of Buy on EURUSD, a submitted
// form) gets one client order id: a second click while it is on its way sends nothing, and the mt5 service
// answers a resend of the same id with the first result, never a second order.

import { post } from "./api.js";

const inflight = new Set();  // intents on their way
const own = new Set();  // client ids this page sent: their refusals are shown where they were sent, once

// `ui-` and 16 hex digits: short enough to ride in MT5's 31-character comment beside "dashboard", because
// the terminal's own order.rejected event carries the request (and its comment), not the client id.
const newClientId = () => `ui-${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
const commentOf = (clientId) => `dashboard ${clientId}`;

// Send `body` for `intent` (a string naming what was clicked); null when that intent is already on its way.
export async function sendOnce(intent, body) {
  if (inflight.has(intent)) return null;
  inflight.add(intent);
  const clientId = newClientId();
  own.add(clientId);
  try {
    return await post("/api/mt5/orders", { ...body, comment: commentOf(clientId), client_order_id: clientId });
  } finally {
    inflight.delete(intent);
  }
}

// Whether an order.rejected event is about an order this page sent (and has shown the refusal of): the
// risk guard's name the client id, the terminal's carry the request with its comment.
export function sentHere(data) {
  if (own.has(data.client_order_id)) return true;
  const comment = data.request && data.request.comment;
  return typeof comment === "string" && own.has(comment.replace(/^dashboard /, ""));
}

// Why a refused order was refused, as the service says it: message, retcode and the field at fault.
export function refusalText(err) {
  const d = err.details || {};
  return `${err.message}${d.retcode ? ` (retcode ${d.retcode})` : ""}${d.field ? ` — field: ${d.field}` : ""}`;
}

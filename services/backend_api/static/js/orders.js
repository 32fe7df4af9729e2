// Sending an order from the dashboard, once per intent. Each intent (a click of Buy on EURUSD, a submitted
// form) gets one client order id: a second click while it is on its way sends nothing, and the mt5 service
// answers a resend of the same id with the first result, never a second order.

import { post } from "./api.js";

const inflight = new Set();  // intents on their way
const own = new Set();  // client ids this page sent: their refusals are shown where they were sent, once

// Send `body` for `intent` (a string naming what was clicked); null when that intent is already on its way.
export async function sendOnce(intent, body) {
  if (inflight.has(intent)) return null;
  inflight.add(intent);
  const clientId = `ui-${crypto.randomUUID()}`;
  own.add(clientId);
  try {
    return await post("/api/mt5/orders", { ...body, client_order_id: clientId });
  } finally {
    inflight.delete(intent);
  }
}

export const sentHere = (clientId) => own.has(clientId);

// Why a refused order was refused, as the service says it: message, retcode and the field at fault.
export function refusalText(err) {
  const d = err.details || {};
  return `${err.message}${d.retcode ? ` (retcode ${d.retcode})` : ""}${d.field ? ` — field: ${d.field}` : ""}`;
}

// REST calls through the gateway with the API key; errors surface as their service's message.

const KEY_STORAGE = "mt5p.apiKey";

export function apiKey() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem(KEY_STORAGE, fromUrl);
    url.searchParams.delete("token");  // keep the key out of the address bar and history
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

// The key a user pasted into the login screen, kept for this tab (sessionStorage) as one from ?token= is.
export const rememberKey = (key) => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetKey = () => sessionStorage.removeItem(KEY_STORAGE);
// Fired when the API refuses the tab's key (401), so the login screen can take over from any panel's call.
export const UNAUTHORIZED = "mt5p:unauthorized";

export class ApiError extends Error {
  constructor(status, body) {
    const err = body && body.error ? body.error : { code: "http_" + status, message: String(body || status) };
    super(err.message);
    this.status = status;
    this.code = err.code;
    this.details = err.details || {};
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { "X-API-Key": apiKey() } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, { error: { code: "network", message: "backend-api is not reachable" } });
  }
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  if (response.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED));
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);

// The market's clock (real time, a replay, or a terminal's): the dates a form offers are the market's, so a
// replay of 2024 offers 2024, not the wall clock's today. The wall clock when the mt5 service cannot say.
export async function marketNowMs() {
  try {
    return (await get("/api/mt5/clock")).now_ms;
  } catch {
    return Date.now();
  }
}

// Set two date inputs to the `days` before the market's now (to: `toDaysBack` days back).
export async function setMarketRange(fromId, toId, days, toDaysBack = 0) {
  const now = await marketNowMs();
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  document.getElementById(fromId).value = day(now - days * 86400e3);
  document.getElementById(toId).value = day(now - toDaysBack * 86400e3);
}

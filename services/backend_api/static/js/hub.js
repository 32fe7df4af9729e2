// The event hub connection: reconnects by itself, shows when it is offline, dispatches by event type.

import { apiKey } from "./api.js";

const listeners = new Map();  // type → Set of callbacks; "*" gets everything
let socket = null;
let delayMs = 500;
let stopped = false;  // after logout: no reconnecting with a key the tab no longer has

export function on(type, callback) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(callback);
  return () => listeners.get(type).delete(callback);
}

function dispatch(event) {
  for (const key of [event.type, "*"]) {
    for (const callback of listeners.get(key) || []) {
      try { callback(event); } catch (e) { console.error(e); }
    }
  }
}

function setConnected(connected) {
  const badge = document.getElementById("connection");
  badge.textContent = connected ? "live" : "offline — reconnecting";
  badge.className = `conn ${connected ? "conn-online" : "conn-offline"}`;
  dispatch({ type: "hub.connection", data: { connected } });
}

export function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/events?token=${encodeURIComponent(apiKey())}`);
  socket.onopen = () => { delayMs = 500; setConnected(true); };
  socket.onmessage = (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    dispatch(event);
  };
  socket.onclose = () => {
    if (stopped) return;
    setConnected(false);
    setTimeout(connect, delayMs);
    delayMs = Math.min(delayMs * 2, 5000);
  };
}

export function disconnect() {
  stopped = true;
  if (socket) socket.close();
}

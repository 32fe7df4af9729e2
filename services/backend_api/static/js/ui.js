// Small DOM helpers shared by the panels.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Toasts stack at the bottom right, at most MAX_TOASTS at once (the oldest goes first); the same message
// while its toast is up counts on that toast ("×3") instead of stacking another.
const MAX_TOASTS = 4;
const showing = new Map();  // kind + message → { node, timer, count }

function dismiss(key) {
  const toastState = showing.get(key);
  if (!toastState) return;
  clearTimeout(toastState.timer);
  toastState.node.remove();
  showing.delete(key);
}

export function toast(message, kind = "error", ms = 6000) {
  const key = `${kind}\u0000${message}`;
  let shown = showing.get(key);
  if (shown) {
    shown.count += 1;
    shown.node.dataset.count = String(shown.count);
    shown.node.querySelector(".toast-count").textContent = `×${shown.count}`;
    clearTimeout(shown.timer);
  } else {
    const node = el("div", { class: `toast ${kind}`, "data-count": "1" },
      el("span", { class: "toast-text" }, message), el("span", { class: "toast-count" }),
      el("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", onclick: () => dismiss(key) }, "×"));
    shown = { node, timer: null, count: 1 };
    showing.set(key, shown);
    document.getElementById("toasts").append(node);
    while (showing.size > MAX_TOASTS) dismiss(showing.keys().next().value);
  }
  shown.timer = setTimeout(() => dismiss(key), ms);
}

// Run an action and show its failure as the service's message, never silently.
export async function attempt(action, successMessage) {
  try {
    const result = await action();
    if (successMessage) toast(successMessage, "info", 2500);
    return result;
  } catch (e) {
    const where = e.details && e.details.field ? ` (${e.details.field})` : "";
    toast(`${e.message}${where}`);
    return undefined;
  }
}

// A header row; numeric columns (given as num("Volume")) are right-aligned like their cells.
export const num = (label) => ({ label, numeric: true });

export function thead(columns) {
  return el("thead", {}, el("tr", {}, columns.map((c) => (typeof c === "string"
    ? el("th", { scope: "col" }, c)
    : el("th", { scope: "col", class: "num" }, c.label)))));
}

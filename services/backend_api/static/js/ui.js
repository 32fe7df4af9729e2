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

export function toast(message, kind = "error", ms = 6000) {
  const node = el("div", { class: `toast ${kind}` }, message);
  document.getElementById("toasts").append(node);
  setTimeout(() => node.remove(), ms);
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

// Form fields generated from a JSON Schema (a strategy's pydantic parameter model), and values read back.

import { el } from "./ui.js";

export function schemaFields(schema, prefix) {
  const props = (schema && schema.properties) || {};
  return Object.entries(props).map(([name, p]) => {
    const id = `${prefix}-${name}`;
    const label = el("label", { for: id, title: p.description || "" }, p.title || name);
    let input;
    if (p.enum) {
      input = el("select", { id, name }, p.enum.map((v) => el("option", { value: v, selected: v === p.default }, v)));
    } else if (p.type === "boolean") {
      input = el("input", { id, name, type: "checkbox", checked: Boolean(p.default) });
    } else if (p.type === "integer" || p.type === "number") {
      const min = p.minimum ?? p.exclusiveMinimum, max = p.maximum ?? p.exclusiveMaximum;
      input = el("input", { id, name, type: "number", class: "w-6", value: p.default ?? "", min, max, step: p.type === "integer" ? 1 : "any", "data-type": p.type });
    } else {
      input = el("input", { id, name, value: p.default ?? "" });
    }
    input.dataset.param = name;
    return el("span", { class: "field" }, label, " ", input);
  });
}

export function schemaValues(container) {
  const values = {};
  for (const input of container.querySelectorAll("[data-param]")) {
    const name = input.dataset.param;
    if (input.type === "checkbox") values[name] = input.checked;
    else if (input.value === "") continue;
    else if (input.dataset.type === "integer") values[name] = parseInt(input.value, 10);
    else if (input.dataset.type === "number") values[name] = Number(input.value);
    else values[name] = input.value;
  }
  return values;
}

export function numericParams(schema) {
  return Object.entries((schema && schema.properties) || {}).filter(([, p]) => p.type === "integer" || p.type === "number");
}

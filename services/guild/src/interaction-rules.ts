import { invalidField } from "./guild-errors.js";

/**
 * The checks of a component interaction against the message it came from: the custom_id is
 * one of the message's components and not disabled, the component type matches, and a
 * select's values are among its options, within min_values..max_values. Each refusal is a
 * 50035 naming the field of the interaction's `data` (data.custom_id, data.values.1...).
 */

type Json = Record<string, unknown>;

export interface ComponentData {
  custom_id?: unknown;
  component_type?: unknown;
  values?: unknown;
}

const SELECT_TYPES = new Set([3, 5, 6, 7, 8]);

/** The interactive components of a message (action rows' children, and any nested ones), by custom_id. */
export function componentsById(components: readonly unknown[]): Map<string, Json> {
  const found = new Map<string, Json>();
  const walk = (list: readonly unknown[]) => {
    for (const item of list) {
      if (typeof item !== "object" || item === null) continue;
      const component = item as Json;
      if (typeof component.custom_id === "string") found.set(component.custom_id, component);
      if (Array.isArray(component.components)) walk(component.components);
      if (typeof component.accessory === "object" && component.accessory !== null) walk([component.accessory]);
    }
  };
  walk(components);
  return found;
}

/** Throws the Discord form error of the first thing wrong with `data` for these components. */
export function checkComponentInteraction(components: readonly unknown[], data: ComponentData): void {
  if (typeof data.custom_id !== "string" || data.custom_id === "") throw invalidField("data.custom_id", "BASE_TYPE_REQUIRED: This field is required");
  const component = componentsById(components).get(data.custom_id);
  if (!component) throw invalidField("data.custom_id", `COMPONENT_NOT_FOUND: The message has no component "${data.custom_id}".`);
  if (component.disabled === true) throw invalidField("data.custom_id", `COMPONENT_DISABLED: The component "${data.custom_id}" is disabled.`);
  if (data.component_type !== component.type) throw invalidField("data.component_type", `COMPONENT_TYPE_INVALID: The component "${data.custom_id}" is of type ${String(component.type)}.`);
  if (!SELECT_TYPES.has(Number(component.type))) {
    if (data.values !== undefined) throw invalidField("data.values", "COMPONENT_VALUES_INVALID: Only select menus take values.");
    return;
  }
  if (!Array.isArray(data.values)) throw invalidField("data.values", "BASE_TYPE_REQUIRED: This field is required");
  const values = data.values as unknown[];
  const min = typeof component.min_values === "number" ? component.min_values : 1;
  const max = typeof component.max_values === "number" ? component.max_values : 1;
  if (values.length < min || values.length > max) throw invalidField("data.values", `BASE_TYPE_BAD_LENGTH: Must be between ${min} and ${max} in length.`);
  const options = component.type === 3 && Array.isArray(component.options) ? new Set((component.options as Json[]).map((o) => o.value)) : undefined;
  values.forEach((value, i) => {
    if (typeof value !== "string") throw invalidField(`data.values.${i}`, "BASE_TYPE_STRING: Must be a string.");
    if (options && !options.has(value)) throw invalidField(`data.values.${i}`, `COMPONENT_SELECT_INVALID_VALUE: "${value}" is not one of the options.`);
    if (!options && !/^\d{1,20}$/.test(value)) throw invalidField(`data.values.${i}`, "NUMBER_TYPE_COERCE: Must be a snowflake.");
  });
  if (new Set(values).size !== values.length) throw invalidField("data.values", "COMPONENT_SELECT_DUPLICATE_VALUE: Values must be distinct.");
}

/**
 * The checks of a modal submission against the modal the application showed that person: each
 * submitted component is one of the modal's (by custom_id), a text input's value is a string
 * within the input's min_length/max_length (and present when required), and every required
 * input is there. Each refusal is a 50035 naming the field of the submission's `data`.
 */
export function checkModalSubmit(shown: readonly unknown[], data: Json): void {
  const inputs = componentsById(shown);
  const answered = new Set<string>();
  const walk = (list: unknown, path: string) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw invalidField(path, "BASE_TYPE_ARRAY: Must be an array.");
    list.forEach((item, i) => {
      const at = `${path}.${i}`;
      if (typeof item !== "object" || item === null) throw invalidField(at, "DICT_TYPE_CONVERT: Only dictionaries may be used in a DictType");
      const component = item as Json;
      if (Array.isArray(component.components)) return walk(component.components, `${at}.components`);
      if (typeof component.component === "object" && component.component !== null) return walk([component.component], `${at}.component`);
      const id = component.custom_id;
      const input = typeof id === "string" ? inputs.get(id) : undefined;
      if (!input) throw invalidField(`${at}.custom_id`, `COMPONENT_NOT_FOUND: The modal has no component "${String(id)}".`);
      answered.add(id as string);
      if (input.type !== 4) return;
      const value = component.value;
      if (typeof value !== "string") throw invalidField(`${at}.value`, "BASE_TYPE_STRING: Must be a string.");
      const length = [...value].length;
      const min = typeof input.min_length === "number" ? input.min_length : 0;
      const max = typeof input.max_length === "number" ? input.max_length : 4000;
      if (length < min || length > max) throw invalidField(`${at}.value`, `BASE_TYPE_BAD_LENGTH: Must be between ${min} and ${max} in length.`);
      if (input.required !== false && length === 0) throw invalidField(`${at}.value`, "BASE_TYPE_REQUIRED: This field is required");
    });
  };
  walk(data.components, "data.components");
  for (const [id, input] of inputs) {
    if (input.type === 4 && input.required !== false && !answered.has(id)) throw invalidField("data.components", `BASE_TYPE_REQUIRED: The input "${id}" is required.`);
  }
}

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { sendMessageCommand } from "./message-rules.js";

const channelId = 1300000000000000010n;

/** The form errors of posting `components`, as "path": "CODE". */
function errorsOf(components: unknown): Record<string, string> {
  try {
    sendMessageCommand({ content: "x", components }, channelId);
    return {};
  } catch (err) {
    if (!(err instanceof InvalidFieldsError)) throw err;
    return Object.fromEntries(err.errors.map((e) => [e.path.join("."), e.code]));
  }
}

const button = (custom_id: string, extra: Record<string, unknown> = {}) => ({ type: 2, style: 1, label: "go", custom_id, ...extra });
const link = (url = "https://example.com") => ({ type: 2, style: 5, label: "link", url });
const row = (...components: unknown[]) => ({ type: 1, components });
const options = (n: number) => Array.from({ length: n }, (_, i) => ({ label: `o${i}`, value: `v${i}` }));
const select = (extra: Record<string, unknown> = {}) => ({ type: 3, custom_id: "pick", options: options(3), ...extra });

describe("components validated exactly as Discord", () => {
  const valid: [string, unknown][] = [
    ["one row of five buttons", [row(button("a"), button("b"), button("c"), button("d"), button("e"))]],
    ["five rows", [1, 2, 3, 4, 5].map((i) => row(button(`b${i}`)))],
    ["link and non-link buttons", [row(button("a"), link())]],
    ["a string select alone in its row", [row(select())]],
    ["a select with 0 ≤ min ≤ max ≤ options", [row(select({ min_values: 0, max_values: 3 }))]],
    ["user, role, mentionable and channel selects", [row({ type: 5, custom_id: "u" }), row({ type: 6, custom_id: "r" }), row({ type: 7, custom_id: "m" }), row({ type: 8, custom_id: "c", channel_types: [0] })]],
    ["a select with 25 options", [row(select({ options: options(25), max_values: 25 }))]],
    ["a custom_id of 100 characters", [row(button("x".repeat(100)))]],
    ["a premium button", [row({ type: 2, style: 6, sku_id: "1300000000000000001" })]],
    ["no components", []],
    ["components: null", null],
  ];
  for (const [name, components] of valid) {
    it(`accepts ${name}`, () => assert.deepEqual(errorsOf(components), {}));
  }

  const invalid: [string, unknown, Record<string, string>][] = [
    ["six rows", [1, 2, 3, 4, 5, 6].map((i) => row(button(`b${i}`))), { components: "BASE_TYPE_MAX_LENGTH" }],
    ["a top-level button", [button("a")], { "components.0.type": "UNION_TYPE_CHOICES" }],
    ["a row inside a row", [row(button("a"), row(button("b")))], { "components.0.components.1.type": "UNION_TYPE_CHOICES" }],
    ["an empty row", [row()], { "components.0.components": "BASE_TYPE_BAD_LENGTH" }],
    [
      "six buttons in a row",
      [row(button("a"), button("b"), button("c"), button("d"), button("e"), button("f"))],
      { "components.0.components": "BASE_TYPE_BAD_LENGTH" },
    ],
    ["a select and a button in a row", [row(select(), button("a"))], { "components.0.components.1": "COMPONENT_LAYOUT_WIDTH_EXCEEDED" }],
    ["a button then a select", [row(button("a"), select())], { "components.0.components.1": "COMPONENT_LAYOUT_WIDTH_EXCEEDED" }],
    ["two selects in a row", [row(select(), select({ custom_id: "other" }))], { "components.0.components.1": "COMPONENT_LAYOUT_WIDTH_EXCEEDED" }],
    ["a non-link button without custom_id", [row(button("a"), { type: 2, style: 1, label: "x" })], { "components.0.components.1.custom_id": "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED" }],
    ["a non-link button with a url", [row(button("a", { url: "https://example.com" }))], { "components.0.components.0.url": "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE" }],
    ["a link button without url", [row({ type: 2, style: 5, label: "x" })], { "components.0.components.0.url": "BUTTON_COMPONENT_URL_REQUIRED" }],
    ["a link button with a custom_id", [row({ ...link(), custom_id: "a" })], { "components.0.components.0.custom_id": "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE" }],
    ["a custom_id of 101 characters", [row(button("x".repeat(101)))], { "components.0.components.0.custom_id": "BASE_TYPE_BAD_LENGTH" }],
    ["an empty custom_id", [row(button(""))], { "components.0.components.0.custom_id": "BASE_TYPE_BAD_LENGTH" }],
    ["a custom_id used twice in a row", [row(button("a"), button("b"), button("a"))], { "components.0.components.2.custom_id": "COMPONENT_CUSTOM_ID_DUPLICATED" }],
    ["a custom_id used twice across rows", [row(button("a")), row(select({ custom_id: "a" }))], { "components.1.components.0.custom_id": "COMPONENT_CUSTOM_ID_DUPLICATED" }],
    ["a button style out of range", [row(button("a", { style: 7 }))], { "components.0.components.0.style": "BASE_TYPE_CHOICES" }],
    ["a label of 81 characters", [row(button("a", { label: "l".repeat(81) }))], { "components.0.components.0.label": "BASE_TYPE_MAX_LENGTH" }],
    ["a select without options", [row(select({ options: [] }))], { "components.0.components.0.options": "BASE_TYPE_BAD_LENGTH" }],
    ["a select with 26 options", [row(select({ options: options(26) }))], { "components.0.components.0.options": "BASE_TYPE_BAD_LENGTH" }],
    ["a select without custom_id", [row({ type: 3, options: options(2) })], { "components.0.components.0.custom_id": "BASE_TYPE_REQUIRED" }],
    ["min_values below 0", [row(select({ min_values: -1 }))], { "components.0.components.0.min_values": "NUMBER_TYPE_MIN" }],
    ["max_values above 25", [row(select({ max_values: 26 }))], { "components.0.components.0.max_values": "NUMBER_TYPE_MAX" }],
    ["min_values above max_values", [row(select({ min_values: 3, max_values: 2 }))], { "components.0.components.0.min_values": "NUMBER_TYPE_MAX" }],
    ["max_values above the options", [row(select({ max_values: 4 }))], { "components.0.components.0.max_values": "NUMBER_TYPE_MAX" }],
    ["min_values above the options (max defaulting)", [row({ type: 5, custom_id: "u", min_values: 2 })], { "components.0.components.0.min_values": "NUMBER_TYPE_MAX" }],
    ["a repeated option value", [row(select({ options: [...options(2), { label: "again", value: "v0" }] }))], { "components.0.components.0.options.2.value": "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED" }],
    ["an option without label", [row(select({ options: [{ value: "v" }] }))], { "components.0.components.0.options.0.label": "BASE_TYPE_REQUIRED" }],
    ["more defaults than max_values", [row(select({ options: [{ label: "a", value: "a", default: true }, { label: "b", value: "b", default: true }] }))], { "components.0.components.0.options": "SELECT_COMPONENT_TOO_MANY_DEFAULT_VALUES" }],
    ["a text input in a message", [row({ type: 4, custom_id: "t", style: 1, label: "x" })], { "components.0.components.0.type": "UNION_TYPE_CHOICES" }],
    ["a row that is not an object", ["row"], { "components.0": "DICT_TYPE_CONVERT" }],
    ["components that are not a list", { type: 1 }, { components: "LIST_TYPE_CONVERT" }],
    ["a component id used twice", [row(button("a", { id: 7 }), button("b", { id: 7 }))], { "components.0.components.1.id": "COMPONENT_ID_DUPLICATED" }],
    [
      "several bad fields at once, each named",
      [row(button("a"), { type: 2, style: 1 }), row(select({ max_values: 9 }))],
      { "components.0.components.1.custom_id": "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "components.1.components.0.max_values": "NUMBER_TYPE_MAX" },
    ],
  ];
  for (const [name, components, expected] of invalid) {
    it(`refuses ${name}`, () => assert.deepEqual(errorsOf(components), expected));
  }

  it("stores what Discord stores: numbered components, select defaults, unknown keys dropped", () => {
    const command = sendMessageCommand(
      { content: "x", components: [row(button("a", { whatever: 1 }), link()), row(select()), { type: 1, id: 3, components: [button("c", { id: 2 })] }] },
      channelId,
    );
    assert.deepEqual(command.message?.components, [
      { type: 1, id: 1, components: [{ type: 2, id: 4, style: 1, label: "go", custom_id: "a" }, { type: 2, id: 5, style: 5, label: "link", url: "https://example.com" }] },
      { type: 1, id: 6, components: [{ type: 3, id: 7, custom_id: "pick", options: options(3), min_values: 1, max_values: 1 }] },
      { type: 1, id: 3, components: [{ type: 2, id: 2, style: 1, label: "go", custom_id: "c" }] },
    ]);
  });
});

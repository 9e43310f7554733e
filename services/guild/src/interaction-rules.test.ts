import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import { checkComponentInteraction } from "./interaction-rules.js";

const components = [
  {
    type: 1,
    components: [
      { type: 2, style: 1, custom_id: "ok", label: "OK" },
      { type: 2, style: 1, custom_id: "off", label: "Off", disabled: true },
      { type: 2, style: 5, url: "https://example.com", label: "Link" },
    ],
  },
  {
    type: 1,
    components: [{ type: 3, custom_id: "pick", min_values: 1, max_values: 2, options: [{ label: "A", value: "a" }, { label: "B", value: "b" }, { label: "C", value: "c" }] }],
  },
  { type: 1, components: [{ type: 5, custom_id: "who" }] },
];

/** The refusal's message ("<path>: <code>: ..."). */
function refusal(data: Record<string, unknown>): string {
  try {
    checkComponentInteraction(components, data);
  } catch (err) {
    assert.ok(err instanceof ConnectError);
    return err.rawMessage;
  }
  return "accepted";
}

describe("component interactions", () => {
  it("accept a live button and select values among the options within min..max", () => {
    assert.equal(refusal({ custom_id: "ok", component_type: 2 }), "accepted");
    assert.equal(refusal({ custom_id: "pick", component_type: 3, values: ["a", "c"] }), "accepted");
    assert.equal(refusal({ custom_id: "who", component_type: 5, values: ["123"] }), "accepted");
  });

  it("refuse, naming the field, unknown or disabled components, wrong types, values outside the options or the bounds", () => {
    assert.match(refusal({ custom_id: "nope", component_type: 2 }), /^data\.custom_id: COMPONENT_NOT_FOUND/);
    assert.match(refusal({ component_type: 2 }), /^data\.custom_id: BASE_TYPE_REQUIRED/);
    assert.match(refusal({ custom_id: "off", component_type: 2 }), /^data\.custom_id: COMPONENT_DISABLED/);
    assert.match(refusal({ custom_id: "ok", component_type: 3 }), /^data\.component_type: /);
    assert.match(refusal({ custom_id: "ok", component_type: 2, values: ["a"] }), /^data\.values: /);
    assert.match(refusal({ custom_id: "pick", component_type: 3, values: ["a", "z"] }), /^data\.values\.1: COMPONENT_SELECT_INVALID_VALUE/);
    assert.match(refusal({ custom_id: "pick", component_type: 3, values: ["a", "b", "c"] }), /^data\.values: BASE_TYPE_BAD_LENGTH/);
    assert.match(refusal({ custom_id: "pick", component_type: 3, values: [] }), /^data\.values: BASE_TYPE_BAD_LENGTH/);
    assert.match(refusal({ custom_id: "pick", component_type: 3, values: ["a", "a"] }), /^data\.values: COMPONENT_SELECT_DUPLICATE/);
    assert.match(refusal({ custom_id: "pick", component_type: 3 }), /^data\.values: BASE_TYPE_REQUIRED/);
    assert.match(refusal({ custom_id: "who", component_type: 5, values: ["x"] }), /^data\.values\.0: NUMBER_TYPE_COERCE/);
  });
});

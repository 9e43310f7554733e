import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import { checkComponentInteraction, checkModalSubmit } from "./interaction-rules.js";

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

describe("modal submissions", () => {
  const modal = [
    { type: 1, components: [{ type: 4, custom_id: "name", style: 1, label: "Name", min_length: 2, max_length: 5 }] },
    { type: 1, components: [{ type: 4, custom_id: "note", style: 2, label: "Note", required: false }] },
  ];
  const row = (customId: string, value: unknown) => ({ type: 1, components: [{ type: 4, custom_id: customId, value }] });
  const outcome = (components: unknown) => {
    try {
      checkModalSubmit(modal, { custom_id: "m", components });
      return "accepted";
    } catch (err) {
      assert.ok(err instanceof ConnectError);
      return err.rawMessage;
    }
  };

  it("accepts the modal's own inputs within their bounds; an optional one may be left out", () => {
    assert.equal(outcome([row("name", "ada")]), "accepted");
    assert.equal(outcome([row("name", "ada"), row("note", "")]), "accepted");
  });

  it("refuses unknown inputs, values out of bounds or not strings, and a missing required input, naming the field", () => {
    assert.match(outcome([row("name", "ada"), row("extra", "x")]), /^data\.components\.1\.components\.0\.custom_id: COMPONENT_NOT_FOUND/);
    assert.match(outcome([row("name", "a")]), /^data\.components\.0\.components\.0\.value: BASE_TYPE_BAD_LENGTH/);
    assert.match(outcome([row("name", "abcdef")]), /^data\.components\.0\.components\.0\.value: BASE_TYPE_BAD_LENGTH/);
    assert.match(outcome([row("name", 7)]), /^data\.components\.0\.components\.0\.value: BASE_TYPE_STRING/);
    assert.match(outcome([row("note", "x")]), /^data\.components: BASE_TYPE_REQUIRED.*"name"/);
    assert.match(outcome("nope"), /^data\.components: BASE_TYPE_ARRAY/);
  });
});

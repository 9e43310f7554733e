import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parsePresence } from "./guild-presence.js";

describe("presence payloads (op 3, IDENTIFY's presence)", () => {
  it("takes Discord's statuses with their activities as JSON", () => {
    const p = parsePresence({ since: null, activities: [{ name: "chess", type: 0 }], status: "idle", afk: true })!;
    assert.equal(p.status, "idle");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(p.activities)), [{ name: "chess", type: 0 }]);
    for (const status of ["online", "dnd", "invisible"]) assert.equal(parsePresence({ status, activities: [] })?.status, status);
    assert.equal(new TextDecoder().decode(parsePresence({ status: "online" })!.activities), "[]", "no activities: none");
  });

  it("takes offline as invisible; refuses unknown statuses, non-array activities, oversized activities and non-objects", () => {
    assert.equal(parsePresence({ status: "offline", activities: [] })?.status, "invisible", "offline is set as invisible");
    assert.equal(parsePresence({ status: "sleepy", activities: [] }), undefined);
    assert.equal(parsePresence({ status: "idle", activities: { name: "x" } }), undefined);
    assert.equal(parsePresence({ status: "idle", activities: [{ name: "x".repeat(9000) }] }), undefined);
    assert.equal(parsePresence("idle"), undefined);
    assert.equal(parsePresence(null), undefined);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  RelationshipRefusedError,
  RelationshipType,
  planRelationship,
  sideAfter,
  type RelationshipAction,
  type RelationshipPlan,
  type Side,
} from "./relationship-rules.js";

const { FRIEND, BLOCKED, INCOMING_REQUEST: INCOMING, OUTGOING_REQUEST: OUTGOING } = RelationshipType;
const NONE = undefined;
const name = (side: Side | null) => (side === undefined ? "none" : side === null ? "deleted" : RelationshipType[side]);

/** [action, mine, theirs, expected mine after, expected theirs after] (after = the state, not the write). */
type Case = [RelationshipAction, Side, Side, Side, Side];

const cases: Case[] = [
  // Sending a request.
  ["request", NONE, NONE, OUTGOING, INCOMING],
  ["request", OUTGOING, INCOMING, OUTGOING, INCOMING],
  ["request", OUTGOING, NONE, OUTGOING, INCOMING], // a half-written request is completed
  ["request", INCOMING, OUTGOING, FRIEND, FRIEND], // they had asked: accepted
  ["request", FRIEND, FRIEND, FRIEND, FRIEND],
  ["request", FRIEND, NONE, FRIEND, FRIEND], // repaired
  ["request", BLOCKED, NONE, OUTGOING, INCOMING], // asking someone you blocked lifts the block
  // Accepting.
  ["accept", INCOMING, OUTGOING, FRIEND, FRIEND],
  ["accept", FRIEND, FRIEND, FRIEND, FRIEND],
  // Blocking.
  ["block", NONE, NONE, BLOCKED, NONE],
  ["block", FRIEND, FRIEND, BLOCKED, NONE],
  ["block", OUTGOING, INCOMING, BLOCKED, NONE],
  ["block", INCOMING, OUTGOING, BLOCKED, NONE],
  ["block", NONE, BLOCKED, BLOCKED, BLOCKED], // their block stays
  ["block", BLOCKED, NONE, BLOCKED, NONE],
  // Removing.
  ["remove", FRIEND, FRIEND, NONE, NONE],
  ["remove", OUTGOING, INCOMING, NONE, NONE], // cancel
  ["remove", INCOMING, OUTGOING, NONE, NONE], // decline
  ["remove", BLOCKED, NONE, NONE, NONE], // unblock
  ["remove", BLOCKED, BLOCKED, NONE, BLOCKED], // unblock; their block stays
  ["remove", NONE, INCOMING, NONE, NONE], // a half-written request is cleaned up
  ["remove", NONE, BLOCKED, NONE, BLOCKED], // nobody undoes a block but its author
  ["remove", NONE, NONE, NONE, NONE],
];

function applied(side: Side, change: RelationshipPlan["mine"]): Side {
  return sideAfter(side, change);
}

describe("relationship rules", () => {
  for (const [action, mine, theirs, mineAfter, theirsAfter] of cases) {
    it(`${action} with mine=${name(mine)}, theirs=${name(theirs)} → ${name(mineAfter)} / ${name(theirsAfter)}`, () => {
      const plan = planRelationship(action, mine, theirs);
      assert.equal(name(applied(mine, plan.mine)), name(mineAfter), "mine");
      assert.equal(name(applied(theirs, plan.theirs)), name(theirsAfter), "theirs");
      // Only what changes is written.
      if (mine === mineAfter) assert.equal(plan.mine, undefined, "no write to an unchanged side (mine)");
      if (theirs === theirsAfter) assert.equal(plan.theirs, undefined, "no write to an unchanged side (theirs)");
    });
  }

  it("a request to someone who blocked you is refused, whatever your side", () => {
    for (const mine of [NONE, OUTGOING, BLOCKED, FRIEND, INCOMING]) {
      assert.throws(
        () => planRelationship("request", mine, BLOCKED),
        (err: unknown) => err instanceof RelationshipRefusedError && err.reason === "blocked",
      );
    }
  });

  it("accepting needs a request received (or a friendship)", () => {
    for (const mine of [NONE, OUTGOING, BLOCKED]) {
      assert.throws(
        () => planRelationship("accept", mine, INCOMING),
        (err: unknown) => err instanceof RelationshipRefusedError && err.reason === "no_request",
      );
    }
  });

  it("every action is idempotent: planning it again on its result writes nothing", () => {
    const sides: Side[] = [NONE, FRIEND, BLOCKED, INCOMING, OUTGOING];
    for (const action of ["request", "accept", "block", "remove"] as const) {
      for (const mine of sides) {
        for (const theirs of sides) {
          let plan: RelationshipPlan;
          try {
            plan = planRelationship(action, mine, theirs);
          } catch {
            continue;
          }
          const again = planRelationship(action, sideAfter(mine, plan.mine), sideAfter(theirs, plan.theirs));
          assert.deepEqual(again, { mine: undefined, theirs: undefined }, `${action} ${name(mine)}/${name(theirs)}`);
        }
      }
    }
  });
});

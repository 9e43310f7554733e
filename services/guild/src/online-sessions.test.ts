import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { OnlineSessionSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { GatewayIntentBits as I } from "discord-api-types/v10";
import { OnlineSessions, listensToPresences } from "./online-sessions.js";

const WATCHING = I.Guilds | I.GuildPresences;
const BLIND = I.Guilds | I.GuildMessages;

const session = (userId: bigint, sessionId: string, intents: number, more: { gateway?: string; status?: string; activities?: unknown[] } = {}) =>
  create(OnlineSessionSchema, {
    userId,
    sessionId,
    intents,
    gatewayInstanceId: more.gateway ?? "gw-a",
    status: more.status ?? "",
    activities: more.activities ? new TextEncoder().encode(JSON.stringify(more.activities)) : new Uint8Array(),
  });
const ids = (routes: readonly { sessionId: string }[]) => routes.map((r) => r.sessionId).sort();

describe("OnlineSessions", () => {
  it("listeners are the sessions with GUILD_PRESENCES; all are every session", () => {
    assert.equal(listensToPresences(I.GuildPresences), true);
    assert.equal(listensToPresences(BLIND), false);
    const online = new OnlineSessions();
    online.upsert(session(1n, "w1", WATCHING));
    online.upsert(session(2n, "b1", BLIND));
    online.upsert(session(2n, "w2", WATCHING));
    online.upsert(session(3n, "z", 0));
    assert.deepEqual(ids(online.all()), ["b1", "w1", "w2", "z"]);
    assert.deepEqual(ids(online.listeners()), ["w1", "w2"]);
    assert.deepEqual([online.size, online.sessionCount], [3, 4]);
  });

  it("hands out the same arrays until the online set changes; listeners change only with a listener", () => {
    const online = new OnlineSessions();
    online.upsert(session(1n, "w1", WATCHING));
    online.upsert(session(2n, "b1", BLIND));
    const all = online.all();
    const listeners = online.listeners();
    assert.equal(online.all(), all);
    assert.equal(online.listeners(), listeners);

    // A new status or activities is not a change of the set.
    online.upsert(session(2n, "b1", BLIND, { status: "idle", activities: [{ name: "chess" }] }));
    online.upsert(session(1n, "w1", WATCHING, { status: "dnd" }));
    assert.equal(online.all(), all);
    assert.equal(online.listeners(), listeners);

    // A session without the intent comes and goes: all changes, listeners do not.
    online.upsert(session(3n, "b3", BLIND));
    const withB3 = online.all();
    assert.notEqual(withB3, all);
    assert.deepEqual(ids(all), ["b1", "w1"], "the array handed out before is left as it was");
    assert.equal(online.listeners(), listeners);
    assert.equal(online.remove(3n, "b3"), true);
    assert.notEqual(online.all(), withB3);
    assert.equal(online.listeners(), listeners);
    assert.equal(online.remove(3n, "b3"), false, "already gone");

    // A listener comes: both change.
    online.upsert(session(4n, "w4", WATCHING));
    const listeners2 = online.listeners();
    assert.notEqual(listeners2, listeners);
    assert.deepEqual(ids(listeners2), ["w1", "w4"]);
    assert.deepEqual(ids(listeners), ["w1"]);

    // A listener moving to another gateway node changes the routes.
    online.upsert(session(4n, "w4", WATCHING, { gateway: "gw-b" }));
    assert.notEqual(online.listeners(), listeners2);
    assert.equal(online.listeners().find((r) => r.sessionId === "w4")!.gatewayInstanceId, "gw-b");

    // A session that gains the intent becomes a listener.
    online.upsert(session(2n, "b1", WATCHING));
    assert.deepEqual(ids(online.listeners()), ["b1", "w1", "w4"]);
  });

  it("routes carry what reaching a session takes, not its status or activities; list() has everything", () => {
    const online = new OnlineSessions();
    online.upsert(session(1n, "w1", WATCHING, { status: "idle", activities: [{ name: "chess" }], gateway: "gw-c" }));
    const [route] = online.all();
    assert.deepEqual([route.userId, route.sessionId, route.gatewayInstanceId, route.intents, route.status, route.activities.length], [1n, "w1", "gw-c", WATCHING, "", 0]);
    const [listed] = online.list();
    assert.deepEqual([listed.status, listed.intents], ["idle", WATCHING]);
    assert.deepEqual(online.presence(1n), { status: "idle", activities: '[{"name":"chess"}]' });
  });

  it("the newest session's presence is the user's; the last session gone is offline", () => {
    const online = new OnlineSessions();
    online.upsert(session(1n, "a", BLIND, { status: "dnd" }));
    online.upsert(session(1n, "b", BLIND, { status: "invisible" }));
    assert.equal(online.presence(1n).status, "offline", "invisible shows offline");
    online.upsert(session(1n, "a", BLIND, { status: "idle" }));
    assert.equal(online.presence(1n).status, "idle", "an update makes a session the newest");
    online.remove(1n, "a");
    assert.equal(online.presence(1n).status, "offline");
    online.remove(1n, "b");
    assert.equal(online.has(1n), false);
    assert.equal(online.presence(1n).status, "offline");
  });

  it("removeWhere returns the users who lost a session; removeUser and clear empty the arrays", () => {
    const online = new OnlineSessions();
    online.upsert(session(1n, "a", WATCHING, { gateway: "gw-a" }));
    online.upsert(session(1n, "b", BLIND, { gateway: "gw-b" }));
    online.upsert(session(2n, "c", WATCHING, { gateway: "gw-a" }));
    online.upsert(session(3n, "d", BLIND, { gateway: "gw-b" }));
    assert.deepEqual(online.removeWhere((s) => s.gatewayInstanceId === "gw-a"), [1n, 2n]);
    assert.deepEqual(ids(online.all()), ["b", "d"]);
    assert.deepEqual(online.listeners(), []);
    assert.deepEqual([online.size, online.sessionCount], [2, 2]);
    assert.equal(online.removeUser(1n), true);
    assert.deepEqual(ids(online.all()), ["d"]);
    online.clear();
    assert.deepEqual([online.all().length, online.size, online.sessionCount], [0, 0, 0]);
  });
});

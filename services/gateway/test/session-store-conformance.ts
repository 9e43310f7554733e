// What every SessionStore must do (Redis in cluster mode, memory in embedded mode).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { deliverOne, type SessionStore } from "../src/session-store.js";

export interface StoreFactory {
  /** A store of `instanceId` on a data set of its own for `space` (the same space: shared data). */
  (space: string, instanceId: string, options?: { bufferSize?: number }): SessionStore;
}

const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));
const json = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString());
let spaces = 0;
const freshSpace = () => `conformance-${process.pid}-${Date.now()}-${spaces++}`;

function newSession(sessionId: string, userId: bigint, over: { intents?: number; content?: boolean; bot?: boolean; guildIds?: bigint[] } = {}) {
  return {
    sessionId,
    userId,
    intents: over.intents ?? 513,
    content: over.content ?? true,
    bot: over.bot ?? false,
    guildIds: over.guildIds ?? [],
    ready: { deliveryId: `${sessionId}:ready`, data: bytes({ session_id: sessionId }) },
  };
}

export function describeSessionStore(name: string, make: StoreFactory) {
  describe(`${name} session store`, () => {
    test("a new session's READY is dispatch 1", async () => {
      const store = make(freshSpace(), "gw-a");
      await store.create(newSession("s1", 10n));
      const replay = await store.readAfter("s1", 0);
      assert.equal(replay?.length, 1);
      assert.equal(replay![0].seq, 1);
      assert.equal(replay![0].event, "READY");
      assert.deepEqual(json(replay![0].data), { session_id: "s1" });
      assert.deepEqual(await store.readAfter("s1", 1), []);
      assert.equal(await store.readAfter("s1", 2), undefined, "a seq from the future");
      assert.equal(await store.readAfter("nope", 0), undefined);
      await store.close();
    });

    test("deliver numbers each recipient, filters by intents, hides content, and skips repeats", async () => {
      const store = make(freshSpace(), "gw-a");
      await store.create(newSession("person", 1n, { intents: 512 }));
      await store.create(newSession("bot", 2n, { intents: 512, content: false, bot: true }));
      await store.create(newSession("exempt-bot", 3n, { intents: 512, content: false, bot: true }));
      await store.create(newSession("no-intent", 4n, { intents: 1 }));
      const full = bytes({ content: "secret" });
      const hidden = bytes({ content: "" });
      const targets = ["person", "bot", "exempt-bot", "no-intent", "unknown"].map((sessionId) => ({ sessionId, contentExempt: sessionId === "exempt-bot" }));
      const first = await deliverOne(store, { deliveryId: "m1", event: "MESSAGE_CREATE", data: full, dataWithoutContent: hidden, intents: 512, targets });
      assert.deepEqual(
        first.map((o) => [o.seq, o.instance, o.withContent]),
        [
          [2, "gw-a", true],
          [2, "gw-a", false],
          [2, "gw-a", true],
          [0, "", true],
          [0, "", true],
        ],
      );
      const retry = await deliverOne(store, { deliveryId: "m1", event: "MESSAGE_CREATE", data: full, dataWithoutContent: hidden, intents: 512, targets });
      assert.deepEqual(retry.map((o) => o.seq), [-1, -1, -1, 0, 0]);
      // A retry naming one more session reaches only that one.
      await store.create(newSession("late", 5n, { intents: 512 }));
      const wider = await deliverOne(store, { deliveryId: "m1", event: "MESSAGE_CREATE", data: full, dataWithoutContent: hidden, intents: 512, targets: [...targets, { sessionId: "late", contentExempt: false }] });
      assert.deepEqual(wider.map((o) => o.seq), [-1, -1, -1, 0, 0, 2]);
      assert.deepEqual((await store.readAfter("late", 1))!.map((d) => json(d.data)), [{ content: "secret" }]);
      // Everyone gets an event without required intents; numbers go on per session.
      const second = await deliverOne(store, { deliveryId: "e2", event: "CHANNEL_CREATE", data: bytes({ id: "5" }), dataWithoutContent: new Uint8Array(), intents: 0, targets });
      assert.deepEqual(second.map((o) => o.seq), [3, 3, 3, 2, 0]);
      const personReplay = await store.readAfter("person", 1);
      assert.deepEqual(personReplay!.map((d) => [d.seq, d.event, json(d.data)]), [
        [2, "MESSAGE_CREATE", { content: "secret" }],
        [3, "CHANNEL_CREATE", { id: "5" }],
      ]);
      assert.deepEqual(json((await store.readAfter("bot", 1))![0].data), { content: "" });
      assert.deepEqual(json((await store.readAfter("exempt-bot", 1))![0].data), { content: "secret" });
      assert.deepEqual((await store.readAfter("no-intent", 1))!.map((d) => d.event), ["CHANNEL_CREATE"]);
      await store.close();
    });

    test("a batch numbers each session's share consecutively in batch order, in one step", async () => {
      const store = make(freshSpace(), "gw-a");
      await store.create(newSession("person", 1n, { intents: 512 }));
      await store.create(newSession("bot", 2n, { intents: 512, content: false, bot: true }));
      await store.create(newSession("guilds-only", 3n, { intents: 1 }));
      const sessionIds = ["person", "bot", "guilds-only", "unknown"];
      const message = (id: string, over: object = {}) => ({ deliveryId: id, event: "MESSAGE_CREATE", data: bytes({ id, content: "secret" }), dataWithoutContent: bytes({ id, content: "" }), intents: 512, ...over });
      const results = await store.deliverBatch({
        sessionIds,
        dispatches: [
          message("m1"),
          { deliveryId: "c1", event: "CHANNEL_CREATE", data: bytes({ id: "c1" }), dataWithoutContent: new Uint8Array(), intents: 0 },
          message("m2", { targets: [0] }), // only the person
          message("m3", { contentExempt: [1] }), // the bot sees this one's content
          message("m4", { targets: [] }), // nobody
        ],
      });
      assert.deepEqual(
        results.map((r) => [r.seqs, r.withContent.map((w, j) => (r.seqs[j] > 0 ? w : null))]),
        [
          [[2, 3, 4, 5, 0], [true, true, true, true, null]],
          [[2, 3, 0, 4, 0], [false, true, null, true, null]],
          [[0, 2, 0, 0, 0], [null, true, null, null, null]],
          [[0, 0, 0, 0, 0], [null, null, null, null, null]],
        ],
      );
      assert.deepEqual(results.slice(0, 3).map((r) => r.instance), ["gw-a", "gw-a", "gw-a"]);
      assert.deepEqual((await store.readAfter("bot", 1))!.map((d) => [d.seq, d.event, json(d.data)]), [
        [2, "MESSAGE_CREATE", { id: "m1", content: "" }],
        [3, "CHANNEL_CREATE", { id: "c1" }],
        [4, "MESSAGE_CREATE", { id: "m3", content: "secret" }],
      ]);
      // A retried batch with one more dispatch numbers only the new one.
      const retry = await store.deliverBatch({ sessionIds, dispatches: [message("m1"), message("m5")] });
      assert.deepEqual(retry.map((r) => r.seqs), [[-1, 6], [-1, 5], [0, 0], [0, 0]]);
      assert.deepEqual((await store.readAfter("person", 5))!.map((d) => json(d.data).id), ["m5"]);
      await store.close();
    });

    test("the buffer keeps the last N dispatches (trimmed in steps); older resumes are refused", async () => {
      const store = make(freshSpace(), "gw-a", { bufferSize: 3 });
      await store.create(newSession("s", 1n));
      for (let i = 2; i <= 101; i++) {
        await deliverOne(store, { deliveryId: `d${i}`, event: "X", data: bytes(i), dataWithoutContent: new Uint8Array(), intents: 0, targets: [{ sessionId: "s", contentExempt: false }] });
      }
      assert.deepEqual((await store.readAfter("s", 98))!.map((d) => d.seq), [99, 100, 101]);
      assert.deepEqual((await store.readAfter("s", 100))!.map((d) => json(d.data)), [101]);
      assert.equal(await store.readAfter("s", 1), undefined, "far older than the buffer");
      assert.equal(await store.readAfter("s", 30), undefined);
      await store.close();
    });

    test("takeOver moves a session to another instance, with its guilds and position", async () => {
      const space = freshSpace();
      const a = make(space, "gw-a");
      const b = make(space, "gw-b");
      await a.create(newSession("s", 7n, { guildIds: [100n] }));
      await deliverOne(a, { deliveryId: "join", event: "GUILD_CREATE", data: bytes({ id: "200" }), dataWithoutContent: new Uint8Array(), intents: 0, targets: [{ sessionId: "s", contentExempt: false }], guildChange: "+200" });
      await deliverOne(a, { deliveryId: "leave", event: "GUILD_DELETE", data: bytes({ id: "100" }), dataWithoutContent: new Uint8Array(), intents: 0, targets: [{ sessionId: "s", contentExempt: false }], guildChange: "-100" });
      assert.equal(await b.takeOver("s", 8n), undefined, "another user's session");
      assert.equal(await b.takeOver("missing", 7n), undefined);
      const taken = await b.takeOver("s", 7n);
      assert.equal(taken?.previousInstance, "gw-a");
      assert.equal(taken?.seq, 3);
      assert.equal(taken?.gen, 2);
      assert.deepEqual(taken?.guildIds, [200n]);
      assert.deepEqual(await b.lookupUsers([7n]), [{ userId: 7n, sessionId: "s", gatewayInstanceId: "gw-b" }]);
      const [outcome] = await deliverOne(a, { deliveryId: "m", event: "X", data: bytes(1), dataWithoutContent: new Uint8Array(), intents: 0, targets: [{ sessionId: "s", contentExempt: false }] });
      assert.equal(outcome.instance, "gw-b", "deliveries through gw-a say who holds it now");
      assert.equal(await a.detach("s", 1, Date.now()), false, "gw-a no longer holds it");
      await a.close();
      await b.close();
    });

    test("a detached session ends once its time is up, exactly once, unless resumed", async () => {
      const space = freshSpace();
      const a = make(space, "gw-a");
      const b = make(space, "gw-b");
      await a.markAlive(30);
      await b.markAlive(30);
      await a.create(newSession("s1", 1n, { guildIds: [5n, 6n] }));
      await a.create(newSession("s2", 1n));
      const now = Date.now();
      assert.equal(await a.detach("s1", 2, now), false, "wrong gen");
      assert.ok(await a.detach("s1", 1, now + 60_000));
      assert.ok(await a.detach("s2", 1, now + 60_000));
      assert.deepEqual(
        (await b.lookupUsers([1n])).map((s) => [s.sessionId, s.gatewayInstanceId]).sort(),
        [
          ["s1", ""],
          ["s2", ""],
        ],
      );
      assert.deepEqual(await b.sweep(now, now + 60_000), [], "not yet");
      assert.ok(await b.takeOver("s2", 1n), "s2 resumed on gw-b");
      const ended = await b.sweep(now + 60_000, now + 120_000);
      assert.deepEqual(ended.map((e) => [e.sessionId, e.userId]), [["s1", 1n]]);
      assert.deepEqual(ended[0].guildIds.map(String).sort(), ["5", "6"]);
      assert.deepEqual(await a.sweep(now + 60_000, now + 120_000), [], "claimed once");
      assert.equal(await a.readAfter("s1", 0), undefined, "its buffer is gone");
      assert.deepEqual((await b.lookupUsers([1n])).map((s) => [s.sessionId, s.gatewayInstanceId]), [["s2", "gw-b"]]);
      await a.close();
      await b.close();
    });

    test("the sessions of an instance that stopped running are detached, then end", async () => {
      const space = freshSpace();
      const dead = make(space, "gw-dead");
      const live = make(space, "gw-live");
      await dead.markAlive(30);
      await live.markAlive(30);
      await dead.create(newSession("s", 1n, { guildIds: [9n] }));
      const now = Date.now();
      assert.deepEqual(await live.sweep(now, now + 1000), []);
      assert.deepEqual((await live.lookupUsers([1n]))[0].gatewayInstanceId, "gw-dead");
      await dead.markGone();
      assert.deepEqual(await live.sweep(now, now + 1000), [], "detached, resumable for a while");
      assert.deepEqual((await live.lookupUsers([1n]))[0].gatewayInstanceId, "");
      assert.deepEqual(await live.sweep(now + 1000, now + 2000), [{ sessionId: "s", userId: 1n, guildIds: [9n] }]);
      await dead.close();
      await live.close();
    });

    test("an instance's own leftovers can be reset at start", async () => {
      const space = freshSpace();
      const before = make(space, "gw-same");
      await before.markAlive(30);
      await before.create(newSession("old", 1n));
      const after = make(space, "gw-same");
      const now = Date.now();
      assert.deepEqual(await after.sweep(now, now, "gw-same"), [{ sessionId: "old", userId: 1n, guildIds: [] }]);
      await before.close();
      await after.close();
    });

    test("pokes reach the named instance", async () => {
      const space = freshSpace();
      const a = make(space, "gw-a");
      const b = make(space, "gw-b");
      const got: string[][] = [];
      await b.onPoke((ids) => got.push(ids));
      await a.poke("gw-b", ["s1", "s2"]);
      await a.poke("gw-c", ["s3"]);
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got, [["s1", "s2"]]);
      await a.close();
      await b.close();
    });
  });
}

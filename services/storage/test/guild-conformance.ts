// The guild storage contract (event log with fencing, snapshots, user guild index), end to
// end, against any GuildStore: the real handlers served through an in-memory Connect router
// and called with the generated client. Both backends run this suite
// (sqlite-guild-store.test.ts, cassandra-guild-store.test.ts), which is what "identical
// semantics" means. Guild and user ids are fresh snowflakes per test, so the suite also runs
// on a shared Cassandra keyspace.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import {
  ClaimDirectoryEntryResponseSchema,
  DirectoryKind,
  GuildEventRecordSchema,
  GuildStorageService,
  PutGuildSnapshotResponseSchema,
  type GuildEventRecord,
} from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { createGuildHandlers, MAX_DIRECTORY_KEY_LENGTH, MAX_EVENT_PAYLOAD_BYTES, MAX_SNAPSHOT_BYTES } from "../src/guild-handlers.js";
import { READ_PAGE_BYTES, type GuildStore } from "../src/guild-store.js";
import { rejectsWith } from "./conformance.js";

type GuildClient = Client<typeof GuildStorageService>;
type EventInit = Exclude<MessageInitShape<typeof GuildEventRecordSchema>, GuildEventRecord>;

/** The real handlers over `store`, served through the in-memory Connect router. */
export function serveGuilds(store: GuildStore): GuildClient {
  const transport = createRouterTransport((router) => {
    router.service(GuildStorageService, createGuildHandlers(store));
  });
  return createClient(GuildStorageService, transport);
}

export interface GuildConformanceBackend {
  /** A fresh, OPEN store on the backend's database; the suite closes it. Called more than once ("storage nodes"). */
  makeStore: () => Promise<GuildStore>;
  /**
   * Writes event row `seq` of a guild straight into the database, bypassing appends and the
   * head (what a buggy or foreign writer could leave), so that an append can collide midway.
   */
  plantEvent: (guildId: bigint, seq: bigint) => Promise<void>;
  /** Runs after every store is closed (e.g. removes a database file). */
  cleanup?: () => Promise<void> | void;
}

const MiB = 1024 * 1024;
/** Random bytes as a plain Uint8Array (what reads return; a Buffer would not deep-equal it). */
const random = (n: number) => new Uint8Array(randomBytes(n));
const seqsOf = (events: readonly GuildEventRecord[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

/** Registers the guild storage contract suite for one backend. */
export function describeGuildConformance(name: string, backend: GuildConformanceBackend): void {
  describe(`guild storage contract (${name})`, () => {
    const stores: GuildStore[] = [];
    let guilds: GuildClient;
    const generator = new SnowflakeGenerator({ workerId: Math.floor(Math.random() * 32), processId: Math.floor(Math.random() * 32) });
    const snowflake = () => generator.next();
    const run = randomBytes(3).toString("hex");
    let serial = 0;

    before(async () => {
      stores.push(await backend.makeStore());
      guilds = serveGuilds(stores[0]);
    });

    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await backend.cleanup?.();
    });

    /** An event with a unique, recognisable payload; created_at at a whole millisecond. */
    const event = (init: EventInit = {}) =>
      create(GuildEventRecordSchema, {
        type: "TestEvent",
        payload: new TextEncoder().encode(`event ${run} ${++serial}`),
        createdAt: timestampFromMs(Date.now()),
        actorId: 42n,
        ...init,
      });

    /** The event as a read returns it: numbered. */
    const stored = (e: GuildEventRecord, seq: bigint) => create(GuildEventRecordSchema, { ...e, seq });

    async function append(guildId: bigint, expectedSeq: bigint, events: GuildEventRecord[]): Promise<bigint> {
      const res = await guilds.appendGuildEvents({ guildId, expectedSeq, events });
      assert.equal(res.lastSeq, expectedSeq + BigInt(events.length), "AppendGuildEvents returns the new last seq");
      return res.lastSeq;
    }

    /** Every event of a guild's log, page by page. */
    async function readAll(guildId: bigint, client = guilds): Promise<GuildEventRecord[]> {
      const all: GuildEventRecord[] = [];
      for (let afterSeq = 0n; ; ) {
        const page = await client.readGuildEvents({ guildId, afterSeq, limit: 1000 });
        all.push(...page.events);
        if (!page.more) return all;
        afterSeq = page.events.at(-1)!.seq;
      }
    }

    const head = async (guildId: bigint) => (await guilds.getGuildHead({ guildId })).lastSeq;

    describe("AppendGuildEvents and ReadGuildEvents", () => {
      it("round-trips every field, payloads byte for byte", async () => {
        const guildId = snowflake();
        const everyByte = new Uint8Array(256).map((_, i) => i);
        const events = [
          event({ payload: everyByte, type: "GuildCreate", actorId: (1n << 63n) - 1n }),
          event({ payload: new Uint8Array(0), type: "Empty", actorId: 0n }),
          event({ payload: random(MAX_EVENT_PAYLOAD_BYTES), type: "x".repeat(100) }),
          event({ payload: new Uint8Array([0, 0, 0]), createdAt: timestampFromMs(0) }),
        ];
        await append(guildId, 0n, events);
        const read = await guilds.readGuildEvents({ guildId, afterSeq: 0n, limit: 10 });
        assert.deepEqual(read.events, events.map((e, i) => stored(e, BigInt(i + 1))));
        assert.equal(read.more, false);
        assert.ok(Buffer.from(read.events[2].payload).equals(Buffer.from(events[2].payload)));
      });

      it("keeps created_at to the millisecond, dropping the rest", async () => {
        const guildId = snowflake();
        const createdAt = timestampFromMs(1_700_000_000_123);
        createdAt.nanos += 456_789; // 123.456789 ms
        await append(guildId, 0n, [event({ createdAt })]);
        const [read] = (await guilds.readGuildEvents({ guildId })).events;
        assert.equal(timestampMs(read.createdAt!), 1_700_000_000_123);
        assert.equal(timestampDate(read.createdAt!).getTime(), 1_700_000_000_123);
      });

      it("numbers events from expected_seq + 1 without gaps, accepting seqs that match", async () => {
        const guildId = snowflake();
        assert.equal(await append(guildId, 0n, [event()]), 1n);
        assert.equal(await append(guildId, 1n, [event(), event({ seq: 3n }), event()]), 4n);
        assert.equal(await append(guildId, 4n, [event({ seq: 5n })]), 5n);
        assert.deepEqual(seqsOf(await readAll(guildId)), range(1, 5));
        assert.equal(await head(guildId), 5n);
      });

      it("an append at a stale expected_seq is ABORTED saying the log moved past it, and writes nothing", async () => {
        const guildId = snowflake();
        const first = [event(), event(), event()];
        await append(guildId, 0n, first);
        for (const expectedSeq of [0n, 1n, 2n]) {
          await assert.rejects(guilds.appendGuildEvents({ guildId, expectedSeq, events: [event(), event()] }), (err: unknown) => {
            assert.ok(err instanceof ConnectError);
            assert.equal(err.code, Code.Aborted, err.rawMessage);
            assert.match(err.rawMessage, new RegExp(`moved past expected_seq ${expectedSeq}\\b`));
            assert.match(err.rawMessage, /last seq is 3\b/);
            return true;
          });
        }
        assert.deepEqual(await readAll(guildId), first.map((e, i) => stored(e, BigInt(i + 1))));
        assert.equal(await head(guildId), 3n);
      });

      it("is not idempotent: repeating a successful append is ABORTED", async () => {
        const guildId = snowflake();
        const events = [event()];
        await append(guildId, 0n, events);
        await rejectsWith(guilds.appendGuildEvents({ guildId, expectedSeq: 0n, events }), Code.Aborted);
        assert.equal((await readAll(guildId)).length, 1);
      });

      it("an expected_seq beyond the end of the log is FAILED_PRECONDITION and leaves no gap", async () => {
        const guildId = snowflake();
        await rejectsWith(guilds.appendGuildEvents({ guildId, expectedSeq: 1n, events: [event()] }), Code.FailedPrecondition);
        assert.equal(await head(guildId), 0n);
        await append(guildId, 0n, [event(), event()]);
        await assert.rejects(guilds.appendGuildEvents({ guildId, expectedSeq: 4n, events: [event()] }), (err: ConnectError) => {
          assert.equal(err.code, Code.FailedPrecondition, err.rawMessage);
          assert.match(err.rawMessage, /expected_seq 4 is beyond the end of the event log \(its last seq is 2\)/);
          return true;
        });
        assert.deepEqual(seqsOf(await readAll(guildId)), [1n, 2n]);
        assert.equal(await append(guildId, 2n, [event()]), 3n, "the right expected_seq still appends");
      });

      it("a multi-event append colliding midway writes nothing", async () => {
        const guildId = snowflake();
        const first = [event(), event(), event()];
        await append(guildId, 0n, first);
        await backend.plantEvent(guildId, 5n); // seq 4 free, seq 5 taken
        await assert.rejects(guilds.appendGuildEvents({ guildId, expectedSeq: 3n, events: [event(), event(), event()] }), (err: ConnectError) => {
          assert.equal(err.code, Code.Aborted, err.rawMessage);
          assert.match(err.rawMessage, /seq 5 already exists/);
          return true;
        });
        const log = await readAll(guildId);
        assert.deepEqual(seqsOf(log), [1n, 2n, 3n, 5n], "seq 4 was not written");
        assert.deepEqual(log.slice(0, 3), first.map((e, i) => stored(e, BigInt(i + 1))));
        assert.equal(await head(guildId), 3n, "the head did not move");
        // A single event still fits before the planted row.
        assert.equal(await append(guildId, 3n, [event()]), 4n);
      });

      it("a multi-event append at a stale expected_seq writes none of its events", async () => {
        const guildId = snowflake();
        const first = [event(), event(), event()];
        await append(guildId, 0n, first);
        await rejectsWith(guilds.appendGuildEvents({ guildId, expectedSeq: 1n, events: [event(), event(), event(), event()] }), Code.Aborted);
        assert.deepEqual(await readAll(guildId), first.map((e, i) => stored(e, BigInt(i + 1))));
      });

      it("appends 100 events at once", async () => {
        const guildId = snowflake();
        const events = Array.from({ length: 100 }, () => event());
        assert.equal(await append(guildId, 0n, events), 100n);
        assert.deepEqual(await readAll(guildId), events.map((e, i) => stored(e, BigInt(i + 1))));
      });

      it("keeps guilds apart: each has its own seqs, events, head and snapshot", async () => {
        const [a, b] = [snowflake(), snowflake()];
        const eventsA = [event(), event()];
        const eventsB = [event()];
        await append(a, 0n, eventsA.slice(0, 1));
        await append(b, 0n, eventsB);
        await append(a, 1n, eventsA.slice(1));
        assert.deepEqual(await readAll(a), eventsA.map((e, i) => stored(e, BigInt(i + 1))));
        assert.deepEqual(await readAll(b), eventsB.map((e, i) => stored(e, BigInt(i + 1))));
        assert.equal(await head(a), 2n);
        assert.equal(await head(b), 1n);
        await rejectsWith(guilds.appendGuildEvents({ guildId: b, expectedSeq: 2n, events: [event()] }), Code.FailedPrecondition);
        await guilds.putGuildSnapshot({ guildId: a, seq: 2n, state: new Uint8Array([1]) });
        await rejectsWith(guilds.getGuildSnapshot({ guildId: b }), Code.NotFound);
      });
    });

    describe("concurrent appends (fencing)", () => {
      it("of 20 callers at one expected_seq, exactly one wins each round and the log has no gaps or duplicates", async () => {
        // Callers spread over four stores, as over four storage nodes.
        while (stores.length < 4) stores.push(await backend.makeStore());
        const clients = stores.map(serveGuilds);
        const guildId = snowflake();
        const expected: GuildEventRecord[] = [];
        for (let round = 0; round < 5; round++) {
          const at = BigInt(expected.length);
          const batches = Array.from({ length: 20 }, (_, caller) =>
            Array.from({ length: 1 + ((caller + round) % 3) }, (_, i) =>
              event({ payload: new TextEncoder().encode(`round ${round} caller ${caller} event ${i}`), actorId: BigInt(caller + 1) }),
            ),
          );
          const results = await Promise.allSettled(
            batches.map((events, caller) => clients[caller % clients.length].appendGuildEvents({ guildId, expectedSeq: at, events })),
          );
          const winners = results.flatMap((r, caller) => (r.status === "fulfilled" ? [caller] : []));
          assert.equal(winners.length, 1, `round ${round}: ${winners.length} appends won`);
          for (const r of results) {
            if (r.status === "fulfilled") continue;
            assert.ok(r.reason instanceof ConnectError, String(r.reason));
            assert.equal(r.reason.code, Code.Aborted, `round ${round}: a loser got ${Code[r.reason.code]}: ${r.reason.rawMessage}`);
            assert.match(r.reason.rawMessage, /moved past expected_seq/);
          }
          const winner = winners[0];
          const won = results[winner] as PromiseFulfilledResult<{ lastSeq: bigint }>;
          assert.equal(won.value.lastSeq, at + BigInt(batches[winner].length));
          expected.push(...batches[winner].map((e, i) => stored(e, at + BigInt(i + 1))));
        }
        // Read through another "node" than most writers used.
        const log = await readAll(guildId, clients[3]);
        assert.deepEqual(seqsOf(log), range(1, expected.length), "no gaps, no duplicates");
        assert.deepEqual(log, expected, "exactly the winners' events, in order");
        assert.equal(await head(guildId), BigInt(expected.length));
      });
    });

    describe("ReadGuildEvents paging", () => {
      it("pages with after_seq and limit; more says whether events follow", async () => {
        const guildId = snowflake();
        const events = Array.from({ length: 25 }, () => event());
        await append(guildId, 0n, events);
        const page = async (afterSeq: bigint, limit: number) => {
          const res = await guilds.readGuildEvents({ guildId, afterSeq, limit });
          return { seqs: seqsOf(res.events), more: res.more };
        };
        assert.deepEqual(await page(0n, 10), { seqs: range(1, 10), more: true });
        assert.deepEqual(await page(10n, 10), { seqs: range(11, 20), more: true });
        assert.deepEqual(await page(20n, 10), { seqs: range(21, 25), more: false });
        assert.deepEqual(await page(15n, 10), { seqs: range(16, 25), more: false }, "exactly the rest: no more");
        assert.deepEqual(await page(24n, 1), { seqs: [25n], more: false });
        assert.deepEqual(await page(25n, 10), { seqs: [], more: false });
        assert.deepEqual(await page(1000n, 10), { seqs: [], more: false });
        assert.deepEqual(await page(0n, 1000), { seqs: range(1, 25), more: false });
        assert.deepEqual((await guilds.readGuildEvents({ guildId: snowflake() })).events, [], "an unknown guild has no events");
      });

      it("limit 0 means 500", async () => {
        const guildId = snowflake();
        for (let at = 0n; at < 600n; at += 100n) await append(guildId, at, Array.from({ length: 100 }, () => event({ payload: new Uint8Array(8) })));
        const res = await guilds.readGuildEvents({ guildId, afterSeq: 0n });
        assert.deepEqual(seqsOf(res.events), range(1, 500));
        assert.equal(res.more, true);
      });

      it("a page stops before its payloads exceed 4 MiB", async () => {
        const guildId = snowflake();
        const big = () => event({ payload: random(MAX_EVENT_PAYLOAD_BYTES) });
        const perPage = READ_PAGE_BYTES / MAX_EVENT_PAYLOAD_BYTES; // 64
        const events = Array.from({ length: perPage + 6 }, big);
        for (let at = 0; at < events.length; at += 16) await append(guildId, BigInt(at), events.slice(at, at + 16));
        const first = await guilds.readGuildEvents({ guildId, afterSeq: 0n, limit: 1000 });
        assert.deepEqual(seqsOf(first.events), range(1, perPage));
        assert.equal(first.more, true);
        const second = await guilds.readGuildEvents({ guildId, afterSeq: BigInt(perPage), limit: 1000 });
        assert.deepEqual(seqsOf(second.events), range(perPage + 1, perPage + 6));
        assert.equal(second.more, false);
        assert.deepEqual([...first.events, ...second.events], events.map((e, i) => stored(e, BigInt(i + 1))));
      });
    });

    describe("GetGuildHead", () => {
      it("is 0 for an unknown guild and the last seq after appends, failed ones included", async () => {
        const guildId = snowflake();
        assert.equal(await head(guildId), 0n);
        await append(guildId, 0n, [event(), event()]);
        assert.equal(await head(guildId), 2n);
        await rejectsWith(guilds.appendGuildEvents({ guildId, expectedSeq: 1n, events: [event()] }), Code.Aborted);
        await rejectsWith(guilds.appendGuildEvents({ guildId, expectedSeq: 3n, events: [event()] }), Code.FailedPrecondition);
        assert.equal(await head(guildId), 2n);
        await append(guildId, 2n, [event()]);
        assert.equal(await head(guildId), 3n);
      });
    });

    describe("snapshots", () => {
      it("GetGuildSnapshot is NOT_FOUND until one is stored, then returns it byte for byte", async () => {
        const guildId = snowflake();
        await rejectsWith(guilds.getGuildSnapshot({ guildId }), Code.NotFound);
        const state = random(4096);
        const before = Date.now();
        assert.deepEqual(await guilds.putGuildSnapshot({ guildId, seq: 7n, state }), create(PutGuildSnapshotResponseSchema, { stored: true, seq: 7n }));
        const { snapshot } = await guilds.getGuildSnapshot({ guildId });
        assert.equal(snapshot?.seq, 7n);
        assert.ok(Buffer.from(snapshot!.state).equals(state));
        const updatedAt = timestampMs(snapshot!.updatedAt!);
        assert.ok(updatedAt >= before - 5 && updatedAt <= Date.now() + 5, `updated_at ${updatedAt}`);
      });

      it("keeps the newest: a lower seq is ignored, an equal or higher one replaces", async () => {
        const guildId = snowflake();
        const state = (n: number) => new Uint8Array([n, n, n]);
        const current = async () => {
          const { snapshot } = await guilds.getGuildSnapshot({ guildId });
          return { seq: snapshot!.seq, state: [...snapshot!.state] };
        };
        await guilds.putGuildSnapshot({ guildId, seq: 10n, state: state(1) });
        assert.deepEqual(await guilds.putGuildSnapshot({ guildId, seq: 9n, state: state(2) }), create(PutGuildSnapshotResponseSchema, { stored: false, seq: 10n }));
        assert.deepEqual(await current(), { seq: 10n, state: [1, 1, 1] });
        assert.deepEqual(await guilds.putGuildSnapshot({ guildId, seq: 10n, state: state(3) }), create(PutGuildSnapshotResponseSchema, { stored: true, seq: 10n }));
        assert.deepEqual(await current(), { seq: 10n, state: [3, 3, 3] });
        assert.deepEqual(await guilds.putGuildSnapshot({ guildId, seq: 25n, state: state(4) }), create(PutGuildSnapshotResponseSchema, { stored: true, seq: 25n }));
        assert.deepEqual(await current(), { seq: 25n, state: [4, 4, 4] });
        assert.deepEqual(await guilds.putGuildSnapshot({ guildId, seq: 0n, state: state(5) }), create(PutGuildSnapshotResponseSchema, { stored: false, seq: 25n }));
        assert.deepEqual(await current(), { seq: 25n, state: [4, 4, 4] });
      });

      it("of concurrent snapshot writes, the highest seq is what stays", async () => {
        const guildId = snowflake();
        const seqs = Array.from({ length: 12 }, (_, i) => BigInt(((i * 7) % 12) + 1)); // 1..12, shuffled
        await Promise.all(seqs.map((seq) => guilds.putGuildSnapshot({ guildId, seq, state: new TextEncoder().encode(`at ${seq}`) })));
        const { snapshot } = await guilds.getGuildSnapshot({ guildId });
        assert.equal(snapshot?.seq, 12n);
        assert.equal(new TextDecoder().decode(snapshot!.state), "at 12");
      });

      it("stores an empty state and one of the maximum size (3 MiB)", async () => {
        const empty = snowflake();
        await guilds.putGuildSnapshot({ guildId: empty, seq: 1n, state: new Uint8Array(0) });
        assert.equal((await guilds.getGuildSnapshot({ guildId: empty })).snapshot?.state.length, 0);
        const large = snowflake();
        const state = random(MAX_SNAPSHOT_BYTES);
        await guilds.putGuildSnapshot({ guildId: large, seq: 1n, state });
        assert.ok(Buffer.from((await guilds.getGuildSnapshot({ guildId: large })).snapshot!.state).equals(state));
        await rejectsWith(guilds.putGuildSnapshot({ guildId: large, seq: 2n, state: new Uint8Array(3 * MiB + 1) }), Code.InvalidArgument, "state");
      });
    });

    describe("user guild index", () => {
      it("adds, lists ascending and removes, idempotently", async () => {
        const userId = snowflake();
        const ids = [snowflake(), snowflake(), snowflake(), snowflake()];
        assert.deepEqual((await guilds.listUserGuilds({ userId })).guildIds, []);
        for (const guildId of [ids[2], ids[0], ids[3], ids[1], ids[0], ids[2]]) await guilds.addUserGuild({ userId, guildId });
        assert.deepEqual((await guilds.listUserGuilds({ userId })).guildIds, ids, "each guild once, ascending");
        await guilds.removeUserGuild({ userId, guildId: ids[1] });
        await guilds.removeUserGuild({ userId, guildId: ids[1] });
        await guilds.removeUserGuild({ userId, guildId: snowflake() });
        assert.deepEqual((await guilds.listUserGuilds({ userId })).guildIds, [ids[0], ids[2], ids[3]]);
        await guilds.addUserGuild({ userId, guildId: ids[1] });
        assert.deepEqual((await guilds.listUserGuilds({ userId })).guildIds, ids, "re-added after a removal");
      });

      it("pages with after_guild_id and limit, and keeps users apart", async () => {
        const [alice, bob] = [snowflake(), snowflake()];
        const ids = Array.from({ length: 5 }, () => snowflake());
        for (const guildId of ids) await guilds.addUserGuild({ userId: alice, guildId });
        await guilds.addUserGuild({ userId: bob, guildId: ids[2] });
        assert.deepEqual((await guilds.listUserGuilds({ userId: alice, limit: 2 })).guildIds, ids.slice(0, 2));
        assert.deepEqual((await guilds.listUserGuilds({ userId: alice, afterGuildId: ids[1], limit: 2 })).guildIds, ids.slice(2, 4));
        assert.deepEqual((await guilds.listUserGuilds({ userId: alice, afterGuildId: ids[3], limit: 2 })).guildIds, ids.slice(4));
        assert.deepEqual((await guilds.listUserGuilds({ userId: bob })).guildIds, [ids[2]]);
        await guilds.removeUserGuild({ userId: bob, guildId: ids[2] });
        assert.deepEqual((await guilds.listUserGuilds({ userId: bob })).guildIds, []);
        assert.deepEqual((await guilds.listUserGuilds({ userId: alice })).guildIds, ids, "bob's removal left alice alone");
      });
    });

    describe("directory", () => {
      /** A key no other test or run uses. */
      const freshKey = (prefix = "key") => `${prefix}-${run}-${++serial}`;
      const claimed = (ownerId: bigint, won = true) => create(ClaimDirectoryEntryResponseSchema, { claimed: won, ownerId });
      const holder = async (kind: DirectoryKind, key: string) => (await guilds.getDirectoryEntry({ kind, key })).ownerId;

      it("claims a free key, repeats the claim for its holder, and refuses it to others returning the holder", async () => {
        const key = freshKey();
        const [owner, other] = [snowflake(), snowflake()];
        const kind = DirectoryKind.CHANNEL;
        await rejectsWith(guilds.getDirectoryEntry({ kind, key }), Code.NotFound);
        assert.deepEqual(await guilds.claimDirectoryEntry({ kind, key, ownerId: owner }), claimed(owner));
        assert.equal(await holder(kind, key), owner);
        assert.deepEqual(await guilds.claimDirectoryEntry({ kind, key, ownerId: owner }), claimed(owner), "a retry is harmless");
        assert.deepEqual(await guilds.claimDirectoryEntry({ kind, key, ownerId: other }), claimed(owner, false));
        assert.equal(await holder(kind, key), owner, "a refused claim changes nothing");
      });

      it("releases only for the holder; a released key can be claimed by another owner", async () => {
        const key = freshKey("invite");
        const [owner, other] = [snowflake(), snowflake()];
        const kind = DirectoryKind.INVITE;
        await guilds.claimDirectoryEntry({ kind, key, ownerId: owner });
        assert.equal((await guilds.releaseDirectoryEntry({ kind, key, ownerId: other })).released, false, "not the holder");
        assert.equal(await holder(kind, key), owner, "a release by another owner changes nothing");
        assert.equal((await guilds.releaseDirectoryEntry({ kind, key, ownerId: owner })).released, true);
        await rejectsWith(guilds.getDirectoryEntry({ kind, key }), Code.NotFound);
        assert.equal((await guilds.releaseDirectoryEntry({ kind, key, ownerId: owner })).released, false, "released already");
        assert.equal((await guilds.releaseDirectoryEntry({ kind, key: freshKey(), ownerId: owner })).released, false, "never claimed");
        assert.deepEqual(await guilds.claimDirectoryEntry({ kind, key, ownerId: other }), claimed(other));
        assert.equal(await holder(kind, key), other);
      });

      it("keeps kinds apart and keys exact (case, Unicode, the maximum length)", async () => {
        const key = freshKey("AbC");
        const owners = [snowflake(), snowflake(), snowflake(), snowflake()];
        const kinds = [DirectoryKind.CHANNEL, DirectoryKind.INVITE, DirectoryKind.DM];
        for (const [i, kind] of kinds.entries()) assert.deepEqual(await guilds.claimDirectoryEntry({ kind, key, ownerId: owners[i] }), claimed(owners[i]));
        for (const [i, kind] of kinds.entries()) assert.equal(await holder(kind, key), owners[i]);
        assert.deepEqual(await guilds.claimDirectoryEntry({ kind: DirectoryKind.INVITE, key: key.toLowerCase(), ownerId: owners[3] }), claimed(owners[3]));
        assert.equal(await holder(DirectoryKind.INVITE, key), owners[1], "keys are case-sensitive");
        await guilds.releaseDirectoryEntry({ kind: DirectoryKind.CHANNEL, key, ownerId: owners[0] });
        assert.equal(await holder(DirectoryKind.DM, key), owners[2], "a release frees one kind's key only");

        const unicode = `ключ-✨-${run}-${++serial}`;
        const longest = `${run}-${++serial}-`.padEnd(MAX_DIRECTORY_KEY_LENGTH, "x");
        for (const k of [unicode, longest]) {
          await guilds.claimDirectoryEntry({ kind: DirectoryKind.DM, key: k, ownerId: owners[0] });
          assert.equal(await holder(DirectoryKind.DM, k), owners[0], k);
        }
      });

      it("of 20 concurrent claims of one key by different owners, exactly one wins and every caller learns the winner", async () => {
        // Callers spread over four stores, as over four storage nodes.
        while (stores.length < 4) stores.push(await backend.makeStore());
        const clients = stores.map(serveGuilds);
        for (let round = 0; round < 5; round++) {
          const key = freshKey("race");
          const kind = DirectoryKind.DM;
          const owners = Array.from({ length: 20 }, () => snowflake());
          const results = await Promise.all(
            owners.map((ownerId, caller) => clients[caller % clients.length].claimDirectoryEntry({ kind, key, ownerId })),
          );
          const winners = results.flatMap((r, caller) => (r.claimed ? [owners[caller]] : []));
          assert.equal(winners.length, 1, `round ${round}: ${winners.length} claims won`);
          const [winner] = winners;
          for (const [caller, r] of results.entries()) {
            assert.equal(r.ownerId, winner, `round ${round}: caller ${caller} was told ${r.ownerId}, the winner is ${winner}`);
          }
          for (const client of clients) assert.equal((await client.getDirectoryEntry({ kind, key })).ownerId, winner);
          // The losers cannot free it; the winner's retry still holds it.
          const losers = owners.filter((o) => o !== winner);
          const releases = await Promise.all(losers.map((ownerId, i) => clients[i % clients.length].releaseDirectoryEntry({ kind, key, ownerId })));
          assert.ok(releases.every((r) => !r.released), `round ${round}: a loser released the key`);
          assert.deepEqual(await clients[round % clients.length].claimDirectoryEntry({ kind, key, ownerId: winner }), claimed(winner));
          assert.equal(await holder(kind, key), winner);
        }
      });

      it("names the bad field", async () => {
        const key = freshKey();
        const ownerId = snowflake();
        const kind = DirectoryKind.CHANNEL;
        for (const badKind of [DirectoryKind.UNSPECIFIED, 99 as DirectoryKind]) {
          await rejectsWith(guilds.claimDirectoryEntry({ kind: badKind, key, ownerId }), Code.InvalidArgument, "kind");
          await rejectsWith(guilds.getDirectoryEntry({ kind: badKind, key }), Code.InvalidArgument, "kind");
          await rejectsWith(guilds.releaseDirectoryEntry({ kind: badKind, key, ownerId }), Code.InvalidArgument, "kind");
        }
        const tooLong = "k".repeat(MAX_DIRECTORY_KEY_LENGTH + 1);
        for (const badKey of ["", tooLong]) {
          await rejectsWith(guilds.claimDirectoryEntry({ kind, key: badKey, ownerId }), Code.InvalidArgument, "key");
          await rejectsWith(guilds.getDirectoryEntry({ kind, key: badKey }), Code.InvalidArgument, "key");
          await rejectsWith(guilds.releaseDirectoryEntry({ kind, key: badKey, ownerId }), Code.InvalidArgument, "key");
        }
        for (const badOwner of [0n, 1n << 63n]) {
          await rejectsWith(guilds.claimDirectoryEntry({ kind, key, ownerId: badOwner }), Code.InvalidArgument, "owner_id");
          await rejectsWith(guilds.releaseDirectoryEntry({ kind, key, ownerId: badOwner }), Code.InvalidArgument, "owner_id");
        }
        await rejectsWith(guilds.getDirectoryEntry({ kind, key }), Code.NotFound);
      });
    });

    describe("validation", () => {
      const big = 1n << 63n;

      it("AppendGuildEvents names the bad field and writes nothing", async () => {
        const guildId = snowflake();
        const append = (init: { guildId?: bigint; expectedSeq?: bigint; events?: GuildEventRecord[] }) =>
          guilds.appendGuildEvents({ guildId, expectedSeq: 0n, events: [event()], ...init });
        await rejectsWith(append({ guildId: 0n }), Code.InvalidArgument, "guild_id");
        await assert.rejects(append({ guildId: 0n }), (err: ConnectError) => err.rawMessage.startsWith("guild_id: required"));
        await rejectsWith(append({ guildId: big }), Code.InvalidArgument, "guild_id");
        await rejectsWith(append({ events: [] }), Code.InvalidArgument, "events");
        await rejectsWith(append({ events: Array.from({ length: 101 }, () => event()) }), Code.InvalidArgument, "events");
        await rejectsWith(append({ events: [event(), event({ type: "" })] }), Code.InvalidArgument, "events[1].type");
        await rejectsWith(append({ events: [event({ type: "x".repeat(101) })] }), Code.InvalidArgument, "events[0].type");
        await rejectsWith(append({ events: [event({ payload: new Uint8Array(MAX_EVENT_PAYLOAD_BYTES + 1) })] }), Code.InvalidArgument, "events[0].payload");
        const fullPayloads = Array.from({ length: 17 }, () => event({ payload: new Uint8Array(MAX_EVENT_PAYLOAD_BYTES) }));
        await rejectsWith(append({ events: fullPayloads }), Code.InvalidArgument, "events");
        await rejectsWith(append({ events: [event({ createdAt: undefined })] }), Code.InvalidArgument, "events[0].created_at");
        await rejectsWith(append({ events: [event({ createdAt: { seconds: 253_402_300_800n } })] }), Code.InvalidArgument, "events[0].created_at");
        await rejectsWith(append({ events: [event({ actorId: big })] }), Code.InvalidArgument, "events[0].actor_id");
        await rejectsWith(append({ events: [event(), event({ seq: 3n })] }), Code.InvalidArgument, "events[1].seq");
        await rejectsWith(append({ expectedSeq: big }), Code.InvalidArgument, "expected_seq");
        await rejectsWith(append({ expectedSeq: big - 2n, events: [event(), event()] }), Code.InvalidArgument, "expected_seq");
        assert.equal(await head(guildId), 0n);
        assert.deepEqual((await guilds.readGuildEvents({ guildId })).events, []);
      });

      it("the other calls name the bad field", async () => {
        const guildId = snowflake();
        await rejectsWith(guilds.readGuildEvents({ guildId: 0n }), Code.InvalidArgument, "guild_id");
        await rejectsWith(guilds.readGuildEvents({ guildId, limit: 1001 }), Code.InvalidArgument, "limit");
        await rejectsWith(guilds.readGuildEvents({ guildId, afterSeq: big }), Code.InvalidArgument, "after_seq");
        await rejectsWith(guilds.getGuildHead({ guildId: 0n }), Code.InvalidArgument, "guild_id");
        await rejectsWith(guilds.putGuildSnapshot({ guildId: 0n, seq: 1n }), Code.InvalidArgument, "guild_id");
        await rejectsWith(guilds.putGuildSnapshot({ guildId, seq: big }), Code.InvalidArgument, "seq");
        await rejectsWith(guilds.getGuildSnapshot({ guildId: 0n }), Code.InvalidArgument, "guild_id");
        await rejectsWith(guilds.addUserGuild({ userId: 0n, guildId }), Code.InvalidArgument, "user_id");
        await rejectsWith(guilds.addUserGuild({ userId: snowflake(), guildId: 0n }), Code.InvalidArgument, "guild_id");
        await rejectsWith(guilds.removeUserGuild({ userId: snowflake(), guildId: big }), Code.InvalidArgument, "guild_id");
        await rejectsWith(guilds.listUserGuilds({ userId: 0n }), Code.InvalidArgument, "user_id");
        await rejectsWith(guilds.listUserGuilds({ userId: snowflake(), limit: 1001 }), Code.InvalidArgument, "limit");
        await rejectsWith(guilds.listUserGuilds({ userId: snowflake(), afterGuildId: big }), Code.InvalidArgument, "after_guild_id");
        await rejectsWith(guilds.getGuildSnapshot({ guildId }), Code.NotFound);
      });
    });
  });
}

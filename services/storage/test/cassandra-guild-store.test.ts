// The guild storage contract on a real Cassandra (the same suite as SQLite), plus what only
// Cassandra has: appends whose reply is lost (a lightweight transaction that timed out may
// or may not have been applied) and the raw rows behind the log.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import cassandra from "cassandra-driver";
import { SnowflakeGenerator } from "@chorus/snowflake";
import type { CassandraGuildStore } from "../src/cassandra-guild-store.js";
import type { CassandraSession } from "../src/cassandra-session.js";
import { GuildLogConflictError, type GuildEventInput } from "../src/guild-store.js";
import { StoreUnavailableError } from "../src/storage-errors.js";
import { cassandraGuildStore, rawCassandraClient, TEST_KEYSPACE } from "./cassandra-fixture.js";
import { describeGuildConformance } from "./guild-conformance.js";

let raw: cassandra.Client | undefined;

async function rawClient(): Promise<cassandra.Client> {
  raw ??= await rawCassandraClient();
  return raw;
}

after(async () => {
  await raw?.shutdown();
});

describeGuildConformance("cassandra", {
  makeStore: () => cassandraGuildStore(),
  async plantEvent(guildId, seq) {
    // A plain write of one row: it sets neither the head nor an append id.
    await (await rawClient()).execute(
      `INSERT INTO ${TEST_KEYSPACE}.guild_events (guild_id, seq, payload, type, created_at, actor_id) VALUES (?, ?, ?, ?, ?, ?)`,
      [guildId, seq, Buffer.from("planted"), "Planted", new Date(), 0n],
      { prepare: true },
    );
  },
});

describe("Cassandra guild store: appends whose reply is lost", () => {
  const ids = new SnowflakeGenerator({ workerId: 7, processId: Math.floor(Math.random() * 32) });
  let store: CassandraGuildStore;
  let rival: CassandraGuildStore;
  let session: CassandraSession;
  let realBatch: CassandraSession["batch"];

  const event = (n: number): GuildEventInput => ({ type: "Test", payload: new Uint8Array([n]), createdAtMs: Date.now(), actorId: 1n });
  /** What the driver throws when a request's reply does not come back in time. */
  const lostReply = () =>
    new StoreUnavailableError("cassandra append_guild_events failed: timed out", { cause: new cassandra.errors.OperationTimedOutError("lost reply") });
  let batchCalls = 0;

  /** Replaces the store's batch call for the next test. */
  function interceptBatch(intercept: (attempt: number, real: () => ReturnType<CassandraSession["batch"]>) => ReturnType<CassandraSession["batch"]>) {
    batchCalls = 0;
    session.batch = (operation, queries, options) => intercept(++batchCalls, () => realBatch.call(session, operation, queries, options));
  }

  before(async () => {
    store = await cassandraGuildStore();
    rival = await cassandraGuildStore();
    session = (store as unknown as { session: CassandraSession }).session;
    realBatch = session.batch;
  });

  after(async () => {
    await store?.close();
    await rival?.close();
  });

  async function rawRows(guildId: bigint) {
    const result = await (await rawClient()).execute(
      `SELECT seq, head, append_id FROM ${TEST_KEYSPACE}.guild_events WHERE guild_id = ?`,
      [guildId],
      { prepare: true },
    );
    return result.rows;
  }

  it("an append that landed but whose reply was lost reports success, once", async () => {
    const guildId = ids.next();
    interceptBatch(async (_attempt, real) => {
      await real();
      throw lostReply();
    });
    try {
      assert.equal(await store.append(guildId, 0n, [event(1), event(2)]), 2n);
    } finally {
      session.batch = realBatch;
    }
    assert.equal(batchCalls, 1, "not sent again");
    const rows = await rawRows(guildId);
    assert.deepEqual(rows.map((r) => r.seq), [1n, 2n]);
    assert.deepEqual(rows.map((r) => r.head), [2n, 2n], "the head is static: one value on every row");
    assert.ok(rows[0].append_id.equals(rows[1].append_id), "one append id for the whole batch");
  });

  it("an append lost before it landed is sent again and lands once", async () => {
    const guildId = ids.next();
    interceptBatch(async (attempt, real) => {
      if (attempt === 1) throw lostReply();
      return real();
    });
    try {
      assert.equal(await store.append(guildId, 0n, [event(1)]), 1n);
    } finally {
      session.batch = realBatch;
    }
    assert.equal(batchCalls, 2);
    assert.deepEqual((await store.read(guildId, 0n, 10)).events.map((e) => e.seq), [1n]);
  });

  it("an append whose reply was lost while another append won is a conflict, not a success", async () => {
    const guildId = ids.next();
    await store.append(guildId, 0n, [event(1)]);
    interceptBatch(async (_attempt, real) => {
      await rival.append(guildId, 1n, [event(2)]);
      await real(); // refused: seq 2 belongs to the rival now
      throw lostReply();
    });
    try {
      await assert.rejects(store.append(guildId, 1n, [event(3)]), (err: unknown) => {
        assert.ok(err instanceof GuildLogConflictError, String(err));
        assert.equal(err.lastSeq, 2n);
        return true;
      });
    } finally {
      session.batch = realBatch;
    }
    const events = (await store.read(guildId, 0n, 10)).events;
    assert.deepEqual(events.map((e) => [...e.payload]), [[1], [2]]);
  });

  it("gives up with UNAVAILABLE when every attempt is lost before landing", async () => {
    const guildId = ids.next();
    interceptBatch(async () => {
      throw lostReply();
    });
    try {
      await assert.rejects(store.append(guildId, 0n, [event(1)]), StoreUnavailableError);
    } finally {
      session.batch = realBatch;
    }
    assert.equal(batchCalls, 3);
    assert.equal(await store.head(guildId), 0n);
  });
});

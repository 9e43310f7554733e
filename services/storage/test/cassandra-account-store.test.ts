// The account storage contract on a real Cassandra (the same suite as SQLite), plus what only
// Cassandra has: name claims left behind by a create or rename that died midway.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import cassandra from "cassandra-driver";
import { create } from "@bufbuild/protobuf";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { cassandraContactPoints } from "@chorus/testing";
import { AccountConflictError } from "../src/account-store.js";
import type { CassandraAccountStore } from "../src/cassandra-account-store.js";
import { describeAccountConformance } from "./account-conformance.js";
import { cassandraAccountStore, TEST_KEYSPACE } from "./cassandra-fixture.js";

describeAccountConformance("cassandra", () => cassandraAccountStore());

describe("Cassandra account store: leftover name claims", () => {
  const SETTLE_MS = 1500;
  const ids = new SnowflakeGenerator({ workerId: 6, processId: Math.floor(Math.random() * 32) });
  const run = randomBytes(4).toString("hex");
  let store: CassandraAccountStore;
  let raw: cassandra.Client;

  before(async () => {
    store = await cassandraAccountStore(SETTLE_MS);
    raw = new cassandra.Client({
      contactPoints: cassandraContactPoints(),
      localDataCenter: process.env.CHORUS_CASSANDRA_LOCAL_DC ?? "datacenter1",
      encoding: { useBigIntAsLong: true },
    });
    await raw.connect();
  });

  after(async () => {
    await store?.close();
    await raw?.shutdown();
  });

  /** What a storage node killed between claiming a name and writing the account leaves behind. */
  async function leaveClaim(table: "users_by_username" | "users_by_email", key: string, holder: bigint) {
    const column = table === "users_by_username" ? "username_key" : "email_key";
    await raw.execute(`INSERT INTO ${TEST_KEYSPACE}.${table} (${column}, user_id) VALUES (?, ?) IF NOT EXISTS`, [key, holder], { prepare: true });
  }

  it("a leftover claim blocks its name only until it is older than claimSettleMs, and never logs in", async () => {
    const username = `orphan_${run}`;
    const email = `orphan_${run}@example.com`;
    const ghost = ids.next();
    await leaveClaim("users_by_username", username, ghost);
    await leaveClaim("users_by_email", email, ghost);
    assert.equal(await store.findByLogin(username), undefined, "a claim without its account does not log in");
    assert.equal(await store.findByLogin(email), undefined);

    const user = create(UserSchema, { id: ids.next(), username, email, locale: "en-US" });
    // Young: it may be a create still in flight, so it is respected.
    await assert.rejects(store.createUser(user, "h"), (err: unknown) => err instanceof AccountConflictError && err.field === "username");

    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS + 500));
    assert.deepEqual(await store.createUser(user, "h"), user, "old enough: taken over");
    assert.equal((await store.findByLogin(email))?.user.id, user.id);
    assert.equal((await store.findByLogin(username))?.user.id, user.id);
  });

  it("a claim held by a live account is never taken over, however old", async () => {
    const owner = create(UserSchema, { id: ids.next(), username: `owner_${run}`, email: `owner_${run}@example.com`, locale: "en-US" });
    await store.createUser(owner, "h");
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS + 500));
    const rival = create(UserSchema, { id: ids.next(), username: owner.username, email: `rival_${run}@example.com`, locale: "en-US" });
    await assert.rejects(store.createUser(rival, "h"), (err: unknown) => err instanceof AccountConflictError && err.field === "username");
    assert.equal((await store.findByLogin(owner.username))?.user.id, owner.id);
  });
});

// The account storage contract on a real Cassandra (the same suite as SQLite), plus what only
// Cassandra has: name claims left behind by a create or rename that died midway, and the
// tokens_by_user index that RevokeUserTokens reads.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import cassandra from "cassandra-driver";
import { create } from "@bufbuild/protobuf";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { AccountConflictError } from "../src/account-store.js";
import type { CassandraAccountStore } from "../src/cassandra-account-store.js";
import { describeAccountConformance } from "./account-conformance.js";
import { cassandraAccountStore, rawCassandraClient, TEST_KEYSPACE } from "./cassandra-fixture.js";

describeAccountConformance("cassandra", () => cassandraAccountStore());

describe("Cassandra account store: leftovers of writes that died midway (name claims, token index entries)", () => {
  const SETTLE_MS = 1500;
  const ids = new SnowflakeGenerator({ workerId: 6, processId: Math.floor(Math.random() * 32) });
  const run = randomBytes(4).toString("hex");
  let store: CassandraAccountStore;
  let raw: cassandra.Client;

  before(async () => {
    store = await cassandraAccountStore(SETTLE_MS);
    raw = await rawCassandraClient();
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

  const hashes = async (userId: bigint, kind: TokenKind) =>
    (
      await raw.execute(`SELECT token_hash FROM ${TEST_KEYSPACE}.tokens_by_user WHERE user_id = ? AND kind = ?`, [userId, kind], { prepare: true })
    ).rows.map((r) => (r.token_hash as Buffer).toString("hex"));

  it("CreateToken indexes the token before writing it; RevokeToken and RevokeUserTokens remove the entries", async () => {
    const userId = ids.next();
    const [a, b] = [randomBytes(32), randomBytes(32)];
    await store.createToken({ tokenHash: a, userId, kind: TokenKind.BOT });
    await store.createToken({ tokenHash: b, userId, kind: TokenKind.BOT });
    assert.deepEqual((await hashes(userId, TokenKind.BOT)).sort(), [a.toString("hex"), b.toString("hex")].sort());
    assert.equal(await store.revokeToken(a), true);
    assert.deepEqual(await hashes(userId, TokenKind.BOT), [b.toString("hex")]);
    assert.equal(await store.revokeUserTokens(userId, TokenKind.BOT), 1);
    assert.deepEqual(await hashes(userId, TokenKind.BOT), []);
  });

  it("an entry whose token is not written yet (a create in flight) is kept until older than claimSettleMs", async () => {
    const userId = ids.next();
    const hash = randomBytes(32);
    // CreateToken's first step only: the index entry.
    await raw.execute(
      `INSERT INTO ${TEST_KEYSPACE}.tokens_by_user (user_id, kind, token_hash, created_at) VALUES (?, ?, ?, ?)`,
      [userId, TokenKind.BOT, hash, new Date()],
      { prepare: true },
    );
    assert.equal(await store.revokeUserTokens(userId, TokenKind.BOT), 0);
    assert.deepEqual(await hashes(userId, TokenKind.BOT), [hash.toString("hex")], "young: kept");
    // The create's second step lands after the revoke: the next revoke still finds the token.
    await raw.execute(`INSERT INTO ${TEST_KEYSPACE}.tokens (token_hash, user_id, kind, created_at) VALUES (?, ?, ?, ?) IF NOT EXISTS`, [
      hash, userId, TokenKind.BOT, new Date(),
    ], { prepare: true });
    assert.equal(await store.revokeUserTokens(userId, TokenKind.BOT), 1);
    assert.equal(await store.resolveToken(hash), undefined);
    assert.deepEqual(await hashes(userId, TokenKind.BOT), []);

    // A create that died after its first step: removed once no create can still be in flight.
    const orphan = randomBytes(32);
    await raw.execute(
      `INSERT INTO ${TEST_KEYSPACE}.tokens_by_user (user_id, kind, token_hash, created_at) VALUES (?, ?, ?, ?)`,
      [userId, TokenKind.BOT, orphan, new Date()],
      { prepare: true },
    );
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS + 500));
    assert.equal(await store.revokeUserTokens(userId, TokenKind.BOT), 0);
    assert.deepEqual(await hashes(userId, TokenKind.BOT), [], "old: removed");
  });
});

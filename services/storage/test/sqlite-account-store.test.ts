// The account storage contract on SQLite, in a temp database file shared with the message
// store as in embedded mode.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { SqliteAccountStore } from "../src/sqlite-account-store.js";
import { SqliteMessageStore } from "../src/sqlite-store.js";
import { appliedMigrations, SQLITE_MIGRATIONS } from "../src/sqlite-schema.js";
import { describeAccountConformance } from "./account-conformance.js";
import { databaseAtVersion } from "./sqlite-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "chorus-sqlite-accounts-"));

describeAccountConformance(
  "sqlite",
  async () => {
    const store = new SqliteAccountStore({ path: join(dir, "messages.db") });
    await store.open();
    return store;
  },
  () => rmSync(dir, { recursive: true, force: true }),
);

describe("SQLite account store", () => {
  it("shares one database file with the message store, each store opening it in either order", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "chorus-sqlite-shared-")), "messages.db");
    try {
      const accounts = new SqliteAccountStore({ path });
      await accounts.open();
      const messages = new SqliteMessageStore({ path });
      await messages.open();
      try {
        assert.deepEqual(messages.appliedMigrations(), SQLITE_MIGRATIONS.map((m) => m.version));
        const user = create(UserSchema, { id: 42n, username: "shared", email: "shared@example.com", locale: "en-US" });
        await accounts.createUser(user, "h");
        const message = create(MessageSchema, { id: 1n << 40n, channelId: 1n << 30n, authorId: user.id, content: "hi" });
        await messages.insert(message);
        assert.deepEqual(await accounts.getUser(user.id), user);
        assert.deepEqual(await messages.get(message.channelId, message.id), message);
      } finally {
        await messages.close();
        await accounts.close();
      }
      const reopened = new SqliteAccountStore({ path });
      await reopened.open();
      assert.equal((await reopened.findByLogin("SHARED@example.com"))?.user.id, 42n, "accounts survive a reopen");
      await reopened.close();
    } finally {
      rmSync(join(path, ".."), { recursive: true, force: true });
    }
  });

  it("upgrades a database made before RevokeUserTokens: the tokens recorded before are revoked too", async () => {
    const folder = mkdtempSync(join(tmpdir(), "chorus-sqlite-upgrade-"));
    const file = join(folder, "messages.db");
    const hash = (n: number) => new Uint8Array(32).fill(n);
    try {
      // A database as the previous release left it: migrations 1 to 4, with tokens.
      const old = databaseAtVersion(file, 4);
      const insert = old.prepare("INSERT INTO tokens (token_hash, user_id, kind, created_at) VALUES (?, ?, ?, ?)");
      insert.run(Buffer.from(hash(1)), 7, TokenKind.BOT, 1);
      insert.run(Buffer.from(hash(2)), 7, TokenKind.BOT, 2);
      insert.run(Buffer.from(hash(3)), 7, TokenKind.USER, 3);
      insert.run(Buffer.from(hash(4)), 8, TokenKind.BOT, 4);
      old.close();

      const accounts = new SqliteAccountStore({ path: file });
      await accounts.open();
      try {
        assert.equal(await accounts.revokeUserTokens(7n, TokenKind.BOT), 2);
        assert.equal(await accounts.resolveToken(hash(1)), undefined);
        assert.equal(await accounts.resolveToken(hash(2)), undefined);
        assert.equal((await accounts.resolveToken(hash(3)))?.userId, 7n, "another kind");
        assert.equal((await accounts.resolveToken(hash(4)))?.userId, 8n, "another user");
      } finally {
        await accounts.close();
      }
      const db = new Database(file, { readonly: true });
      db.defaultSafeIntegers(true);
      try {
        assert.deepEqual(appliedMigrations(db), SQLITE_MIGRATIONS.map((m) => m.version));
        const plan = db.prepare("EXPLAIN QUERY PLAN DELETE FROM tokens WHERE user_id = ? AND kind = ?").all(7, 2) as { detail: string }[];
        assert.ok(plan.some((step) => step.detail.includes("tokens_by_user")), `RevokeUserTokens uses the index: ${plan.map((step) => step.detail).join("; ")}`);
      } finally {
        db.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

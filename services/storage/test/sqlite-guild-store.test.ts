// The guild storage contract on SQLite, in a temp database file shared with the message and
// account stores as in embedded mode, plus the upgrade of a database made before guild logs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { create } from "@bufbuild/protobuf";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { SqliteAccountStore } from "../src/sqlite-account-store.js";
import { SqliteGuildStore } from "../src/sqlite-guild-store.js";
import { appliedMigrations, SQLITE_MIGRATIONS } from "../src/sqlite-schema.js";
import { describeGuildConformance } from "./guild-conformance.js";
import { databaseAtVersion } from "./sqlite-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "chorus-sqlite-guilds-"));
const path = join(dir, "messages.db");

describeGuildConformance("sqlite", {
  async makeStore() {
    const store = new SqliteGuildStore({ path });
    await store.open();
    return store;
  },
  async plantEvent(guildId, seq) {
    const db = new Database(path, { timeout: 5000 });
    try {
      db.prepare("INSERT INTO guild_events (guild_id, seq, payload, type, created_at, actor_id) VALUES (?, ?, ?, ?, ?, ?)").run(
        guildId,
        seq,
        Buffer.from("planted"),
        "Planted",
        Date.now(),
        0,
      );
    } finally {
      db.close();
    }
  },
  cleanup: () => rmSync(dir, { recursive: true, force: true }),
});

describe("SQLite guild store", () => {
  it("upgrades a database made before guild logs, keeping its data", async () => {
    const folder = mkdtempSync(join(tmpdir(), "chorus-sqlite-upgrade-"));
    const file = join(folder, "messages.db");
    try {
      // A database as the previous release left it: migrations 1 and 2 only, one account.
      databaseAtVersion(file, 2).close();
      const accounts = new SqliteAccountStore({ path: file });
      await accounts.open();
      const user = create(UserSchema, { id: 7n, username: "before", locale: "en-US" });
      await accounts.createUser(user, "h");
      await accounts.close();

      const guilds = new SqliteGuildStore({ path: file });
      await guilds.open();
      try {
        assert.equal(await guilds.append(9n, 0n, [{ type: "GuildCreate", payload: new Uint8Array([1]), createdAtMs: 1, actorId: 7n }]), 1n);
        assert.equal(await guilds.head(9n), 1n);
      } finally {
        await guilds.close();
      }
      const db = new Database(file, { readonly: true });
      db.defaultSafeIntegers(true);
      try {
        assert.deepEqual(appliedMigrations(db), SQLITE_MIGRATIONS.map((m) => m.version));
        assert.ok(SQLITE_MIGRATIONS.some((m) => m.version === 3), "migration 3 exists");
      } finally {
        db.close();
      }
      const reopened = new SqliteAccountStore({ path: file });
      await reopened.open();
      assert.deepEqual(await reopened.getUser(7n), user, "the account survived the upgrade");
      await reopened.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("fails with StoreUnavailableError when not open", async () => {
    const store = new SqliteGuildStore({ path: ":memory:" });
    await assert.rejects(store.head(1n), { name: "StoreUnavailableError" });
  });
});

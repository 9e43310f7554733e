// The storage contract on SQLite (a temp file), plus what only SQLite has: its file, its
// migrations, its journal mode and crash durability.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { create } from "@bufbuild/protobuf";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { bucketOf } from "../src/buckets.js";
import { SQLITE_MIGRATIONS } from "../src/sqlite-schema.js";
import { SqliteMessageStore } from "../src/sqlite-store.js";
import { StoreUnavailableError } from "../src/storage-errors.js";
import { describeStorageConformance } from "./conformance.js";
import { databaseAtVersion } from "./sqlite-fixture.js";

const conformanceDir = mkdtempSync(join(tmpdir(), "chorus-sqlite-conformance-"));

describeStorageConformance(
  "sqlite",
  async (onQuery) => {
    const store = new SqliteMessageStore({ path: join(conformanceDir, "messages.db"), onQuery });
    await store.open();
    return store;
  },
  () => rmSync(conformanceDir, { recursive: true, force: true }),
);

describe("SQLite message store", () => {
  let dir: string;
  const ids = new SnowflakeGenerator({ workerId: 1, processId: 1 });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "chorus-sqlite-"));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const rawDb = (path: string) => {
    const db = new Database(path, { readonly: true });
    db.defaultSafeIntegers(true);
    return db;
  };

  it("keeps its data when re-opened and applies each migration only once", async () => {
    const path = join(dir, "reopen.db");
    const ops: string[] = [];
    const first = new SqliteMessageStore({ path, onQuery: (op) => ops.push(op) });
    await first.open();
    const channelId = ids.next();
    const message = create(MessageSchema, { id: ids.next(), channelId, authorId: 9n, content: "kept", pinned: true });
    await first.insert(message);
    await first.close();
    const firstMigrations = ops.filter((op) => op === "migrate").length;

    let db = rawDb(path);
    const recorded = db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version").all();
    db.close();
    assert.deepEqual(
      recorded.map((r) => Number((r as { version: bigint }).version)),
      SQLITE_MIGRATIONS.map((m) => m.version),
    );

    ops.length = 0;
    const second = new SqliteMessageStore({ path, onQuery: (op) => ops.push(op) });
    await second.open();
    try {
      assert.deepEqual(await second.get(channelId, message.id), message);
      assert.deepEqual(await second.listPinned(channelId), [message]);
      assert.deepEqual(second.appliedMigrations(), SQLITE_MIGRATIONS.map((m) => m.version));
      // Re-opening only checked each version: fewer statements than the first open, which applied them.
      const secondMigrations = ops.filter((op) => op === "migrate").length;
      assert.equal(secondMigrations, 1 + SQLITE_MIGRATIONS.length);
      assert.ok(secondMigrations < firstMigrations);
    } finally {
      await second.close();
    }
    db = rawDb(path);
    assert.deepEqual(db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version").all(), recorded, "rows untouched");
    db.close();
  });

  it("upgrades a database made before reactions: its messages read with none and take reactions", async () => {
    const path = join(dir, "before-reactions.db");
    const channelId = ids.next();
    const messageId = ids.next();
    // A database as the previous release left it: migrations 1 to 5, with a message.
    const old = databaseAtVersion(path, 5);
    old
      .prepare("INSERT INTO messages (channel_id, message_id, bucket, author_id, content) VALUES (?, ?, ?, ?, ?)")
      .run(channelId, messageId, bucketOf(messageId), 3n, "from before");
    old.close();
    const store = new SqliteMessageStore({ path });
    await store.open();
    try {
      assert.deepEqual(store.appliedMigrations(), SQLITE_MIGRATIONS.map((m) => m.version));
      const before = await store.get(channelId, messageId);
      assert.equal(before?.content, "from before");
      assert.deepEqual(before?.reactions, []);
      assert.deepEqual(await store.addReaction(channelId, messageId, "👍", 4n), { added: true, count: 1 });
      assert.deepEqual((await store.listBefore(channelId, undefined, 10))[0].reactions.map((r) => [r.emoji, r.count]), [["👍", 1]]);
    } finally {
      await store.close();
    }
  });

  it("uses the WAL journal", async () => {
    const path = join(dir, "wal.db");
    const store = new SqliteMessageStore({ path });
    await store.open();
    try {
      await store.insert(create(MessageSchema, { id: ids.next(), channelId: ids.next(), authorId: 1n }));
      assert.ok(existsSync(`${path}-wal`), "a -wal file exists while the store is open");
      const db = rawDb(path);
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      db.close();
    } finally {
      await store.close();
    }
  });

  it("keeps an acknowledged insert when the process is killed right after it", () => {
    const path = join(dir, "crash.db");
    const channelId = ids.next();
    const messageId = ids.next();
    const storeUrl = pathToFileURL(join(import.meta.dirname, "..", "src", "sqlite-store.js")).href;
    const script = `
      import { SqliteMessageStore } from ${JSON.stringify(storeUrl)};
      import { create } from "@bufbuild/protobuf";
      import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
      const store = new SqliteMessageStore({ path: ${JSON.stringify(path)} });
      await store.open();
      await store.insert(create(MessageSchema, { id: ${messageId}n, channelId: ${channelId}n, authorId: 3n, content: "durable" }));
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: import.meta.dirname, encoding: "utf8" });
    assert.equal(child.signal, "SIGKILL", `the child died by SIGKILL after its insert: ${child.stderr}`);
    const db = rawDb(path);
    try {
      const row = db.prepare("SELECT content, bucket FROM messages WHERE channel_id = ? AND message_id = ?").get(channelId, messageId) as
        | { content: string; bucket: bigint }
        | undefined;
      assert.equal(row?.content, "durable");
      assert.equal(Number(row?.bucket), bucketOf(messageId), "the bucket column matches buckets.ts");
    } finally {
      db.close();
    }
  });

  it("reports one query per SQL statement", async () => {
    const ops: string[] = [];
    const store = new SqliteMessageStore({ path: ":memory:", onQuery: (op) => ops.push(op) });
    await store.open();
    try {
      const channelId = ids.next();
      const id = ids.next();
      ops.length = 0;
      await store.get(channelId, id);
      assert.deepEqual(ops, ["get"]);
      ops.length = 0;
      await store.listBefore(channelId, undefined, 50);
      await store.listAfter(channelId, id, 50);
      await store.listPinned(channelId);
      assert.deepEqual(ops, ["history", "history", "pins"]);
      ops.length = 0;
      await store.insert(create(MessageSchema, { id, channelId, authorId: 1n, pinned: true }));
      assert.deepEqual(ops, ["insert", "pin"]);
      ops.length = 0;
      assert.equal(await store.update(channelId, ids.next(), { content: "x" }), undefined);
      assert.deepEqual(ops, ["get"], "an update of a missing message only looks");
    } finally {
      await store.close();
    }
  });

  it("handles anchors across the whole 64-bit range", async () => {
    const store = new SqliteMessageStore({ path: ":memory:" });
    await store.open();
    try {
      const channelId = ids.next();
      const m = create(MessageSchema, { id: ids.next(), channelId, authorId: 1n });
      await store.insert(m);
      const max = (1n << 64n) - 1n;
      assert.deepEqual(await store.listBefore(channelId, max, 10), [m]);
      assert.deepEqual(await store.listBefore(channelId, 1n << 63n, 10), [m]);
      assert.deepEqual(await store.listAfter(channelId, max, 10), []);
      assert.deepEqual(await store.listAfter(channelId, (1n << 63n) - 1n, 10), []);
      assert.deepEqual(await store.listAfter(channelId, 1n, 10), [m]);
    } finally {
      await store.close();
    }
  });

  it("fails with StoreUnavailableError when not open", async () => {
    const store = new SqliteMessageStore({ path: ":memory:" });
    await assert.rejects(store.get(1n, 2n), StoreUnavailableError);
    await store.open();
    await store.close();
    await assert.rejects(store.listBefore(1n, undefined, 1), StoreUnavailableError);
  });

  it("fails to open a path that cannot be a database, naming it", async () => {
    const store = new SqliteMessageStore({ path: join(dir, "missing-folder", "x.db") });
    await assert.rejects(store.open(), /missing-folder/);
  });
});

// The account storage contract on SQLite, in a temp database file shared with the message
// store as in embedded mode.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { SqliteAccountStore } from "../src/sqlite-account-store.js";
import { SqliteMessageStore } from "../src/sqlite-store.js";
import { SQLITE_MIGRATIONS } from "../src/sqlite-schema.js";
import { describeAccountConformance } from "./account-conformance.js";

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
});

// The webhook storage contract on SQLite, in a temp database file as in embedded mode, and the
// upgrade of a database from before webhook tokens were kept (migration 12).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { WebhookSchema } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import { SqliteWebhookStore } from "../src/sqlite-webhook-store.js";
import { databaseAtVersion } from "./sqlite-fixture.js";
import { describeWebhookConformance } from "./webhook-conformance.js";

const dir = mkdtempSync(join(tmpdir(), "chorus-sqlite-webhooks-"));

describeWebhookConformance(
  "sqlite",
  async () => {
    const store = new SqliteWebhookStore({ path: join(dir, "messages.db") });
    await store.open();
    return store;
  },
);

describe("sqlite webhooks from before migration 12", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("read with no token, keep their hash, and take the token of a webhook written since", async () => {
    const path = join(dir, "before-tokens.db");
    const sha = (t: string) => new Uint8Array(createHash("sha256").update(t).digest());
    const legacy = create(WebhookSchema, { id: 11n, type: 1, guildId: 1n, channelId: 2n, creatorId: 3n, name: "Old", tokenHash: sha("old-token") });
    // A database as the release before left it: migrations up to 11, with a webhook.
    const old = databaseAtVersion(path, 11);
    old.prepare("INSERT INTO webhooks (webhook_id, guild_id, channel_id, webhook) VALUES (?, ?, ?, ?)").run(11n, 1n, 2n, Buffer.from(toBinary(WebhookSchema, legacy)));
    old.close();

    const store = new SqliteWebhookStore({ path });
    await store.open();
    try {
      const read = await store.getWebhook(11n);
      assert.deepEqual([read?.name, read?.token, [...(read?.tokenHash ?? [])]], ["Old", "", [...legacy.tokenHash]]);
      const token = randomBytes(51).toString("base64url");
      await store.putWebhook(create(WebhookSchema, { id: 12n, type: 1, guildId: 1n, channelId: 2n, name: "New", tokenHash: sha(token), token }));
      assert.deepEqual((await store.listWebhooks(1n, 0n)).map((w) => [w.id, w.token]), [[11n, ""], [12n, token]]);
    } finally {
      await store.close();
    }
  });
});

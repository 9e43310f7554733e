// The webhook storage contract, end to end, against any WebhookStore: the real handlers served
// through an in-memory Connect router and called with the generated client. Both backends run
// it (sqlite-webhook-store.test.ts, cassandra-webhook-store.test.ts). Ids are random per run,
// so it also runs on a shared Cassandra keyspace.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Code, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { WebhookStorageService } from "@chorus/contracts/chorus/storage/v1/webhooks_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { createWebhookHandlers } from "../src/webhook-handlers.js";
import type { WebhookStore } from "../src/webhook-store.js";
import { rejectsWith } from "./conformance.js";

type WebhookClient = Client<typeof WebhookStorageService>;

export function describeWebhookConformance(name: string, makeStore: () => Promise<WebhookStore>, cleanup?: () => Promise<void> | void): void {
  describe(`webhook storage contract (${name})`, () => {
    let store: WebhookStore;
    let webhooks: WebhookClient;
    const ids = new SnowflakeGenerator({ workerId: Math.floor(Math.random() * 32), processId: Math.floor(Math.random() * 32) });
    const tokenHash = () => new Uint8Array(createHash("sha256").update(randomBytes(16)).digest());

    before(async () => {
      store = await makeStore();
      webhooks = createClient(WebhookStorageService, createRouterTransport((router) => router.service(WebhookStorageService, createWebhookHandlers(store))));
    });
    after(async () => {
      await store.close();
      await cleanup?.();
    });

    it("stores, reads, lists by guild and channel (ascending id), moves, deletes", async () => {
      const guildId = ids.next();
      const [general, random] = [ids.next(), ids.next()];
      const creatorId = ids.next();
      const a = { id: ids.next(), type: 1, guildId, channelId: general, creatorId, name: "Captain Hook", avatar: "0123456789abcdef0123456789abcdef", tokenHash: tokenHash() };
      const b = { id: ids.next(), type: 1, guildId, channelId: random, creatorId, name: "Spidey", tokenHash: tokenHash(), applicationId: ids.next() };
      const stored = (await webhooks.putWebhook({ webhook: b })).webhook!;
      assert.equal(stored.name, "Spidey");
      await webhooks.putWebhook({ webhook: a });
      const got = (await webhooks.getWebhook({ webhookId: a.id })).webhook!;
      assert.equal(got.name, a.name);
      assert.equal(got.avatar, a.avatar);
      assert.equal(got.creatorId, creatorId);
      assert.deepEqual([...got.tokenHash], [...a.tokenHash]);
      assert.equal((await webhooks.getWebhook({ webhookId: b.id })).webhook!.applicationId, b.applicationId);
      assert.equal((await webhooks.getWebhook({ webhookId: b.id })).webhook!.avatar, undefined);
      assert.deepEqual((await webhooks.listWebhooks({ guildId })).webhooks.map((w) => w.id), [a.id, b.id]);
      assert.deepEqual((await webhooks.listWebhooks({ guildId, channelId: general })).webhooks.map((w) => w.id), [a.id]);
      assert.deepEqual((await webhooks.listWebhooks({ guildId: ids.next() })).webhooks, []);

      // Renamed and moved to the other channel.
      await webhooks.putWebhook({ webhook: { ...a, name: "Hook", channelId: random } });
      assert.equal((await webhooks.getWebhook({ webhookId: a.id })).webhook!.name, "Hook");
      assert.deepEqual((await webhooks.listWebhooks({ guildId, channelId: general })).webhooks, []);
      assert.deepEqual((await webhooks.listWebhooks({ guildId, channelId: random })).webhooks.map((w) => w.id), [a.id, b.id]);

      assert.equal((await webhooks.deleteWebhook({ webhookId: a.id })).deleted, true);
      assert.equal((await webhooks.deleteWebhook({ webhookId: a.id })).deleted, false);
      await rejectsWith(webhooks.getWebhook({ webhookId: a.id }), Code.NotFound);
      assert.deepEqual((await webhooks.listWebhooks({ guildId })).webhooks.map((w) => w.id), [b.id]);
    });

    it("keeps the token (migration 12); a webhook stored without one (as before it) has none", async () => {
      const guildId = ids.next();
      const channelId = ids.next();
      const token = randomBytes(51).toString("base64url");
      const hashOf = (t: string) => new Uint8Array(createHash("sha256").update(t).digest());
      const withToken = { id: ids.next(), type: 1, guildId, channelId, name: "Tokened", tokenHash: hashOf(token), token };
      const legacy = { id: ids.next(), type: 1, guildId, channelId, name: "Legacy", tokenHash: tokenHash() };
      assert.equal((await webhooks.putWebhook({ webhook: withToken })).webhook!.token, token);
      await webhooks.putWebhook({ webhook: legacy });
      assert.equal((await webhooks.getWebhook({ webhookId: withToken.id })).webhook!.token, token);
      assert.equal((await webhooks.getWebhook({ webhookId: legacy.id })).webhook!.token, "");
      const listed = (await webhooks.listWebhooks({ guildId })).webhooks;
      assert.deepEqual(listed.map((w) => [w.id, w.token]), [[withToken.id, token], [legacy.id, ""]]);
      assert.deepEqual((await webhooks.listWebhooks({ guildId, channelId })).webhooks.map((w) => w.token), [token, ""]);
      // A rename keeps it; the hash still verifies.
      await webhooks.putWebhook({ webhook: { ...withToken, name: "Renamed" } });
      const renamed = (await webhooks.getWebhook({ webhookId: withToken.id })).webhook!;
      assert.deepEqual([renamed.name, renamed.token, [...renamed.tokenHash]], ["Renamed", token, [...hashOf(token)]]);
      await rejectsWith(webhooks.putWebhook({ webhook: { ...legacy, token } }), Code.InvalidArgument, "webhook.token");
      assert.equal((await webhooks.getWebhook({ webhookId: legacy.id })).webhook!.token, "");
    });

    it("refuses bad webhooks, naming the field", async () => {
      const base = { id: ids.next(), guildId: ids.next(), channelId: ids.next(), name: "ok", tokenHash: tokenHash() };
      await rejectsWith(webhooks.putWebhook({}), Code.InvalidArgument, "webhook");
      await rejectsWith(webhooks.putWebhook({ webhook: { ...base, id: 0n } }), Code.InvalidArgument, "webhook.id");
      await rejectsWith(webhooks.putWebhook({ webhook: { ...base, guildId: 0n } }), Code.InvalidArgument, "webhook.guild_id");
      await rejectsWith(webhooks.putWebhook({ webhook: { ...base, channelId: 0n } }), Code.InvalidArgument, "webhook.channel_id");
      await rejectsWith(webhooks.putWebhook({ webhook: { ...base, name: "" } }), Code.InvalidArgument, "webhook.name");
      await rejectsWith(webhooks.putWebhook({ webhook: { ...base, name: "x".repeat(81) } }), Code.InvalidArgument, "webhook.name");
      await rejectsWith(webhooks.putWebhook({ webhook: { ...base, tokenHash: new Uint8Array(5) } }), Code.InvalidArgument, "webhook.token_hash");
      await rejectsWith(webhooks.getWebhook({ webhookId: 0n }), Code.InvalidArgument, "webhook_id");
      await rejectsWith(webhooks.listWebhooks({ guildId: 0n }), Code.InvalidArgument, "guild_id");
      await rejectsWith(webhooks.deleteWebhook({ webhookId: 1n << 63n }), Code.InvalidArgument, "webhook_id");
      await rejectsWith(webhooks.getWebhook({ webhookId: base.id }), Code.NotFound);
    });
  });
}

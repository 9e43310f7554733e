import { createHash, timingSafeEqual } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { WebhookSchema, type Webhook } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import { WebhookStorageService } from "@chorus/contracts/chorus/storage/v1/webhooks_pb";
import type { WebhookStore } from "./webhook-store.js";
import { guarded, invalidArgument, requireId } from "./storage-errors.js";

export const MAX_WEBHOOK_NAME_LENGTH = 80;
/** A SHA-256. */
const TOKEN_HASH_BYTES = 32;

function checkWebhook(webhook: Webhook | undefined): Webhook {
  if (!webhook) throw invalidArgument("webhook", "required");
  requireId("webhook.id", webhook.id);
  requireId("webhook.guild_id", webhook.guildId);
  requireId("webhook.channel_id", webhook.channelId);
  const length = [...webhook.name].length;
  if (length < 1 || length > MAX_WEBHOOK_NAME_LENGTH) throw invalidArgument("webhook.name", `1 to ${MAX_WEBHOOK_NAME_LENGTH} characters`);
  if (webhook.tokenHash.length !== TOKEN_HASH_BYTES) throw invalidArgument("webhook.token_hash", `${TOKEN_HASH_BYTES} bytes (a SHA-256)`);
  // A token that does not open the webhook would be shown to managers and fail on use.
  if (webhook.token !== "" && !timingSafeEqual(createHash("sha256").update(webhook.token).digest(), webhook.tokenHash)) {
    throw invalidArgument("webhook.token", "does not match token_hash");
  }
  if (webhook.avatar !== undefined && webhook.avatar.length > 200) throw invalidArgument("webhook.avatar", "at most 200 characters");
  return create(WebhookSchema, { ...webhook, type: webhook.type || 1 });
}

/** The WebhookStorageService handlers over a store. */
export function createWebhookHandlers(store: WebhookStore): ServiceImpl<typeof WebhookStorageService> {
  return {
    async putWebhook(req) {
      const webhook = checkWebhook(req.webhook);
      return { webhook: await guarded(() => store.putWebhook(webhook)) };
    },
    async getWebhook(req) {
      requireId("webhook_id", req.webhookId);
      const webhook = await guarded(() => store.getWebhook(req.webhookId));
      if (!webhook) throw new ConnectError("webhook_id: unknown webhook", Code.NotFound);
      return { webhook };
    },
    async listWebhooks(req) {
      requireId("guild_id", req.guildId);
      if (req.channelId !== 0n) requireId("channel_id", req.channelId);
      return { webhooks: await guarded(() => store.listWebhooks(req.guildId, req.channelId)) };
    },
    async deleteWebhook(req) {
      requireId("webhook_id", req.webhookId);
      return { deleted: await guarded(() => store.deleteWebhook(req.webhookId)) };
    },
  };
}

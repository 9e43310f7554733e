import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { WebhookSchema, type Webhook } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import type { QueryHook } from "./message-store.js";

export type { Webhook, QueryHook };

/**
 * Channel webhooks (the WebhookStorageService contract), with the same semantics on Cassandra
 * and SQLite (test/webhook-conformance.ts). A webhook is kept whole (its Protobuf encoding):
 * nothing queries inside it but its guild and channel. Its token is a column of its own
 * (migration 12), so rows written before it simply have none.
 */
export interface WebhookStore {
  readonly backend: "sqlite" | "cassandra";
  open(): Promise<void>;
  close(): Promise<void>;
  /** Stores a webhook, replacing the one with the same id (moving it between channels of its guild). */
  putWebhook(webhook: Webhook): Promise<Webhook>;
  getWebhook(webhookId: bigint): Promise<Webhook | undefined>;
  /** A guild's webhooks, or one channel's (channelId non-zero), by ascending id. */
  listWebhooks(guildId: bigint, channelId: bigint): Promise<Webhook[]>;
  /** False when there was none. */
  deleteWebhook(webhookId: bigint): Promise<boolean>;
}

/** A webhook's row: its encoding without the token, and the token apart (null when none). */
export function webhookRow(webhook: Webhook): { blob: Buffer; token: string | null } {
  return { blob: Buffer.from(toBinary(WebhookSchema, { ...webhook, token: "" })), token: webhook.token === "" ? null : webhook.token };
}

/** The webhook of a row (a row from before migration 12 has no token). */
export function webhookOfRow(blob: Buffer, token: string | null | undefined): Webhook {
  const webhook = fromBinary(WebhookSchema, blob);
  webhook.token = token ?? "";
  return webhook;
}

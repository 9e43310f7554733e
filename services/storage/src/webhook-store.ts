import type { Webhook } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import type { QueryHook } from "./message-store.js";

export type { Webhook, QueryHook };

/**
 * Channel webhooks (the WebhookStorageService contract), with the same semantics on Cassandra
 * and SQLite (test/webhook-conformance.ts). A webhook is kept whole (its Protobuf encoding):
 * nothing queries inside it but its guild and channel.
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

import type cassandra from "cassandra-driver";
import { CassandraBackedStore } from "./cassandra-session.js";
import { webhookOfRow, webhookRow, type Webhook, type WebhookStore } from "./webhook-store.js";

const decode = (row: cassandra.types.Row): Webhook => webhookOfRow(row.webhook as Buffer, row.webhook_token as string | null);

/**
 * Webhooks on Cassandra/ScyllaDB (migrations 8 and 12, the token column): `webhooks` by id (execute and get read one row)
 * and `webhooks_by_guild`, one partition per guild, for the lists. A write goes to both tables
 * in a logged batch, so a webhook is never in one and not the other once the batch applied.
 */
export class CassandraWebhookStore extends CassandraBackedStore implements WebhookStore {
  async putWebhook(webhook: Webhook): Promise<Webhook> {
    const row = webhookRow(webhook);
    const blob = row.blob;
    // No token: left unset (undefined), not a null that would write a tombstone.
    const token = row.token ?? undefined;
    const previous = await this.getWebhook(webhook.id);
    const queries = [
      { query: `INSERT INTO ${this.ks}.webhooks (webhook_id, webhook, webhook_token) VALUES (?, ?, ?)`, params: [webhook.id, blob, token] },
      { query: `INSERT INTO ${this.ks}.webhooks_by_guild (guild_id, webhook_id, channel_id, webhook, webhook_token) VALUES (?, ?, ?, ?, ?)`, params: [webhook.guildId, webhook.id, webhook.channelId, blob, token] },
    ];
    // A webhook never leaves its guild, but a bad caller could say otherwise: the old guild's row goes.
    if (previous && previous.guildId !== webhook.guildId) {
      queries.push({ query: `DELETE FROM ${this.ks}.webhooks_by_guild WHERE guild_id = ? AND webhook_id = ?`, params: [previous.guildId, webhook.id] });
    }
    await this.session.batch("put_webhook", queries);
    return webhook;
  }

  async getWebhook(webhookId: bigint): Promise<Webhook | undefined> {
    const result = await this.session.execute("get_webhook", `SELECT webhook, webhook_token FROM ${this.ks}.webhooks WHERE webhook_id = ?`, [webhookId]);
    const row = result.first();
    return row?.webhook ? decode(row) : undefined;
  }

  async listWebhooks(guildId: bigint, channelId: bigint): Promise<Webhook[]> {
    const rows = await this.session.all("list_webhooks", `SELECT channel_id, webhook, webhook_token FROM ${this.ks}.webhooks_by_guild WHERE guild_id = ?`, [guildId]);
    return rows.filter((row) => channelId === 0n || (row.channel_id as bigint) === channelId).map(decode);
  }

  async deleteWebhook(webhookId: bigint): Promise<boolean> {
    const existing = await this.getWebhook(webhookId);
    if (!existing) return false;
    await this.session.batch("delete_webhook", [
      { query: `DELETE FROM ${this.ks}.webhooks WHERE webhook_id = ?`, params: [webhookId] },
      { query: `DELETE FROM ${this.ks}.webhooks_by_guild WHERE guild_id = ? AND webhook_id = ?`, params: [existing.guildId, webhookId] },
    ]);
    return true;
  }
}

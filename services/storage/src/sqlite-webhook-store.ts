import type Database from "better-sqlite3";
import { webhookOfRow, webhookRow, type QueryHook, type Webhook, type WebhookStore } from "./webhook-store.js";
import { SqliteConnection, toDb } from "./sqlite-schema.js";

export interface SqliteWebhookStoreOptions {
  /** Database file (the message store's), or ":memory:". */
  path: string;
  onQuery?: QueryHook;
}

type Row = { webhook: Buffer; webhook_token: string | null };
const decode = (row: Row): Webhook => webhookOfRow(row.webhook, row.webhook_token);

/** Webhooks on SQLite (migrations 8 and 12 in sqlite-schema.ts). */
export class SqliteWebhookStore implements WebhookStore {
  readonly backend = "sqlite" as const;
  private readonly connection: SqliteConnection<ReturnType<SqliteWebhookStore["prepareStatements"]>>;

  constructor(private readonly options: SqliteWebhookStoreOptions) {
    this.connection = new SqliteConnection(options.path, options.onQuery, (db) => this.prepareStatements(db));
  }

  async open(): Promise<void> {
    this.connection.open();
  }

  async close(): Promise<void> {
    this.connection.close();
  }

  private prepareStatements(db: Database.Database) {
    return {
      put: db.prepare<[bigint, bigint, bigint, Buffer, string | null]>(
        `INSERT INTO webhooks (webhook_id, guild_id, channel_id, webhook, webhook_token) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (webhook_id) DO UPDATE SET guild_id = excluded.guild_id, channel_id = excluded.channel_id, webhook = excluded.webhook, webhook_token = excluded.webhook_token`,
      ),
      get: db.prepare<[bigint], Row>("SELECT webhook, webhook_token FROM webhooks WHERE webhook_id = ?"),
      byGuild: db.prepare<[bigint], Row>("SELECT webhook, webhook_token FROM webhooks WHERE guild_id = ? ORDER BY webhook_id"),
      byChannel: db.prepare<[bigint, bigint], Row>("SELECT webhook, webhook_token FROM webhooks WHERE guild_id = ? AND channel_id = ? ORDER BY webhook_id"),
      remove: db.prepare<[bigint]>("DELETE FROM webhooks WHERE webhook_id = ?"),
    };
  }

  private query(operation: string): void {
    this.options.onQuery?.(operation);
  }

  putWebhook(webhook: Webhook): Promise<Webhook> {
    return this.connection.run("put_webhook", (s) => {
      this.query("put_webhook");
      const row = webhookRow(webhook);
      s.put.run(toDb(webhook.id), toDb(webhook.guildId), toDb(webhook.channelId), row.blob, row.token);
      return webhook;
    });
  }

  getWebhook(webhookId: bigint): Promise<Webhook | undefined> {
    return this.connection.run("get_webhook", (s) => {
      this.query("get_webhook");
      const row = s.get.get(toDb(webhookId));
      return row ? decode(row) : undefined;
    });
  }

  listWebhooks(guildId: bigint, channelId: bigint): Promise<Webhook[]> {
    return this.connection.run("list_webhooks", (s) => {
      this.query("list_webhooks");
      const rows = channelId === 0n ? s.byGuild.all(toDb(guildId)) : s.byChannel.all(toDb(guildId), toDb(channelId));
      return rows.map(decode);
    });
  }

  deleteWebhook(webhookId: bigint): Promise<boolean> {
    return this.connection.run("delete_webhook", (s) => {
      this.query("delete_webhook");
      return s.remove.run(toDb(webhookId)).changes > 0;
    });
  }
}

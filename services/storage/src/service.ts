import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { z } from "zod";
import { env, loadConfig, type ServiceModule } from "@chorus/mesh";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { GuildStorageService } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { DeviceStorageService } from "@chorus/contracts/chorus/storage/v1/devices_pb";
import { CommandStorageService } from "@chorus/contracts/chorus/storage/v1/commands_pb";
import { WebhookStorageService } from "@chorus/contracts/chorus/storage/v1/webhooks_pb";
import { createStorageHandlers } from "./storage-handlers.js";
import { createAccountHandlers } from "./account-handlers.js";
import { createGuildHandlers } from "./guild-handlers.js";
import { createDeviceHandlers } from "./device-handlers.js";
import { createCommandHandlers } from "./command-handlers.js";
import { createWebhookHandlers } from "./webhook-handlers.js";
import { StorageCounters } from "./storage-metrics.js";
import type { MessageStore } from "./message-store.js";
import type { AccountStore } from "./account-store.js";
import type { GuildStore } from "./guild-store.js";
import type { DeviceStore } from "./device-store.js";
import type { CommandStore } from "./command-store.js";
import type { WebhookStore } from "./webhook-store.js";

const CONSISTENCY = {
  ONE: "one",
  TWO: "two",
  THREE: "three",
  QUORUM: "quorum",
  ALL: "all",
  LOCAL_QUORUM: "localQuorum",
  EACH_QUORUM: "eachQuorum",
  LOCAL_ONE: "localOne",
} as const;

const storageEnvSchema = z.object({
  /** Database backend; embedded mode defaults to sqlite, cluster mode to cassandra. */
  CHORUS_STORAGE_BACKEND: z.enum(["sqlite", "cassandra"]).optional(),
  /** Folder of embedded-mode data. */
  CHORUS_DATA_DIR: z.string().default(".chorus/data"),
  /** SQLite database file (messages, accounts and guild logs); defaults to <CHORUS_DATA_DIR>/messages.db. */
  CHORUS_SQLITE_PATH: z.string().optional(),
  CHORUS_CASSANDRA_CONTACT_POINTS: z
    .string()
    .default("127.0.0.1:9042")
    .transform((s) => s.split(",").map((p) => p.trim()).filter(Boolean)),
  CHORUS_CASSANDRA_LOCAL_DC: z.string().min(1).default("datacenter1"),
  CHORUS_CASSANDRA_KEYSPACE: z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, "must be a lowercase CQL identifier").default("chorus"),
  /** Replication of a keyspace this service creates: SimpleStrategy:N or NetworkTopologyStrategy:dc=N,... */
  CHORUS_CASSANDRA_REPLICATION: z
    .string()
    .regex(/^(SimpleStrategy(:\d+)?|NetworkTopologyStrategy:[A-Za-z0-9_.-]+=\d+(,[A-Za-z0-9_.-]+=\d+)*)$/, "must be SimpleStrategy:N or NetworkTopologyStrategy:dc=N,...")
    .default("SimpleStrategy:1"),
  CHORUS_CASSANDRA_CONSISTENCY: z.enum(Object.keys(CONSISTENCY) as [keyof typeof CONSISTENCY]).default("LOCAL_QUORUM"),
  /** Per-request driver timeout; keep it below the callers' deadline (CHORUS_RPC_TIMEOUT_MS). */
  CHORUS_CASSANDRA_REQUEST_TIMEOUT_MS: env.positiveInt(2000),
});

/** The storage service module: the only process that talks to the database (messages, accounts, guild logs). */
export const storageService: ServiceModule = {
  name: "storage",
  contracts: [StorageService, AccountStorageService, GuildStorageService, DeviceStorageService, CommandStorageService, WebhookStorageService],
  async start(ctx) {
    const config = loadConfig(storageEnvSchema, ctx.env);
    const backend = config.CHORUS_STORAGE_BACKEND ?? (ctx.mode === "embedded" ? "sqlite" : "cassandra");
    const counters = new StorageCounters(backend);
    let store: MessageStore;
    let accounts: AccountStore;
    let guilds: GuildStore;
    let devices: DeviceStore;
    let commands: CommandStore;
    let webhooks: WebhookStore;
    if (backend === "cassandra") {
      const { CassandraMessageStore } = await import("./cassandra-store.js");
      const { CassandraAccountStore } = await import("./cassandra-account-store.js");
      const { CassandraGuildStore } = await import("./cassandra-guild-store.js");
      const { CassandraDeviceStore } = await import("./cassandra-device-store.js");
      const { CassandraCommandStore } = await import("./cassandra-command-store.js");
      const { CassandraWebhookStore } = await import("./cassandra-webhook-store.js");
      const options = {
        contactPoints: config.CHORUS_CASSANDRA_CONTACT_POINTS,
        localDataCenter: config.CHORUS_CASSANDRA_LOCAL_DC,
        keyspace: config.CHORUS_CASSANDRA_KEYSPACE,
        replication: config.CHORUS_CASSANDRA_REPLICATION,
        consistency: CONSISTENCY[config.CHORUS_CASSANDRA_CONSISTENCY],
        requestTimeoutMs: config.CHORUS_CASSANDRA_REQUEST_TIMEOUT_MS,
        onQuery: counters.onQuery,
      };
      store = new CassandraMessageStore(options);
      accounts = new CassandraAccountStore(options);
      guilds = new CassandraGuildStore(options);
      devices = new CassandraDeviceStore(options);
      commands = new CassandraCommandStore(options);
      webhooks = new CassandraWebhookStore(options);
    } else {
      const { SqliteMessageStore } = await import("./sqlite-store.js");
      const { SqliteAccountStore } = await import("./sqlite-account-store.js");
      const { SqliteGuildStore } = await import("./sqlite-guild-store.js");
      const { SqliteDeviceStore } = await import("./sqlite-device-store.js");
      const { SqliteCommandStore } = await import("./sqlite-command-store.js");
      const { SqliteWebhookStore } = await import("./sqlite-webhook-store.js");
      const path = config.CHORUS_SQLITE_PATH ?? join(config.CHORUS_DATA_DIR, "messages.db");
      if (path !== ":memory:") mkdirSync(join(path, ".."), { recursive: true });
      store = new SqliteMessageStore({ path, onQuery: counters.onQuery });
      accounts = new SqliteAccountStore({ path, onQuery: counters.onQuery });
      guilds = new SqliteGuildStore({ path, onQuery: counters.onQuery });
      devices = new SqliteDeviceStore({ path, onQuery: counters.onQuery });
      commands = new SqliteCommandStore({ path, onQuery: counters.onQuery });
      webhooks = new SqliteWebhookStore({ path, onQuery: counters.onQuery });
    }
    try {
      // One after the other: all apply the same migrations to the same database.
      await store.open();
      await accounts.open();
      await guilds.open();
      await devices.open();
      await commands.open();
      await webhooks.open();
    } catch (err) {
      await Promise.all([store, accounts, guilds, devices, commands, webhooks].map((s) => s.close().catch(() => undefined)));
      throw new Error(`storage: cannot open the ${backend} backend: ${(err as Error).message}`, { cause: err });
    }
    ctx.logger.info({ backend }, "message, account and guild stores open");
    const handlers = createStorageHandlers(store, () => ctx.nodeInfo(), counters);
    const accountHandlers = createAccountHandlers(accounts);
    const guildHandlers = createGuildHandlers(guilds);
    const deviceHandlers = createDeviceHandlers(devices);
    const commandHandlers = createCommandHandlers(commands);
    const webhookHandlers = createWebhookHandlers(webhooks);
    return {
      metadata: { backend },
      routes(router) {
        router.service(StorageService, handlers);
        router.service(AccountStorageService, accountHandlers);
        router.service(GuildStorageService, guildHandlers);
        router.service(DeviceStorageService, deviceHandlers);
        router.service(CommandStorageService, commandHandlers);
        router.service(WebhookStorageService, webhookHandlers);
      },
      async stop() {
        await Promise.all([store.close(), accounts.close(), guilds.close(), devices.close(), commands.close(), webhooks.close()]);
      },
    };
  },
};

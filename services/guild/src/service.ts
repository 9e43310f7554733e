import { Code, ConnectError } from "@connectrpc/connect";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { UserCache } from "@chorus/discord-json/user-cache";
import { z } from "zod";
import { loadConfig, meshEnvSchema, type ServiceModule } from "@chorus/mesh";
import type { MeshClients } from "@chorus/mesh";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { GuildNotificationService } from "@chorus/contracts/chorus/guild/v1/guild_notifications_pb";
import { GuildFanout } from "./guild-fanout.js";
import { GuildHost } from "./guild-host.js";
import { GuildMessages } from "./guild-messages.js";
import { GuildPush } from "./guild-push.js";
import { guildHandlers } from "./guild-rpc.js";
import { invalidField } from "./guild-errors.js";
import { GuildWebhooks } from "./guild-webhooks.js";

const guildEnvSchema = z.object({
  /** Snowflake worker id (0-31) of the channel and role ids this node mints. */
  CHORUS_WORKER_ID: meshEnvSchema.shape.CHORUS_WORKER_ID,
});

/** Reads an account from account storage; undefined when there is none. */
async function fetchUser(clients: MeshClients, userId: bigint): Promise<User | undefined> {
  try {
    return (await clients.client(AccountStorageService, userId).getUser({ userId })).user;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}

/** The guild service module: its contract handlers, started by main.ts or the embedded launcher. */
export const guildService: ServiceModule = {
  name: "guild",
  contracts: [GuildService, GuildNotificationService],
  async start(ctx) {
    const config = loadConfig(guildEnvSchema, ctx.env);
    // The process id tells apart guild processes sharing a worker id (ids stay unique per process).
    const ids = new SnowflakeGenerator({ workerId: config.CHORUS_WORKER_ID, processId: process.pid % 32 });
    const fanout = new GuildFanout(ctx.clients, ctx.registry, ctx.logger);
    const users = new UserCache((userId) => fetchUser(ctx.clients, userId));
    const host = new GuildHost({ instanceId: ctx.instanceId, registry: ctx.registry, clients: ctx.clients, ids, logger: ctx.logger, fanout, users });
    const push = new GuildPush(ctx.clients, ctx.registry, users, ctx.logger);
    const messages = new GuildMessages({ host, clients: ctx.clients, ids, users, fanout, logger: ctx.logger, push });
    const webhooks = new GuildWebhooks({ host, clients: ctx.clients, fanout, logger: ctx.logger });
    const handlers = guildHandlers(host, messages, () => ctx.nodeInfo(), webhooks);
    return {
      routes(router) {
        router.service(GuildService, handlers);
        router.service(GuildNotificationService, {
          async putMemberNotifications(req) {
            const settings = req.settings;
            if (!settings || settings.guildId === 0n || settings.userId === 0n) throw invalidField("settings", "guild_id and user_id are required");
            return { seq: await host.putMemberNotifications(settings) };
          },
        });
      },
      async stop() {
        host.close();
      },
    };
  },
};

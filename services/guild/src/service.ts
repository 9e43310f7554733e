import { Code, ConnectError } from "@connectrpc/connect";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { UserCache } from "@chorus/discord-json/user-cache";
import { z } from "zod";
import { env, loadConfig, meshEnvSchema, type ServiceModule } from "@chorus/mesh";
import { InteractionService } from "@chorus/contracts/chorus/guild/v1/interactions_pb";
import { GuildInteractions } from "./guild-interactions.js";
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
  /** How long an interaction's token lives (Discord: 15 minutes). */
  CHORUS_INTERACTION_TTL_SECONDS: env.positiveInt(900),
  /** How long an application has for an interaction's initial response before it fails (Discord: 3 s). */
  CHORUS_INTERACTION_DEADLINE_MS: env.positiveInt(3000),
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
  contracts: [GuildService, GuildNotificationService, InteractionService],
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
    const interactions = new GuildInteractions({
      host,
      clients: ctx.clients,
      ids,
      users,
      fanout,
      messages,
      logger: ctx.logger,
      times: { lifetimeMs: config.CHORUS_INTERACTION_TTL_SECONDS * 1000, responseDeadlineMs: config.CHORUS_INTERACTION_DEADLINE_MS },
    });
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
        router.service(InteractionService, {
          createInteraction: (req) => interactions.create(req),
          respondInteraction: (req) => interactions.respond(req),
          interactionWebhook: (req) => interactions.webhook(req),
        });
      },
      async stop() {
        interactions.close();
        host.close();
      },
    };
  },
};

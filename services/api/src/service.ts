import type { ConnectRouter } from "@connectrpc/connect";
import { join } from "node:path";
import { z } from "zod";
import { FilesystemBlobStore } from "@chorus/blob-store";
import { env, loadConfig, meshEnvSchema, type ServiceModule } from "@chorus/mesh";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { ServerService } from "@chorus/contracts/chorus/api/v1/server_pb";
import { AccountService } from "@chorus/contracts/chorus/api/v1/accounts_pb";
import { GuildService } from "@chorus/contracts/chorus/api/v1/guilds_pb";
import { ApplicationService } from "@chorus/contracts/chorus/api/v1/applications_pb";
import { RelationshipService } from "@chorus/contracts/chorus/api/v1/relationships_pb";
import { MessageService } from "@chorus/contracts/chorus/api/v1/messages_pb";
import { NotificationService } from "@chorus/contracts/chorus/api/v1/notifications_pb";
import { WebhookService } from "@chorus/contracts/chorus/api/v1/webhooks_pb";
import { startHttpEdge } from "./http-edge.js";
import { serverInfoRoutes } from "./server-info.js";
import { accountRoutes } from "./account-rpc.js";
import { Accounts } from "./accounts/accounts.js";
import { guildRpcRoutes } from "./guild-rpc.js";
import { Guilds } from "./guilds/guilds.js";
import { applicationRoutes } from "./application-rpc.js";
import { Applications } from "./applications/applications.js";
import { ApplicationCommands } from "./applications/commands.js";
import { CommandStorageService } from "@chorus/contracts/chorus/storage/v1/commands_pb";
import { Interactions } from "./interactions/interactions.js";
import { interactionRpcRoutes } from "./interaction-rpc.js";
import { InteractionService } from "@chorus/contracts/chorus/api/v1/interactions_pb";
import { storedCommands } from "./interactions/command-options.js";
import { commandRpcRoutes } from "./command-rpc.js";
import { ApplicationCommandService } from "@chorus/contracts/chorus/api/v1/commands_pb";
import { relationshipRoutes } from "./relationship-rpc.js";
import { Relationships } from "./relationships/relationships.js";
import { messageRpcRoutes } from "./message-rpc.js";
import { Messages } from "./messages/messages.js";
import { notificationRoutes } from "./notification-rpc.js";
import { Notifications } from "./notifications/notifications.js";
import { webhookRpcRoutes } from "./webhook-rpc.js";
import { Webhooks } from "./webhooks/webhooks.js";
import { ATTACHMENT_LIMITS, AttachmentFiles } from "./attachments/attachment-files.js";
import { Emojis } from "./emojis/emojis.js";
import { emojiRpcRoutes } from "./emoji-rpc.js";

const apiEnvSchema = z.object({
  CHORUS_HTTP_HOST: env.host("127.0.0.1"),
  /** Port of the public HTTP edge (Connect API, Discord REST under /api/v10, /healthz, /metrics). */
  CHORUS_HTTP_PORT: env.port(8080),
  /** Snowflake worker id (0-31) of the ids this api node mints (users, guilds, attachments...). */
  CHORUS_WORKER_ID: meshEnvSchema.shape.CHORUS_WORKER_ID,
  /** The data folder (shared with storage's SQLite in embedded mode). */
  CHORUS_DATA_DIR: z.string().default(".chorus/data"),
  /** Where attachments' files are kept; defaults to <CHORUS_DATA_DIR>/blobs. Api nodes of one machine share it. */
  CHORUS_BLOB_DIR: z.string().optional(),
  /** Largest file a message may carry (Discord's default: 10 MiB). */
  CHORUS_MAX_ATTACHMENT_BYTES: env.positiveInt(ATTACHMENT_LIMITS.fileBytes),
  /** Public base URL of attachment URLs (…/attachments/<channel>/<id>/<filename>); defaults to the edge's own address. */
  CHORUS_CDN_BASE_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
});

/** The api service module: the stateless edge in front of the mesh. */
export const apiService: ServiceModule = {
  name: "api",
  contracts: [ServerService, AccountService, GuildService, ApplicationService, ApplicationCommandService, RelationshipService, MessageService, NotificationService, WebhookService, InteractionService],
  async start(ctx) {
    const config = loadConfig(apiEnvSchema, ctx.env);
    // The process id tells apart api processes that share a worker id; a rare collision
    // anyway is caught by storage (ALREADY_EXISTS on the id) and retried with a new id.
    const ids = new SnowflakeGenerator({ workerId: config.CHORUS_WORKER_ID, processId: process.pid % 32 });
    const accounts = new Accounts(ctx.clients, ids, ctx.logger);
    const serverInfo = serverInfoRoutes(ctx);
    const accountService = accountRoutes(accounts);
    const guilds = new Guilds(ctx.clients, accounts, ids, ctx.logger);
    const applications = new Applications(ctx.clients, ids, accounts);
    const relationships = new Relationships(ctx.clients, accounts);
    const applicationService = applicationRoutes(accounts, applications);
    const commands = new ApplicationCommands(ctx.clients, ids, applications, guilds);
    const commandService = commandRpcRoutes(accounts, commands);
    const interactions = new Interactions(
      ctx.clients,
      accounts,
      guilds,
      applications,
      storedCommands(async (applicationId, commandId) => (await ctx.clients.client(CommandStorageService, applicationId).getApplicationCommand({ applicationId, commandId })).command),
      ctx.logger,
    );
    const interactionService = interactionRpcRoutes(accounts, interactions);
    const relationshipService = relationshipRoutes(accounts, relationships);
    // The edge's own address is known once it listens (port 0 picks one).
    let edgeUrl = `http://${config.CHORUS_HTTP_HOST}:${config.CHORUS_HTTP_PORT}`;
    const cdnBaseUrl = config.CHORUS_CDN_BASE_URL?.replace(/\/+$/, "");
    const blobs = new FilesystemBlobStore(config.CHORUS_BLOB_DIR ?? join(config.CHORUS_DATA_DIR, "blobs"));
    const attachments = new AttachmentFiles({
      blobs,
      ids,
      maxFileBytes: config.CHORUS_MAX_ATTACHMENT_BYTES,
      cdnBaseUrl: () => cdnBaseUrl ?? edgeUrl,
      logger: ctx.logger,
    });
    const messages = new Messages(ctx.clients, guilds, attachments);
    const messageService = messageRpcRoutes(accounts, messages);
    const emojis = new Emojis(guilds, blobs, ids, ctx.logger);
    const emojiService = emojiRpcRoutes(accounts, emojis);
    const guildService = guildRpcRoutes(accounts, guilds, emojis);
    const notifications = new Notifications(ctx.clients);
    const notificationService = notificationRoutes(accounts, notifications);
    const webhooks = new Webhooks(ctx.clients, guilds, messages, ids);
    const webhookService = webhookRpcRoutes(accounts, webhooks);
    const routes = (router: ConnectRouter) => {
      serverInfo(router);
      accountService(router);
      guildService(router);
      applicationService(router);
      commandService(router);
      relationshipService(router);
      messageService(router);
      notificationService(router);
      interactionService(router);
      emojiService(router);
      webhookService(router);
    };
    const edge = await startHttpEdge(ctx, {
      host: config.CHORUS_HTTP_HOST,
      port: config.CHORUS_HTTP_PORT,
      routes,
      discord: { accounts, guilds, applications, commands, relationships, messages, attachments, notifications, emojis, webhooks, interactions, tokenWebhooks: interactions, logger: ctx.logger },
    });
    const address = edge.server.address();
    const port = typeof address === "object" && address ? address.port : config.CHORUS_HTTP_PORT;
    const httpUrl = `http://${config.CHORUS_HTTP_HOST}:${port}`;
    edgeUrl = httpUrl;
    return {
      metadata: { http_url: httpUrl },
      urls: { http: httpUrl, discord: `${httpUrl}/api/v10`, healthz: `${httpUrl}/healthz`, metrics: `${httpUrl}/metrics` },
      routes,
      stop: () => edge.close(),
    };
  },
};

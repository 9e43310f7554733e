import type { FastifyInstance } from "fastify";
import type { Logger, MeshClients, ServiceRegistry } from "@chorus/mesh";
import type { Accounts } from "../accounts/accounts.js";
import type { Guilds } from "../guilds/guilds.js";
import type { Applications } from "../applications/applications.js";
import type { ApplicationCommands } from "../applications/commands.js";
import type { Relationships } from "../relationships/relationships.js";
import type { Messages } from "../messages/messages.js";
import type { AttachmentFiles } from "../attachments/attachment-files.js";
import type { Notifications } from "../notifications/notifications.js";
import type { Emojis } from "../emojis/emojis.js";
import type { Webhooks } from "../webhooks/webhooks.js";
import type { Interactions } from "../interactions/interactions.js";
import type { TokenWebhookHandler } from "./token-webhooks.js";
import { interactionRoutes } from "./routes/interactions.js";
import { httpStatusError, toDiscordError } from "./errors.js";
import { applicationRoutes } from "./routes/applications.js";
import { authRoutes } from "./routes/auth.js";
import { commandRoutes } from "./routes/commands.js";
import { deviceRoutes } from "./routes/devices.js";
import { emojiRoutes } from "./routes/emojis.js";
import { gatewayRoutes } from "./routes/gateway.js";
import { guildApiRoutes } from "./routes/guild-api.js";
import { messageRoutes } from "./routes/messages.js";
import { oauth2Routes } from "./routes/oauth2.js";
import { relationshipRoutes } from "./routes/relationships.js";
import { userRoutes } from "./routes/users.js";
import { webhookRoutes } from "./routes/webhooks.js";

export interface DiscordApiDependencies {
  accounts: Accounts;
  guilds: Guilds;
  applications: Applications;
  commands: ApplicationCommands;
  relationships: Relationships;
  messages: Messages;
  attachments: AttachmentFiles;
  notifications: Notifications;
  emojis: Emojis;
  webhooks: Webhooks;
  interactions: Interactions;
  /** Interaction follow-ups under /webhooks/:id/:token (the webhook routes delegate to it). */
  tokenWebhooks?: TokenWebhookHandler;
  logger: Logger;
}

/**
 * The Discord v10-compatible REST API, registered under a prefix (/api/v10, and /api for
 * clients that leave the version out). Every route module of a Discord resource plugs in
 * here; this scope answers every error, including unknown routes and unparsable bodies, in
 * Discord's JSON error format.
 */
export function discordApi(deps: DiscordApiDependencies, mesh?: { registry: ServiceRegistry; clients: MeshClients }) {
  return async (app: FastifyInstance) => {
    // An empty JSON body (a POST with a content type and nothing else) counts as no body, as
    // Discord treats it; anything else goes through fastify's safe JSON parser.
    const parseJson = app.getDefaultJsonParser("error", "error");
    app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
      const text = body.toString();
      if (text === "") done(null, undefined);
      else parseJson(request, text, done);
    });

    app.setErrorHandler((err, request, reply) => {
      const answer = toDiscordError(err);
      if (answer.status >= 500) deps.logger.error({ err, method: request.method, url: request.url }, "Discord API request failed");
      return reply.code(answer.status).send(answer.body);
    });
    app.setNotFoundHandler((_request, reply) => {
      const answer = httpStatusError(404);
      return reply.code(404).send(answer.body);
    });

    await app.register(authRoutes(deps.accounts));
    await app.register(userRoutes(deps.accounts));
    await app.register(guildApiRoutes(deps));
    await app.register(emojiRoutes(deps));
    await app.register(messageRoutes(deps));
    await app.register(webhookRoutes(deps));
    await app.register(relationshipRoutes(deps.accounts, deps.relationships));
    await app.register(deviceRoutes(deps.accounts, deps.notifications));
    await app.register(applicationRoutes(deps.accounts, deps.applications));
    await app.register(commandRoutes(deps.accounts, deps.commands));
    await app.register(interactionRoutes(deps.accounts, deps.interactions, deps.attachments));
    await app.register(oauth2Routes(deps.accounts, deps.applications));
    if (mesh) await app.register(gatewayRoutes(deps.accounts, mesh.registry, mesh.clients));
  };
}

import fastifyMultipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
import type { AttachmentFiles } from "../../attachments/attachment-files.js";
import type { Accounts } from "../../accounts/accounts.js";
import type { Interactions } from "../../interactions/interactions.js";
import { requireSession } from "../auth.js";
import { pathSnowflake } from "../path-ids.js";
import { answerRefusals } from "../refusals.js";
import { withMessageForm } from "../multipart.js";

type CallbackParams = { Params: { interaction_id: string; token: string }; Querystring: { with_response?: string } };

/**
 * Discord's interaction routes: a person's client invokes a command or uses a component
 * (POST /interactions), and the application answers by token (no Authorization, as on
 * Discord: the token is the credential). Follow-ups under /webhooks/:application_id/:token
 * belong to the webhook routes, which reach Interactions as their TokenWebhookHandler.
 */
export function interactionRoutes(accounts: Accounts, interactions: Interactions, attachments: AttachmentFiles) {
  return async (app: FastifyInstance) => {
    await app.register(fastifyMultipart, { throwFileSizeLimit: false });
    // Refusals of the interaction side (unknown interaction or token) in Discord's format.
    answerRefusals(app);

    app.post("/interactions", async (request, reply) => {
      const session = await requireSession(accounts, request);
      await interactions.invoke(session, request.body ?? {});
      return reply.code(204).send();
    });

    app.post<CallbackParams>("/interactions/:interaction_id/:token/callback", async (request, reply) => {
      const interactionId = pathSnowflake("interaction_id", request.params.interaction_id);
      const token = request.params.token;
      // Files of a multipart answer are kept in the interaction's channel, which its owner names.
      const channelId = () => interactions.channelOf(interactionId, token);
      const message = await withMessageForm(request, reply, channelId, attachments, ({ body, files }) => interactions.callback(interactionId, token, body ?? {}, files));
      if (request.query.with_response !== "true") return reply.code(204).send();
      // Discord's InteractionCallbackResponse, when asked for.
      return {
        interaction: { id: String(interactionId), type: 0, response_message_id: message ? String(message.id) : null, response_message_loading: false, response_message_ephemeral: message ? (message.flags & 64) !== 0 : false },
        ...(message ? { resource: { type: 4, message: await interactions.render(message, message.guildId) } } : {}),
      };
    });
  };
}

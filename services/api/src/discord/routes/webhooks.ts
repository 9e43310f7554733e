import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyMultipart from "@fastify/multipart";
import type { Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import type { Webhook } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import { discordMessage, usersOfMessage } from "@chorus/discord-json/messages";
import { discordWebhook } from "@chorus/discord-json/webhooks";
import type { Accounts } from "../../accounts/accounts.js";
import type { AttachmentFiles } from "../../attachments/attachment-files.js";
import { queryFlag } from "../../guilds/guild-rules.js";
import { isDict } from "../../messages/form-schemas.js";
import { createWebhookBody, editWebhookMessage, executeWebhookMessage, modifyWebhookBody } from "../../webhooks/webhook-rules.js";
import { unknownWebhook, type Webhooks } from "../../webhooks/webhooks.js";
import { requireSession } from "../auth.js";
import { withMessageForm, type MessageForm } from "../multipart.js";
import { pathSnowflake } from "../path-ids.js";
import { answerRefusals } from "../refusals.js";
import type { TokenWebhookHandler } from "../token-webhooks.js";
import { lookUpUsers } from "../user-lookup.js";

export interface WebhookRouteDependencies {
  accounts: Accounts;
  webhooks: Webhooks;
  attachments: AttachmentFiles;
  /** Interaction follow-ups, which share the /webhooks/:id/:token paths (none yet). */
  tokenWebhooks?: TokenWebhookHandler;
}

type WebhookParams = { Params: { webhook_id: string } };
type TokenParams = { Params: { webhook_id: string; token: string } };
type TokenMessageParams = { Params: { webhook_id: string; token: string; message_id: string } };

/**
 * Discord's webhook routes: create, list, get, modify and delete webhooks (MANAGE_WEBHOOKS, or
 * the webhook's token), execute them (JSON or multipart with files, `?wait=true` for the
 * message) and get, edit or delete their messages. An id/token pair that is no channel webhook
 * may be an interaction's (tokenWebhooks); else 10015 Unknown Webhook.
 */
export function webhookRoutes({ accounts, webhooks, attachments, tokenWebhooks }: WebhookRouteDependencies) {
  /** Webhooks as members with MANAGE_WEBHOOKS see them: with their creator and token. */
  const withCreators = async (list: readonly Webhook[]) => {
    const users = await lookUpUsers(accounts, list.map((w) => w.creatorId).filter((id) => id !== 0n));
    return list.map((webhook) => discordWebhook(webhook, { users, token: true }));
  };

  const renderMessage = async (message: Message) => discordMessage(message, await lookUpUsers(accounts, usersOfMessage(message)));

  /**
   * The channel webhook of a token route, or the interaction handler that claims the pair
   * (undefined webhook); 10015 when neither.
   */
  const resolve = async (params: { webhook_id: string; token: string }): Promise<{ webhook: Webhook; token: string } | { handler: TokenWebhookHandler; id: bigint; token: string; channelId: bigint }> => {
    const id = pathSnowflake("webhook_id", params.webhook_id);
    const token = params.token;
    const webhook = await webhooks.find(id);
    if (webhook) return { webhook: await webhooks.withToken(id, token), token };
    const claimed = tokenWebhooks && (await tokenWebhooks.claim(id, token));
    if (claimed) return { handler: tokenWebhooks, id, token, channelId: claimed.channelId };
    throw unknownWebhook();
  };

  /** A message id of a token route: a snowflake, or "@original" (interactions only). */
  const messageIdOf = (value: string): bigint | "@original" => (value === "@original" ? value : pathSnowflake("message_id", value));
  // A channel webhook has no "@original" message: only snowflakes.
  const webhookMessageId = (value: string): bigint => pathSnowflake("message_id", value);

  /** A post or an edit's body (withMessageForm): files go to the webhook's channel once the token is known good. */
  const withForm = (request: FastifyRequest, reply: FastifyReply, channelId: bigint, run: (form: MessageForm) => Promise<Message>): Promise<Message> =>
    withMessageForm(request, reply, channelId, attachments, run);

  return async (app: FastifyInstance) => {
    await app.register(fastifyMultipart, { throwFileSizeLimit: false });
    // Refusals of the interaction side (unknown interaction or token) in Discord's format.
    answerRefusals(app);

    app.post<{ Params: { channel_id: string } }>("/channels/:channel_id/webhooks", async (request) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      const input = createWebhookBody(request.body);
      const { webhook } = await webhooks.create(session, channelId, input);
      return (await withCreators([webhook]))[0];
    });

    app.get<{ Params: { channel_id: string } }>("/channels/:channel_id/webhooks", async (request) => {
      const session = await requireSession(accounts, request);
      return withCreators(await webhooks.listForChannel(session, pathSnowflake("channel_id", request.params.channel_id)));
    });

    app.get<{ Params: { guild_id: string } }>("/guilds/:guild_id/webhooks", async (request) => {
      const session = await requireSession(accounts, request);
      return withCreators(await webhooks.listForGuild(session, pathSnowflake("guild_id", request.params.guild_id)));
    });

    app.get<WebhookParams>("/webhooks/:webhook_id", async (request) => {
      const session = await requireSession(accounts, request);
      const webhook = await webhooks.get(pathSnowflake("webhook_id", request.params.webhook_id), { session });
      return (await withCreators([webhook]))[0];
    });

    app.patch<WebhookParams>("/webhooks/:webhook_id", async (request) => {
      const session = await requireSession(accounts, request);
      const id = pathSnowflake("webhook_id", request.params.webhook_id);
      const webhook = await webhooks.modify(id, { session }, modifyWebhookBody(request.body));
      return (await withCreators([webhook]))[0];
    });

    app.delete<WebhookParams>("/webhooks/:webhook_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      await webhooks.remove(pathSnowflake("webhook_id", request.params.webhook_id), { session });
      return reply.code(204).send();
    });

    // With the token: no Authorization, and no `user` in the answer, but the token (as Discord).
    app.get<TokenParams>("/webhooks/:webhook_id/:token", async (request) => {
      const found = await resolve(request.params);
      if (!("webhook" in found)) throw unknownWebhook();
      return discordWebhook(found.webhook, { token: true });
    });

    app.patch<TokenParams>("/webhooks/:webhook_id/:token", async (request) => {
      const found = await resolve(request.params);
      if (!("webhook" in found)) throw unknownWebhook();
      const changes = modifyWebhookBody(request.body);
      // The token cannot move a webhook: Discord ignores channel_id here.
      delete changes.channelId;
      return discordWebhook(await webhooks.modify(found.webhook.id, { token: found.token }, changes), { token: true });
    });

    app.delete<TokenParams>("/webhooks/:webhook_id/:token", async (request, reply) => {
      const found = await resolve(request.params);
      if (!("webhook" in found)) throw unknownWebhook();
      await webhooks.remove(found.webhook.id, { token: found.token });
      return reply.code(204).send();
    });

    app.post<TokenParams & { Querystring: Record<string, unknown> }>("/webhooks/:webhook_id/:token", async (request, reply) => {
      const wait = queryFlag(request.query.wait);
      const found = await resolve(request.params);
      if (!("webhook" in found)) {
        const { handler, id, token, channelId } = found;
        const answer = await withMessageForm(request, reply, channelId, attachments, ({ body, files }) => handler.execute(id, token, body, { wait, files }));
        return answer === undefined ? reply.code(204).send() : answer;
      }
      const { webhook, token } = found;
      const application = webhook.applicationId !== 0n;
      const sent = await withForm(request, reply, webhook.channelId, ({ body, files }) =>
        webhooks.execute(webhook, token, executeWebhookMessage(body, webhook.channelId, files, application)),
      );
      if (!wait) return reply.code(204).send();
      return renderMessage(sent);
    });

    const messagePath = "/webhooks/:webhook_id/:token/messages/:message_id";
    app.get<TokenMessageParams>(messagePath, async (request) => {
      const found = await resolve(request.params);
      if (!("webhook" in found)) return found.handler.getMessage(found.id, found.token, messageIdOf(request.params.message_id));
      return renderMessage(await webhooks.getMessage(found.webhook, webhookMessageId(request.params.message_id)));
    });

    app.patch<TokenMessageParams>(messagePath, async (request, reply) => {
      const found = await resolve(request.params);
      if (!("webhook" in found)) {
        const { handler, id, token, channelId } = found;
        return withMessageForm(request, reply, channelId, attachments, ({ body, files }) => handler.editMessage(id, token, messageIdOf(request.params.message_id), body, files));
      }
      const { webhook, token } = found;
      const messageId = webhookMessageId(request.params.message_id);
      const current = await webhooks.getMessage(webhook, messageId);
      const application = webhook.applicationId !== 0n;
      const edited = await withForm(request, reply, webhook.channelId, async ({ body, files }) => {
        const edit = editWebhookMessage(body, messageId, files, files.length > 0 && !(isDict(body) && "attachments" in body) ? current.attachments.map((a) => a.id) : [], application);
        // Nothing to change: the message as it is.
        if (edit.updateMask?.paths?.length === 0) return current;
        return webhooks.editMessage(webhook, token, edit);
      });
      return renderMessage(edited);
    });

    app.delete<TokenMessageParams>(messagePath, async (request, reply) => {
      const found = await resolve(request.params);
      if (!("webhook" in found)) {
        await found.handler.deleteMessage(found.id, found.token, messageIdOf(request.params.message_id));
        return reply.code(204).send();
      }
      await webhooks.deleteMessage(found.webhook, found.token, webhookMessageId(request.params.message_id));
      return reply.code(204).send();
    });
  };
}

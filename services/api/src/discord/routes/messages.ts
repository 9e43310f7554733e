import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyMultipart from "@fastify/multipart";
import type { Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { discordMessage, usersOfMessage, type DiscordMessage } from "@chorus/discord-json/messages";
import { discordUser } from "@chorus/discord-json/users";
import type { Accounts } from "../../accounts/accounts.js";
import { validate } from "../../accounts/account-rules.js";
import type { AttachmentFiles } from "../../attachments/attachment-files.js";
import { bulkDeleteIds, editMessageCommand, listMessagesQuerySchema, listReactionsQuerySchema, sendMessageCommand } from "../../messages/message-rules.js";
import { isDict } from "../../messages/form-schemas.js";
import { Messages, normalizeEmoji, type HistoryAnchor, type MessageCommandInit } from "../../messages/messages.js";
import { requireSession } from "../auth.js";
import { pathSnowflake, pathSnowflakes } from "../path-ids.js";
import { lookUpUsers } from "../user-lookup.js";
import { withMessageForm, type MessageForm } from "../multipart.js";

export interface MessageRouteDependencies {
  accounts: Accounts;
  messages: Messages;
  attachments: AttachmentFiles;
}

type ChannelParams = { Params: { channel_id: string } };
type MessageParams = { Params: { channel_id: string; message_id: string } };
type ReactionParams = { Params: { channel_id: string; message_id: string; emoji: string } };

/**
 * Discord's message routes: post, read, edit and delete messages, bulk delete, pins,
 * reactions and typing, in any channel the caller can see (guild channels and DMs alike).
 * Bodies are checked by message-rules; the channel's owner checks permissions and answers in
 * Discord's codes. Posts and edits also come as multipart forms with files (attachments).
 */
export function messageRoutes({ accounts, messages, attachments }: MessageRouteDependencies) {
  /** Messages as Discord answers them, replies with the message they refer to. */
  const render = async (channelId: bigint, page: readonly Message[], viewerId: bigint): Promise<DiscordMessage[]> => {
    const referenced = await messages.referencedMessages(channelId, page, viewerId);
    const userIds = page.flatMap((m) => usersOfMessage(m, referenced.get(m.messageReference?.messageId ?? 0n)));
    const users = await lookUpUsers(accounts, userIds);
    return page.map((m) => {
      const referencedMessage = m.messageReference?.messageId ? referenced.get(m.messageReference.messageId) ?? null : undefined;
      return discordMessage(m, users, { referencedMessage });
    });
  };
  const renderOne = async (channelId: bigint, message: Message, viewerId: bigint) => (await render(channelId, [message], viewerId))[0];

  /** Runs a command as the caller once the caller is known, then the path and body are checked. */
  const run = async <K extends string>(request: FastifyRequest, command: (ids: Record<K | "channel_id", bigint>) => MessageCommandInit, params: Record<K | "channel_id", string>) => {
    const session = await requireSession(accounts, request);
    const ids = pathSnowflakes(params);
    await messages.execute(session.userId, ids.channel_id, command(ids));
  };

  /**
   * Runs the command a post or an edit's body (JSON or multipart: withMessageForm) turns into;
   * files are stored only once the caller may attach files in the channel.
   */
  const runWithForm = (
    request: FastifyRequest,
    reply: FastifyReply,
    actorId: bigint,
    channelId: bigint,
    command: (form: MessageForm) => Promise<MessageCommandInit>,
  ): Promise<Message> =>
    withMessageForm(
      request,
      reply,
      channelId,
      attachments,
      async (form) => Messages.messageOf(await messages.execute(actorId, channelId, await command(form))),
      () => messages.requireAttachFiles(actorId, channelId),
    );

  return async (app: FastifyInstance) => {
    // Multipart bodies for these routes only; files are read as streams by readMessageForm.
    await app.register(fastifyMultipart, { throwFileSizeLimit: false });

    app.post<ChannelParams>("/channels/:channel_id/messages", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      const sent = await runWithForm(request, reply, session.userId, channelId, async ({ body, files }) => ({
        command: { case: "sendMessage", value: sendMessageCommand(body, channelId, files) },
      }));
      return renderOne(channelId, sent, session.userId);
    });

    app.get<ChannelParams>("/channels/:channel_id/messages", async (request) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      const query = validate(listMessagesQuerySchema, request.query ?? {});
      // Discord reads one anchor: around, else before, else after.
      const anchor: HistoryAnchor =
        query.around !== undefined ? { around: query.around } : query.before !== undefined ? { before: query.before } : query.after !== undefined ? { after: query.after } : {};
      const page = await messages.list(session.userId, channelId, anchor, query.limit);
      return render(channelId, page, session.userId);
    });

    app.post<ChannelParams>("/channels/:channel_id/messages/bulk-delete", async (request, reply) => {
      await run(request, () => ({ command: { case: "bulkDeleteMessages", value: { messageIds: bulkDeleteIds(request.body) } } }), request.params);
      return reply.code(204).send();
    });

    app.get<MessageParams>("/channels/:channel_id/messages/:message_id", async (request) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      return renderOne(ids.channel_id, await messages.get(session.userId, ids.channel_id, ids.message_id), session.userId);
    });

    app.patch<MessageParams>("/channels/:channel_id/messages/:message_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      // Nothing to change (a JSON `{}`): the message as it is, as Discord answers.
      if (!request.isMultipart() && editMessageCommand(request.body, ids.message_id).updateMask?.paths?.length === 0) {
        return renderOne(ids.channel_id, await messages.get(session.userId, ids.channel_id, ids.message_id), session.userId);
      }
      const edited = await runWithForm(request, reply, session.userId, ids.channel_id, async ({ body, files }) => {
        // Files without an `attachments` list join those the message has.
        const keepAll = files.length > 0 && !(isDict(body) && "attachments" in body);
        const current = keepAll ? ((await messages.stored(ids.channel_id, ids.message_id))?.attachments.map((a) => a.id) ?? []) : [];
        return { command: { case: "editMessage", value: editMessageCommand(body, ids.message_id, files, current) } };
      });
      return renderOne(ids.channel_id, edited, session.userId);
    });

    app.delete<MessageParams>("/channels/:channel_id/messages/:message_id", async (request, reply) => {
      await run(request, (ids) => ({ command: { case: "deleteMessage", value: { messageId: ids.message_id } } }), request.params);
      return reply.code(204).send();
    });

    // Pins: the classic routes and the newer /messages/pins ones (PUT and DELETE).
    app.get<ChannelParams>("/channels/:channel_id/pins", async (request) => {
      const session = await requireSession(accounts, request);
      const channelId = pathSnowflake("channel_id", request.params.channel_id);
      return render(channelId, await messages.pins(session.userId, channelId), session.userId);
    });
    for (const path of ["/channels/:channel_id/pins/:message_id", "/channels/:channel_id/messages/pins/:message_id"]) {
      app.put<MessageParams>(path, async (request, reply) => {
        await run(request, (ids) => ({ command: { case: "pinMessage", value: { messageId: ids.message_id } } }), request.params);
        return reply.code(204).send();
      });
      app.delete<MessageParams>(path, async (request, reply) => {
        await run(request, (ids) => ({ command: { case: "unpinMessage", value: { messageId: ids.message_id } } }), request.params);
        return reply.code(204).send();
      });
    }

    // Reactions. The emoji arrives URL-decoded: a Unicode emoji, or "name:id".
    const reactionPath = "/channels/:channel_id/messages/:message_id/reactions";
    app.put<ReactionParams>(`${reactionPath}/:emoji/@me`, async (request, reply) => {
      const { emoji, ...params } = request.params;
      await run(request, (ids) => ({ command: { case: "addReaction", value: { messageId: ids.message_id, emoji: normalizeEmoji(emoji) } } }), params);
      return reply.code(204).send();
    });

    app.delete<ReactionParams>(`${reactionPath}/:emoji/@me`, async (request, reply) => {
      const { emoji, ...params } = request.params;
      await run(request, (ids) => ({ command: { case: "removeReaction", value: { messageId: ids.message_id, emoji: normalizeEmoji(emoji) } } }), params);
      return reply.code(204).send();
    });

    app.delete<{ Params: ReactionParams["Params"] & { user_id: string } }>(`${reactionPath}/:emoji/:user_id`, async (request, reply) => {
      const { emoji, ...params } = request.params;
      await run(request, (ids) => ({ command: { case: "removeReaction", value: { messageId: ids.message_id, emoji: normalizeEmoji(emoji), userId: ids.user_id } } }), params);
      return reply.code(204).send();
    });

    app.get<ReactionParams>(`${reactionPath}/:emoji`, async (request) => {
      const session = await requireSession(accounts, request);
      const { emoji, ...params } = request.params;
      const ids = pathSnowflakes(params);
      const query = validate(listReactionsQuerySchema, request.query ?? {});
      // Chorus has no super reactions (type 1): nobody made one.
      if (query.type === 1) return [];
      const userIds = await messages.reactionUsers(session.userId, ids.channel_id, ids.message_id, emoji, query.after, query.limit);
      const users = await lookUpUsers(accounts, userIds);
      return userIds.map((id) => discordUser(users(id)));
    });

    app.delete<ReactionParams>(`${reactionPath}/:emoji`, async (request, reply) => {
      const { emoji, ...params } = request.params;
      await run(request, (ids) => ({ command: { case: "removeAllReactions", value: { messageId: ids.message_id, emoji: normalizeEmoji(emoji) } } }), params);
      return reply.code(204).send();
    });

    app.delete<MessageParams>(reactionPath, async (request, reply) => {
      await run(request, (ids) => ({ command: { case: "removeAllReactions", value: { messageId: ids.message_id } } }), request.params);
      return reply.code(204).send();
    });

    app.post<ChannelParams>("/channels/:channel_id/typing", async (request, reply) => {
      await run(request, () => ({ command: { case: "triggerTyping", value: {} } }), request.params);
      return reply.code(204).send();
    });
  };
}

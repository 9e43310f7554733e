import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { GatewayIntentBits } from "discord-api-types/v10";
import { MessageReferenceSchema, MessageSchema, type Attachment, type Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import {
  MessageCommandResultSchema,
  type AllowedMentions,
  type MessageCommand,
  type MessageCommandResult,
} from "@chorus/contracts/chorus/chat/v1/message_commands_pb";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { discordMember, type UserLookup } from "@chorus/discord-json/guilds";
import { discordMessage, MESSAGE_CONTENT_FIELDS, usersOfMessage, withoutContent } from "@chorus/discord-json/messages";
import type { GuildModel } from "@chorus/guild-state/guild-model";
import { ChannelType, isPrivate } from "@chorus/guild-state/guild-model";
import type { Logger, MeshClients } from "@chorus/mesh";
import { has, Permission } from "@chorus/permissions";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import { json, type Dispatch } from "./guild-dispatch.js";
import type { FanoutJob, GuildFanout } from "./guild-fanout.js";
import { Codes, guildError, invalidField, missingAccess, missingPermissions, refused, unknownChannel } from "./guild-errors.js";
import type { GuildHost } from "./guild-host.js";
import type { GuildPush } from "./guild-push.js";
import type { UserCache } from "@chorus/discord-json/user-cache";
import { ALL_PERMISSIONS } from "@chorus/permissions";
import { invalidWebhookToken, readWebhook, tokenMatches, unknownWebhook } from "./guild-webhooks.js";

const Intent = GatewayIntentBits;
/** Discord's PIN_MESSAGES (split from MANAGE_MESSAGES in 2025). */
const PIN_MESSAGES = 1n << 51n;
const MAX_PINS = 50;
const BULK_DELETE_MAX_AGE_MS = 14 * 24 * 3600 * 1000;
const DISCORD_EPOCH_MS = 1420070400000n;
const MESSAGE_TYPE_REPLY = 19;
/** Discord's EPHEMERAL message flag. */
const EPHEMERAL = 64;
/** Distinct emojis one message may carry. */
const MAX_REACTION_EMOJIS = 20;

/**
 * Discord's emoji object of a reaction: "name:id" for a custom emoji (with `animated` when the
 * guild knows it), else a Unicode one.
 */
export function discordReactionEmoji(emoji: string, model?: GuildModel): { id: string | null; name: string; animated?: boolean } {
  const custom = /^(.+):(\d+)$/.exec(emoji);
  if (!custom) return { id: null, name: emoji };
  const known = model?.emojis.get(BigInt(custom[2]));
  return known ? { id: custom[2], name: custom[1], animated: known.animated } : { id: custom[2], name: custom[1] };
}

const unknownMessage = () => guildError(Code.NotFound, Codes.UnknownMessage, "Unknown Message");

/** Paths an edit may name, and who may make them. */
const AUTHOR_EDIT_PATHS = new Set(["content", "embeds", "components", "attachments", "mentions", "mention_roles", "mention_everyone"]);

export interface GuildMessagesOptions {
  host: GuildHost;
  clients: MeshClients;
  ids: SnowflakeGenerator;
  users: UserCache;
  fanout: GuildFanout;
  logger: Logger;
  /** Pushes to offline members a new message is for (none without it). */
  push?: GuildPush;
}

/**
 * Message commands, run by the owner of the channel's guild (or of the private channel): the
 * permission checks that need the guild's state, then storage, then the fan-out to the online
 * members who may see the channel. A command is acknowledged once storage accepted it; its
 * event is queued for the relays in the order the commands were accepted.
 */
export class GuildMessages {
  /** Slowmode: when each (channel, user) last posted. */
  private readonly lastPost = new Map<string, number>();

  constructor(private readonly options: GuildMessagesOptions) {}

  private storage(channelId: bigint) {
    return this.options.clients.client(StorageService, channelId);
  }

  async execute(ownerId: bigint, actorId: bigint, channelId: bigint, command: MessageCommand): Promise<MessageCommandResult> {
    const entry = await this.options.host.entry(ownerId);
    const model = entry.model;
    const channel = model.deleted ? undefined : model.channels.get(channelId);
    if (!channel) throw unknownChannel();
    const w = command.command;
    if (w.case === "sendWebhookMessage" || w.case === "editWebhookMessage" || w.case === "deleteWebhookMessage") {
      // The webhook is the authority (its token), not a member: no permission checks.
      const webhook = await readWebhook(this.options.clients, w.value.webhookId);
      if (webhook.guildId !== ownerId || webhook.channelId !== channelId) throw unknownWebhook();
      if (!tokenMatches(webhook, w.value.tokenHash)) throw invalidWebhookToken();
      const ctx: Context = { ownerId, actorId: webhook.id, channelId, model, perms: ALL_PERMISSIONS, private: false, sessions: () => this.options.host.sessionsOf(entry) };
      switch (w.case) {
        case "sendWebhookMessage": {
          if (channel.type === ChannelType.GuildCategory) throw refused(Codes.CannotSendMessagesInNonTextChannel, "Cannot send messages in a non-text channel");
          // A person's send, as the webhook (every permission), under its name and avatar.
          const draft = w.value.message;
          return this.send(ctx, draft && create(MessageSchema, { ...draft, messageReference: undefined }), undefined, 0, {
            webhookId: webhook.id,
            applicationId: webhook.applicationId,
            authorUsernameOverride: draft?.authorUsernameOverride || webhook.name,
            authorAvatarOverride: draft?.authorAvatarOverride || webhook.avatar || "",
          });
        }
        case "editWebhookMessage":
          await this.ofWebhook(channelId, w.value.messageId, webhook.id);
          return this.edit(ctx, w.value.messageId, w.value.message, w.value.updateMask?.paths ?? []);
        case "deleteWebhookMessage":
          await this.ofWebhook(channelId, w.value.messageId, webhook.id);
          return this.remove(ctx, w.value.messageId);
      }
    }
    const perms = model.channelPermissions(actorId, channel);
    if (!has(perms, Permission.ViewChannel)) throw missingAccess();
    const ctx: Context = { ownerId, actorId, channelId, model, perms, private: isPrivate(channel), sessions: () => this.options.host.sessionsOf(entry) };
    const c = command.command;
    switch (c.case) {
      case "sendMessage":
        if (channel.type === ChannelType.GuildCategory) throw refused(Codes.CannotSendMessagesInNonTextChannel, "Cannot send messages in a non-text channel");
        return this.send(ctx, c.value.message, c.value.allowedMentions, channel.rateLimitPerUser);
      case "editMessage":
        return this.edit(ctx, c.value.messageId, c.value.message, c.value.updateMask?.paths ?? []);
      case "deleteMessage":
        return this.remove(ctx, c.value.messageId);
      case "bulkDeleteMessages":
        return this.bulkRemove(ctx, c.value.messageIds);
      case "pinMessage":
        return this.pin(ctx, c.value.messageId, true);
      case "unpinMessage":
        return this.pin(ctx, c.value.messageId, false);
      case "triggerTyping":
        return this.typing(ctx);
      case "addReaction":
        return this.react(ctx, c.value.messageId, c.value.emoji);
      case "removeReaction":
        return this.unreact(ctx, c.value.messageId, c.value.emoji, c.value.userId === 0n ? ctx.actorId : c.value.userId);
      case "removeAllReactions":
        return this.clearReactions(ctx, c.value.messageId, c.value.emoji);
      default:
        throw invalidField("command", "Name a command.");
    }
  }

  // --- commands ---------------------------------------------------------------------------

  /**
   * A message an application posts (or edits) in answer to an interaction, as its bot: the
   * person's interaction stands for the bot's right to answer, so the bot's member permissions
   * are not checked (it still mentions only what it may). `ephemeral`: not stored, delivered
   * as MESSAGE_CREATE to that user's sessions only (Discord's flag 64).
   */
  async applicationMessage(
    ownerId: bigint,
    channelId: bigint,
    applicationId: bigint,
    action: { send: Message; ephemeralTo?: bigint } | { edit: { messageId: bigint; message: Message; paths: readonly string[] } },
  ): Promise<Message> {
    const entry = await this.options.host.entry(ownerId);
    const model = entry.model;
    const channel = model.deleted ? undefined : model.channels.get(channelId);
    if (!channel) throw unknownChannel();
    const perms = model.channelPermissions(applicationId, channel) | Permission.ViewChannel | Permission.SendMessages | Permission.ReadMessageHistory;
    const ctx: Context = { ownerId, actorId: applicationId, channelId, model, perms, private: isPrivate(channel), sessions: () => this.options.host.sessionsOf(entry) };
    if ("edit" in action) {
      const result = await this.edit(ctx, action.edit.messageId, action.edit.message, action.edit.paths);
      return result.result.value as Message;
    }
    const overrides = { type: action.send.type, applicationId: action.send.applicationId, interactionMetadata: action.send.interactionMetadata, webhookId: action.send.webhookId };
    if (action.ephemeralTo !== undefined) return this.ephemeral(ctx, action.send, overrides, action.ephemeralTo);
    const result = await this.send(ctx, action.send, undefined, 0, overrides);
    return result.result.value as Message;
  }

  /** An ephemeral message: minted and delivered to one user, never stored. */
  private async ephemeral(ctx: Context, draft: Message, overrides: Partial<Message>, userId: bigint): Promise<Message> {
    const message = create(MessageSchema, { ...draft, ...overrides, id: this.options.ids.next(), channelId: ctx.channelId, guildId: ctx.private ? 0n : ctx.ownerId, authorId: ctx.actorId, pinned: false });
    message.flags |= EPHEMERAL;
    this.publishTo(ctx, `m:${message.id}:ephemeral`, "MESSAGE_CREATE", message, userId);
    return message;
  }

  /** MESSAGE_CREATE / MESSAGE_UPDATE of a message only `userId` sees (an ephemeral one). */
  publishTo(ctx: Pick<Context, "ownerId" | "private" | "model">, deliveryId: string, event: string, message: Message, userId: bigint): void {
    const jobs = (async (): Promise<FanoutJob[]> => {
      const users: UserLookup = await this.options.users.lookup(usersOfMessage(message));
      const data = { ...discordMessage(message, users), ...(ctx.private ? {} : { guild_id: String(ctx.ownerId) }) };
      const dispatch: Dispatch = { event, data: json(data), intents: 0, channelId: 0n, userIds: [userId], toOnlineMembers: false };
      return [{ ownerId: ctx.ownerId, guildSeq: ctx.model.seq, deliveryId, dispatch, sessions: [] }];
    })();
    this.options.fanout.enqueue(ctx.ownerId, jobs);
  }

  private async send(ctx: Context, draft: Message | undefined, allowed: AllowedMentions | undefined, slowmodeSeconds: number, overrides: Partial<Message> = {}): Promise<MessageCommandResult> {
    if (!has(ctx.perms, Permission.SendMessages)) throw missingPermissions();
    if (!draft) throw invalidField("message", "Required.");
    // Files need ATTACH_FILES too (the api stored them and describes them in full).
    if (draft.attachments.length > 0 && !has(ctx.perms, Permission.AttachFiles)) throw missingPermissions();
    this.checkSlowmode(ctx, slowmodeSeconds);
    const message = create(MessageSchema, {
      ...draft,
      id: this.options.ids.next(),
      channelId: ctx.channelId,
      guildId: ctx.private ? 0n : ctx.ownerId,
      authorId: ctx.actorId,
      type: 0,
      pinned: false,
      editedTimestamp: undefined,
      mentions: [...new Set(draft.mentions)],
      mentionRoles: this.mentionableRoles(ctx, draft.mentionRoles),
      mentionEveryone: draft.mentionEveryone && has(ctx.perms, Permission.MentionEveryone),
      ...overrides,
    });
    let referenced: Message | undefined;
    const reference = draft.messageReference;
    if (reference && reference.messageId !== 0n) {
      if (!has(ctx.perms, Permission.ReadMessageHistory)) throw missingPermissions();
      referenced = await this.find(reference.channelId || ctx.channelId, reference.messageId).catch((err) => {
        if (ConnectError.from(err).code === Code.NotFound) return undefined;
        throw err;
      });
      if (!referenced) {
        if (reference.failIfNotExists !== false) throw invalidField("message_reference", "Unknown message");
        message.messageReference = undefined;
      } else {
        message.type = MESSAGE_TYPE_REPLY;
        message.messageReference = create(MessageReferenceSchema, {
          type: 0,
          messageId: referenced.id,
          channelId: referenced.channelId,
          guildId: referenced.guildId,
        });
        // A reply pings the replied-to author unless allowed_mentions.replied_user is false.
        if ((allowed?.repliedUser ?? true) && !message.mentions.includes(referenced.authorId)) message.mentions.push(referenced.authorId);
      }
    }
    return this.deliver(ctx, message, referenced);
  }

  /** Stores a new message, then queues its MESSAGE_CREATE and its pushes; answers once stored. */
  private async deliver(ctx: Context, message: Message, referenced?: Message): Promise<MessageCommandResult> {
    const stored = this.storage(ctx.channelId)
      .insertMessage({ message })
      .then((r) => r.message ?? message);
    this.publish(ctx, `m:${message.id}:create`, stored.then((m) => this.messageDispatch(ctx, "MESSAGE_CREATE", m, referenced)));
    // After the fan-out is queued, and never waited for: pushing cannot delay delivery.
    const push = this.options.push;
    const channel = ctx.model.channels.get(ctx.channelId);
    if (push && channel) stored.then((m) => push.messageCreated(ctx.model, channel, ctx.private ? [] : ctx.sessions(), m, ctx.private)).catch(() => undefined);
    const result = await stored;
    return create(MessageCommandResultSchema, { result: { case: "message", value: result } });
  }

  private async edit(ctx: Context, messageId: bigint, changes: Message | undefined, paths: readonly string[]): Promise<MessageCommandResult> {
    if (paths.length === 0) throw invalidField("update_mask", "Name at least one field to change.");
    const current = await this.find(ctx.channelId, messageId);
    for (const path of paths) {
      if (AUTHOR_EDIT_PATHS.has(path)) {
        if (current.authorId !== ctx.actorId) throw guildError(Code.PermissionDenied, Codes.CannotEditMessageAuthoredByAnotherUser, "Cannot edit a message authored by another user");
      } else if (path === "flags") {
        if (current.authorId !== ctx.actorId && !has(ctx.perms, Permission.ManageMessages)) throw missingPermissions();
      } else throw invalidField("update_mask", `Unknown field "${path}".`);
    }
    const update = changes ? clone(MessageSchema, changes) : create(MessageSchema);
    update.editedTimestamp = timestampFromDate(new Date());
    if (paths.includes("attachments")) update.attachments = this.editedAttachments(ctx, current, update.attachments);
    if (paths.includes("mention_roles")) update.mentionRoles = this.mentionableRoles(ctx, update.mentionRoles);
    if (paths.includes("mention_everyone")) update.mentionEveryone = update.mentionEveryone && has(ctx.perms, Permission.MentionEveryone);
    const stored = this.storage(ctx.channelId)
      .updateMessage({ channelId: ctx.channelId, messageId, message: update, updateMask: { paths: [...paths, "edited_timestamp"] } })
      .then((r) => r.message!);
    this.publish(ctx, `m:${messageId}:edit:${update.editedTimestamp!.seconds}.${update.editedTimestamp!.nanos}`, stored.then((m) => this.messageDispatch(ctx, "MESSAGE_UPDATE", m)));
    return create(MessageCommandResultSchema, { result: { case: "message", value: await stored } });
  }

  private async remove(ctx: Context, messageId: bigint): Promise<MessageCommandResult> {
    const current = await this.find(ctx.channelId, messageId);
    if (current.authorId !== ctx.actorId && (ctx.private || !has(ctx.perms, Permission.ManageMessages))) throw missingPermissions();
    const deleted = this.storage(ctx.channelId)
      .deleteMessage({ channelId: ctx.channelId, messageId })
      .then((r) => r.deleted);
    this.publish(
      ctx,
      `m:${messageId}:delete`,
      deleted.then((gone) => (gone ? [this.plain(ctx, "MESSAGE_DELETE", { id: String(messageId), channel_id: String(ctx.channelId), ...this.guildField(ctx) }, this.messageIntents(ctx))] : [])),
    );
    return create(MessageCommandResultSchema, { result: { case: "changed", value: (await deleted) ? 1 : 0 } });
  }

  private async bulkRemove(ctx: Context, messageIds: readonly bigint[]): Promise<MessageCommandResult> {
    if (ctx.private) throw refused(Codes.CannotExecuteActionOnDMChannel, "Cannot execute action on a DM channel");
    if (!has(ctx.perms, Permission.ManageMessages)) throw missingPermissions();
    if (messageIds.length < 2 || messageIds.length > 100) throw invalidField("messages", "Must be between 2 and 100 in length.");
    if (new Set(messageIds).size !== messageIds.length) throw invalidField("messages", "Must not repeat a message.");
    const oldest = Date.now() - BULK_DELETE_MAX_AGE_MS;
    messageIds.forEach((id, i) => {
      if (Number((id >> 22n) + DISCORD_EPOCH_MS) < oldest) throw guildError(Code.InvalidArgument, Codes.OneOfTheMessagesProvidedWasTooOldForBulkDelete, `messages.${i}: You can only bulk delete messages that are under 14 days old.`);
    });
    const deleted = this.storage(ctx.channelId)
      .bulkDeleteMessages({ channelId: ctx.channelId, messageIds: [...messageIds] })
      .then((r) => r.deletedIds);
    this.publish(
      ctx,
      `m:bulk:${ctx.channelId}:${messageIds[0]}:${messageIds.length}`,
      deleted.then((ids) =>
        ids.length === 0 ? [] : [this.plain(ctx, "MESSAGE_DELETE_BULK", { ids: ids.map(String), channel_id: String(ctx.channelId), ...this.guildField(ctx) }, Intent.GuildMessages)],
      ),
    );
    return create(MessageCommandResultSchema, { result: { case: "changed", value: (await deleted).length } });
  }

  private async pin(ctx: Context, messageId: bigint, pinned: boolean): Promise<MessageCommandResult> {
    if (!ctx.private && !has(ctx.perms, Permission.ManageMessages) && !has(ctx.perms, PIN_MESSAGES)) throw missingPermissions();
    const current = await this.find(ctx.channelId, messageId);
    if (current.pinned === pinned) return create(MessageCommandResultSchema, { result: { case: "message", value: current } });
    if (pinned) {
      const pins = await this.storage(ctx.channelId).listPinnedMessages({ channelId: ctx.channelId });
      if (pins.messages.length >= MAX_PINS) throw refused(Codes.MaximumNumberOfPinsReachedForTheChannel, "Maximum number of pins reached (50)");
    }
    const stored = this.storage(ctx.channelId)
      .updateMessage({ channelId: ctx.channelId, messageId, message: { pinned }, updateMask: { paths: ["pinned"] } })
      .then((r) => r.message!);
    const at = new Date().toISOString();
    this.publish(
      ctx,
      `m:${messageId}:pin:${pinned}:${at}`,
      stored.then(async (m) => [
        ...(await this.messageDispatch(ctx, "MESSAGE_UPDATE", m)),
        this.plain(ctx, "CHANNEL_PINS_UPDATE", { channel_id: String(ctx.channelId), last_pin_timestamp: pinned ? at : null, ...this.guildField(ctx) }, ctx.private ? Intent.DirectMessages : Intent.Guilds),
      ]),
    );
    return create(MessageCommandResultSchema, { result: { case: "message", value: await stored } });
  }

  private async typing(ctx: Context): Promise<MessageCommandResult> {
    if (!has(ctx.perms, Permission.SendMessages)) throw missingPermissions();
    const now = Date.now();
    const jobs = (async () => {
      const users = await this.options.users.lookup([ctx.actorId]);
      const member = ctx.model.members.get(ctx.actorId);
      const data = {
        channel_id: String(ctx.channelId),
        user_id: String(ctx.actorId),
        timestamp: Math.floor(now / 1000),
        ...this.guildField(ctx),
        ...(member ? { member: discordMember(member, users) } : {}),
      };
      return [this.plain(ctx, "TYPING_START", data, ctx.private ? Intent.DirectMessageTyping : Intent.GuildMessageTyping)];
    })();
    this.publish(ctx, `t:${ctx.channelId}:${ctx.actorId}:${now}`, jobs);
    return create(MessageCommandResultSchema, { result: { case: "changed", value: 0 } });
  }

  private async react(ctx: Context, messageId: bigint, requested: string): Promise<MessageCommandResult> {
    if (!has(ctx.perms, Permission.ReadMessageHistory)) throw missingPermissions();
    const emoji = this.reactionEmoji(ctx, requested);
    const message = await this.find(ctx.channelId, messageId);
    const existing = message.reactions.some((r) => r.emoji === emoji);
    // Adding to an existing reaction needs no ADD_REACTIONS, as in Discord; a new emoji does.
    if (!existing && !has(ctx.perms, Permission.AddReactions)) throw missingPermissions();
    if (!existing && message.reactions.length >= MAX_REACTION_EMOJIS) throw refused(Codes.MaximumNumberOfReactionsReached, "Maximum number of reactions reached (20)");
    const added = this.storage(ctx.channelId)
      .addReaction({ channelId: ctx.channelId, messageId, emoji, userId: ctx.actorId })
      .then((r) => r.added);
    this.publish(
      ctx,
      `r:${messageId}:${emoji}:${ctx.actorId}:add:${Date.now()}`,
      added.then(async (yes) => {
        if (!yes) return [];
        const users = await this.options.users.lookup([ctx.actorId]);
        const member = ctx.model.members.get(ctx.actorId);
        const data = {
          user_id: String(ctx.actorId),
          channel_id: String(ctx.channelId),
          message_id: String(messageId),
          message_author_id: String(message.authorId),
          emoji: discordReactionEmoji(emoji, ctx.model),
          burst: false,
          type: 0,
          ...this.guildField(ctx),
          ...(member ? { member: discordMember(member, users) } : {}),
        };
        return [this.plain(ctx, "MESSAGE_REACTION_ADD", data, this.reactionIntents(ctx))];
      }),
    );
    return create(MessageCommandResultSchema, { result: { case: "changed", value: (await added) ? 1 : 0 } });
  }

  /**
   * A custom emoji ("name:id") must be one of the guild's (10014 Unknown Emoji otherwise) and is
   * kept under its current name, so that one emoji is one reaction whatever name the path
   * gave. An emoji limited to roles is usable only by members holding one of them; to anyone
   * else it is as unknown (Discord's clients do not even offer it). In a private channel no
   * guild can say: it is taken as it is.
   */
  private reactionEmoji(ctx: Context, emoji: string): string {
    const custom = /^(.+):(\d+)$/.exec(emoji);
    if (!custom || ctx.private) return emoji;
    const known = ctx.model.emojis.get(BigInt(custom[2]));
    if (!known) throw refused(Codes.UnknownEmoji, "Unknown Emoji");
    if (known.roleIds.length > 0) {
      const held = ctx.model.members.get(ctx.actorId)?.roleIds ?? [];
      if (!known.roleIds.some((role) => held.includes(role))) throw refused(Codes.UnknownEmoji, "Unknown Emoji");
    }
    return `${known.name}:${known.id}`;
  }

  private async unreact(ctx: Context, messageId: bigint, emoji: string, userId: bigint): Promise<MessageCommandResult> {
    if (userId !== ctx.actorId && (ctx.private || !has(ctx.perms, Permission.ManageMessages))) throw missingPermissions();
    const removed = this.storage(ctx.channelId)
      .removeReaction({ channelId: ctx.channelId, messageId, emoji, userId })
      .then((r) => r.removed);
    this.publish(
      ctx,
      `r:${messageId}:${emoji}:${userId}:remove:${Date.now()}`,
      removed.then((yes) =>
        yes
          ? [
              this.plain(
                ctx,
                "MESSAGE_REACTION_REMOVE",
                { user_id: String(userId), channel_id: String(ctx.channelId), message_id: String(messageId), emoji: discordReactionEmoji(emoji, ctx.model), burst: false, type: 0, ...this.guildField(ctx) },
                this.reactionIntents(ctx),
              ),
            ]
          : [],
      ),
    );
    return create(MessageCommandResultSchema, { result: { case: "changed", value: (await removed) ? 1 : 0 } });
  }

  private async clearReactions(ctx: Context, messageId: bigint, emoji: string | undefined): Promise<MessageCommandResult> {
    if (ctx.private || !has(ctx.perms, Permission.ManageMessages)) throw missingPermissions();
    const removed = this.storage(ctx.channelId)
      .removeAllReactions({ channelId: ctx.channelId, messageId, emoji })
      .then((r) => r.removed);
    const base = { channel_id: String(ctx.channelId), message_id: String(messageId), ...this.guildField(ctx) };
    this.publish(
      ctx,
      `r:${messageId}:${emoji ?? "*"}:clear:${Date.now()}`,
      removed.then((n) =>
        n === 0
          ? []
          : [
              emoji === undefined
                ? this.plain(ctx, "MESSAGE_REACTION_REMOVE_ALL", base, this.reactionIntents(ctx))
                : this.plain(ctx, "MESSAGE_REACTION_REMOVE_EMOJI", { ...base, emoji: discordReactionEmoji(emoji, ctx.model) }, this.reactionIntents(ctx)),
            ],
      ),
    );
    return create(MessageCommandResultSchema, { result: { case: "changed", value: await removed } });
  }

  // --- helpers ----------------------------------------------------------------------------

  /**
   * The attachments an edit leaves: those of the message it names by id (as stored: an edit
   * cannot change them), and new files the api uploaded (described in full, with their URL;
   * ATTACH_FILES). An id the message does not have is Discord's ATTACHMENT_NOT_FOUND.
   */
  private editedAttachments(ctx: Context, current: Message, listed: readonly Attachment[]): Attachment[] {
    const existing = new Map(current.attachments.map((a) => [a.id, a] as const));
    const seen = new Set<bigint>();
    const result: Attachment[] = [];
    listed.forEach((attachment, index) => {
      if (seen.has(attachment.id)) return;
      seen.add(attachment.id);
      const kept = existing.get(attachment.id);
      if (kept) result.push(kept);
      else if (attachment.url !== "") {
        if (!has(ctx.perms, Permission.AttachFiles)) throw missingPermissions();
        result.push(attachment);
      } else throw invalidField(`attachments.${index}`, "ATTACHMENT_NOT_FOUND: Attachment data not found");
    });
    return result;
  }

  /** A message the webhook posted; 10008 for any other, as Discord answers. */
  private async ofWebhook(channelId: bigint, messageId: bigint, webhookId: bigint): Promise<Message> {
    const message = await this.find(channelId, messageId);
    if (message.webhookId !== webhookId) throw unknownMessage();
    return message;
  }

  private reactionIntents(ctx: Context): number {
    return ctx.private ? Intent.DirectMessageReactions : Intent.GuildMessageReactions;
  }

  private async find(channelId: bigint, messageId: bigint): Promise<Message> {
    try {
      const { message } = await this.storage(channelId).getMessage({ channelId, messageId });
      if (!message) throw unknownMessage();
      return message;
    } catch (err) {
      if (ConnectError.from(err).code === Code.NotFound) throw unknownMessage();
      throw err;
    }
  }

  private checkSlowmode(ctx: Context, seconds: number): void {
    if (seconds === 0 || ctx.private || has(ctx.perms, Permission.ManageMessages) || has(ctx.perms, Permission.ManageChannels)) return;
    const key = `${ctx.channelId}:${ctx.actorId}`;
    const now = Date.now();
    const last = this.lastPost.get(key);
    if (last !== undefined && now - last < seconds * 1000) {
      const retryAfter = (seconds * 1000 - (now - last)) / 1000;
      throw guildError(Code.ResourceExhausted, Codes.ActionCannotBePerformedDueToSlowmodeRateLimit, `slowmode: retry after ${retryAfter.toFixed(3)} s`, 0n, retryAfter);
    }
    this.lastPost.set(key, now);
    if (this.lastPost.size > 100_000) this.lastPost.clear();
  }

  /** Role mentions that ping: roles of the guild that are mentionable, or any with MENTION_EVERYONE. */
  private mentionableRoles(ctx: Context, roleIds: readonly bigint[]): bigint[] {
    const everyone = has(ctx.perms, Permission.MentionEveryone);
    return [...new Set(roleIds)].filter((id) => {
      const role = ctx.model.roles.get(id);
      return role !== undefined && id !== ctx.ownerId && (role.mentionable || everyone);
    });
  }

  private guildField(ctx: Context): { guild_id?: string } {
    return ctx.private ? {} : { guild_id: String(ctx.ownerId) };
  }

  private messageIntents(ctx: Context): number {
    return ctx.private ? Intent.DirectMessages : Intent.GuildMessages;
  }

  /** A dispatch to everyone who may see the channel (its recipients, for a private channel). */
  private plain(ctx: Context, event: string, data: unknown, intents: number): Dispatch {
    const recipients = ctx.private ? [...ctx.model.channels.values()][0]?.recipientIds ?? [] : [];
    return { event, data: json(data), intents, channelId: ctx.private ? 0n : ctx.channelId, userIds: recipients, toOnlineMembers: !ctx.private };
  }

  /** MESSAGE_CREATE / MESSAGE_UPDATE: the message with its author's member, and the content-free variant for apps without MESSAGE_CONTENT. */
  private async messageDispatch(ctx: Context, event: string, message: Message, referenced?: Message): Promise<Dispatch[]> {
    const users: UserLookup = await this.options.users.lookup(usersOfMessage(message, referenced));
    const body = discordMessage(message, users, referenced ? { referencedMessage: referenced } : {});
    const member = ctx.private ? undefined : ctx.model.members.get(message.authorId);
    const data = {
      ...body,
      ...this.guildField(ctx),
      ...(member ? { member: { ...discordMember(member, users), user: undefined } } : {}),
    };
    const dispatch = this.plain(ctx, event, data, this.messageIntents(ctx));
    if (!ctx.private) {
      dispatch.dataWithoutContent = json(withoutContent(data, MESSAGE_CONTENT_FIELDS));
      dispatch.contentExemptUserIds = [message.authorId, ...message.mentions];
    }
    return [dispatch];
  }

  /** Queues dispatches for the relays behind the guild's earlier events. */
  private publish(ctx: Context, deliveryId: string, dispatches: Promise<Dispatch[]>): void {
    const sessions = ctx.private ? [] : ctx.sessions();
    const jobs = dispatches.then((list): FanoutJob[] =>
      list.map((dispatch, i) => ({ ownerId: ctx.ownerId, guildSeq: ctx.model.seq, deliveryId: `${deliveryId}:${i}`, dispatch, sessions })),
    );
    jobs.catch((err) => this.options.logger.debug({ err }, "message command failed before its fan-out"));
    this.options.fanout.enqueue(ctx.ownerId, jobs);
  }
}

interface Context {
  ownerId: bigint;
  actorId: bigint;
  channelId: bigint;
  model: GuildModel;
  perms: bigint;
  private: boolean;
  sessions: () => ReturnType<GuildHost["sessionsOf"]>;
}


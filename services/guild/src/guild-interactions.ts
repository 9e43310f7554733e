import { create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { MessageSchema, type Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import {
  InteractionWebhookAction,
  type CreateInteractionRequest,
  type CreateInteractionResponse,
  type InteractionWebhookRequest,
  type InteractionWebhookResponse,
  type RespondInteractionRequest,
  type RespondInteractionResponse,
} from "@chorus/contracts/chorus/guild/v1/interactions_pb";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { discordGuildChannel, discordChannel } from "@chorus/discord-json/channels";
import { discordMember } from "@chorus/discord-json/guilds";
import { discordMessage, usersOfMessage } from "@chorus/discord-json/messages";
import { discordUser } from "@chorus/discord-json/users";
import type { UserCache } from "@chorus/discord-json/user-cache";
import { isPrivate } from "@chorus/guild-state/guild-model";
import type { Logger, MeshClients } from "@chorus/mesh";
import { has, Permission } from "@chorus/permissions";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import { json, type Dispatch } from "./guild-dispatch.js";
import type { GuildFanout } from "./guild-fanout.js";
import { Codes, guildError, invalidField, missingAccess, missingPermissions, refused, unknownChannel } from "./guild-errors.js";
import type { GuildHost } from "./guild-host.js";
import type { GuildMessages } from "./guild-messages.js";
import { commandTargets, resolvedData, selectTargets, targetUserIds } from "./interaction-resolved.js";
import { checkComponentInteraction, checkModalSubmit } from "./interaction-rules.js";

function modalKey(actorId: bigint, applicationId: bigint, channelId: bigint, customId: unknown): string {
  return `${actorId}:${applicationId}:${channelId}:${String(customId)}`;
}

function withoutResolved(data: JsonObject): JsonObject {
  const { resolved: _given, ...rest } = data;
  return rest;
}

/** Discord's interaction types and callback types Chorus serves. */
const Type = { Command: 2, Component: 3, Autocomplete: 4, ModalSubmit: 5 } as const;
const Callback = { Pong: 1, Message: 4, DeferredMessage: 5, DeferredUpdate: 6, Update: 7, Autocomplete: 8, Modal: 9 } as const;
const EPHEMERAL = 64;
/** Message types of answers: to a command (CHAT_INPUT_COMMAND), else a reply-like type. */
const COMMAND_MESSAGE_TYPE = 20;
const COMPONENT_MESSAGE_TYPE = 19;

export interface InteractionTimes {
  /** How long a token lives (Discord: 15 minutes). */
  lifetimeMs: number;
  /** How long the application has for the initial response (Discord: 3 s). */
  responseDeadlineMs: number;
}

interface Live {
  id: bigint;
  ownerId: bigint;
  channelId: bigint;
  actorId: bigint;
  applicationId: bigint;
  type: number;
  token: string;
  nonce: string;
  expiresAt: number;
  /** The initial response was given (or the deadline passed: `failed`). */
  acknowledged: boolean;
  failed: boolean;
  deadline?: NodeJS.Timeout;
  /** The component's message (components), which UPDATE_MESSAGE changes. */
  messageId: bigint;
  /** @original, once it exists; ephemeral messages are kept here (never stored). */
  originalId?: bigint;
  ephemeral: Map<bigint, Message>;
  /** The initial response was deferred with flag 64: @original will be ephemeral. */
  deferredEphemeral: boolean;
}

const unknownInteraction = () => guildError(Code.NotFound, Codes.UnknownInteraction, "Unknown interaction");
const alreadyAcknowledged = () => refused(Codes.InteractionHasAlreadyBeenAcknowledged, "Interaction has already been acknowledged.");
const unknownWebhook = () => guildError(Code.NotFound, Codes.UnknownWebhook, "Unknown Webhook");
const unknownMessage = () => guildError(Code.NotFound, Codes.UnknownMessage, "Unknown Message");

/** Interaction tokens: the owner and interaction ids (for routing) and 32 random bytes. */
export function interactionToken(ownerId: bigint, interactionId: bigint): string {
  return `${ownerId.toString(36)}.${interactionId.toString(36)}.${randomBytes(32).toString("base64url")}`;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The interactions of the guilds (and private channels) this node owns, held in memory for
 * their lifetime: the state is the owner's, like the online sessions, so any api node may take
 * a callback (the token names the owner). A node that stops owning the channel forgets them
 * (10062 afterwards). INTERACTION_CREATE reaches the bot's sessions, and the person's own
 * signals (INTERACTION_SUCCESS, INTERACTION_FAILURE when the application did not answer within
 * the deadline, INTERACTION_MODAL_CREATE, APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE, ephemeral
 * messages) reach that user's sessions only, through the guild's fan-out queue.
 */
export class GuildInteractions {
  private readonly live = new Map<bigint, Live>();
  /** Modals shown and not yet submitted, by person, application, channel and custom_id (single use). */
  private readonly modals = new Map<string, { components: unknown[]; expiresAt: number }>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly options: {
      host: GuildHost;
      clients: MeshClients;
      ids: SnowflakeGenerator;
      users: UserCache;
      fanout: GuildFanout;
      messages: GuildMessages;
      logger: Logger;
      times: InteractionTimes;
    },
  ) {
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const [id, live] of this.live) if (live.expiresAt <= now) this.forget(id);
      for (const [key, modal] of this.modals) if (modal.expiresAt <= now) this.modals.delete(key);
    }, 60_000);
    this.sweep.unref();
  }

  close(): void {
    clearInterval(this.sweep);
    for (const id of [...this.live.keys()]) this.forget(id);
  }

  private forget(id: bigint): void {
    const live = this.live.get(id);
    if (live?.deadline) clearTimeout(live.deadline);
    this.live.delete(id);
  }

  async create(req: CreateInteractionRequest): Promise<CreateInteractionResponse> {
    const entry = await this.options.host.entry(req.ownerId);
    const model = entry.model;
    const channel = model.deleted ? undefined : model.channels.get(req.channelId);
    if (!channel) throw unknownChannel();
    const perms = model.channelPermissions(req.actorId, channel);
    if (!has(perms, Permission.ViewChannel)) throw missingAccess();
    const priv = isPrivate(channel);
    // A command's default_member_permissions: all of them, in this channel (administrators'
    // computed sets hold every flag; "0" leaves the command to them). Private channels have no
    // permissions to hold.
    const required = req.requiredPermissions === 0n ? Permission.Administrator : req.requiredPermissions;
    if (!priv && required !== undefined && !has(perms, required)) throw missingPermissions();
    // The bot must be in the guild (or the private channel) to be told of it.
    if (priv ? !channel.recipientIds.includes(req.applicationId) : !model.members.has(req.applicationId)) {
      throw guildError(Code.NotFound, Codes.UnknownApplication, "Unknown Application");
    }
    const data = (req.data ?? {}) as JsonObject;
    let message: Message | undefined;
    if (req.type === Type.Component) {
      message = await this.message(req.channelId, req.messageId);
      if (!message) throw invalidField("message_id", "UNKNOWN_MESSAGE: Unknown message.");
      if (message.authorId !== req.applicationId && message.applicationId !== req.applicationId) {
        throw invalidField("message_id", "INTERACTION_APPLICATION_MISMATCH: The message was not sent by this application.");
      }
      checkComponentInteraction(message.components, data);
    } else if (req.type === Type.ModalSubmit) {
      // Only a modal this application showed this person here, once.
      const key = modalKey(req.actorId, req.applicationId, req.channelId, data.custom_id);
      const modal = this.modals.get(key);
      if (!modal || modal.expiresAt <= Date.now()) throw invalidField("data.custom_id", `MODAL_NOT_FOUND: No modal "${String(data.custom_id)}" was shown to you here.`);
      checkModalSubmit(modal.components, data);
      this.modals.delete(key);
    } else if (req.type !== Type.Command && req.type !== Type.Autocomplete) {
      throw invalidField("type", `Interaction type ${req.type} cannot be created.`);
    }
    const id = this.options.ids.next();
    const token = interactionToken(req.ownerId, id);
    // The users, roles and channels named by options or an entity select's values.
    const targets = req.type === Type.Component ? selectTargets(data) : commandTargets(data.options);
    const users = await this.options.users.lookup([
      req.actorId,
      req.applicationId,
      ...(message ? usersOfMessage(message) : []),
      ...targetUserIds(targets, model.roles),
    ]);
    const resolved = resolvedData(targets, {
      roles: priv ? new Map() : model.roles,
      members: priv ? new Map() : model.members,
      channels: priv ? new Map([[channel.id, channel]]) : model.channels,
      permissionsIn: (c) => model.channelPermissions(req.actorId, c),
      memberPermissions: (userId) => model.channelPermissions(userId, channel),
      users,
    });
    const member = model.members.get(req.actorId);
    const interaction = {
      id: String(id),
      application_id: String(req.applicationId),
      type: req.type,
      // What the invoker sent as `resolved` is never passed on: the owner's lookups replace it.
      data: { ...withoutResolved(data), ...(resolved ? { resolved } : {}) },
      ...(priv
        ? { user: discordUser(users(req.actorId)), channel: discordChannel(channel, req.applicationId, users), context: 2 }
        : {
            guild_id: String(req.ownerId),
            guild: { id: String(req.ownerId), locale: model.guild?.preferredLocale || "en-US", features: [] },
            guild_locale: model.guild?.preferredLocale || "en-US",
            member: member ? { ...discordMember(member, users), permissions: String(perms) } : undefined,
            channel: discordGuildChannel(channel),
            context: 0,
          }),
      channel_id: String(req.channelId),
      token,
      version: 1,
      app_permissions: String(model.channelPermissions(req.applicationId, channel)),
      locale: users(req.actorId).locale || "en-US",
      entitlements: [],
      authorizing_integration_owners: { "0": priv ? undefined : String(req.ownerId) },
      attachment_size_limit: 10485760,
      ...(message ? { message: { ...discordMessage(message, users), ...(priv ? {} : { guild_id: String(req.ownerId) }) } } : {}),
    };
    const live: Live = {
      id,
      ownerId: req.ownerId,
      channelId: req.channelId,
      actorId: req.actorId,
      applicationId: req.applicationId,
      type: req.type,
      token,
      nonce: req.nonce,
      expiresAt: Date.now() + this.options.times.lifetimeMs,
      acknowledged: false,
      failed: false,
      messageId: message?.id ?? 0n,
      ephemeral: new Map(),
      deferredEphemeral: false,
    };
    this.live.set(id, live);
    live.deadline = setTimeout(() => this.missedDeadline(live), this.options.times.responseDeadlineMs);
    live.deadline.unref();
    const interactionJson = json(interaction);
    if (req.deliverOverGateway) this.signal(live, "INTERACTION_CREATE", interaction, req.applicationId);
    return { $typeName: "chorus.guild.v1.CreateInteractionResponse", interactionId: id, token, interactionJson };
  }

  private missedDeadline(live: Live): void {
    live.deadline = undefined;
    if (live.acknowledged || !this.live.has(live.id)) return;
    live.acknowledged = true;
    live.failed = true;
    // Autocomplete has no visible failure: the client just shows no choices.
    if (live.type === Type.Autocomplete) return;
    this.signal(live, "INTERACTION_FAILURE", { id: String(live.id), nonce: live.nonce || null, reason: "the application did not respond in time" }, live.actorId);
  }

  /** A dispatch to one user's sessions, queued behind the guild's earlier events. */
  private signal(live: Live, event: string, data: unknown, userId: bigint): void {
    const dispatch: Dispatch = { event, data: json(data), intents: 0, channelId: 0n, userIds: [userId], toOnlineMembers: false };
    this.options.host
      .entry(live.ownerId)
      .then((entry) => {
        this.options.fanout.enqueue(live.ownerId, Promise.resolve([{ ownerId: live.ownerId, guildSeq: entry.model.seq, deliveryId: `i:${live.id}:${event}:${Date.now()}`, dispatch, sessions: [] }]));
      })
      .catch((err: unknown) => this.options.logger.warn({ err, interactionId: String(live.id) }, "interaction signal lost"));
  }

  /** The live interaction the token names; 10062 when it is unknown, expired or the token is wrong. */
  private find(interactionId: bigint, token: string): Live {
    const live = this.live.get(interactionId);
    if (!live || !sameToken(live.token, token)) throw unknownInteraction();
    if (live.expiresAt <= Date.now()) {
      this.forget(interactionId);
      throw unknownInteraction();
    }
    return live;
  }

  async respond(req: RespondInteractionRequest): Promise<RespondInteractionResponse> {
    await this.options.host.entry(req.ownerId);
    const live = this.find(req.interactionId, req.token);
    if (live.failed) throw unknownInteraction();
    if (live.acknowledged) throw alreadyAcknowledged();
    const data = (req.data ?? {}) as JsonObject;
    // Which answers fit which interaction, as on Discord.
    const fits: Record<number, readonly number[]> = {
      [Callback.Message]: [Type.Command, Type.Component, Type.ModalSubmit],
      [Callback.DeferredMessage]: [Type.Command, Type.Component, Type.ModalSubmit],
      [Callback.DeferredUpdate]: [Type.Component, Type.ModalSubmit],
      [Callback.Update]: [Type.Component, Type.ModalSubmit],
      [Callback.Autocomplete]: [Type.Autocomplete],
      [Callback.Modal]: [Type.Command, Type.Component],
    };
    if (!fits[req.type]?.includes(live.type)) throw invalidField("type", `INTERACTION_RESPONSE_TYPE_INVALID: Callback type ${req.type} does not answer interaction type ${live.type}.`);
    if ((req.type === Callback.Update || req.type === Callback.DeferredUpdate) && live.messageId === 0n) {
      throw invalidField("type", "INTERACTION_RESPONSE_TYPE_INVALID: This interaction has no message to update.");
    }
    // Acknowledged before the work, so a concurrent second response is refused.
    live.acknowledged = true;
    if (live.deadline) clearTimeout(live.deadline);
    live.deadline = undefined;
    let message: Message | undefined;
    try {
      switch (req.type) {
        case Callback.Message:
          message = await this.post(live, req.message ?? create(MessageSchema), true);
          break;
        case Callback.DeferredMessage:
          live.deferredEphemeral = ((req.message?.flags ?? 0) & EPHEMERAL) !== 0;
          break;
        case Callback.Update:
          message = await this.options.messages.applicationMessage(live.ownerId, live.channelId, live.applicationId, {
            edit: { messageId: live.messageId, message: req.message ?? create(MessageSchema), paths: req.updateMask?.paths ?? [] },
          });
          live.originalId = live.messageId;
          break;
        case Callback.DeferredUpdate:
          live.originalId = live.messageId;
          break;
        case Callback.Autocomplete:
          this.signal(live, "APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE", { nonce: live.nonce || null, choices: data.choices ?? [] }, live.actorId);
          break;
        case Callback.Modal:
          this.modals.set(modalKey(live.actorId, live.applicationId, live.channelId, data.custom_id), {
            components: Array.isArray(data.components) ? (data.components as unknown[]) : [],
            expiresAt: Date.now() + this.options.times.lifetimeMs,
          });
          this.signal(live, "INTERACTION_MODAL_CREATE", { id: String(live.id), nonce: live.nonce || null, channel_id: String(live.channelId), application_id: String(live.applicationId), custom_id: data.custom_id, title: data.title, components: data.components }, live.actorId);
          break;
      }
    } catch (err) {
      live.acknowledged = false;
      throw err;
    }
    this.signal(live, "INTERACTION_SUCCESS", { id: String(live.id), nonce: live.nonce || null }, live.actorId);
    return { $typeName: "chorus.guild.v1.RespondInteractionResponse", message };
  }

  /** A message of the application in answer to the interaction (`original`: the first one, @original). */
  private async post(live: Live, draft: Message, original: boolean): Promise<Message> {
    const ephemeral = (draft.flags & EPHEMERAL) !== 0;
    const users = await this.options.users.lookup([live.actorId]);
    const send = create(MessageSchema, {
      ...draft,
      type: original ? (live.type === Type.Command ? COMMAND_MESSAGE_TYPE : COMPONENT_MESSAGE_TYPE) : 0,
      applicationId: live.applicationId,
      webhookId: original ? 0n : live.applicationId,
      interactionMetadata: original
        ? { id: String(live.id), type: live.type, user: discordUser(users(live.actorId)) as unknown as JsonObject, authorizing_integration_owners: {}, ...(live.messageId ? { interacted_message_id: String(live.messageId) } : {}) }
        : undefined,
    });
    const message = await this.options.messages.applicationMessage(live.ownerId, live.channelId, live.applicationId, { send, ...(ephemeral ? { ephemeralTo: live.actorId } : {}) });
    if (ephemeral) live.ephemeral.set(message.id, message);
    if (original) live.originalId = message.id;
    return message;
  }

  async webhook(req: InteractionWebhookRequest): Promise<InteractionWebhookResponse> {
    const entry = await this.options.host.entry(req.ownerId);
    const channel = [...entry.model.channels.values()][0];
    const priv = channel !== undefined && isPrivate(channel);
    let live: Live;
    try {
      live = this.find(req.interactionId, req.token);
    } catch {
      throw unknownWebhook();
    }
    const reply = (message?: Message): InteractionWebhookResponse => ({
      $typeName: "chorus.guild.v1.InteractionWebhookResponse",
      message,
      guildId: priv ? 0n : req.ownerId,
      channelId: live.channelId,
    });
    // A claim by token alone (application 0) is the callback route's: the token is its credential.
    const byToken = req.action === InteractionWebhookAction.CLAIM && req.applicationId === 0n;
    if (!byToken && live.applicationId !== req.applicationId) throw unknownWebhook();
    if (req.action === InteractionWebhookAction.CLAIM) return reply();
    // Follow-ups come after the initial response.
    if (!live.acknowledged || live.failed) throw unknownInteraction();
    const draft = req.message ?? create(MessageSchema);
    if (req.action === InteractionWebhookAction.EXECUTE) {
      // The first message after a deferral is @original.
      const original = live.originalId === undefined;
      if (original && live.deferredEphemeral) draft.flags |= EPHEMERAL;
      return reply(await this.post(live, draft, original));
    }
    const messageId = req.messageId === 0n ? live.originalId : req.messageId;
    if (messageId === undefined) {
      // Editing @original of a deferred response makes it.
      if (req.action === InteractionWebhookAction.EDIT) {
        if (live.deferredEphemeral) draft.flags |= EPHEMERAL;
        return reply(await this.post(live, draft, true));
      }
      throw unknownMessage();
    }
    const ephemeral = live.ephemeral.get(messageId);
    switch (req.action) {
      case InteractionWebhookAction.GET:
        return reply(ephemeral ?? (await this.owned(live, messageId)));
      case InteractionWebhookAction.EDIT: {
        const paths = req.updateMask?.paths ?? [];
        if (ephemeral) {
          const edited = create(MessageSchema, { ...ephemeral });
          for (const path of paths) {
            if (path === "content") edited.content = draft.content;
            if (path === "embeds") edited.embeds = draft.embeds;
            if (path === "components") edited.components = draft.components;
          }
          live.ephemeral.set(messageId, edited);
          this.options.messages.publishTo({ ownerId: live.ownerId, private: priv, model: entry.model }, `m:${messageId}:ephemeral-edit:${Date.now()}`, "MESSAGE_UPDATE", edited, live.actorId);
          return reply(edited);
        }
        await this.owned(live, messageId);
        return reply(await this.options.messages.applicationMessage(live.ownerId, live.channelId, live.applicationId, { edit: { messageId, message: draft, paths } }));
      }
      case InteractionWebhookAction.DELETE: {
        if (ephemeral) {
          live.ephemeral.delete(messageId);
          return reply();
        }
        await this.owned(live, messageId);
        await this.options.messages.execute(live.ownerId, live.applicationId, live.channelId, { $typeName: "chorus.chat.v1.MessageCommand", command: { case: "deleteMessage", value: { $typeName: "chorus.chat.v1.DeleteMessage", messageId } } });
        return reply();
      }
      default:
        throw invalidField("action", "Name an action.");
    }
  }

  /** A stored message of the application in the interaction's channel. */
  private async owned(live: Live, messageId: bigint): Promise<Message> {
    const message = await this.message(live.channelId, messageId);
    if (!message || message.authorId !== live.applicationId) throw unknownMessage();
    return message;
  }

  private async message(channelId: bigint, messageId: bigint): Promise<Message | undefined> {
    if (messageId === 0n) return undefined;
    try {
      return (await this.options.clients.client(StorageService, channelId).getMessage({ channelId, messageId })).message;
    } catch (err) {
      if (ConnectError.from(err).code === Code.NotFound) return undefined;
      throw err;
    }
  }
}

import { timingSafeEqual } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PermissionFlagsBits, RESTJSONErrorCodes } from "discord-api-types/v10";
import type { MeshClients } from "@chorus/mesh";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import type { Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { WebhookSchema, type Webhook } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import { WebhookStorageService } from "@chorus/contracts/chorus/storage/v1/webhooks_pb";
import { TokenKind, type Session } from "../accounts/accounts.js";
import { GuildRequestError } from "../guilds/guild-errors.js";
import { resultOf, type Guilds } from "../guilds/guilds.js";
import type { EditMessageInit, SendMessageInit } from "../messages/message-rules.js";
import { Messages } from "../messages/messages.js";
import { isTokenShaped, newWebhookToken, webhookTokenHash, type WebhookChanges } from "./webhook-rules.js";

export const unknownWebhook = () => new GuildRequestError(Code.NotFound, RESTJSONErrorCodes.UnknownWebhook);
export const invalidWebhookToken = () => new GuildRequestError(Code.Unauthenticated, RESTJSONErrorCodes.InvalidWebhookToken);
const missingPermissions = () => new GuildRequestError(Code.PermissionDenied, RESTJSONErrorCodes.MissingPermissions);

/** Whether two token hashes are equal, in constant time. */
const hashMatches = (given: Uint8Array, stored: Uint8Array): boolean => given.length === stored.length && timingSafeEqual(given, stored);

/** Who acts on a webhook: a signed-in member with MANAGE_WEBHOOKS, or whoever holds its token. */
export type WebhookAuthority = { session: Session } | { token: string };

/**
 * Channel webhooks as the edge serves them, shared by the Discord routes and the Connect
 * WebhookService. Changes are guild commands run by the owner of the webhook's guild (which
 * checks MANAGE_WEBHOOKS, or the token, and announces WEBHOOKS_UPDATE); messages are message
 * commands run by the channel's owner as the webhook. Reads go to storage's
 * WebhookStorageService; the token is checked here first (its SHA-256 against the stored one,
 * in constant time) and again by the owner. Storage also keeps the token itself, which managers
 * and the token's holder see, as on Discord.
 */
export class Webhooks {
  constructor(
    private readonly clients: MeshClients,
    private readonly guilds: Guilds,
    private readonly messages: Messages,
    private readonly ids: SnowflakeGenerator,
  ) {}

  private storage(shardKey: bigint) {
    return this.clients.client(WebhookStorageService, shardKey);
  }

  /** The webhook of an id, or undefined when there is none. */
  async find(webhookId: bigint): Promise<Webhook | undefined> {
    try {
      return (await this.storage(webhookId).getWebhook({ webhookId })).webhook;
    } catch (err) {
      if (err instanceof ConnectError && (err.code === Code.NotFound || err.code === Code.InvalidArgument)) return undefined;
      throw err;
    }
  }

  /** The webhook `token` opens: 10015 when there is none, 50027 for a wrong token. */
  async withToken(webhookId: bigint, token: string): Promise<Webhook> {
    const webhook = await this.find(webhookId);
    if (!webhook) throw unknownWebhook();
    if (!isTokenShaped(token) || !hashMatches(webhookTokenHash(token), webhook.tokenHash)) throw invalidWebhookToken();
    return webhook;
  }

  /** Whether the caller has MANAGE_WEBHOOKS in a channel (10003 / 50001 when it cannot see it). */
  private async requireManage(session: Session, channelId: bigint): Promise<void> {
    const { permissions } = await this.guilds.getChannel(session.userId, channelId);
    if ((permissions & PermissionFlagsBits.ManageWebhooks) === 0n) throw missingPermissions();
  }

  /** A webhook the caller manages (MANAGE_WEBHOOKS in its channel), or the one its token opens. */
  async get(webhookId: bigint, authority: WebhookAuthority): Promise<Webhook> {
    if ("token" in authority) return this.withToken(webhookId, authority.token);
    const webhook = await this.find(webhookId);
    if (!webhook) throw unknownWebhook();
    await this.requireManage(authority.session, webhook.channelId);
    return webhook;
  }

  /** Creates a webhook in a guild channel; the webhook comes back with its token. */
  async create(session: Session, channelId: bigint, input: { name: string; avatar?: string }): Promise<{ webhook: Webhook; token: string }> {
    const token = newWebhookToken();
    const result = await this.guilds.executeOnChannel(session.userId, channelId, {
      command: {
        case: "createWebhook",
        value: {
          webhookId: this.ids.next(),
          channelId,
          name: input.name,
          avatar: input.avatar,
          tokenHash: webhookTokenHash(token),
          token,
          // A bot's user id is its application's id.
          applicationId: session.kind === TokenKind.BOT ? session.userId : 0n,
        },
      },
    });
    return { webhook: create(WebhookSchema, { ...resultOf(result, "webhook"), token }), token };
  }

  /** A channel's webhooks (MANAGE_WEBHOOKS in it). */
  async listForChannel(session: Session, channelId: bigint): Promise<Webhook[]> {
    await this.requireManage(session, channelId);
    const guildId = await this.guilds.ownerOfChannel(channelId);
    return (await this.storage(guildId).listWebhooks({ guildId, channelId })).webhooks;
  }

  /** A guild's webhooks (MANAGE_WEBHOOKS in the guild). */
  async listForGuild(session: Session, guildId: bigint): Promise<Webhook[]> {
    const { permissions } = await this.guilds.getGuild(session.userId, guildId);
    if ((permissions & PermissionFlagsBits.ManageWebhooks) === 0n) throw missingPermissions();
    return (await this.storage(guildId).listWebhooks({ guildId })).webhooks;
  }

  /** Changes a webhook's name, avatar or (not with a token) channel. */
  async modify(webhookId: bigint, authority: WebhookAuthority, changes: WebhookChanges): Promise<Webhook> {
    const current = "token" in authority ? await this.withToken(webhookId, authority.token) : await this.find(webhookId);
    if (!current) throw unknownWebhook();
    const paths: string[] = [];
    if (changes.name !== undefined) paths.push("name");
    if (changes.avatar !== undefined) paths.push("avatar");
    if (changes.channelId !== undefined && changes.channelId !== current.channelId) paths.push("channel_id");
    if (paths.length === 0) {
      if (!("token" in authority)) await this.requireManage(authority.session, current.channelId);
      return current;
    }
    const result = await this.guilds.execute("session" in authority ? authority.session.userId : 0n, current.guildId, {
      command: {
        case: "modifyWebhook",
        value: {
          webhookId,
          name: changes.name ?? "",
          avatar: changes.avatar ?? undefined,
          channelId: changes.channelId ?? 0n,
          updateMask: { paths },
          tokenHash: "token" in authority ? webhookTokenHash(authority.token) : new Uint8Array(),
        },
      },
    });
    return resultOf(result, "webhook");
  }

  async remove(webhookId: bigint, authority: WebhookAuthority): Promise<Webhook> {
    const current = "token" in authority ? await this.withToken(webhookId, authority.token) : await this.find(webhookId);
    if (!current) throw unknownWebhook();
    const result = await this.guilds.execute("session" in authority ? authority.session.userId : 0n, current.guildId, {
      command: { case: "deleteWebhook", value: { webhookId, tokenHash: "token" in authority ? webhookTokenHash(authority.token) : new Uint8Array() } },
    });
    return resultOf(result, "webhook");
  }

  /** Posts as the webhook (its token already checked by withToken); the stored message. */
  async execute(webhook: Webhook, token: string, send: SendMessageInit): Promise<Message> {
    const result = await this.messages.execute(0n, webhook.channelId, {
      command: { case: "sendWebhookMessage", value: { webhookId: webhook.id, tokenHash: webhookTokenHash(token), message: send.message, allowedMentions: send.allowedMentions } },
    });
    return Messages.messageOf(result);
  }

  /** A message the webhook posted; 10008 for any other. */
  getMessage(webhook: Webhook, messageId: bigint): Promise<Message> {
    return this.messages.ofWebhook(webhook.channelId, messageId, webhook.id);
  }

  async editMessage(webhook: Webhook, token: string, edit: EditMessageInit): Promise<Message> {
    const result = await this.messages.execute(0n, webhook.channelId, {
      command: {
        case: "editWebhookMessage",
        value: { webhookId: webhook.id, tokenHash: webhookTokenHash(token), messageId: edit.messageId, message: edit.message, updateMask: edit.updateMask, allowedMentions: edit.allowedMentions },
      },
    });
    return Messages.messageOf(result);
  }

  async deleteMessage(webhook: Webhook, token: string, messageId: bigint): Promise<void> {
    await this.messages.execute(0n, webhook.channelId, { command: { case: "deleteWebhookMessage", value: { webhookId: webhook.id, tokenHash: webhookTokenHash(token), messageId } } });
  }
}

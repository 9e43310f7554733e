import { timingSafeEqual } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GatewayIntentBits } from "discord-api-types/v10";
import type { Channel } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { GuildCommandResultSchema, type GuildCommand, type GuildCommandResult } from "@chorus/contracts/chorus/chat/v1/guild_commands_pb";
import { WebhookSchema, type Webhook } from "@chorus/contracts/chorus/chat/v1/webhook_pb";
import { WebhookStorageService } from "@chorus/contracts/chorus/storage/v1/webhooks_pb";
import { ChannelType, isPrivate, type GuildModel } from "@chorus/guild-state/guild-model";
import type { Logger, MeshClients } from "@chorus/mesh";
import { has, Permission } from "@chorus/permissions";
import { json } from "./guild-dispatch.js";
import type { GuildFanout } from "./guild-fanout.js";
import { Codes, guildError, invalidField, missingAccess, missingPermissions, refused, unknownChannel, unknownGuild } from "./guild-errors.js";
import type { GuildHost } from "./guild-host.js";

/** Discord's limit of webhooks per channel. */
export const MAX_WEBHOOKS_PER_CHANNEL = 15;

export const unknownWebhook = () => guildError(Code.NotFound, Codes.UnknownWebhook, "Unknown Webhook");
export const invalidWebhookToken = () => guildError(Code.Unauthenticated, Codes.InvalidWebhookToken, "Invalid Webhook Token");

/** Whether `given` is the webhook's token hash (compared in constant time). */
export function tokenMatches(webhook: Webhook, given: Uint8Array): boolean {
  return given.length === webhook.tokenHash.length && given.length > 0 && timingSafeEqual(given, webhook.tokenHash);
}

/** The webhook of an id from storage; 10015 when there is none. */
export async function readWebhook(clients: MeshClients, webhookId: bigint): Promise<Webhook> {
  try {
    const { webhook } = await clients.client(WebhookStorageService, webhookId).getWebhook({ webhookId });
    if (!webhook) throw unknownWebhook();
    return webhook;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) throw unknownWebhook();
    throw err;
  }
}

export interface GuildWebhooksOptions {
  host: GuildHost;
  clients: MeshClients;
  fanout: GuildFanout;
  logger: Logger;
}

/**
 * Webhook commands, run by the owner of the webhook's guild: MANAGE_WEBHOOKS (or the webhook's
 * token) is checked against the guild's state, the webhook is written through storage's
 * WebhookStorageService, and WEBHOOKS_UPDATE goes to the members who see the channel.
 */
export class GuildWebhooks {
  constructor(private readonly options: GuildWebhooksOptions) {}

  private storage(webhookId: bigint) {
    return this.options.clients.client(WebhookStorageService, webhookId);
  }

  static handles(command: GuildCommand): boolean {
    const c = command.command.case;
    return c === "createWebhook" || c === "modifyWebhook" || c === "deleteWebhook";
  }

  async execute(ownerId: bigint, actorId: bigint, command: GuildCommand): Promise<GuildCommandResult> {
    const entry = await this.options.host.entry(ownerId);
    const model = entry.model;
    const c = command.command;
    let webhook: Webhook;
    const touched: bigint[] = [];
    switch (c.case) {
      case "createWebhook": {
        const channel = this.managedChannel(model, actorId, c.value.channelId);
        const existing = await this.storage(ownerId).listWebhooks({ guildId: ownerId, channelId: channel.id });
        if (existing.webhooks.length >= MAX_WEBHOOKS_PER_CHANNEL) {
          throw refused(Codes.MaximumNumberOfWebhooksReached, `Maximum number of webhooks reached (${MAX_WEBHOOKS_PER_CHANNEL})`);
        }
        if (c.value.webhookId === 0n) throw invalidField("webhook_id", "Required.");
        if (c.value.tokenHash.length !== 32) throw invalidField("token_hash", "A SHA-256.");
        webhook = create(WebhookSchema, {
          id: c.value.webhookId,
          type: 1,
          guildId: ownerId,
          channelId: channel.id,
          creatorId: actorId,
          name: c.value.name,
          avatar: c.value.avatar,
          applicationId: c.value.applicationId,
          tokenHash: c.value.tokenHash,
          // Storage refuses a token that does not hash to tokenHash.
          token: c.value.token,
        });
        await this.storage(webhook.id).putWebhook({ webhook });
        touched.push(channel.id);
        break;
      }
      case "modifyWebhook": {
        const current = await this.webhookOf(model, c.value.webhookId);
        const paths = c.value.updateMask?.paths ?? [];
        const byToken = c.value.tokenHash.length > 0;
        if (byToken) {
          if (!tokenMatches(current, c.value.tokenHash)) throw invalidWebhookToken();
          if (paths.includes("channel_id")) throw invalidField("channel_id", "Cannot move a webhook with its token.");
        } else this.managedChannel(model, actorId, current.channelId);
        webhook = create(WebhookSchema, current);
        for (const path of paths) {
          if (path === "name") webhook.name = c.value.name;
          else if (path === "avatar") webhook.avatar = c.value.avatar;
          else if (path === "channel_id") webhook.channelId = this.managedChannel(model, actorId, c.value.channelId).id;
          else throw invalidField("update_mask", `Unknown field "${path}".`);
        }
        await this.storage(webhook.id).putWebhook({ webhook });
        touched.push(current.channelId);
        if (webhook.channelId !== current.channelId) touched.push(webhook.channelId);
        break;
      }
      case "deleteWebhook": {
        webhook = await this.webhookOf(model, c.value.webhookId);
        if (c.value.tokenHash.length > 0) {
          if (!tokenMatches(webhook, c.value.tokenHash)) throw invalidWebhookToken();
        } else this.managedChannel(model, actorId, webhook.channelId, true);
        await this.storage(webhook.id).deleteWebhook({ webhookId: webhook.id });
        touched.push(webhook.channelId);
        break;
      }
      default:
        throw invalidField("command", "Not a webhook command.");
    }
    this.publish(ownerId, entry, touched, webhook.id);
    return create(GuildCommandResultSchema, { result: { case: "webhook", value: webhook } });
  }

  /**
   * After a channel (channelId) or the whole guild (0) is deleted: its webhooks go too, as on
   * Discord. Best effort: a failure is logged and leaves them behind (executing one then answers
   * 10003 Unknown Channel).
   */
  async removeWith(ownerId: bigint, channelId: bigint): Promise<void> {
    try {
      const { webhooks } = await this.storage(ownerId).listWebhooks({ guildId: ownerId, channelId });
      await Promise.all(webhooks.map((w) => this.storage(w.id).deleteWebhook({ webhookId: w.id })));
    } catch (err) {
      this.options.logger.warn({ err, guildId: String(ownerId), channelId: String(channelId) }, "webhooks of a deleted channel or guild left behind");
    }
  }

  /** A webhook of this guild; 10015 for another guild's (or none). */
  private async webhookOf(model: GuildModel, webhookId: bigint): Promise<Webhook> {
    if (!model.guild || model.deleted) throw unknownWebhook();
    const webhook = await readWebhook(this.options.clients, webhookId);
    if (webhook.guildId !== model.ownerId) throw unknownWebhook();
    return webhook;
  }

  /**
   * A channel of the guild where the actor may manage webhooks (MANAGE_WEBHOOKS there).
   * `gone`: a channel deleted since still lets guild-wide managers delete its webhooks.
   */
  private managedChannel(model: GuildModel, actorId: bigint, channelId: bigint, gone = false): Channel {
    if (!model.guild || model.deleted) {
      const channel = model.channels.get(channelId);
      if (channel && isPrivate(channel)) throw refused(Codes.CannotExecuteActionOnDMChannel, "Cannot execute action on a DM channel");
      throw unknownGuild();
    }
    if (!model.members.has(actorId)) throw missingAccess();
    const channel = model.channels.get(channelId);
    if (!channel) {
      if (gone && has(model.basePermissions(actorId), Permission.ManageWebhooks)) return { id: channelId } as Channel;
      throw unknownChannel();
    }
    if (channel.type === ChannelType.GuildCategory) throw refused(Codes.CannotExecuteActionOnThisChannelType, "Cannot execute action on this channel type");
    const perms = model.channelPermissions(actorId, channel);
    if (!has(perms, Permission.ViewChannel)) throw missingAccess();
    if (!has(perms, Permission.ManageWebhooks)) throw missingPermissions();
    return channel;
  }

  /** WEBHOOKS_UPDATE for each channel touched, to the members who see it (GUILD_WEBHOOKS intent). */
  private publish(ownerId: bigint, entry: Awaited<ReturnType<GuildHost["entry"]>>, channelIds: readonly bigint[], webhookId: bigint): void {
    const sessions = this.options.host.sessionsOf(entry);
    const now = Date.now();
    const jobs = channelIds.map((channelId, i) => ({
      ownerId,
      guildSeq: entry.model.seq,
      deliveryId: `w:${webhookId}:${now}:${i}`,
      sessions,
      dispatch: {
        event: "WEBHOOKS_UPDATE",
        data: json({ guild_id: String(ownerId), channel_id: String(channelId) }),
        intents: GatewayIntentBits.GuildWebhooks,
        channelId,
        userIds: [],
        toOnlineMembers: true,
      },
    }));
    this.options.fanout.enqueue(ownerId, Promise.resolve(jobs));
  }
}

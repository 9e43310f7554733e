import type { Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import type { Channel } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import type { OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { PushReason, PushService, type PushRecipientSchema } from "@chorus/contracts/chorus/push/v1/push_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { UserCache } from "@chorus/discord-json/user-cache";
import type { GuildModel } from "@chorus/guild-state/guild-model";
import type { Logger, MeshClients, ServiceRegistry } from "@chorus/mesh";
import { has, Permission } from "@chorus/permissions";

/** Recipients of one Notify call (the push contract's limit). */
const NOTIFY_BATCH = 1000;
/** Offline members one message notifies at most (@everyone or "all messages" in a very large guild). */
export const MAX_PUSH_RECIPIENTS = 10_000;
const NOTIFY_TIMEOUT_MS = 2000;

type Recipient = MessageInitShape<typeof PushRecipientSchema>;

/** Discord's message_notifications. */
const Level = { AllMessages: 0, Default: 3 } as const;

/**
 * Whether a member's own settings (else the guild's default) make a plain message in this
 * channel notify them: the channel's level unless "default", else the guild-wide one unless
 * "default", else the guild's default; muted (guild or channel) never. Push applies the full
 * rules again; this only picks whom to ask about.
 */
function wantsAllMessages(model: GuildModel, channelId: bigint, userId: bigint): boolean {
  const settings = model.memberNotifications.get(userId);
  const guildDefault = model.guild?.defaultMessageNotifications ?? 1;
  if (!settings) return guildDefault === Level.AllMessages;
  const override = settings.channelOverrides.find((o) => o.channelId === channelId);
  if (settings.muted || override?.muted) return false;
  const level = override && override.messageNotifications !== Level.Default ? override.messageNotifications : settings.messageNotifications !== Level.Default ? settings.messageNotifications : guildDefault;
  return level === Level.AllMessages;
}

/**
 * Who of a guild's (or private channel's) members a new message should be pushed to: the
 * members with no live gateway session who may see the channel and are mentioned by name
 * (MENTION), through a role (ROLE_MENTION) or by @everyone (EVERYONE; @here reaches only
 * online members, so never a push), or who get every message there (ALL_MESSAGES: the
 * guild's default unless their own settings, which the owner holds, say otherwise). In a
 * private channel every other recipient (DIRECT_MESSAGE); whether they are online is for push
 * to check (the owner of a private channel does not track presence). Push applies their
 * settings again in full (mutes, "nothing", suppress_everyone / suppress_roles).
 */
export function pushRecipients(model: GuildModel, channel: Channel, online: ReadonlySet<bigint>, message: Message, privateChannel: boolean): Recipient[] {
  if (privateChannel) {
    return channel.recipientIds.filter((id) => id !== message.authorId).map((userId) => ({ userId, reason: PushReason.DIRECT_MESSAGE }));
  }
  const mentioned = new Set(message.mentions);
  const roles = new Set(message.mentionRoles);
  const everyone = message.mentionEveryone && message.content.includes("@everyone");
  const allByDefault = model.guild?.defaultMessageNotifications === Level.AllMessages;
  // Without a guild-wide reason, only the mentioned and those whose settings ask for more.
  const candidates = everyone || allByDefault || roles.size > 0 ? model.members.keys() : new Set([...mentioned, ...model.memberNotifications.keys()]).values();
  const recipients: Recipient[] = [];
  for (const userId of candidates) {
    if (userId === message.authorId || online.has(userId)) continue;
    const member = model.members.get(userId);
    if (!member) continue;
    let reason: PushReason | undefined;
    if (mentioned.has(userId)) reason = PushReason.MENTION;
    else if (member.roleIds.some((r) => roles.has(r))) reason = PushReason.ROLE_MENTION;
    else if (everyone) reason = PushReason.EVERYONE;
    else if (wantsAllMessages(model, channel.id, userId)) reason = PushReason.ALL_MESSAGES;
    if (reason === undefined || !has(model.channelPermissions(userId, channel), Permission.ViewChannel)) continue;
    recipients.push({ userId, reason });
    if (recipients.length >= MAX_PUSH_RECIPIENTS) break;
  }
  return recipients;
}

/**
 * The guild owner's side of push notifications: after a message's fan-out is queued, the
 * members it should reach and who are offline go to the push service in Notify calls nobody
 * waits for. A missing or overloaded push service costs the pushes, never the message.
 */
export class GuildPush {
  constructor(
    private readonly clients: MeshClients,
    private readonly registry: ServiceRegistry,
    private readonly users: UserCache,
    private readonly logger: Logger,
  ) {}

  messageCreated(model: GuildModel, channel: Channel, online: readonly OnlineSession[], message: Message, privateChannel: boolean): void {
    if (this.registry.instances("push").length === 0) return;
    const recipients = pushRecipients(model, channel, new Set(online.map((s) => s.userId)), message, privateChannel);
    if (recipients.length === 0) return;
    void this.notify(model, channel, message, recipients, privateChannel).catch((err) =>
      this.logger.debug({ err, channelId: String(message.channelId) }, "push: Notify failed; those pushes are lost"),
    );
  }

  private async notify(model: GuildModel, channel: Channel, message: Message, recipients: Recipient[], privateChannel: boolean): Promise<void> {
    const author = (await this.users.lookup([message.authorId]))(message.authorId);
    const name = author.globalName || author.username;
    const body = message.content || (message.attachments.length > 0 ? "sent an attachment" : message.embeds.length > 0 ? "sent an embed" : "");
    const push = {
      guildId: privateChannel ? 0n : model.ownerId,
      channelId: message.channelId,
      messageId: message.id,
      authorId: message.authorId,
      title: privateChannel ? name : `${name} (#${channel.name})`,
      body: body.slice(0, 500),
      defaultMessageNotifications: model.guild?.defaultMessageNotifications ?? 1,
    };
    const client = this.clients.client(PushService);
    for (let i = 0; i < recipients.length; i += NOTIFY_BATCH) {
      await client.notify({ message: push, recipients: recipients.slice(i, i + NOTIFY_BATCH), checkSessions: privateChannel }, { timeoutMs: NOTIFY_TIMEOUT_MS });
    }
  }
}

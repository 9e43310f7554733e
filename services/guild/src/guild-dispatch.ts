import { GatewayIntentBits } from "discord-api-types/v10";
import type { GuildEvent } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { discordChannel, discordGuildChannel, isPrivateChannel } from "@chorus/discord-json/channels";
import { discordEmoji } from "@chorus/discord-json/emojis";
import { discordGuild, discordMember, discordRole, isoTime, type UserLookup } from "@chorus/discord-json/guilds";
import { discordGuildCreate, GUILD_CREATE_MEMBER_LIMIT } from "@chorus/discord-json/gateway-guild";
import { discordUser } from "@chorus/discord-json/users";
import type { GuildModel } from "@chorus/guild-state/guild-model";

/** One gateway dispatch as the owner hands it to the relays: serialized here, once. */
export interface Dispatch {
  event: string;
  data: Uint8Array;
  /** For bots without MESSAGE_CONTENT; empty when the same as data. */
  dataWithoutContent?: Uint8Array;
  /** Gateway intents that receive it (0: every session). */
  intents: number;
  /** Only members allowed to see this channel get it (0: every online member). */
  channelId: bigint;
  /** Users reached on all their sessions, besides the guild's online members (or instead, for private channels). */
  userIds: bigint[];
  /** When false, only `userIds` get it (not the guild's online members). */
  toOnlineMembers: boolean;
  /** Users who get `data` even without MESSAGE_CONTENT (a message's author and mentions). */
  contentExemptUserIds?: bigint[];
}

const encoder = new TextEncoder();
export const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

const Intent = GatewayIntentBits;

/** The user ids a guild event's rendering needs. */
export function usersOfEvent(event: GuildEvent, model: GuildModel): bigint[] {
  const c = event.change;
  switch (c.case) {
    case "memberAdded":
      // Its GUILD_CREATE shows the guild's first members too.
      return [c.value.userId, ...[...model.members.keys()].slice(0, GUILD_CREATE_MEMBER_LIMIT)];
    case "memberUpdated":
      return [c.value.userId];
    case "memberRemoved":
    case "banRemoved":
      return [c.value.userId];
    case "banAdded":
      return [c.value.userId];
    case "inviteCreated":
      return [c.value.inviterId];
    case "channelCreated":
    case "channelUpdated":
    case "channelDeleted":
      return isPrivateChannel(c.value) ? c.value.recipientIds : [];
    case "guildCreated":
      return c.value.channels.flatMap((ch) => (isPrivateChannel(ch) ? ch.recipientIds : []));
    default:
      return [];
  }
}

/**
 * The dispatches of one guild event, as Discord's gateway sends them. `model` is the guild
 * after the event (for the roles GUILD_UPDATE carries).
 */
export function dispatchesOf(event: GuildEvent, model: GuildModel, users: UserLookup): Dispatch[] {
  const guildId = String(model.ownerId);
  const c = event.change;
  const base = { channelId: 0n, userIds: [] as bigint[], toOnlineMembers: true };
  switch (c.case) {
    case "guildCreated": {
      // A new private channel: its recipients learn of it. (A new guild's GUILD_CREATE is
      // sent by the gateways to their sessions of the creator, with the full guild.)
      const channel = c.value.channels[0];
      if (c.value.guild || !channel) return [];
      return channel.recipientIds.map((viewer) => ({
        ...base,
        event: "CHANNEL_CREATE",
        data: json(discordChannel(channel, viewer, users)),
        intents: 0,
        userIds: [viewer],
        toOnlineMembers: false,
      }));
    }
    case "guildUpdated":
      return [{ ...base, event: "GUILD_UPDATE", data: json(discordGuild(c.value, model.sortedRoles(), model.sortedEmojis())), intents: Intent.Guilds }];
    case "guildDeleted":
      return [{ ...base, event: "GUILD_DELETE", data: json({ id: guildId, unavailable: false }), intents: Intent.Guilds }];
    case "channelCreated":
    case "channelUpdated":
    case "channelDeleted": {
      const name = c.case === "channelCreated" ? "CHANNEL_CREATE" : c.case === "channelUpdated" ? "CHANNEL_UPDATE" : "CHANNEL_DELETE";
      const channel = c.value;
      if (isPrivateChannel(channel)) {
        return channel.recipientIds.map((viewer) => ({
          ...base,
          event: name,
          data: json(discordChannel(channel, viewer, users)),
          intents: 0,
          userIds: [viewer],
          toOnlineMembers: false,
        }));
      }
      // A channel update reaches everyone who can see the channel after it.
      return [{ ...base, event: name, data: json(discordGuildChannel(channel)), intents: Intent.Guilds, channelId: c.case === "channelDeleted" ? 0n : channel.id }];
    }
    case "roleCreated":
    case "roleUpdated":
      return [
        {
          ...base,
          event: c.case === "roleCreated" ? "GUILD_ROLE_CREATE" : "GUILD_ROLE_UPDATE",
          data: json({ guild_id: guildId, role: discordRole(c.value) }),
          intents: Intent.Guilds,
        },
      ];
    case "roleDeleted":
      return [{ ...base, event: "GUILD_ROLE_DELETE", data: json({ guild_id: guildId, role_id: String(c.value.roleId) }), intents: Intent.Guilds }];
    case "memberAdded":
      return [
        { ...base, event: "GUILD_MEMBER_ADD", data: json({ ...discordMember(c.value, users), guild_id: guildId }), intents: Intent.GuildMembers },
        // The new member's own sessions get the whole guild, as on connect.
        {
          ...base,
          event: "GUILD_CREATE",
          data: json(discordGuildCreate(model, c.value.userId, users)),
          intents: 0,
          userIds: [c.value.userId],
          toOnlineMembers: false,
        },
      ];
    case "memberUpdated":
      return [
        { ...base, event: "GUILD_MEMBER_UPDATE", data: json({ ...discordMember(c.value, users), guild_id: guildId }), intents: Intent.GuildMembers },
      ];
    case "memberRemoved":
      return [
        {
          ...base,
          event: "GUILD_MEMBER_REMOVE",
          data: json({ guild_id: guildId, user: discordUser(users(c.value.userId)) }),
          intents: Intent.GuildMembers,
        },
        // The member's own sessions leave the guild.
        { ...base, event: "GUILD_DELETE", data: json({ id: guildId, unavailable: false }), intents: 0, userIds: [c.value.userId], toOnlineMembers: false },
      ];
    case "banAdded":
    case "banRemoved":
      return [
        {
          ...base,
          event: c.case === "banAdded" ? "GUILD_BAN_ADD" : "GUILD_BAN_REMOVE",
          data: json({ guild_id: guildId, user: discordUser(users(c.value.userId)) }),
          intents: Intent.GuildModeration,
        },
      ];
    case "inviteCreated":
      return [
        {
          ...base,
          event: "INVITE_CREATE",
          data: json({
            channel_id: String(c.value.channelId),
            code: c.value.code,
            created_at: isoTime(c.value.createdAt),
            guild_id: guildId,
            inviter: discordUser(users(c.value.inviterId)),
            max_age: c.value.maxAge,
            max_uses: c.value.maxUses,
            temporary: c.value.temporary,
            uses: 0,
          }),
          intents: Intent.GuildInvites,
          channelId: c.value.channelId,
        },
      ];
    case "inviteDeleted":
      return [
        {
          ...base,
          event: "INVITE_DELETE",
          data: json({ channel_id: String(c.value.channelId), guild_id: guildId, code: c.value.code }),
          intents: Intent.GuildInvites,
          channelId: c.value.channelId,
        },
      ];
    case "emojiCreated":
    case "emojiUpdated":
    case "emojiDeleted":
      // Discord sends the whole list after any change.
      return [
        {
          ...base,
          event: "GUILD_EMOJIS_UPDATE",
          data: json({ guild_id: guildId, emojis: model.sortedEmojis().map((e) => discordEmoji(e)) }),
          intents: Intent.GuildExpressions,
        },
      ];
    default:
      return [];
  }
}

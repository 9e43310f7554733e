import {
  ChannelType,
  type APIDMChannel,
  type APIGroupDMChannel,
  type APIGuildCategoryChannel,
  type APIGuildVoiceChannel,
  type APIOverwrite,
  type APITextChannel,
  type OverwriteType,
} from "discord-api-types/v10";
import type { Channel, PermissionOverwrite } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { discordUser, type DiscordPublicUser } from "./users.js";
import type { UserLookup } from "./guilds.js";

/** Discord's channel JSON (text, voice, category, DM, group DM) from chorus.chat.v1.Channel. */

export function discordOverwrite(overwrite: PermissionOverwrite): APIOverwrite {
  return {
    id: overwrite.id.toString(),
    type: overwrite.type as OverwriteType,
    allow: overwrite.allow.toString(),
    deny: overwrite.deny.toString(),
  };
}

export type DiscordGuildChannel = (APITextChannel | APIGuildVoiceChannel | APIGuildCategoryChannel) & { flags: number };
export type DiscordPrivateChannel = (APIDMChannel | APIGroupDMChannel) & { flags: number; recipients: DiscordPublicUser[] };
export type DiscordChannel = DiscordGuildChannel | DiscordPrivateChannel;

export const isPrivateChannel = (channel: Channel) => channel.type === ChannelType.DM || channel.type === ChannelType.GroupDM;

export function discordGuildChannel(channel: Channel): DiscordGuildChannel {
  const common = {
    id: channel.id.toString(),
    guild_id: channel.guildId.toString(),
    name: channel.name,
    position: channel.position,
    flags: 0,
    permission_overwrites: channel.permissionOverwrites.map(discordOverwrite),
    nsfw: channel.nsfw,
  };
  const parent_id = channel.parentId === undefined || channel.parentId === 0n ? null : channel.parentId.toString();
  if (channel.type === ChannelType.GuildCategory) return { ...common, type: ChannelType.GuildCategory, parent_id: null };
  if (channel.type === ChannelType.GuildVoice) {
    return {
      ...common,
      type: ChannelType.GuildVoice,
      parent_id,
      last_message_id: null,
      bitrate: channel.bitrate,
      user_limit: channel.userLimit,
      rtc_region: null,
      rate_limit_per_user: channel.rateLimitPerUser,
    };
  }
  return {
    ...common,
    type: ChannelType.GuildText,
    parent_id,
    last_message_id: null,
    last_pin_timestamp: null,
    topic: channel.topic ?? null,
    rate_limit_per_user: channel.rateLimitPerUser,
  };
}

/** A DM or group DM as `viewerId` sees it: the other participants are its recipients. */
export function discordPrivateChannel(channel: Channel, viewerId: bigint, users: UserLookup): DiscordPrivateChannel {
  const recipients = channel.recipientIds.filter((id) => id !== viewerId).map((id) => discordUser(users(id)));
  const common = { id: channel.id.toString(), flags: 0, last_message_id: null, recipients };
  if (channel.type === ChannelType.DM) return { ...common, type: ChannelType.DM, name: null };
  return {
    ...common,
    type: ChannelType.GroupDM,
    name: channel.name || null,
    icon: channel.icon ?? null,
    owner_id: channel.ownerId.toString(),
  };
}

export function discordChannel(channel: Channel, viewerId: bigint, users: UserLookup): DiscordChannel {
  return isPrivateChannel(channel) ? discordPrivateChannel(channel, viewerId, users) : discordGuildChannel(channel);
}

/** The users a channel's JSON names (recipients of private channels). */
export const usersOfChannel = (channel: Channel): bigint[] => (isPrivateChannel(channel) ? channel.recipientIds : []);

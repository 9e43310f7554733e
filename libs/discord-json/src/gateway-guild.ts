import { has, Permission } from "@chorus/permissions";
import type { GuildModel } from "@chorus/guild-state/guild-model";
import { discordGuildChannel } from "./channels.js";
import { discordGuild, discordMember, isoTime, type UserLookup } from "./guilds.js";

/** GUILD_CREATE carries at most this many members (Discord's large_threshold maximum). */
export const GUILD_CREATE_MEMBER_LIMIT = 250;

/**
 * The gateway's GUILD_CREATE for one member: the guild, its roles, the channels this member
 * can see, and its first members (all of them for a guild below the large threshold). The
 * users of `model.members` up to GUILD_CREATE_MEMBER_LIMIT must be in `users`.
 */
export function discordGuildCreate(model: GuildModel, viewerId: bigint, users: UserLookup) {
  const guild = model.guild!;
  const members = [...model.members.values()].slice(0, GUILD_CREATE_MEMBER_LIMIT);
  const channels = model
    .sortedChannels()
    .filter((c) => has(model.channelPermissions(viewerId, c), Permission.ViewChannel))
    .map((c) => discordGuildChannel(c));
  return {
    ...discordGuild(guild, model.sortedRoles()),
    joined_at: isoTime(model.members.get(viewerId)?.joinedAt) ?? new Date(0).toISOString(),
    large: model.members.size > GUILD_CREATE_MEMBER_LIMIT,
    unavailable: false,
    member_count: model.members.size,
    members: members.map((m) => discordMember(m, users)),
    channels,
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

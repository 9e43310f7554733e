import { has, Permission } from "@chorus/permissions";
import type { GuildModel } from "@chorus/guild-state/guild-model";
import { discordGuildCreateOf } from "./guild-create.js";
import type { UserLookup } from "./guilds.js";

/** GUILD_CREATE carries at most this many members (Discord's large_threshold maximum). */
export const GUILD_CREATE_MEMBER_LIMIT = 250;

/**
 * The gateway's GUILD_CREATE for one member: the guild, its roles, the channels this member
 * can see, and its first members (all of them for a guild below the large threshold). The
 * users of `model.members` up to GUILD_CREATE_MEMBER_LIMIT must be in `users`.
 */
export function discordGuildCreate(model: GuildModel, viewerId: bigint, users: UserLookup) {
  return discordGuildCreateOf(
    {
      guild: model.guild!,
      roles: model.sortedRoles(),
      emojis: model.sortedEmojis(),
      channels: model.sortedChannels().filter((c) => has(model.channelPermissions(viewerId, c), Permission.ViewChannel)),
      members: [...model.members.values()].slice(0, GUILD_CREATE_MEMBER_LIMIT),
      memberCount: model.members.size,
      joinedAt: model.members.get(viewerId)?.joinedAt,
      large: model.members.size > GUILD_CREATE_MEMBER_LIMIT,
    },
    users,
  );
}

import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Channel, Guild, Member, Role } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import type { Emoji } from "@chorus/contracts/chorus/chat/v1/emoji_pb";
import { discordGuildChannel } from "./channels.js";
import { discordGuild, discordMember, isoTime, type UserLookup } from "./guilds.js";
import { discordPresence, type UserPresence } from "./presences.js";

/** What one member's GUILD_CREATE is made of, as GuildService.GetGuild and ListMembers give it. */
export interface GuildCreateParts {
  guild: Guild;
  roles: readonly Role[];
  /** The guild's custom emojis. */
  emojis?: readonly Emoji[];
  /** The channels this member can see. */
  channels: readonly Channel[];
  /** The members to include: all of them below the large threshold, else this member only (as Discord). */
  members: readonly Member[];
  memberCount: number;
  /** When this member joined. */
  joinedAt?: Timestamp;
  /** member_count is above the session's large_threshold. */
  large: boolean;
  /** The presences of online members (none for sessions without GUILD_PRESENCES). */
  presences?: readonly UserPresence[];
}

/** The gateway's GUILD_CREATE `d` from its parts (the users of `members` must be in `users`). */
export function discordGuildCreateOf(parts: GuildCreateParts, users: UserLookup) {
  return {
    ...discordGuild(parts.guild, parts.roles, parts.emojis),
    joined_at: isoTime(parts.joinedAt) ?? new Date(0).toISOString(),
    large: parts.large,
    unavailable: false,
    member_count: parts.memberCount,
    members: parts.members.map((m) => discordMember(m, users)),
    channels: parts.channels.map((c) => discordGuildChannel(c)),
    threads: [],
    presences: (parts.presences ?? []).map((p) => discordPresence(p.userId, parts.guild.id, p.presence)),
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type {
  APIBan,
  APIGuild,
  APIGuildMember,
  APIRole,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildFeature,
  GuildMemberFlags,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  RESTAPIPartialCurrentUserGuild,
  RoleFlags,
} from "discord-api-types/v10";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import type { Ban, Guild, Member, Role } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import type { Emoji } from "@chorus/contracts/chorus/chat/v1/emoji_pb";
import { discordEmoji } from "./emojis.js";
import { discordUser, type DiscordPublicUser } from "./users.js";

/**
 * Discord's JSON objects of guilds, roles, members and bans, from the chorus.chat.v1 entities.
 * Fields Chorus has no feature for yet carry Discord's empty values (null, 0, [], false), so
 * strict clients find every key they expect.
 */

/** The users a response names, fetched once per request (see user-lookup.ts). */
export type UserLookup = (userId: bigint) => User;

/** Discord's default AFK timeout, for a guild that set none. */
const DEFAULT_AFK_TIMEOUT = 300;
const DEFAULT_LOCALE = "en-US";

const idOrNull = (id: bigint | undefined) => (id === undefined || id === 0n ? null : id.toString());

export function isoTime(time: Timestamp | undefined): string | null {
  return time ? timestampDate(time).toISOString() : null;
}

export type DiscordRole = APIRole & { icon: string | null; unicode_emoji: string | null; description: null };

export function discordRole(role: Role): DiscordRole {
  return {
    id: role.id.toString(),
    name: role.name,
    permissions: role.permissions.toString(),
    position: role.position,
    color: role.color,
    colors: { primary_color: role.color, secondary_color: null, tertiary_color: null },
    hoist: role.hoist,
    managed: role.managed,
    mentionable: role.mentionable,
    icon: null,
    unicode_emoji: null,
    description: null,
    flags: 0 as RoleFlags,
    // As Discord: a bot's own role names the bot.
    ...(role.botId !== undefined ? { tags: { bot_id: role.botId.toString() } } : {}),
  };
}

/** Roles as Discord lists them: by position, then by id. */
export function sortedRoles(roles: readonly Role[]): Role[] {
  return [...roles].sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export type DiscordGuild = APIGuild & {
  approximate_member_count?: number;
  approximate_presence_count?: number;
  home_header: null;
  incidents_data: null;
  nsfw: boolean;
};

/** The guild object (GET/PATCH /guilds/:id, POST /guilds). */
export function discordGuild(guild: Guild, roles: readonly Role[], emojis: readonly Emoji[] = []): DiscordGuild {
  return {
    id: guild.id.toString(),
    name: guild.name,
    icon: guild.icon ?? null,
    description: guild.description ?? null,
    home_header: null,
    splash: null,
    discovery_splash: null,
    features: guild.features as GuildFeature[],
    banner: null,
    owner_id: guild.ownerId.toString(),
    application_id: null,
    region: "deprecated",
    afk_channel_id: idOrNull(guild.afkChannelId),
    afk_timeout: (guild.afkTimeout || DEFAULT_AFK_TIMEOUT) as APIGuild["afk_timeout"],
    system_channel_id: idOrNull(guild.systemChannelId),
    system_channel_flags: 0 as GuildSystemChannelFlags,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: guild.verificationLevel as GuildVerificationLevel,
    roles: sortedRoles(roles).map(discordRole),
    default_message_notifications: guild.defaultMessageNotifications as GuildDefaultMessageNotifications,
    mfa_level: 0,
    explicit_content_filter: guild.explicitContentFilter as GuildExplicitContentFilter,
    max_presences: null,
    max_members: 500000,
    max_stage_video_channel_users: 50,
    max_video_channel_users: 25,
    vanity_url_code: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: (guild.preferredLocale || DEFAULT_LOCALE) as Locale,
    rules_channel_id: null,
    safety_alerts_channel_id: null,
    public_updates_channel_id: null,
    premium_progress_bar_enabled: false,
    nsfw: false,
    nsfw_level: 0,
    emojis: emojis.map((e) => discordEmoji(e)),
    stickers: [],
    incidents_data: null,
    hub_type: null,
  };
}

/** A guild in GET /users/@me/guilds: the caller's view of it. */
export function discordPartialGuild(guild: Guild, callerId: bigint, permissions: bigint): RESTAPIPartialCurrentUserGuild {
  return {
    id: guild.id.toString(),
    name: guild.name,
    icon: guild.icon ?? null,
    banner: null,
    owner: guild.ownerId === callerId,
    permissions: permissions.toString(),
    features: guild.features as GuildFeature[],
  };
}

export type DiscordMember = APIGuildMember & {
  user: DiscordPublicUser;
  joined_at: string;
  avatar: null;
  banner: null;
  communication_disabled_until: null;
  premium_since: null;
  pending: boolean;
  /** Only in the caller's own member object (GET /users/@me/guilds/:id/member). */
  permissions?: string;
};

export function discordMember(member: Member, users: UserLookup, permissions?: bigint): DiscordMember {
  return {
    user: discordUser(users(member.userId)),
    nick: member.nick ?? null,
    avatar: null,
    banner: null,
    roles: member.roleIds.map(String),
    joined_at: isoTime(member.joinedAt) ?? new Date(0).toISOString(),
    premium_since: null,
    deaf: member.deaf,
    mute: member.mute,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
    ...(permissions !== undefined ? { permissions: permissions.toString() } : {}),
  };
}

export type DiscordBan = APIBan & { user: DiscordPublicUser };

export function discordBan(ban: Ban, users: UserLookup): DiscordBan {
  return { user: discordUser(users(ban.userId)), reason: ban.reason ?? null };
}

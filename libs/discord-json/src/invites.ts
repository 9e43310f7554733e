import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  InviteType,
  type APIExtendedInvite,
  type APIInvite,
  type APIInviteGuild,
  type ChannelType,
  type GuildFeature,
  type InviteFlags,
  type GuildVerificationLevel,
} from "discord-api-types/v10";
import type { Channel, Guild, Invite } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { isoTime, type UserLookup } from "./guilds.js";
import { discordUser } from "./users.js";

/** What an invite's JSON shows besides the invite itself. */
export interface InviteContext {
  guild: Guild;
  channel: Channel;
  /** With counts (GET /invites/:code?with_counts=true). */
  counts?: { members: number; online: number };
}

export type DiscordInvite = APIInvite & { guild_id: string };
export type DiscordInviteWithMetadata = APIExtendedInvite & { guild_id: string };

export function discordInviteGuild(guild: Guild): APIInviteGuild & { nsfw: boolean } {
  return {
    id: guild.id.toString(),
    name: guild.name,
    splash: null,
    banner: null,
    description: guild.description ?? null,
    icon: guild.icon ?? null,
    features: guild.features as GuildFeature[],
    verification_level: guild.verificationLevel as GuildVerificationLevel,
    vanity_url_code: null,
    nsfw_level: 0,
    nsfw: false,
    premium_subscription_count: 0,
  };
}

function expiresAt(invite: Invite): string | null {
  if (invite.maxAge === 0 || !invite.createdAt) return null;
  return new Date(timestampMs(invite.createdAt) + invite.maxAge * 1000).toISOString();
}

/** The invite as anyone holding its code sees it (GET /invites/:code, POST /invites/:code). */
export function discordInvite(invite: Invite, context: InviteContext, users: UserLookup): DiscordInvite {
  return {
    type: InviteType.Guild,
    code: invite.code,
    guild_id: invite.guildId.toString(),
    guild: discordInviteGuild(context.guild),
    channel: { id: context.channel.id.toString(), type: context.channel.type as ChannelType, name: context.channel.name },
    ...(invite.inviterId !== 0n ? { inviter: discordUser(users(invite.inviterId)) } : {}),
    expires_at: expiresAt(invite),
    flags: 0 as InviteFlags,
    ...(context.counts ? { approximate_member_count: context.counts.members, approximate_presence_count: context.counts.online } : {}),
  };
}

/** The invite with its metadata, as its guild's managers see it (create, list, delete). */
export function discordInviteWithMetadata(invite: Invite, context: InviteContext, users: UserLookup): DiscordInviteWithMetadata {
  return {
    ...discordInvite(invite, context, users),
    uses: invite.uses,
    max_uses: invite.maxUses,
    max_age: invite.maxAge,
    temporary: invite.temporary,
    created_at: isoTime(invite.createdAt) ?? new Date(0).toISOString(),
  };
}

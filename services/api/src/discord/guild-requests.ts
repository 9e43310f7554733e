import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ChannelSchema, GuildSchema, MemberSchema, PermissionOverwriteSchema, RoleSchema } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import type { GuildCommandInit } from "../guilds/guilds.js";
import type { CreateChannelBody, ModifyChannelBody, ModifyGuildBody, ModifyMemberBody, OverwriteBody, RoleBody } from "../guilds/guild-rules.js";
import { avatarHash } from "../accounts/avatars.js";

/**
 * Discord's JSON bodies (validated by guild-rules.ts) as chorus.chat.v1 commands. A PATCH
 * changes exactly the fields the body names: they become the command's update_mask (proto
 * field names are Discord's JSON names), and null clears a field or resets it to Discord's
 * default.
 */

type ChannelInit = MessageInitShape<typeof ChannelSchema>;

/** The body's keys that carry a value or null (undefined: not named, not changed). */
const named = (body: object) => Object.entries(body).filter(([, value]) => value !== undefined).map(([key]) => key);

export function overwriteInit(overwrite: OverwriteBody): MessageInitShape<typeof PermissionOverwriteSchema> {
  return { id: overwrite.id, type: overwrite.type, allow: overwrite.allow ?? 0n, deny: overwrite.deny ?? 0n };
}

function channelFields(body: Omit<CreateChannelBody, "name" | "type">): ChannelInit {
  return {
    topic: body.topic ?? undefined,
    position: body.position ?? 0,
    parentId: body.parent_id ?? undefined,
    nsfw: body.nsfw ?? false,
    rateLimitPerUser: body.rate_limit_per_user ?? 0,
    bitrate: body.bitrate ?? 0,
    userLimit: body.user_limit ?? 0,
    permissionOverwrites: (body.permission_overwrites ?? []).map(overwriteInit),
  };
}

export function createChannelCommand(guildId: bigint, body: CreateChannelBody): GuildCommandInit {
  const channel: ChannelInit = { ...channelFields(body), guildId, name: body.name, type: body.type ?? 0 };
  return { command: { case: "createChannel", value: { channel } } };
}

export function modifyChannelCommand(channelId: bigint, body: ModifyChannelBody): GuildCommandInit {
  const channel: ChannelInit = {
    ...channelFields(body),
    id: channelId,
    name: body.name ?? "",
    icon: body.icon ? avatarHash(body.icon, "icon") : undefined,
  };
  return { command: { case: "modifyChannel", value: { channel, updateMask: { paths: named(body) } } } };
}

export function modifyGuildCommand(body: ModifyGuildBody): GuildCommandInit {
  const guild: MessageInitShape<typeof GuildSchema> = {
    name: body.name,
    icon: body.icon ? avatarHash(body.icon, "icon") : undefined,
    description: body.description ?? undefined,
    systemChannelId: body.system_channel_id ?? undefined,
    afkChannelId: body.afk_channel_id ?? undefined,
    afkTimeout: body.afk_timeout ?? 300,
    verificationLevel: body.verification_level ?? 0,
    defaultMessageNotifications: body.default_message_notifications ?? 0,
    explicitContentFilter: body.explicit_content_filter ?? 0,
    preferredLocale: body.preferred_locale ?? "en-US",
    ownerId: body.owner_id,
  };
  return { command: { case: "modifyGuild", value: { guild, updateMask: { paths: named(body) } } } };
}

function roleInit(body: RoleBody): MessageInitShape<typeof RoleSchema> {
  return {
    name: body.name ?? undefined,
    permissions: body.permissions ?? undefined,
    color: body.color ?? 0,
    hoist: body.hoist ?? false,
    mentionable: body.mentionable ?? false,
  };
}

/** Discord names a role created without a name "new role", and gives it @everyone's default permissions. */
export function createRoleCommand(body: RoleBody): GuildCommandInit {
  return { command: { case: "createRole", value: { role: { ...roleInit(body), name: body.name ?? "new role" } } } };
}

export function modifyRoleCommand(roleId: bigint, body: RoleBody): GuildCommandInit {
  const role = { ...roleInit(body), id: roleId, name: body.name ?? "new role", permissions: body.permissions ?? 0n };
  return { command: { case: "modifyRole", value: { role, updateMask: { paths: named(body) } } } };
}

export function modifyMemberCommand(userId: bigint, body: ModifyMemberBody): GuildCommandInit {
  const member: MessageInitShape<typeof MemberSchema> = {
    userId,
    // An empty nick clears it, as null does.
    nick: body.nick ? body.nick : undefined,
    roleIds: body.roles ?? [],
    mute: body.mute ?? false,
    deaf: body.deaf ?? false,
  };
  const paths = named(body).map((key) => (key === "roles" ? "role_ids" : key));
  return { command: { case: "modifyMember", value: { member, updateMask: { paths } } } };
}

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  BanSchema,
  ChannelSchema,
  GuildSchema,
  InviteSchema,
  MemberSchema,
  RoleSchema,
} from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { EmojiSchema } from "@chorus/contracts/chorus/chat/v1/emoji_pb";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import {
  EmojiResponseSchema,
  GuildBanResponseSchema,
  GuildChannelResponseSchema,
  GuildInviteResponseSchema,
  GuildMemberResponseSchema,
  GuildRoleResponseSchema,
  GuildWithCountsResponseSchema,
  MyGuildResponseSchema,
  PrivateChannelResponseSchema,
  PrivateGroupChannelResponseSchema,
  PrivateGuildMemberResponseSchema,
} from "discord-api-spec/zod";
import { discordChannel, discordGuildChannel, discordPrivateChannel } from "@chorus/discord-json/channels";
import { createChannelCommand, createRoleCommand, modifyChannelCommand, modifyGuildCommand, modifyMemberCommand, modifyRoleCommand } from "./guild-requests.js";
import { discordBan, discordGuild, discordMember, discordPartialGuild, discordRole, sortedRoles } from "@chorus/discord-json/guilds";
import { discordEmoji } from "@chorus/discord-json/emojis";
import { discordInvite, discordInviteWithMetadata } from "@chorus/discord-json/invites";
import { deletedUser } from "./user-lookup.js";

function assertMatches(schema: { safeParse(value: unknown): { success: boolean; error?: unknown } }, value: unknown, what: string) {
  const result = schema.safeParse(value);
  assert.ok(result.success, `${what} does not match Discord's schema: ${JSON.stringify(result.error)}\n${JSON.stringify(value)}`);
}

const guildId = 1300000000000000001n;
const ownerId = 1300000000000000002n;
const users = new Map<bigint, User>([
  [ownerId, create(UserSchema, { id: ownerId, username: "owner", globalName: "The Owner" })],
  [7n, create(UserSchema, { id: 7n, username: "botty", bot: true })],
]);
const lookup = (id: bigint) => users.get(id) ?? deletedUser(id);

const guild = create(GuildSchema, { id: guildId, name: "Chorus", ownerId, features: [], preferredLocale: "", afkTimeout: 0 });
const everyone = create(RoleSchema, { id: guildId, name: "@everyone", position: 0, permissions: 1071698660929n });
const mods = create(RoleSchema, { id: 11n, name: "mods", position: 1, color: 0xff0000, hoist: true, permissions: (1n << 63n) | 8n });
const botRole = create(RoleSchema, { id: 12n, name: "botty", position: 2, managed: true, botId: 7n });

describe("Discord JSON of guild entities", () => {
  it("custom emojis: Discord's emoji object, the uploader only when asked for, and in the guild", () => {
    const emoji = create(EmojiSchema, { id: 21n, name: "party", roleIds: [11n], userId: ownerId, animated: true });
    const withUser = discordEmoji(emoji, lookup);
    assertMatches(EmojiResponseSchema, withUser, "emoji with its uploader");
    assert.deepEqual(
      [withUser.id, withUser.name, withUser.roles, withUser.user?.id, withUser.require_colons, withUser.managed, withUser.animated, withUser.available],
      ["21", "party", ["11"], ownerId.toString(), true, false, true, true],
    );
    const plain = discordEmoji(emoji);
    assertMatches(EmojiResponseSchema, plain, "emoji");
    assert.equal("user" in plain, false);
    const json = discordGuild(guild, [everyone], [emoji]);
    assertMatches(GuildWithCountsResponseSchema, { ...json, approximate_member_count: 1, approximate_presence_count: 1 }, "guild with emojis");
    assert.deepEqual(json.emojis, [plain]);
  });

  it("guilds: every field Discord's schema requires, defaults where Chorus has none", () => {
    const json = discordGuild(guild, [botRole, everyone, mods]);
    assertMatches(GuildWithCountsResponseSchema, { ...json, approximate_member_count: 3, approximate_presence_count: 1 }, "guild");
    assert.equal(json.id, guildId.toString());
    assert.equal(json.owner_id, ownerId.toString());
    assert.equal(json.afk_timeout, 300, "Discord's default AFK timeout");
    assert.equal(json.preferred_locale, "en-US");
    assert.equal(json.system_channel_id, null);
    assert.deepEqual(json.roles.map((r) => r.name), ["@everyone", "mods", "botty"], "roles by position");

    const partial = discordPartialGuild(guild, ownerId, 8n);
    assertMatches(MyGuildResponseSchema, partial, "partial guild");
    assert.equal(partial.owner, true);
    assert.equal(discordPartialGuild(guild, 7n, 0n).owner, false);
    assert.equal(partial.permissions, "8");
  });

  it("roles: permissions as decimal strings (all 64 bits), a bot's role tagged with the bot", () => {
    const json = discordRole(mods);
    assertMatches(GuildRoleResponseSchema, json, "role");
    assert.equal(json.permissions, ((1n << 63n) | 8n).toString());
    assert.deepEqual(json.colors, { primary_color: 0xff0000, secondary_color: null, tertiary_color: null });
    assert.equal(json.tags, undefined);
    assert.deepEqual(discordRole(botRole).tags, { bot_id: "7" });
    assertMatches(GuildRoleResponseSchema, discordRole(botRole), "managed role");
    // Equal positions fall back to id order.
    const twin = create(RoleSchema, { id: 10n, name: "twin", position: 1 });
    assert.deepEqual(sortedRoles([mods, twin, everyone]).map((r) => r.id), [guildId, 10n, 11n]);
  });

  it("members and bans carry the user; the caller's own member object its permissions", () => {
    const member = create(MemberSchema, { userId: ownerId, nick: "boss", roleIds: [11n], joinedAt: timestampFromMs(Date.UTC(2024, 0, 2)) });
    const json = discordMember(member, lookup);
    assertMatches(GuildMemberResponseSchema, json, "member");
    assert.equal(json.user.username, "owner");
    assert.equal(json.nick, "boss");
    assert.deepEqual(json.roles, ["11"]);
    assert.equal(json.joined_at, "2024-01-02T00:00:00.000Z");
    assert.equal("permissions" in json, false);
    const mine = discordMember(member, lookup, 104324673n);
    assertMatches(PrivateGuildMemberResponseSchema, mine, "own member");
    assert.equal(mine.permissions, "104324673");

    const ban = discordBan(create(BanSchema, { userId: 99n }), lookup);
    assertMatches(GuildBanResponseSchema, ban, "ban");
    assert.equal(ban.reason, null);
    assert.equal(ban.user.global_name, "Deleted User", "a user that is gone renders as Discord's deleted user");
    assert.equal(discordBan(create(BanSchema, { userId: 7n, reason: "spam" }), lookup).reason, "spam");
  });

  it("channels: text, voice and category in their Discord shapes; overwrites with string bitfields", () => {
    const text = create(ChannelSchema, {
      id: 21n,
      guildId,
      type: 0,
      name: "general",
      topic: "hi",
      position: 0,
      parentId: 20n,
      rateLimitPerUser: 5,
      permissionOverwrites: [{ id: guildId, type: 0, allow: 0n, deny: 1024n }, { id: 7n, type: 1, allow: 2048n, deny: 0n }],
    });
    const json = discordGuildChannel(text);
    assertMatches(GuildChannelResponseSchema, json, "text channel");
    assert.deepEqual(json.permission_overwrites, [
      { id: guildId.toString(), type: 0, allow: "0", deny: "1024" },
      { id: "7", type: 1, allow: "2048", deny: "0" },
    ]);
    assert.equal(json.parent_id, "20");
    assert.equal((json as { topic?: string | null }).topic, "hi");

    const voice = discordGuildChannel(create(ChannelSchema, { id: 22n, guildId, type: 2, name: "General", bitrate: 64000, userLimit: 0 }));
    assertMatches(GuildChannelResponseSchema, voice, "voice channel");
    assert.equal((voice as { bitrate?: number }).bitrate, 64000);
    assert.equal(voice.parent_id, null);
    const category = discordGuildChannel(create(ChannelSchema, { id: 20n, guildId, type: 4, name: "Text Channels" }));
    assertMatches(GuildChannelResponseSchema, category, "category");
    assert.equal("topic" in category, false);
  });

  it("private channels: the other participants are the recipients", () => {
    const dm = create(ChannelSchema, { id: 30n, type: 1, recipientIds: [ownerId, 7n] });
    const json = discordPrivateChannel(dm, ownerId, lookup);
    assertMatches(PrivateChannelResponseSchema, json, "DM");
    assert.deepEqual(json.recipients.map((u) => u.id), ["7"]);
    assert.deepEqual(discordPrivateChannel(dm, 7n, lookup).recipients.map((u) => u.id), [ownerId.toString()]);

    const group = create(ChannelSchema, { id: 31n, type: 3, recipientIds: [ownerId, 7n, 99n], ownerId, name: "" });
    const groupJson = discordChannel(group, 7n, lookup);
    assertMatches(PrivateGroupChannelResponseSchema, groupJson, "group DM");
    assert.equal((groupJson as { name: string | null }).name, null);
    assert.equal((groupJson as { owner_id?: string }).owner_id, ownerId.toString());
    assert.equal((groupJson as { recipients: unknown[] }).recipients.length, 2);
  });

  it("invites: Discord's guild invite, expiring max_age seconds after creation", () => {
    const channel = create(ChannelSchema, { id: 21n, guildId, type: 0, name: "general" });
    const invite = create(InviteSchema, {
      code: "AbCd1234",
      guildId,
      channelId: 21n,
      inviterId: ownerId,
      maxAge: 3600,
      maxUses: 5,
      uses: 1,
      createdAt: timestampFromMs(Date.UTC(2024, 0, 1)),
    });
    const json = discordInviteWithMetadata(invite, { guild, channel }, lookup);
    assertMatches(GuildInviteResponseSchema, json, "invite with metadata");
    assert.equal(json.expires_at, "2024-01-01T01:00:00.000Z");
    assert.equal(json.created_at, "2024-01-01T00:00:00.000Z");
    assert.equal(json.uses, 1);
    assert.equal(json.inviter?.id, ownerId.toString());
    assert.deepEqual(json.channel, { id: "21", type: 0, name: "general" });

    const forever = discordInvite(create(InviteSchema, { ...invite, maxAge: 0 }), { guild, channel, counts: { members: 4, online: 2 } }, lookup);
    assertMatches(GuildInviteResponseSchema, forever, "invite");
    assert.equal(forever.expires_at, null);
    assert.equal(forever.approximate_member_count, 4);
    assert.equal("uses" in forever, false, "metadata only for the guild's managers");
  });
});

describe("Discord bodies as guild commands", () => {
  it("a PATCH names exactly the fields of the body in the update mask", () => {
    const guildCommand = modifyGuildCommand({ name: "New", description: null, afk_channel_id: 5n });
    assert.equal(guildCommand.command?.case, "modifyGuild");
    const modifyGuild = guildCommand.command!.value as { guild: { name?: string; description?: string; afkChannelId?: bigint }; updateMask: { paths: string[] } };
    assert.deepEqual(modifyGuild.updateMask.paths, ["name", "description", "afk_channel_id"]);
    assert.equal(modifyGuild.guild.description, undefined, "null clears");
    assert.equal(modifyGuild.guild.afkChannelId, 5n);

    const channelCommand = modifyChannelCommand(21n, { topic: "t", permission_overwrites: [{ id: 5n, type: 1, allow: 1n, deny: null }] });
    const modifyChannel = channelCommand.command!.value as { channel: { id: bigint; permissionOverwrites: unknown[] }; updateMask: { paths: string[] } };
    assert.deepEqual(modifyChannel.updateMask.paths, ["topic", "permission_overwrites"]);
    assert.equal(modifyChannel.channel.id, 21n);
    assert.deepEqual(modifyChannel.channel.permissionOverwrites, [{ id: 5n, type: 1, allow: 1n, deny: 0n }]);

    const memberCommand = modifyMemberCommand(7n, { nick: "", roles: [11n] });
    const modifyMember = memberCommand.command!.value as { member: { userId: bigint; nick?: string; roleIds: bigint[] }; updateMask: { paths: string[] } };
    assert.deepEqual(modifyMember.updateMask.paths, ["nick", "role_ids"]);
    assert.equal(modifyMember.member.nick, undefined, "an empty nick clears it");
    assert.deepEqual(modifyMember.member.roleIds, [11n]);

    const roleCommand = modifyRoleCommand(11n, { color: 5, hoist: null });
    assert.deepEqual((roleCommand.command!.value as { updateMask: { paths: string[] } }).updateMask.paths, ["color", "hoist"]);
  });

  it("creates carry the body's values and Discord's defaults", () => {
    const channel = (createChannelCommand(guildId, { name: "lobby", type: 2, user_limit: 5 }).command!.value as { channel: Record<string, unknown> }).channel;
    assert.equal(channel.name, "lobby");
    assert.equal(channel.type, 2);
    assert.equal(channel.userLimit, 5);
    assert.equal(channel.guildId, guildId);
    assert.equal((createChannelCommand(guildId, { name: "t" }).command!.value as { channel: { type: number } }).channel.type, 0);
    const role = (createRoleCommand({}).command!.value as { role: { name: string } }).role;
    assert.equal(role.name, "new role");
  });
});

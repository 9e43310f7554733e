// Guilds, channels, roles, members, bans, invites and DMs end to end through a running Chorus,
// whatever its run mode: the Discord v10 routes over HTTP (every answer checked against
// Discord's own schemas from discord-api-spec), @discordjs/rest driving them with a bot's
// token, and the Connect GuildService. guilds-embedded.test.ts and guilds-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DiscordAPIError, REST } from "@discordjs/rest";
import {
  PermissionFlagsBits as P,
  RESTJSONErrorCodes as Codes,
  Routes,
  type APIGuild,
  type APIGuildChannel,
  type APIGuildMember,
  type APIRole,
  type GuildChannelType,
  type RESTAPIPartialCurrentUserGuild,
} from "discord-api-types/v10";
import {
  GuildBanResponseSchema,
  GuildChannelResponseSchema,
  GuildInviteResponseSchema,
  GuildMemberResponseSchema,
  GuildResponseSchema,
  GuildRoleResponseSchema,
  GuildWithCountsResponseSchema,
  MyGuildResponseSchema,
  PrivateChannelResponseSchema,
  PrivateGroupChannelResponseSchema,
  PrivateGuildMemberResponseSchema,
} from "discord-api-spec/zod";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { GuildService as ApiGuildService } from "@chorus/contracts/chorus/api/v1/guilds_pb";
import { ErrorReasonSchema, GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { AccountStorageService, TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { issueToken } from "../src/accounts/tokens.js";
import { assertMatches, discordRequests } from "./discord-http.js";

/** What the suite needs of a running Chorus. */
export interface GuildChorusUnderTest {
  /** Base URL of the api's HTTP edge, e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** Base URL of a mesh port serving chorus.api.v1. */
  meshUrl: string;
  /** The account storage contract, to create what no public API of this suite creates (bot accounts). */
  storage: Client<typeof AccountStorageService>;
  /** The guild service that owns `ownerId` (AddBot goes to it directly, as the OAuth2 flow will). */
  guildNode(ownerId: bigint): Client<typeof GuildService>;
}

interface Person {
  id: string;
  token: string;
  username: string;
}

/** A guild channel's JSON as these tests read it. */
type ChannelJson = APIGuildChannel<GuildChannelType> & { position: number };

const perms = (...flags: bigint[]) => flags.reduce((all, f) => all | f, 0n).toString();

export function describeGuilds(mode: string, start: () => Promise<GuildChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`guilds (${mode} mode)`, () => {
    let chorus: GuildChorusUnderTest;
    const run = randomBytes(3).toString("hex");
    let serial = 0;

    before(async () => {
      chorus = await start();
    });
    after(stop);

    const { call, ok, fails, formErrors, registerPerson } = discordRequests(() => `${chorus.httpUrl}/api/v10`);

    const register = (): Promise<Person> => registerPerson(`g${run}_${++serial}`);

    async function createGuild(owner: Person, name = `guild ${run}`): Promise<APIGuild> {
      return ok(201, GuildResponseSchema, "POST", "/guilds", { token: owner.token, body: { name } });
    }

    async function channelsOf(guildId: string, who: Person): Promise<ChannelJson[]> {
      return ok(200, GuildChannelResponseSchema, "GET", `/guilds/${guildId}/channels`, { token: who.token });
    }

    async function join(guildId: string, inviter: Person, who: Person) {
      const general = (await channelsOf(guildId, inviter)).find((c) => c.name === "general")!;
      const invite = await ok(200, GuildInviteResponseSchema, "POST", `/channels/${general.id}/invites`, { token: inviter.token, body: {} });
      await ok(200, GuildInviteResponseSchema, "POST", `/invites/${invite.code}`, { token: who.token });
    }

    describe("Discord REST API", () => {
      it("create a guild → channels → roles → overwrites → invite → a second user joins and is refused what they may not do", async () => {
        const alice = await register();
        const bob = await register();

        const guild = await createGuild(alice);
        assert.equal(guild.owner_id, alice.id);
        const everyone = guild.roles.find((r) => r.id === guild.id);
        assert.ok(everyone, "@everyone's id is the guild's");
        assert.equal(everyone.name, "@everyone");
        assert.equal(everyone.position, 0);

        const fetched = await ok(200, GuildWithCountsResponseSchema, "GET", `/guilds/${guild.id}?with_counts=true`, { token: alice.token });
        assert.equal(fetched.name, guild.name);
        assert.equal(fetched.approximate_member_count, 1);
        assert.equal(typeof fetched.approximate_presence_count, "number");

        const channels = await channelsOf(guild.id, alice);
        const byName = (name: string) => channels.find((c) => c.name === name)!;
        assert.deepEqual(channels.map((c) => [c.name, c.type]).sort(), [["General", 2], ["Text Channels", 4], ["Voice Channels", 4], ["general", 0]]);
        assert.equal(byName("general").parent_id, byName("Text Channels").id);
        assert.equal(fetched.system_channel_id, byName("general").id);

        const mine: RESTAPIPartialCurrentUserGuild[] = await ok(200, MyGuildResponseSchema, "GET", "/users/@me/guilds", { token: alice.token });
        const listed = mine.find((g) => g.id === guild.id);
        assert.ok(listed);
        assert.equal(listed.owner, true);
        assert.equal(BigInt(listed.permissions) & P.Administrator, P.Administrator, "the owner holds every permission");

        // A channel, and its changes.
        const staff = await ok(201, GuildChannelResponseSchema, "POST", `/guilds/${guild.id}/channels`, {
          token: alice.token,
          body: { name: "staff", type: 0, topic: "for the team", parent_id: byName("Text Channels").id },
        });
        assert.equal(staff.topic, "for the team");
        assert.equal(staff.guild_id, guild.id);
        const patched = await ok(200, GuildChannelResponseSchema, "PATCH", `/channels/${staff.id}`, {
          token: alice.token,
          body: { topic: "staff only", rate_limit_per_user: 5, nsfw: true },
        });
        assert.equal(patched.topic, "staff only");
        assert.equal(patched.rate_limit_per_user, 5);
        assert.equal(patched.nsfw, true);
        assert.equal(patched.name, "staff", "unnamed fields stay");

        // Roles.
        const mods: APIRole = await ok(200, GuildRoleResponseSchema, "POST", `/guilds/${guild.id}/roles`, {
          token: alice.token,
          body: { name: "mods", permissions: perms(P.KickMembers, P.ManageNicknames, P.ViewChannel), color: 0x3498db, hoist: true },
        });
        assert.equal(mods.permissions, perms(P.KickMembers, P.ManageNicknames, P.ViewChannel));
        assert.equal(mods.hoist, true);
        const renamed = await ok(200, GuildRoleResponseSchema, "PATCH", `/guilds/${guild.id}/roles/${mods.id}`, { token: alice.token, body: { name: "moderators" } });
        assert.equal(renamed.name, "moderators");
        assert.equal(renamed.color, 0x3498db, "unnamed fields stay");
        const blank: APIRole = await ok(200, GuildRoleResponseSchema, "POST", `/guilds/${guild.id}/roles`, { token: alice.token, body: {} });
        assert.equal(blank.name, "new role");
        assert.equal(blank.permissions, everyone.permissions, "a new role starts with @everyone's permissions, as on Discord");
        const roles: APIRole[] = await ok(200, GuildRoleResponseSchema, "GET", `/guilds/${guild.id}/roles`, { token: alice.token });
        assert.deepEqual(roles.map((r) => r.id).sort(), [guild.id, mods.id, blank.id].sort());
        assert.equal((await ok(200, GuildRoleResponseSchema, "GET", `/guilds/${guild.id}/roles/${mods.id}`, { token: alice.token })).name, "moderators");

        // Overwrites: staff hidden from @everyone, shown to moderators.
        assert.equal((await call("PUT", `/channels/${staff.id}/permissions/${guild.id}`, { token: alice.token, body: { type: 0, deny: perms(P.ViewChannel) } })).status, 204);
        assert.equal((await call("PUT", `/channels/${staff.id}/permissions/${mods.id}`, { token: alice.token, body: { type: 0, allow: perms(P.ViewChannel) } })).status, 204);
        const withOverwrites = await ok(200, GuildChannelResponseSchema, "GET", `/channels/${staff.id}`, { token: alice.token });
        assert.deepEqual(
          withOverwrites.permission_overwrites.map((o: { id: string; allow: string; deny: string }) => [o.id, o.allow, o.deny]).sort(),
          [[guild.id, "0", perms(P.ViewChannel)], [mods.id, perms(P.ViewChannel), "0"]].sort(),
        );

        // An invite, looked up and accepted by Bob.
        const invite = await ok(200, GuildInviteResponseSchema, "POST", `/channels/${byName("general").id}/invites`, {
          token: alice.token,
          body: { max_age: 3600, max_uses: 5 },
        });
        assert.match(invite.code, /^[A-Za-z0-9]+$/);
        assert.equal(invite.max_uses, 5);
        assert.equal(invite.inviter.id, alice.id);
        assert.equal(invite.guild.id, guild.id);
        assert.ok(Date.parse(invite.expires_at) - Date.parse(invite.created_at) === 3600_000);
        await fails(403, Codes.MissingAccess, "GET", `/guilds/${guild.id}`, { token: bob.token });
        const seen = await ok(200, GuildInviteResponseSchema, "GET", `/invites/${invite.code}?with_counts=true`, { token: bob.token });
        assert.equal(seen.guild.name, guild.name);
        assert.equal(seen.channel.name, "general");
        assert.equal(seen.approximate_member_count, 1);
        await ok(200, GuildInviteResponseSchema, "POST", `/invites/${invite.code}`, { token: bob.token });
        const bobsGuilds = await ok(200, MyGuildResponseSchema, "GET", "/users/@me/guilds?with_counts=true", { token: bob.token });
        const bobsView = bobsGuilds.find((g: { id: string }) => g.id === guild.id);
        assert.equal(bobsView?.owner, false);
        assert.equal(bobsView?.approximate_member_count, 2);
        assert.equal(BigInt(bobsView.permissions), BigInt(everyone.permissions), "a member without roles has @everyone's permissions");
        const listedInvites = await ok(200, GuildInviteResponseSchema, "GET", `/guilds/${guild.id}/invites`, { token: alice.token });
        assert.equal(listedInvites.find((i: { code: string }) => i.code === invite.code)?.uses, 1);

        // What Bob sees and may not do.
        assert.ok(!(await channelsOf(guild.id, bob)).some((c) => c.id === staff.id), "staff is hidden from @everyone");
        await fails(403, Codes.MissingAccess, "GET", `/channels/${staff.id}`, { token: bob.token });
        await fails(403, Codes.MissingPermissions, "POST", `/guilds/${guild.id}/roles`, { token: bob.token, body: { name: "mine" } });
        await fails(403, Codes.MissingPermissions, "PATCH", `/guilds/${guild.id}`, { token: bob.token, body: { name: "hijacked" } });
        await fails(403, Codes.MissingPermissions, "DELETE", `/guilds/${guild.id}`, { token: bob.token });
        await fails(403, Codes.MissingPermissions, "POST", `/guilds/${guild.id}/channels`, { token: bob.token, body: { name: "mine" } });
        await fails(403, Codes.MissingPermissions, "GET", `/guilds/${guild.id}/bans`, { token: bob.token });
        await fails(403, Codes.MissingPermissions, "GET", `/guilds/${guild.id}/invites`, { token: bob.token });
        await fails(403, Codes.MissingPermissions, "PATCH", `/guilds/${guild.id}/members/${alice.id}`, { token: bob.token, body: { nick: "x" } });

        // Members: the moderators role given to Bob opens staff to him.
        const members: APIGuildMember[] = await ok(200, GuildMemberResponseSchema, "GET", `/guilds/${guild.id}/members?limit=10`, { token: alice.token });
        assert.deepEqual(members.map((m) => m.user.id).sort(), [alice.id, bob.id].sort());
        assert.equal(members.find((m) => m.user.id === bob.id)!.user.username, bob.username);
        const firstPage: APIGuildMember[] = await ok(200, GuildMemberResponseSchema, "GET", `/guilds/${guild.id}/members`, { token: alice.token });
        assert.equal(firstPage.length, 1, "limit defaults to 1, as on Discord");
        const after: APIGuildMember[] = await ok(200, GuildMemberResponseSchema, "GET", `/guilds/${guild.id}/members?limit=10&after=${firstPage[0].user.id}`, { token: alice.token });
        assert.equal(after.length, 1);
        assert.notEqual(after[0].user.id, firstPage[0].user.id);

        assert.equal((await call("PUT", `/guilds/${guild.id}/members/${bob.id}/roles/${mods.id}`, { token: alice.token })).status, 204);
        const bobMember = await ok(200, GuildMemberResponseSchema, "GET", `/guilds/${guild.id}/members/${bob.id}`, { token: alice.token });
        assert.deepEqual(bobMember.roles, [mods.id]);
        await ok(200, GuildChannelResponseSchema, "GET", `/channels/${staff.id}`, { token: bob.token });
        const nick = await ok(200, PrivateGuildMemberResponseSchema, "PATCH", `/guilds/${guild.id}/members/@me`, { token: bob.token, body: { nick: "bobby" } });
        assert.equal(nick.nick, "bobby");
        const own = await ok(200, PrivateGuildMemberResponseSchema, "GET", `/users/@me/guilds/${guild.id}/member`, { token: bob.token });
        assert.equal(own.nick, "bobby");
        assert.equal(BigInt(own.permissions) & P.KickMembers, P.KickMembers);
        assert.equal(BigInt(own.permissions) & P.BanMembers, 0n);
        const set = await ok(200, GuildMemberResponseSchema, "PATCH", `/guilds/${guild.id}/members/${bob.id}`, { token: alice.token, body: { nick: null, roles: [mods.id, blank.id] } });
        assert.equal(set.nick, null);
        assert.deepEqual([...set.roles].sort(), [mods.id, blank.id].sort());
        assert.equal((await call("DELETE", `/guilds/${guild.id}/members/${bob.id}/roles/${blank.id}`, { token: alice.token })).status, 204);

        // Kick, ban and unban.
        const carol = await register();
        await join(guild.id, alice, carol);
        assert.equal((await call("DELETE", `/guilds/${guild.id}/members/${carol.id}`, { token: bob.token })).status, 204, "moderators kick");
        await fails(403, Codes.MissingAccess, "GET", `/guilds/${guild.id}`, { token: carol.token });
        await fails(404, Codes.UnknownMember, "GET", `/guilds/${guild.id}/members/${carol.id}`, { token: alice.token });
        await fails(403, Codes.MissingPermissions, "DELETE", `/guilds/${guild.id}/members/${alice.id}`, { token: bob.token });
        await fails(403, Codes.MissingPermissions, "PUT", `/guilds/${guild.id}/bans/${carol.id}`, { token: bob.token, body: {} });

        const ban = await call("PUT", `/guilds/${guild.id}/bans/${carol.id}`, {
          token: alice.token,
          body: { delete_message_seconds: 0 },
          headers: { "x-audit-log-reason": encodeURIComponent("spam, again") },
        });
        assert.equal(ban.status, 204, JSON.stringify(ban.body));
        const bans = await ok(200, GuildBanResponseSchema, "GET", `/guilds/${guild.id}/bans`, { token: alice.token });
        assert.deepEqual(bans.map((b: { user: { id: string }; reason: string }) => [b.user.id, b.reason]), [[carol.id, "spam, again"]]);
        assert.equal((await ok(200, GuildBanResponseSchema, "GET", `/guilds/${guild.id}/bans/${carol.id}`, { token: alice.token })).user.username, carol.username);
        const refused = await fails(400, Codes.UserBannedFromThisGuild, "POST", `/invites/${invite.code}`, { token: carol.token });
        assert.equal(refused.message, "The user is banned from this guild.");
        assert.equal((await call("DELETE", `/guilds/${guild.id}/bans/${carol.id}`, { token: alice.token })).status, 204);
        await fails(404, Codes.UnknownBan, "GET", `/guilds/${guild.id}/bans/${carol.id}`, { token: alice.token });
        await ok(200, GuildInviteResponseSchema, "POST", `/invites/${invite.code}`, { token: carol.token });

        // Leaving: members may, the owner may not.
        assert.equal((await call("DELETE", `/users/@me/guilds/${guild.id}`, { token: carol.token })).status, 204);
        const carolsGuilds: RESTAPIPartialCurrentUserGuild[] = await ok(200, MyGuildResponseSchema, "GET", "/users/@me/guilds", { token: carol.token });
        assert.ok(!carolsGuilds.some((g) => g.id === guild.id));
        await fails(400, Codes.InvalidGuild, "DELETE", `/users/@me/guilds/${guild.id}`, { token: alice.token });

        // Reorders.
        assert.equal((await call("PATCH", `/guilds/${guild.id}/channels`, { token: alice.token, body: [{ id: staff.id, position: 0 }, { id: byName("general").id, position: 1 }] })).status, 204);
        const reordered = await channelsOf(guild.id, alice);
        assert.equal(reordered.find((c) => c.id === staff.id)!.position, 0);
        assert.equal(reordered.find((c) => c.id === byName("general").id)!.position, 1);
        const rolesAfter: APIRole[] = await ok(200, GuildRoleResponseSchema, "PATCH", `/guilds/${guild.id}/roles`, {
          token: alice.token,
          body: [{ id: blank.id, position: 2 }, { id: mods.id, position: 1 }],
        });
        assert.deepEqual(rolesAfter.map((r) => r.id), [guild.id, mods.id, blank.id]);

        // Removals.
        assert.equal((await call("DELETE", `/channels/${staff.id}/permissions/${mods.id}`, { token: alice.token })).status, 204);
        await fails(403, Codes.MissingAccess, "GET", `/channels/${staff.id}`, { token: bob.token });
        const deleted = await ok(200, GuildChannelResponseSchema, "DELETE", `/channels/${staff.id}`, { token: alice.token });
        assert.equal(deleted.id, staff.id);
        await fails(404, Codes.UnknownChannel, "GET", `/channels/${staff.id}`, { token: alice.token });
        assert.equal((await call("DELETE", `/guilds/${guild.id}/roles/${blank.id}`, { token: alice.token })).status, 204);
        await fails(404, Codes.UnknownRole, "GET", `/guilds/${guild.id}/roles/${blank.id}`, { token: alice.token });
        const channelInvites = await ok(200, GuildInviteResponseSchema, "GET", `/channels/${byName("general").id}/invites`, { token: alice.token });
        assert.ok(channelInvites.some((i: { code: string }) => i.code === invite.code));
        const revoked = await ok(200, GuildInviteResponseSchema, "DELETE", `/invites/${invite.code}`, { token: alice.token });
        assert.equal(revoked.code, invite.code);
        await fails(404, Codes.UnknownInvite, "GET", `/invites/${invite.code}`, { token: bob.token });

        // The guild itself.
        const modified = await ok(200, GuildResponseSchema, "PATCH", `/guilds/${guild.id}`, {
          token: alice.token,
          body: { name: "Renamed", description: "a test guild", afk_timeout: 900, system_channel_id: null },
        });
        assert.equal(modified.name, "Renamed");
        assert.equal(modified.description, "a test guild");
        assert.equal(modified.afk_timeout, 900);
        assert.equal(modified.system_channel_id, null);
        assert.equal((await call("DELETE", `/guilds/${guild.id}`, { token: alice.token })).status, 204);
        await fails(404, Codes.UnknownGuild, "GET", `/guilds/${guild.id}`, { token: alice.token });
        await fails(404, Codes.UnknownChannel, "GET", `/channels/${byName("general").id}`, { token: alice.token });
      });

      it("bad bodies are 50035 naming each field, before and after the guild service; unknown ids answer Discord's codes", async () => {
        const alice = await register();
        const guild = await createGuild(alice);
        const general = (await channelsOf(guild.id, alice)).find((c) => c.name === "general")!;

        await formErrors({ name: "BASE_TYPE_REQUIRED" }, "POST", "/guilds", { token: alice.token, body: {} });
        await formErrors({ name: "BASE_TYPE_BAD_LENGTH" }, "POST", "/guilds", { token: alice.token, body: { name: "x" } });
        await formErrors(
          { name: "BASE_TYPE_BAD_LENGTH", type: "BASE_TYPE_CHOICES", "permission_overwrites.0.allow": "NUMBER_TYPE_COERCE", rate_limit_per_user: "NUMBER_TYPE_MAX" },
          "POST",
          `/guilds/${guild.id}/channels`,
          { token: alice.token, body: { name: "", type: 1, rate_limit_per_user: 99999, permission_overwrites: [{ id: guild.id, type: 0, allow: "lots" }] } },
        );
        await formErrors({ color: "NUMBER_TYPE_MAX", permissions: "NUMBER_TYPE_COERCE" }, "POST", `/guilds/${guild.id}/roles`, {
          token: alice.token,
          body: { color: 2 ** 24, permissions: "0x8" },
        });
        await formErrors({ type: "BASE_TYPE_REQUIRED" }, "PUT", `/channels/${general.id}/permissions/${guild.id}`, { token: alice.token, body: {} });
        await formErrors({ max_age: "NUMBER_TYPE_MAX" }, "POST", `/channels/${general.id}/invites`, { token: alice.token, body: { max_age: 604801 } });
        await formErrors({ recipient_id: "BASE_TYPE_REQUIRED" }, "POST", "/users/@me/channels", { token: alice.token, body: {} });
        // Fields only the guild service can judge are refused by it, named the same way.
        await formErrors({ parent_id: "BASE_TYPE_INVALID" }, "PATCH", `/channels/${general.id}`, { token: alice.token, body: { parent_id: general.id } });
        await formErrors({ "permission_overwrites.0.id": "BASE_TYPE_INVALID" }, "POST", `/guilds/${guild.id}/channels`, {
          token: alice.token,
          body: { name: "x", permission_overwrites: [{ id: "12345", type: 0, deny: "1024" }] },
        });
        await formErrors({ "0.id": "BASE_TYPE_INVALID" }, "PATCH", `/guilds/${guild.id}/channels`, { token: alice.token, body: [{ id: "12345", position: 1 }] });
        // Bad ids in the path.
        await formErrors({ guild_id: "NUMBER_TYPE_COERCE" }, "GET", "/guilds/not-an-id", { token: alice.token });
        await formErrors({ channel_id: "NUMBER_TYPE_COERCE", overwrite_id: "NUMBER_TYPE_COERCE" }, "PUT", "/channels/x/permissions/y", { token: alice.token, body: { type: 0 } });

        const missing = new SnowflakeGenerator({ workerId: 31, processId: 31 }).next().toString();
        await fails(404, Codes.UnknownGuild, "GET", `/guilds/${missing}`, { token: alice.token });
        await fails(404, Codes.UnknownChannel, "GET", `/channels/${missing}`, { token: alice.token });
        await fails(404, Codes.UnknownChannel, "PATCH", `/channels/${missing}`, { token: alice.token, body: { name: "x" } });
        await fails(404, Codes.UnknownRole, "GET", `/guilds/${guild.id}/roles/${missing}`, { token: alice.token });
        await fails(404, Codes.UnknownRole, "PATCH", `/guilds/${guild.id}/roles/${missing}`, { token: alice.token, body: { name: "x" } });
        await fails(404, Codes.UnknownMember, "GET", `/guilds/${guild.id}/members/${missing}`, { token: alice.token });
        await fails(404, Codes.UnknownUser, "PUT", `/guilds/${guild.id}/bans/${missing}`, { token: alice.token });
        await fails(404, Codes.UnknownBan, "DELETE", `/guilds/${guild.id}/bans/${missing}`, { token: alice.token });
        await fails(404, Codes.UnknownInvite, "GET", "/invites/nosuchcode", { token: alice.token });
        await fails(404, Codes.UnknownInvite, "POST", "/invites/nosuchcode", { token: alice.token });
        await fails(400, Codes.InvalidRole, "DELETE", `/guilds/${guild.id}/roles/${guild.id}`, { token: alice.token });

        const noToken = await call("GET", `/guilds/${guild.id}`);
        assert.equal(noToken.status, 401);
        assert.deepEqual(noToken.body, { message: "401: Unauthorized", code: 0 });
      });

      it("DMs are one per pair of users, also when both open it at once; group DMs take recipients", async () => {
        const [alice, bob, carol, dave] = await Promise.all([register(), register(), register(), register()]);

        const dm = await ok(200, PrivateChannelResponseSchema, "POST", "/users/@me/channels", { token: alice.token, body: { recipient_id: bob.id } });
        assert.deepEqual(dm.recipients.map((u: { id: string }) => u.id), [bob.id]);
        assert.equal((await ok(200, PrivateChannelResponseSchema, "POST", "/users/@me/channels", { token: alice.token, body: { recipient_id: bob.id } })).id, dm.id);
        const fromBob = await ok(200, PrivateChannelResponseSchema, "POST", "/users/@me/channels", { token: bob.token, body: { recipients: [alice.id] } });
        assert.equal(fromBob.id, dm.id);
        assert.deepEqual(fromBob.recipients.map((u: { id: string }) => u.id), [alice.id]);
        assert.equal((await ok(200, PrivateChannelResponseSchema, "GET", `/channels/${dm.id}`, { token: bob.token })).id, dm.id);
        await fails(403, Codes.MissingAccess, "GET", `/channels/${dm.id}`, { token: carol.token });
        // Closing a DM hides it; opening it again finds the same channel.
        await ok(200, PrivateChannelResponseSchema, "DELETE", `/channels/${dm.id}`, { token: alice.token });
        assert.equal((await ok(200, PrivateChannelResponseSchema, "POST", "/users/@me/channels", { token: alice.token, body: { recipient_id: bob.id } })).id, dm.id);

        // Both sides opening the same DM at the same moment end up in one channel.
        const [one, two] = await Promise.all([
          ok(200, PrivateChannelResponseSchema, "POST", "/users/@me/channels", { token: carol.token, body: { recipient_id: dave.id } }),
          ok(200, PrivateChannelResponseSchema, "POST", "/users/@me/channels", { token: dave.token, body: { recipient_id: carol.id } }),
        ]);
        assert.equal(one.id, two.id);

        const group = await ok(200, PrivateGroupChannelResponseSchema, "POST", "/users/@me/channels", { token: alice.token, body: { recipients: [bob.id, carol.id] } });
        assert.equal(group.owner_id, alice.id);
        assert.deepEqual(group.recipients.map((u: { id: string }) => u.id).sort(), [bob.id, carol.id].sort());
        assert.equal((await call("PUT", `/channels/${group.id}/recipients/${dave.id}`, { token: bob.token })).status, 204);
        const named = await ok(200, PrivateGroupChannelResponseSchema, "PATCH", `/channels/${group.id}`, { token: dave.token, body: { name: "squad" } });
        assert.equal(named.name, "squad");
        assert.equal(named.recipients.length, 3);
        await fails(403, Codes.MissingPermissions, "DELETE", `/channels/${group.id}/recipients/${carol.id}`, { token: bob.token });
        assert.equal((await call("DELETE", `/channels/${group.id}/recipients/${carol.id}`, { token: alice.token })).status, 204);
        await fails(403, Codes.MissingAccess, "GET", `/channels/${group.id}`, { token: carol.token });
        const left = await ok(200, PrivateGroupChannelResponseSchema, "DELETE", `/channels/${group.id}`, { token: dave.token });
        assert.equal(left.id, group.id);
        const remaining = await ok(200, PrivateGroupChannelResponseSchema, "GET", `/channels/${group.id}`, { token: alice.token });
        assert.deepEqual(remaining.recipients.map((u: { id: string }) => u.id), [bob.id]);

        const nobody = new SnowflakeGenerator({ workerId: 31, processId: 30 }).next().toString();
        await fails(400, Codes.InvalidRecipients, "POST", "/users/@me/channels", { token: alice.token, body: { recipient_id: nobody } });
        await fails(400, Codes.CannotExecuteActionOnDMChannel, "PUT", `/channels/${dm.id}/recipients/${carol.id}`, { token: alice.token });
      });

      it("@discordjs/rest drives the guild routes with a bot's token, added to a guild with AddBot", async () => {
        const alice = await register();
        const guild = await createGuild(alice);
        const member = await register();
        await join(guild.id, alice, member);

        // A bot account with a token, minted as the api does; AddBot on the guild's owner node.
        const botId = new SnowflakeGenerator({ workerId: 29, processId: Math.floor(Math.random() * 32) }).next();
        await chorus.storage.createUser({ user: create(UserSchema, { id: botId, username: `gbot${run}`, bot: true, locale: "en-US" }), passwordHash: "" });
        const botToken = issueToken(botId);
        await chorus.storage.createToken({ token: { tokenHash: botToken.hash, userId: botId, kind: TokenKind.BOT } });
        const added = await chorus.guildNode(BigInt(guild.id)).execute({
          ownerId: BigInt(guild.id),
          actorId: BigInt(alice.id),
          command: { command: { case: "addBot", value: { botUserId: botId, botName: "gbot", permissions: P.ManageChannels | P.ManageRoles | P.BanMembers | P.ViewChannel } } },
        });
        assert.equal(added.result?.result.case, "member");

        const rest = new REST({ api: `${chorus.httpUrl}/api`, version: "10", authPrefix: "Bot", timeout: 10_000 }).setToken(botToken.token);
        try {
          const fetched = (await rest.get(Routes.guild(guild.id))) as APIGuild;
          assertMatches(GuildWithCountsResponseSchema, fetched, "the bot's GET /guilds/:id");
          const botRole = fetched.roles.find((r) => r.managed)!;
          assert.equal(botRole.tags?.bot_id, botId.toString());

          const botGuilds = (await rest.get(Routes.userGuilds())) as RESTAPIPartialCurrentUserGuild[];
          assert.deepEqual(botGuilds.map((g) => g.id), [guild.id]);

          const created = (await rest.post(Routes.guildChannels(guild.id), { body: { name: "bot-logs", type: 0 } })) as APIGuildChannel<GuildChannelType>;
          assertMatches(GuildChannelResponseSchema, created, "a channel the bot created");
          const edited = (await rest.patch(Routes.channel(created.id), { body: { name: "bot-log" } })) as APIGuildChannel<GuildChannelType>;
          assert.equal(edited.name, "bot-log");
          await rest.put(Routes.channelPermission(created.id, guild.id), { body: { type: 0, deny: perms(P.SendMessages) } });
          // The owner makes a role below the bot's (new roles go just above @everyone), the bot hands it out.
          const role: APIRole = await ok(200, GuildRoleResponseSchema, "POST", `/guilds/${guild.id}/roles`, { token: alice.token, body: { name: "helpers" } });
          const editedRole = (await rest.patch(Routes.guildRole(guild.id, role.id), { body: { mentionable: true } })) as APIRole;
          assertMatches(GuildRoleResponseSchema, editedRole, "a role the bot edited");
          assert.equal(editedRole.mentionable, true);
          await rest.put(Routes.guildMemberRole(guild.id, member.id, role.id));
          const withRole = (await rest.get(Routes.guildMember(guild.id, member.id))) as APIGuildMember;
          assertMatches(GuildMemberResponseSchema, withRole, "a member the bot read");
          assert.deepEqual(withRole.roles, [role.id]);
          await rest.put(Routes.guildBan(guild.id, member.id), { reason: "bot ban" });
          const bans = (await rest.get(Routes.guildBans(guild.id))) as { user: { id: string }; reason: string }[];
          assert.deepEqual(bans.map((b) => [b.user.id, b.reason]), [[member.id, "bot ban"]]);
          await rest.delete(Routes.guildBan(guild.id, member.id));
          await rest.delete(Routes.channel(created.id));

          // Refusals reach the library as Discord's would.
          await assert.rejects(rest.delete(Routes.guild(guild.id)), (err: unknown) => {
            assert.ok(err instanceof DiscordAPIError, String(err));
            assert.equal(err.status, 403);
            assert.equal(err.code, Codes.MissingPermissions);
            return true;
          });
          await assert.rejects(rest.post(Routes.guildChannels(guild.id), { body: { name: "" } }), (err: unknown) => {
            assert.ok(err instanceof DiscordAPIError, String(err));
            assert.equal(err.code, Codes.InvalidFormBodyOrContentType);
            assert.match(err.message, /name\[BASE_TYPE_BAD_LENGTH\]/);
            return true;
          });
          await assert.rejects(rest.get(Routes.channel("1")), (err: unknown) => err instanceof DiscordAPIError && err.status === 404 && err.code === Codes.UnknownChannel);
        } finally {
          rest.clearHashSweeper();
          rest.clearHandlerSweeper();
        }
      });
    });

    describe("Connect GuildService", () => {
      const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

      async function rejectsWith(pending: Promise<unknown>, code: Code, discordCode: number) {
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof ConnectError, String(err));
          assert.equal(err.code, code, `${Code[err.code]}: ${err.rawMessage}`);
          assert.equal(err.findDetails(ErrorReasonSchema)[0]?.code, discordCode, err.rawMessage);
          return true;
        });
      }

      it("creates a guild, finds channels' guilds by channel id, lists, and refuses with an ErrorReason", async () => {
        const api = createClient(ApiGuildService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const mesh = createClient(ApiGuildService, createConnectTransport({ baseUrl: chorus.meshUrl, httpVersion: "1.1" }));
        const alice = await register();
        const bob = await register();

        const created = await api.execute({ command: { command: { case: "createGuild", value: { name: "Connected" } } } }, bearer(alice.token));
        const result = created.result?.result;
        assert.ok(result?.case === "guild", String(result?.case));
        const guild = result.value;
        assert.equal(guild.ownerId, BigInt(alice.id));

        const view = await mesh.getGuild({ guildId: guild.id }, bearer(alice.token));
        assert.equal(view.memberCount, 1);
        assert.equal(view.roles[0].id, guild.id);
        const general = view.channels.find((c) => c.name === "general")!;

        // No guild_id: the channel names its guild.
        const renamed = await api.execute(
          { command: { command: { case: "modifyChannel", value: { channel: { id: general.id, name: "lobby" }, updateMask: { paths: ["name"] } } } } },
          bearer(alice.token),
        );
        assert.equal(renamed.result?.result.case === "channel" && renamed.result.result.value.name, "lobby");
        assert.equal((await api.getChannel({ channelId: general.id }, bearer(alice.token))).channel?.name, "lobby");

        const invite = await api.execute({ command: { command: { case: "createInvite", value: { channelId: general.id } } } }, bearer(alice.token));
        const code = invite.result?.result.case === "invite" ? invite.result.result.value.code : "";
        assert.equal((await api.getInvite({ code }, bearer(bob.token))).guild?.name, "Connected");
        await api.execute({ command: { command: { case: "acceptInvite", value: { code } } } }, bearer(bob.token));
        assert.deepEqual((await api.listMyGuilds({}, bearer(bob.token))).guilds.map((g) => g.id), [guild.id]);
        const members = await api.listMembers({ guildId: guild.id, limit: 10 }, bearer(alice.token));
        assert.equal(members.members.length, 2);

        await rejectsWith(
          api.execute({ guildId: guild.id, command: { command: { case: "createRole", value: { role: { name: "x" } } } } }, bearer(bob.token)),
          Code.PermissionDenied,
          Codes.MissingPermissions,
        );
        await rejectsWith(api.listBans({ guildId: guild.id }, bearer(bob.token)), Code.PermissionDenied, Codes.MissingPermissions);
        await rejectsWith(api.getGuild({ guildId: 12345n }, bearer(bob.token)), Code.NotFound, Codes.UnknownGuild);
        await rejectsWith(api.getChannel({ channelId: 12345n }, bearer(bob.token)), Code.NotFound, Codes.UnknownChannel);
        await rejectsWith(
          api.execute({ guildId: guild.id, command: { command: { case: "createChannel", value: { channel: { name: "", type: 0 } } } } }, bearer(alice.token)),
          Code.InvalidArgument,
          Codes.InvalidFormBodyOrContentType,
        );
        await assert.rejects(api.execute({ command: { command: { case: "deleteGuild", value: {} } } }, bearer(alice.token)), (err: ConnectError) => {
          assert.equal(err.code, Code.InvalidArgument);
          assert.match(err.rawMessage, /^guild_id: /);
          return true;
        });
        await assert.rejects(api.listMyGuilds({}), (err: ConnectError) => err.code === Code.Unauthenticated);
        // Bots join through their owner's authorization, never by a bare AddBot.
        await assert.rejects(
          api.execute({ guildId: guild.id, command: { command: { case: "addBot", value: { botUserId: BigInt(bob.id) } } } }, bearer(alice.token)),
          (err: ConnectError) => err.code === Code.InvalidArgument && /^command: /.test(err.rawMessage),
        );

        const dm = await api.execute(
          { command: { command: { case: "createPrivateChannel", value: { recipientIds: [BigInt(bob.id)] } } } },
          bearer(alice.token),
        );
        assert.equal(dm.result?.result.case === "channel" && dm.result.result.value.type, 1);
        await api.execute({ guildId: guild.id, command: { command: { case: "deleteGuild", value: {} } } }, bearer(alice.token));
        await rejectsWith(api.getGuild({ guildId: guild.id }, bearer(alice.token)), Code.NotFound, Codes.UnknownGuild);
      });
    });
  });
}

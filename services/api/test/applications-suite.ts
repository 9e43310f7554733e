// Applications, bots and relationships end to end through a running Chorus, whatever its run
// mode: the Discord v10 routes (checked against discord-api-spec's Zod schemas where Discord
// publishes one, and driven by @discordjs/rest), the OAuth2 bot authorization that adds a bot
// to a guild through the guild service, and the Connect ApplicationService and
// RelationshipService. applications-embedded.test.ts and applications-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DiscordAPIError, REST } from "@discordjs/rest";
import { RESTJSONErrorCodes, Routes, type APIUser } from "discord-api-types/v10";
import {
  ApplicationResponseSchema,
  GuildMemberResponseSchema,
  PrivateApplicationResponseSchema,
  UserPIIResponseSchema,
  UserResponseSchema,
} from "discord-api-spec/zod";
import { ApplicationService } from "@chorus/contracts/chorus/api/v1/applications_pb";
import { RelationshipService, RelationshipType } from "@chorus/contracts/chorus/api/v1/relationships_pb";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { assertDiscordError, assertFormErrors, assertMatches, assertUnauthorized, discordRequests } from "./discord-http.js";

/** What the suite needs of a running Chorus. */
export interface ChorusUnderTest {
  /** Base URL of the api's HTTP edge, e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** Base URL of a mesh port serving chorus.api.v1 (gRPC, gRPC-Web and Connect). */
  meshUrl: string;
}

/** Discord's permission bits the tests give bots. */
const VIEW_CHANNEL = 1n << 10n;
const SEND_MESSAGES = 1n << 11n;
const ADMINISTRATOR = 1n << 3n;

export function describeApplications(mode: string, start: () => Promise<ChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`applications, bots and relationships (${mode} mode)`, () => {
    let chorus: ChorusUnderTest;
    const run = randomBytes(3).toString("hex");
    let serial = 0;
    const freshName = () => `a${run}_${++serial}`;
    // Ids that name nothing (no guild, application or user has them).
    const unknownIds = new SnowflakeGenerator({ workerId: 29, processId: Math.floor(Math.random() * 32) });

    before(async () => {
      chorus = await start();
    });
    after(stop);

    const { call, registerPerson } = discordRequests(() => `${chorus.httpUrl}/api/v10`);

    const register = () => registerPerson(freshName());

    async function createApplication(token: string, name = `App ${freshName()}`) {
      const res = await call("POST", "/applications", { token, body: { name, description: "Helps out." } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; name: string };
    }

    async function createBot(token: string, applicationId: string) {
      const res = await call("POST", `/applications/${applicationId}/bot`, { token });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.token as string;
    }

    /** A guild the token's owner creates (and owns). */
    async function createGuild(ownerToken: string, name = `Guild ${freshName()}`): Promise<string> {
      const res = await call("POST", "/guilds", { token: ownerToken, body: { name } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    }

    /** Makes `memberToken`'s user a member of a guild, through an invite of its owner's. */
    async function joinGuild(guildId: string, ownerToken: string, memberToken: string): Promise<void> {
      const channels = await call("GET", `/guilds/${guildId}/channels`, { token: ownerToken });
      const text = (channels.body as { id: string; type: number }[]).find((c) => c.type === 0)!;
      const invite = await call("POST", `/channels/${text.id}/invites`, { token: ownerToken, body: {} });
      assert.equal(invite.status, 200, JSON.stringify(invite.body));
      const accepted = await call("POST", `/invites/${invite.body.code}`, { token: memberToken, body: {} });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    }

    const authorize = (token: string, query: string, body: unknown) => call("POST", `/oauth2/authorize?${query}`, { token, body });

    const rests: REST[] = [];
    const rest = (authPrefix: "Bot" | "Bearer", token: string) => {
      const client = new REST({ api: `${chorus.httpUrl}/api`, version: "10", authPrefix, timeout: 10_000 }).setToken(token);
      rests.push(client);
      return client;
    };
    after(() => {
      for (const client of rests) {
        client.clearHashSweeper();
        client.clearHandlerSweeper();
      }
    });

    describe("Discord REST API: applications and bots", () => {
      it("create, list, get and modify applications; only the owner sees them", async () => {
        const owner = await register();
        const created = await call("POST", "/applications", { token: owner.token, body: { name: "  Weather Station ", team_id: null } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assertMatches(PrivateApplicationResponseSchema, created.body, "POST /applications");
        const app = created.body;
        assert.equal(app.name, "Weather Station");
        assert.equal(app.description, "");
        assert.equal(app.owner.id, owner.id);
        assert.equal(app.bot, undefined, "no bot until one is created");
        assert.equal(app.bot_public, true);
        assert.match(app.verify_key, /^[0-9a-f]{64}$/);
        assert.ok(BigInt(app.id) > 0n);

        const second = await createApplication(owner.token);
        const listed = await call("GET", "/applications", { token: owner.token });
        assert.equal(listed.status, 200);
        assert.deepEqual(
          listed.body.map((a: { id: string }) => a.id),
          [app.id, second.id].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
        );
        for (const listedApp of listed.body) assertMatches(PrivateApplicationResponseSchema, listedApp, "GET /applications");

        const got = await call("GET", `/applications/${app.id}`, { token: owner.token });
        assert.equal(got.status, 200);
        assert.deepEqual(got.body, app);

        const patched = await call("PATCH", `/applications/${app.id}`, {
          token: owner.token,
          body: { name: "Weather", description: "Forecasts.", bot_public: false },
        });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assertMatches(PrivateApplicationResponseSchema, patched.body, "PATCH /applications/:id");
        assert.equal(patched.body.name, "Weather");
        assert.equal(patched.body.description, "Forecasts.");
        assert.equal(patched.body.bot_public, false);
        assert.equal((await call("GET", `/applications/${app.id}`, { token: owner.token })).body.description, "Forecasts.");
        assertFormErrors(await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { name: "", bot_public: "no" } }), {
          name: "BASE_TYPE_BAD_LENGTH",
          bot_public: "BASE_TYPE_BOOLEAN",
        });
        // The limited gateway intents (here MESSAGE_CONTENT) can be switched on, nothing else.
        const withContent = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { flags: 1 << 19 } });
        assert.equal(withContent.status, 200, JSON.stringify(withContent.body));
        assert.equal(withContent.body.flags & (1 << 19), 1 << 19);
        assertFormErrors(await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { flags: 1 << 12 } }), { flags: "APPLICATION_FLAGS_INVALID" });

        // Someone else's application is as unknown as one that does not exist.
        const stranger = await register();
        const unknown = { message: "Unknown Application", code: RESTJSONErrorCodes.UnknownApplication };
        for (const [method, path] of [
          ["GET", `/applications/${app.id}`],
          ["PATCH", `/applications/${app.id}`],
          ["POST", `/applications/${app.id}/bot`],
          ["POST", `/applications/${app.id}/bot/reset`],
          ["GET", `/applications/${unknownIds.next()}`],
        ] as const) {
          const res = await call(method, path, { token: stranger.token, body: method === "PATCH" ? { name: "Mine now" } : undefined });
          assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
          assert.deepEqual(res.body, unknown);
        }
        assert.deepEqual((await call("GET", "/applications", { token: stranger.token })).body, []);

        assertFormErrors(await call("POST", "/applications", { token: owner.token, body: {} }), { name: "BASE_TYPE_REQUIRED" });
        assertFormErrors(await call("GET", "/applications/not-an-id", { token: owner.token }), { application_id: "NUMBER_TYPE_COERCE" });
        assertUnauthorized(await call("POST", "/applications", { body: { name: "x" } }));
      });

      it("a bot user and token: Bot auth, /applications/@me, token reset revokes the old token", async () => {
        const owner = await register();
        const app = await createApplication(owner.token, `Tidy Up ${run}!`);
        const token = await createBot(owner.token, app.id);
        assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);

        // The bot is a user whose id is the application's, named after it.
        const me = await call("GET", "/users/@me", { token: `Bot ${token}` });
        assert.equal(me.status, 200, JSON.stringify(me.body));
        assertMatches(UserPIIResponseSchema, me.body, "a bot's GET /users/@me");
        assert.equal(me.body.id, app.id);
        assert.equal(me.body.bot, true);
        assert.equal(me.body.username, `tidy_up_${run}`);
        assert.equal(me.body.email, null);
        // A bot token is a bot's only: refused without the Bot prefix, and no password logs a bot in.
        assertUnauthorized(await call("GET", "/users/@me", { token }));
        assertFormErrors(await call("POST", "/auth/login", { body: { login: `tidy_up_${run}`, password: "whatever it is" } }), {
          login: "INVALID_LOGIN",
          password: "INVALID_LOGIN",
        });

        // A second bot for the same application is refused; the application shows its bot.
        const again = await call("POST", `/applications/${app.id}/bot`, { token: owner.token });
        assertFormErrors(again, { application_id: "APPLICATION_BOT_ALREADY_EXISTS" });
        const withBot = await call("GET", `/applications/${app.id}`, { token: owner.token });
        assertMatches(PrivateApplicationResponseSchema, withBot.body, "an application with a bot");
        assert.equal(withBot.body.bot.id, app.id);
        assert.equal(withBot.body.bot.bot, true);

        // The bot's own application, through @discordjs/rest.
        const asBot = rest("Bot", token);
        const own = (await asBot.get(Routes.currentApplication())) as Record<string, any>;
        assertMatches(PrivateApplicationResponseSchema, own, "GET /applications/@me");
        assert.equal(own.id, app.id);
        assert.equal(own.owner.id, owner.id);
        const oauth2Own = (await asBot.get(Routes.oauth2CurrentApplication())) as Record<string, any>;
        assert.equal(oauth2Own.id, app.id);
        const renamed = (await asBot.patch(Routes.currentApplication(), { body: { description: "Sweeps channels." } })) as Record<string, any>;
        assert.equal(renamed.description, "Sweeps channels.");
        // The bot sees its own application by id too, and nobody else's.
        assert.equal((await call("GET", `/applications/${app.id}`, { token: `Bot ${token}` })).status, 200);
        const other = await createApplication(owner.token);
        assertDiscordError(await call("GET", `/applications/${other.id}`, { token: `Bot ${token}` }), 404, RESTJSONErrorCodes.UnknownApplication);
        // Developer routes are people's; /applications/@me is bots'.
        assertDiscordError(await call("POST", "/applications", { token: `Bot ${token}`, body: { name: "Spawn" } }), 403, RESTJSONErrorCodes.BotsCannotUseThisEndpoint);
        assertDiscordError(await call("GET", "/applications/@me", { token: owner.token }), 403, RESTJSONErrorCodes.OnlyBotsCanUseThisEndpoint);

        // Reset: every earlier token of the bot stops working, the new one works.
        const reset = await call("POST", `/applications/${app.id}/bot/reset`, { token: owner.token });
        assert.equal(reset.status, 200, JSON.stringify(reset.body));
        assert.deepEqual(Object.keys(reset.body), ["token"]);
        assert.notEqual(reset.body.token, token);
        assertUnauthorized(await call("GET", "/users/@me", { token: `Bot ${token}` }));
        await assert.rejects(asBot.get(Routes.currentApplication()), (err: unknown) => {
          assert.ok(err instanceof DiscordAPIError, String(err));
          assert.equal(err.status, 401);
          return true;
        });
        const fresh = (await rest("Bot", reset.body.token).get(Routes.user())) as APIUser;
        assert.equal(fresh.id, app.id);

        // No bot, nothing to reset.
        const botless = await createApplication(owner.token);
        assertDiscordError(
          await call("POST", `/applications/${botless.id}/bot/reset`, { token: owner.token }),
          400,
          RESTJSONErrorCodes.OAuth2ApplicationDoesNotHaveBot,
        );
      });

      it("bots of applications with the same name get distinct usernames", async () => {
        const owner = await register();
        const name = `Twin ${run}`;
        const [first, second] = [await createApplication(owner.token, name), await createApplication(owner.token, name)];
        const names = [];
        for (const app of [first, second]) {
          const token = await createBot(owner.token, app.id);
          names.push((await call("GET", "/users/@me", { token: `Bot ${token}` })).body.username as string);
        }
        assert.equal(names[0], `twin_${run}`);
        assert.match(names[1], new RegExp(`^twin_${run}_\\d{4}$`));
      });
    });

    describe("Discord REST API: adding a bot to a guild (OAuth2 bot scope)", () => {
      it("authorize → the bot is a member with a managed role; errors answer as Discord", async () => {
        const owner = await register();
        const app = await createApplication(owner.token, `Greeter ${run}`);
        const botToken = await createBot(owner.token, app.id);
        const guildId = await createGuild(owner.token);
        const query = `client_id=${app.id}&scope=bot+applications.commands&permissions=${VIEW_CHANNEL | SEND_MESSAGES}`;

        // What the authorization screen shows.
        const preview = await call("GET", `/oauth2/authorize?client_id=${app.id}&scope=bot`, { token: owner.token });
        assert.equal(preview.status, 200, JSON.stringify(preview.body));
        assertMatches(ApplicationResponseSchema, preview.body.application, "the application to authorize");
        assertMatches(UserResponseSchema, preview.body.bot, "the bot to authorize");
        assert.equal(preview.body.bot.id, app.id);
        assert.equal(preview.body.user.id, owner.id);

        // Authorized through @discordjs/rest, as a person (Bearer): the body's permissions win over the query's.
        const asOwner = rest("Bearer", owner.token);
        const answer = (await asOwner.post(Routes.oauth2Authorization(), {
          query: new URLSearchParams(query),
          body: { guild_id: guildId, permissions: String(VIEW_CHANNEL), authorize: true },
        })) as { location: string };
        assert.deepEqual(answer, { location: "https://discord.com/oauth2/authorized" });

        // The bot is a member, with a managed role holding the permissions asked for.
        const member = await call("GET", `/guilds/${guildId}/members/${app.id}`, { token: owner.token });
        assert.equal(member.status, 200, JSON.stringify(member.body));
        assertMatches(GuildMemberResponseSchema, member.body, "the bot's member object");
        assert.equal(member.body.user.id, app.id);
        assert.equal(member.body.user.bot, true);
        assert.equal(member.body.roles.length, 1, "a managed role for the bot");
        const roles = (await call("GET", `/guilds/${guildId}/roles`, { token: owner.token })).body as Record<string, any>[];
        const role = roles.find((r) => r.id === member.body.roles[0])!;
        assert.equal(role.permissions, VIEW_CHANNEL.toString());
        assert.equal(role.managed, true);
        assert.equal(role.name, `greeter_${run}`);
        // The bot sees the guild among its own, and its application counts it.
        const asBot = rest("Bot", botToken);
        const botGuilds = (await asBot.get(Routes.userGuilds())) as { id: string }[];
        assert.deepEqual(botGuilds.map((g) => g.id), [guildId]);
        const own = (await asBot.get(Routes.currentApplication())) as Record<string, any>;
        assert.equal(own.approximate_guild_count, 1);

        // Authorizing again changes nothing.
        const reauthorized = await authorize(owner.token, query, { guild_id: guildId, authorize: true });
        assert.equal(reauthorized.status, 200, JSON.stringify(reauthorized.body));
        assert.deepEqual((await call("GET", `/guilds/${guildId}/members/${app.id}`, { token: owner.token })).body.roles, member.body.roles);

        // Bad requests name every bad field.
        assertFormErrors(await authorize(owner.token, "", { authorize: true }), {
          client_id: "BASE_TYPE_REQUIRED",
          scope: "BASE_TYPE_REQUIRED",
          guild_id: "BASE_TYPE_REQUIRED",
        });
        assertFormErrors(await authorize(owner.token, `client_id=${app.id}&scope=identify`, { guild_id: "x", permissions: "lots", authorize: true }), {
          scope: "OAUTH2_SCOPE_UNSUPPORTED",
          guild_id: "NUMBER_TYPE_COERCE",
          permissions: "NUMBER_TYPE_COERCE",
        });
        assertFormErrors(await authorize(owner.token, `client_id=${app.id}&scope=bot`, { guild_id: guildId }), {
          authorize: "BASE_TYPE_REQUIRED",
        });
        // Unknown application, application without a bot, unknown guild.
        assertDiscordError(
          await authorize(owner.token, `client_id=${unknownIds.next()}&scope=bot`, { guild_id: guildId, authorize: true }),
          404,
          RESTJSONErrorCodes.UnknownApplication,
          "Unknown Application",
        );
        const botless = await createApplication(owner.token);
        assertDiscordError(
          await authorize(owner.token, `client_id=${botless.id}&scope=bot`, { guild_id: guildId, authorize: true }),
          400,
          RESTJSONErrorCodes.OAuth2ApplicationDoesNotHaveBot,
        );
        assertDiscordError(
          await authorize(owner.token, `client_id=${app.id}&scope=bot`, { guild_id: unknownIds.next().toString(), authorize: true }),
          404,
          RESTJSONErrorCodes.UnknownGuild,
          "Unknown Guild",
        );

        // Someone who is not a member of the guild cannot add a (public) bot to it; a bot cannot authorize.
        const outsider = await register();
        assertDiscordError(await authorize(outsider.token, query, { guild_id: guildId, authorize: true }), 403, RESTJSONErrorCodes.MissingAccess, "Missing Access");
        assertDiscordError(
          await authorize(`Bot ${botToken}`, query, { guild_id: guildId, authorize: true }),
          403,
          RESTJSONErrorCodes.BotsCannotUseThisEndpoint,
        );

        // A private bot is its owner's to add.
        await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { bot_public: false } });
        const outsidersGuild = await createGuild(outsider.token);
        assertDiscordError(await authorize(outsider.token, query, { guild_id: outsidersGuild, authorize: true }), 403, RESTJSONErrorCodes.MissingAccess);

        // A member without MANAGE_GUILD cannot add a bot either.
        const publicApp = await createApplication(outsider.token);
        await createBot(outsider.token, publicApp.id);
        await joinGuild(guildId, owner.token, outsider.token);
        assertDiscordError(
          await authorize(outsider.token, `client_id=${publicApp.id}&scope=bot`, {
            guild_id: guildId,
            permissions: ADMINISTRATOR.toString(),
            authorize: true,
          }),
          403,
          RESTJSONErrorCodes.MissingPermissions,
          "Missing Permissions",
        );

        // Declining adds nothing.
        const declined = await authorize(outsider.token, `client_id=${publicApp.id}&scope=bot`, { guild_id: outsidersGuild, authorize: false });
        assert.equal(declined.status, 200);
        assert.match(declined.body.location, /error=access_denied/);
        assertDiscordError(await call("GET", `/guilds/${outsidersGuild}/members/${publicApp.id}`, { token: outsider.token }), 404, RESTJSONErrorCodes.UnknownMember);
      });
    });

    describe("Discord REST API: relationships", () => {
      const relationships = async (token: string) => {
        const res = await call("GET", "/users/@me/relationships", { token });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        for (const relationship of res.body) assertMatches(UserResponseSchema, relationship.user, "a relationship's user");
        return res.body as { id: string; type: number; user: APIUser; nickname: string | null; since: string }[];
      };
      const types = async (token: string) => Object.fromEntries((await relationships(token)).map((r) => [r.id, r.type]));

      it("request by username → accept → remove; both sides see each step", async () => {
        const [alice, bob, carol] = [await register(), await register(), await register()];
        const sent = await call("POST", "/users/@me/relationships", { token: alice.token, body: { username: bob.username.toUpperCase(), discriminator: null } });
        assert.equal(sent.status, 204, JSON.stringify(sent.body));

        const aliceSees = await relationships(alice.token);
        assert.equal(aliceSees.length, 1);
        assert.deepEqual(
          { id: aliceSees[0].id, type: aliceSees[0].type, user: aliceSees[0].user.id, username: aliceSees[0].user.username, nickname: aliceSees[0].nickname },
          { id: bob.id, type: 4, user: bob.id, username: bob.username, nickname: null },
        );
        assert.ok(Date.now() - Date.parse(aliceSees[0].since) < 10 * 60_000, aliceSees[0].since);
        assert.deepEqual(await types(bob.token), { [alice.id]: 3 });

        // Sending again is harmless; the receiver's PUT {} accepts.
        assert.equal((await call("PUT", `/users/@me/relationships/${bob.id}`, { token: alice.token, body: {} })).status, 204);
        assert.deepEqual(await types(alice.token), { [bob.id]: 4 });
        assert.equal((await call("PUT", `/users/@me/relationships/${alice.id}`, { token: bob.token, body: {} })).status, 204);
        assert.deepEqual(await types(alice.token), { [bob.id]: 1 });
        assert.deepEqual(await types(bob.token), { [alice.id]: 1 });

        // Carol asks Alice, who declines; Alice unfriends Bob.
        assert.equal((await call("PUT", `/users/@me/relationships/${alice.id}`, { token: carol.token })).status, 204);
        assert.deepEqual(await types(alice.token), { [bob.id]: 1, [carol.id]: 3 });
        assert.equal((await call("DELETE", `/users/@me/relationships/${carol.id}`, { token: alice.token })).status, 204);
        assert.deepEqual(await types(carol.token), {});
        assert.equal((await call("DELETE", `/users/@me/relationships/${bob.id}`, { token: alice.token })).status, 204);
        assert.deepEqual(await types(alice.token), {});
        assert.deepEqual(await types(bob.token), {});
        // Removing what is not there is harmless.
        assert.equal((await call("DELETE", `/users/@me/relationships/${bob.id}`, { token: alice.token })).status, 204);
      });

      it("blocking ends a friendship, refuses the blocked user's requests, and only the blocker can lift it", async () => {
        const [alice, bob] = [await register(), await register()];
        await call("PUT", `/users/@me/relationships/${bob.id}`, { token: alice.token, body: {} });
        await call("PUT", `/users/@me/relationships/${alice.id}`, { token: bob.token, body: {} });
        assert.deepEqual(await types(alice.token), { [bob.id]: 1 });

        assert.equal((await call("PUT", `/users/@me/relationships/${alice.id}`, { token: bob.token, body: { type: 2 } })).status, 204);
        assert.deepEqual(await types(bob.token), { [alice.id]: 2 });
        assert.deepEqual(await types(alice.token), {});

        // Alice's requests to Bob are refused, by id or by name, without saying she is blocked.
        for (const res of [
          await call("PUT", `/users/@me/relationships/${bob.id}`, { token: alice.token, body: {} }),
          await call("POST", "/users/@me/relationships", { token: alice.token, body: { username: bob.username } }),
        ]) {
          assertDiscordError(res, 400, 80000, "Incoming friend requests disabled.");
        }
        // Alice removing Bob does not lift Bob's block.
        assert.equal((await call("DELETE", `/users/@me/relationships/${bob.id}`, { token: alice.token })).status, 204);
        assert.deepEqual(await types(bob.token), { [alice.id]: 2 });
        // Bob unblocks: only his side goes, and Alice may ask again.
        assert.equal((await call("DELETE", `/users/@me/relationships/${alice.id}`, { token: bob.token })).status, 204);
        assert.deepEqual(await types(bob.token), {});
        assert.equal((await call("PUT", `/users/@me/relationships/${bob.id}`, { token: alice.token, body: {} })).status, 204);
        assert.deepEqual(await types(bob.token), { [alice.id]: 3 });
      });

      it("unknown users, oneself, bots and bad bodies answer as Discord", async () => {
        const alice = await register();
        const nobody = unknownIds.next();
        assertDiscordError(await call("PUT", `/users/@me/relationships/${nobody}`, { token: alice.token, body: {} }), 404, RESTJSONErrorCodes.UnknownUser, "Unknown User");
        assertDiscordError(await call("PUT", `/users/@me/relationships/${nobody}`, { token: alice.token, body: { type: 2 } }), 404, RESTJSONErrorCodes.UnknownUser);
        assertDiscordError(await call("DELETE", `/users/@me/relationships/${nobody}`, { token: alice.token }), 404, RESTJSONErrorCodes.UnknownUser);
        for (const username of [freshName(), "Not A Name!", "someone@example.com"]) {
          assertDiscordError(
            await call("POST", "/users/@me/relationships", { token: alice.token, body: { username } }),
            400,
            RESTJSONErrorCodes.NoUsersWithDiscordTagExist,
          );
        }
        assertDiscordError(await call("PUT", `/users/@me/relationships/${alice.id}`, { token: alice.token, body: {} }), 400, 80003);
        assertFormErrors(await call("POST", "/users/@me/relationships", { token: alice.token, body: {} }), { username: "BASE_TYPE_REQUIRED" });
        assertFormErrors(await call("PUT", `/users/@me/relationships/${alice.id}`, { token: alice.token, body: { type: 9 } }), { type: undefined });
        assertFormErrors(await call("PUT", "/users/@me/relationships/nope", { token: alice.token, body: {} }), { user_id: "NUMBER_TYPE_COERCE" });
        assertUnauthorized(await call("GET", "/users/@me/relationships"));

        // Bots have no friends: they cannot ask, and nobody can ask them (blocking one is fine).
        const app = await createApplication(alice.token);
        const botToken = await createBot(alice.token, app.id);
        for (const res of [
          await call("GET", "/users/@me/relationships", { token: `Bot ${botToken}` }),
          await call("PUT", `/users/@me/relationships/${alice.id}`, { token: `Bot ${botToken}`, body: {} }),
        ]) {
          assertDiscordError(res, 403, RESTJSONErrorCodes.BotsCannotUseThisEndpoint, "Bots cannot use this endpoint");
        }
        assertDiscordError(await call("PUT", `/users/@me/relationships/${app.id}`, { token: alice.token, body: {} }), 400, 80002);
        assert.equal((await call("PUT", `/users/@me/relationships/${app.id}`, { token: alice.token, body: { type: 2 } })).status, 204);
        assert.deepEqual(await types(alice.token), { [app.id]: 2 });
      });
    });

    describe("Connect ApplicationService and RelationshipService", () => {
      const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

      async function rejectsWith(promise: Promise<unknown>, code: Code, discordCode?: number, field?: string) {
        await assert.rejects(promise, (err: unknown) => {
          assert.ok(err instanceof ConnectError, String(err));
          assert.equal(err.code, code, `${Code[err.code]}: ${err.rawMessage}`);
          if (discordCode !== undefined) assert.equal(err.findDetails(ErrorReasonSchema)[0]?.code, discordCode, err.rawMessage);
          if (field) assert.match(err.rawMessage, new RegExp(`^${field}: `), err.rawMessage);
          return true;
        });
      }

      it("applications: create, list, get, update, bot, token reset, authorize (HTTP edge and mesh port)", async () => {
        const api = createClient(ApplicationService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const mesh = createClient(ApplicationService, createConnectTransport({ baseUrl: chorus.meshUrl, httpVersion: "1.1" }));
        const owner = await register();
        const { application } = await api.createApplication({ name: `Connect App ${run}`, description: "Via Connect." }, bearer(owner.token));
        assert.ok(application && application.id > 0n);
        assert.equal(application.ownerId, BigInt(owner.id));
        assert.equal(application.bot, undefined);

        const listed = await mesh.listApplications({}, bearer(owner.token));
        assert.deepEqual(listed.applications.map((a) => a.id), [application.id]);
        const updated = await api.updateApplication(
          { applicationId: application.id, application: { description: "Changed.", botPublic: false }, updateMask: { paths: ["description", "bot_public"] } },
          bearer(owner.token),
        );
        assert.equal(updated.application?.description, "Changed.");
        assert.equal(updated.application?.botPublic, false);
        assert.equal(updated.application?.name, `Connect App ${run}`);

        const { token, bot } = await api.createBot({ applicationId: application.id }, bearer(owner.token));
        assert.equal(bot?.id, application.id);
        assert.equal(bot?.bot, true);
        assert.equal((await call("GET", "/users/@me", { token: `Bot ${token}` })).body.id, application.id.toString());
        const reset = await mesh.resetBotToken({ applicationId: application.id }, bearer(owner.token));
        assertUnauthorized(await call("GET", "/users/@me", { token: `Bot ${token}` }));
        assert.equal((await call("GET", "/users/@me", { token: `Bot ${reset.token}` })).status, 200);
        assert.equal((await api.getApplication({ applicationId: application.id }, bearer(owner.token))).application?.bot?.id, application.id);

        const guildId = BigInt(await createGuild(owner.token));
        const { member } = await api.authorizeBot({ applicationId: application.id, guildId, permissions: SEND_MESSAGES }, bearer(owner.token));
        assert.equal(member?.userId, application.id);
        assert.equal((await api.getApplication({ applicationId: application.id }, bearer(owner.token))).application?.approximateGuildCount, 1);

        const stranger = await register();
        await rejectsWith(api.getApplication({ applicationId: application.id }, bearer(stranger.token)), Code.NotFound, 10002, "application_id");
        await rejectsWith(api.createBot({ applicationId: application.id }, bearer(owner.token)), Code.AlreadyExists, undefined, "application_id");
        await rejectsWith(api.createApplication({ name: "" }, bearer(owner.token)), Code.InvalidArgument, undefined, "name");
        await rejectsWith(
          api.updateApplication({ applicationId: application.id, updateMask: { paths: ["owner_id"] } }, bearer(owner.token)),
          Code.InvalidArgument,
          undefined,
          "update_mask",
        );
        // The guild service's refusals pass on with their ErrorReason.
        await rejectsWith(api.authorizeBot({ applicationId: application.id, guildId: unknownIds.next() }, bearer(owner.token)), Code.NotFound, 10004);
        await rejectsWith(api.listApplications({}), Code.Unauthenticated);
        await rejectsWith(api.listApplications({}, bearer(`${reset.token}`)), Code.Unauthenticated);
      });

      it("relationships: request by name and id, accept, block, remove", async () => {
        const api = createClient(RelationshipService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const [alice, bob] = [await register(), await register()];
        const sent = await api.sendFriendRequest({ target: { case: "username", value: bob.username } }, bearer(alice.token));
        assert.equal(sent.relationship?.type, RelationshipType.OUTGOING_REQUEST);
        assert.equal(sent.relationship?.user?.id, BigInt(bob.id));
        assert.equal(sent.relationship?.user?.email, undefined, "a public profile");
        const incoming = await api.listRelationships({}, bearer(bob.token));
        assert.deepEqual(incoming.relationships.map((r) => [r.user?.id, r.type]), [[BigInt(alice.id), RelationshipType.INCOMING_REQUEST]]);
        assert.ok(incoming.relationships[0].since);

        await rejectsWith(api.acceptFriendRequest({ userId: BigInt(bob.id) }, bearer(alice.token)), Code.FailedPrecondition, undefined, "user_id");
        const accepted = await api.acceptFriendRequest({ userId: BigInt(alice.id) }, bearer(bob.token));
        assert.equal(accepted.relationship?.type, RelationshipType.FRIEND);
        const mutual = await api.sendFriendRequest({ target: { case: "userId", value: BigInt(bob.id) } }, bearer(alice.token));
        assert.equal(mutual.relationship?.type, RelationshipType.FRIEND, "already friends");

        const blocked = await api.blockUser({ userId: BigInt(alice.id) }, bearer(bob.token));
        assert.equal(blocked.relationship?.type, RelationshipType.BLOCKED);
        assert.deepEqual((await api.listRelationships({}, bearer(alice.token))).relationships, []);
        await rejectsWith(api.sendFriendRequest({ target: { case: "userId", value: BigInt(bob.id) } }, bearer(alice.token)), Code.FailedPrecondition, 80000, "user_id");
        assert.equal((await api.removeRelationship({ userId: BigInt(alice.id) }, bearer(bob.token))).removed, true);
        assert.equal((await api.removeRelationship({ userId: BigInt(alice.id) }, bearer(bob.token))).removed, false);

        await rejectsWith(api.sendFriendRequest({ target: { case: "username", value: freshName() } }, bearer(alice.token)), Code.NotFound, 80004, "username");
        await rejectsWith(api.sendFriendRequest({}, bearer(alice.token)), Code.InvalidArgument, undefined, "target");
        await rejectsWith(api.blockUser({ userId: unknownIds.next() }, bearer(alice.token)), Code.NotFound, undefined, "user_id");
        await rejectsWith(api.listRelationships({}), Code.Unauthenticated);
      });
    });
  });
}

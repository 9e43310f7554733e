// Application commands end to end through a running Chorus, whatever its run mode: the Discord
// v10 routes (answers checked against discord-api-spec's Zod schema, and driven by
// @discordjs/rest as a bot registers its commands), their refusals, and the Connect
// ApplicationCommandService. commands-embedded.test.ts and commands-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DiscordAPIError, REST } from "@discordjs/rest";
import { ApplicationCommandOptionType, ApplicationCommandType, RESTJSONErrorCodes, Routes, type APIApplicationCommand } from "discord-api-types/v10";
import { ApplicationCommandResponseSchema } from "discord-api-spec/zod";
import { ApplicationCommandService } from "@chorus/contracts/chorus/api/v1/commands_pb";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { assertDiscordError, assertMatches, assertUnauthorized, discordRequests, formErrorCodes } from "./discord-http.js";

export interface ChorusUnderTest {
  httpUrl: string;
  meshUrl: string;
}

export function describeCommands(mode: string, start: () => Promise<ChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`application commands (${mode} mode)`, () => {
    let chorus: ChorusUnderTest;
    const run = randomBytes(3).toString("hex");
    let serial = 0;
    const freshName = () => `c${run}_${++serial}`;

    before(async () => {
      chorus = await start();
    });
    after(stop);

    const { call, registerPerson } = discordRequests(() => `${chorus.httpUrl}/api/v10`);

    const register = () => registerPerson(freshName());

    /** An owner, an application with a bot, and a guild of the owner's the bot was added to. */
    async function botInGuild() {
      const owner = await register();
      const app = await call("POST", "/applications", { token: owner.token, body: { name: `Commands ${freshName()}` } });
      assert.equal(app.status, 201, JSON.stringify(app.body));
      const appId = app.body.id as string;
      const bot = await call("POST", `/applications/${appId}/bot`, { token: owner.token });
      assert.equal(bot.status, 200, JSON.stringify(bot.body));
      const guild = await call("POST", "/guilds", { token: owner.token, body: { name: `Guild ${freshName()}` } });
      assert.equal(guild.status, 201, JSON.stringify(guild.body));
      const guildId = guild.body.id as string;
      const added = await call("POST", `/oauth2/authorize?client_id=${appId}&scope=bot+applications.commands`, {
        token: owner.token,
        body: { guild_id: guildId, permissions: "0", authorize: true },
      });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      return { owner, appId, botToken: `Bot ${bot.body.token as string}`, rawBotToken: bot.body.token as string, guildId };
    }

    const rests: REST[] = [];
    after(() => {
      for (const client of rests) {
        client.clearHashSweeper();
        client.clearHandlerSweeper();
      }
    });

    const slash = (name: string, extra: Record<string, unknown> = {}) => ({ name, description: `The ${name} command`, ...extra });

    it("a bot registers a guild slash command through @discordjs/rest and lists it", async () => {
      const { appId, rawBotToken, guildId } = await botInGuild();
      const rest = new REST({ api: `${chorus.httpUrl}/api`, version: "10", timeout: 10_000 }).setToken(rawBotToken);
      rests.push(rest);
      const body = [
        {
          name: "roll",
          description: "Rolls dice",
          options: [
            { type: ApplicationCommandOptionType.Integer, name: "sides", description: "Sides of each die", required: true, min_value: 2, max_value: 100 },
            {
              type: ApplicationCommandOptionType.String,
              name: "style",
              description: "How to show it",
              choices: [
                { name: "Plain", value: "plain" },
                { name: "Fancy", value: "fancy" },
              ],
            },
          ],
        },
      ];
      const registered = (await rest.put(Routes.applicationGuildCommands(appId, guildId), { body })) as APIApplicationCommand[];
      assert.equal(registered.length, 1);
      for (const c of registered) assertMatches(ApplicationCommandResponseSchema, c, "a registered command");
      const [roll] = registered;
      assert.equal(roll.name, "roll");
      assert.equal(roll.application_id, appId);
      assert.equal(roll.guild_id, guildId);
      assert.equal(roll.type, ApplicationCommandType.ChatInput);
      const created = (await rest.post(Routes.applicationGuildCommands(appId, guildId), { body: slash("ping") })) as APIApplicationCommand;
      assertMatches(ApplicationCommandResponseSchema, created, "POST's answer");
      const listed = (await rest.get(Routes.applicationGuildCommands(appId, guildId))) as APIApplicationCommand[];
      assert.deepEqual(listed.map((c) => c.name).sort(), ["ping", "roll"]);
      const stored = listed.find((c) => c.name === "roll")!;
      assert.deepEqual(stored.options, [
        { type: 4, name: "sides", name_localizations: null, description: "Sides of each die", description_localizations: null, required: true, min_value: 2, max_value: 100 },
        {
          type: 3,
          name: "style",
          name_localizations: null,
          description: "How to show it",
          description_localizations: null,
          choices: [
            { name: "Plain", name_localizations: null, value: "plain" },
            { name: "Fancy", name_localizations: null, value: "fancy" },
          ],
        },
      ]);
      const one = (await rest.get(Routes.applicationGuildCommand(appId, guildId, roll.id))) as APIApplicationCommand;
      assert.equal(one.version, roll.version);
      // The global scope is apart.
      assert.deepEqual(await rest.get(Routes.applicationCommands(appId)), []);
      // A bad body comes back as discord.js's DiscordAPIError with Discord's code.
      await assert.rejects(rest.post(Routes.applicationGuildCommands(appId, guildId), { body: slash("Bad Name") }), (err: unknown) => {
        assert.ok(err instanceof DiscordAPIError, String(err));
        assert.equal(err.code, RESTJSONErrorCodes.InvalidFormBodyOrContentType);
        return true;
      });
    });

    it("global commands: create (201), upsert by name (200, same id, new version), get, edit, delete", async () => {
      const { appId, botToken, owner } = await botInGuild();
      const base = `/applications/${appId}/commands`;
      const created = await call("POST", base, { token: botToken, body: slash("echo", { default_member_permissions: "8", dm_permission: false }) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assertMatches(ApplicationCommandResponseSchema, created.body, "POST /applications/:id/commands");
      assert.equal(created.body.default_member_permissions, "8");
      assert.equal(created.body.dm_permission, false);
      assert.equal(created.body.guild_id, undefined);
      const again = await call("POST", base, { token: owner.token, body: slash("echo", { description: "Says it again" }) });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.id, created.body.id);
      assert.notEqual(again.body.version, created.body.version);
      assert.equal(again.body.default_member_permissions, null, "an upsert replaces the whole command");
      const user = await call("POST", base, { token: botToken, body: { name: "Show Profile", type: 2 } });
      assert.equal(user.status, 201, JSON.stringify(user.body));
      assert.equal(user.body.description, "");
      const listed = await call("GET", base, { token: botToken });
      assert.equal(listed.status, 200);
      assert.deepEqual((listed.body as { name: string }[]).map((c) => c.name).sort(), ["Show Profile", "echo"]);

      const edited = await call("PATCH", `${base}/${created.body.id}`, { token: botToken, body: { description: "Edited", nsfw: true } });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.equal(edited.body.description, "Edited");
      assert.equal(edited.body.nsfw, true);
      assert.equal(edited.body.name, "echo");
      assert.notEqual(edited.body.version, again.body.version);
      const got = await call("GET", `${base}/${created.body.id}`, { token: botToken });
      assert.equal(got.body.description, "Edited");
      // A PATCH is validated like a create, naming the field.
      const badEdit = await call("PATCH", `${base}/${created.body.id}`, { token: botToken, body: { options: [{ type: 3, name: "Text", description: "x" }] } });
      assert.equal(badEdit.status, 400);
      assert.deepEqual(formErrorCodes(badEdit.body.errors), { "options.0.name": "APPLICATION_COMMAND_INVALID_NAME" });

      // A rename to the name of another command of the type is refused, naming the field.
      const other = await call("POST", base, { token: botToken, body: slash("other") });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      const clash = await call("PATCH", `${base}/${other.body.id}`, { token: botToken, body: { name: "echo" } });
      assert.equal(clash.status, 400, JSON.stringify(clash.body));
      assert.deepEqual(formErrorCodes(clash.body.errors), { name: "APPLICATION_COMMANDS_DUPLICATE_NAME" });
      // The type never changes through a PATCH.
      const retyped = await call("PATCH", `${base}/${other.body.id}`, { token: botToken, body: { type: 2 } });
      assert.equal(retyped.status, 200, JSON.stringify(retyped.body));
      assert.equal(retyped.body.type, 1);

      const deleted = await call("DELETE", `${base}/${created.body.id}`, { token: botToken });
      assert.equal(deleted.status, 204);
      assertDiscordError(await call("GET", `${base}/${created.body.id}`, { token: botToken }), 404, RESTJSONErrorCodes.UnknownApplicationCommand);
      assertDiscordError(await call("DELETE", `${base}/${created.body.id}`, { token: botToken }), 404, RESTJSONErrorCodes.UnknownApplicationCommand);
      assertDiscordError(await call("PATCH", `${base}/${created.body.id}`, { token: botToken, body: { description: "x" } }), 404, RESTJSONErrorCodes.UnknownApplicationCommand);
    });

    it("bulk overwrite replaces the set: same names keep their ids, others are deleted", async () => {
      const { appId, botToken, guildId } = await botInGuild();
      const base = `/applications/${appId}/guilds/${guildId}/commands`;
      const first = await call("PUT", base, { token: botToken, body: [slash("alpha"), slash("beta"), { name: "Inspect", type: 3 }] });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const ids = Object.fromEntries((first.body as APIApplicationCommand[]).map((c) => [c.name, c.id]));
      const second = await call("PUT", base, { token: botToken, body: [slash("alpha", { description: "New text" }), { ...slash("gamma"), id: ids.beta }] });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const after = Object.fromEntries((second.body as APIApplicationCommand[]).map((c) => [c.name, c]));
      assert.deepEqual(Object.keys(after).sort(), ["alpha", "gamma"]);
      assert.equal(after.alpha.id, ids.alpha);
      assert.equal(after.alpha.description, "New text");
      assert.equal(after.gamma.id, ids.beta, "an id of the scope renames that command");
      assertDiscordError(await call("GET", `${base}/${ids.Inspect}`, { token: botToken }), 404, RESTJSONErrorCodes.UnknownApplicationCommand);
      // Refusals name the element: its index first.
      const bad = await call("PUT", base, { token: botToken, body: [slash("ok"), slash("fine", { options: [{ type: 3, name: "Bad", description: "d" }] })] });
      assert.equal(bad.status, 400);
      assert.deepEqual(formErrorCodes(bad.body.errors), { "1.options.0.name": "APPLICATION_COMMAND_INVALID_NAME" });
      const dup = await call("PUT", base, { token: botToken, body: [slash("same"), slash("same")] });
      assert.equal(dup.status, 400);
      assert.deepEqual(formErrorCodes(dup.body.errors), { "1.name": "APPLICATION_COMMANDS_DUPLICATE_NAME" });
      const notList = await call("PUT", base, { token: botToken, body: { name: "x" } });
      assert.equal(notList.status, 400);
      // Past a type's limit: 30032, nothing changed.
      const tooMany = await call("PUT", base, { token: botToken, body: Array.from({ length: 16 }, (_, i) => ({ name: `User ${i}`, type: 2 })) });
      assertDiscordError(tooMany, 400, RESTJSONErrorCodes.MaximumNumberOfApplicationCommandsReached);
      assert.equal((await call("GET", base, { token: botToken })).body.length, 2);
      // An empty list clears the scope.
      assert.deepEqual((await call("PUT", base, { token: botToken, body: [] })).body, []);
      assert.deepEqual((await call("GET", base, { token: botToken })).body, []);
    });

    it("refuses invalid bodies naming the field path", async () => {
      const { appId, botToken } = await botInGuild();
      const base = `/applications/${appId}/commands`;
      const cases: [unknown, Record<string, string>][] = [
        [{ name: "Ping", description: "d" }, { name: "APPLICATION_COMMAND_INVALID_NAME" }],
        [{ name: "ping" }, { description: "BASE_TYPE_BAD_LENGTH" }],
        [{ name: "ping", description: "d".repeat(101) }, { description: "BASE_TYPE_BAD_LENGTH" }],
        [{ name: "Show", type: 2, description: "no" }, { description: "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION" }],
        [slash("p", { options: Array.from({ length: 26 }, (_, i) => ({ type: 3, name: `o${i}`, description: "d" })) }), { options: "BASE_TYPE_MAX_LENGTH" }],
        [slash("p", { options: [{ type: 3, name: "a", description: "d" }, { type: 3, name: "b", description: "d", required: true }] }), { "options.1.required": "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID" }],
        [slash("p", { options: [{ type: 3, name: "a", description: "d" }, { type: 3, name: "s", description: "d", choices: [{ name: "", value: "x" }] }] }), { "options.1.choices.0.name": "BASE_TYPE_BAD_LENGTH" }],
        [slash("p", { options: [{ type: 4, name: "n", description: "d", choices: [{ name: "a", value: "x" }] }] }), { "options.0.choices.0.value": "NUMBER_TYPE_COERCE" }],
        [slash("p", { options: [{ type: 3, name: "s", description: "d", autocomplete: true, choices: [{ name: "a", value: "a" }] }] }), { "options.0.autocomplete": "AUTOCOMPLETE_AND_CHOICES_ERROR" }],
        [slash("p", { options: [{ type: 4, name: "n", description: "d", min_value: 5, max_value: 1 }] }), { "options.0.min_value": "APPLICATION_COMMAND_OPTION_MIN_MAX_INVALID" }],
        [slash("p", { options: [{ type: 3, name: "s", description: "d", max_length: 6001 }] }), { "options.0.max_length": "NUMBER_TYPE_MAX" }],
        [slash("p", { options: [{ type: 13, name: "s", description: "d" }] }), { "options.0.type": "BASE_TYPE_CHOICES" }],
        [slash("p", { options: [{ type: 3, name: "s", description: "d" }, { type: 4, name: "s", description: "d" }] }), { "options.1.name": "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS" }],
        [slash("p", { options: [{ type: 1, name: "sub", description: "d" }, { type: 3, name: "s", description: "d" }] }), { "options.0.type": "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID" }],
        [slash("p", { default_member_permissions: "admin" }), { default_member_permissions: "NUMBER_TYPE_COERCE" }],
        [slash("p", { type: 9 }), { type: "BASE_TYPE_CHOICES" }],
      ];
      for (const [body, fields] of cases) {
        const res = await call("POST", base, { token: botToken, body });
        assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, RESTJSONErrorCodes.InvalidFormBodyOrContentType);
        assert.deepEqual(formErrorCodes(res.body.errors), fields, JSON.stringify(body));
      }
      assert.deepEqual((await call("GET", base, { token: botToken })).body, [], "nothing was stored");
    });

    it("refuses callers as Discord: another application's bot, another person, no token, a guild without the bot", async () => {
      const mine = await botInGuild();
      const other = await botInGuild();
      const base = `/applications/${mine.appId}/commands`;
      const created = await call("POST", base, { token: mine.botToken, body: slash("mine") });
      assert.equal(created.status, 201);
      assertDiscordError(await call("GET", base, { token: other.botToken }), 403, RESTJSONErrorCodes.NotAuthorizedToPerformThisActionOnThisApplication);
      assertDiscordError(await call("POST", base, { token: other.botToken, body: slash("theirs") }), 403, RESTJSONErrorCodes.NotAuthorizedToPerformThisActionOnThisApplication);
      assertDiscordError(await call("DELETE", `${base}/${created.body.id}`, { token: other.botToken }), 403, RESTJSONErrorCodes.NotAuthorizedToPerformThisActionOnThisApplication);
      assertDiscordError(await call("GET", base, { token: other.owner.token }), 404, RESTJSONErrorCodes.UnknownApplication);
      assertUnauthorized(await call("GET", base));
      // Another application's command id is unknown here.
      const theirs = await call("POST", `/applications/${other.appId}/commands`, { token: other.botToken, body: slash("theirs") });
      assertDiscordError(await call("GET", `${base}/${theirs.body.id}`, { token: mine.botToken }), 404, RESTJSONErrorCodes.UnknownApplicationCommand);
      // A guild the bot is not in (the other owner's), and one that does not exist.
      for (const guildId of [other.guildId, "1234567890123456789"]) {
        const path = `/applications/${mine.appId}/guilds/${guildId}/commands`;
        assertDiscordError(await call("GET", path, { token: mine.botToken }), 403, RESTJSONErrorCodes.MissingAccess);
        assertDiscordError(await call("PUT", path, { token: mine.botToken, body: [slash("x")] }), 403, RESTJSONErrorCodes.MissingAccess);
      }
      // A guild command is not reachable through the global routes, nor another guild's.
      const guildCommand = await call("POST", `/applications/${mine.appId}/guilds/${mine.guildId}/commands`, { token: mine.owner.token, body: slash("local") });
      assert.equal(guildCommand.status, 201, JSON.stringify(guildCommand.body));
      assertDiscordError(await call("GET", `${base}/${guildCommand.body.id}`, { token: mine.botToken }), 404, RESTJSONErrorCodes.UnknownApplicationCommand);
    });

    it("permissions: none stored, answered as Discord", async () => {
      const { appId, botToken, guildId } = await botInGuild();
      const created = await call("POST", `/applications/${appId}/guilds/${guildId}/commands`, { token: botToken, body: slash("perm", { default_member_permissions: "32" }) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const all = await call("GET", `/applications/${appId}/guilds/${guildId}/commands/permissions`, { token: botToken });
      assert.equal(all.status, 200, JSON.stringify(all.body));
      assert.deepEqual(all.body, []);
      assertDiscordError(
        await call("GET", `/applications/${appId}/guilds/${guildId}/commands/${created.body.id}/permissions`, { token: botToken }),
        404,
        RESTJSONErrorCodes.UnknownApplicationCommandPermissions,
      );
      assertDiscordError(
        await call("GET", `/applications/${appId}/guilds/${guildId}/commands/1234567890123456789/permissions`, { token: botToken }),
        404,
        RESTJSONErrorCodes.UnknownApplicationCommand,
      );
    });

    it("Connect ApplicationCommandService: create, list, update, overwrite, delete (HTTP edge and mesh port)", async () => {
      const { owner, appId, guildId } = await botInGuild();
      const bearer = { headers: { authorization: `Bearer ${owner.token}` } };
      const api = createClient(ApplicationCommandService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
      const mesh = createClient(ApplicationCommandService, createConnectTransport({ baseUrl: chorus.meshUrl, httpVersion: "1.1" }));
      const applicationId = BigInt(appId);
      const created = await api.createApplicationCommand(
        { applicationId, guildId: BigInt(guildId), command: { type: 1, name: "hello", description: "Says hello", options: [{ type: 6, name: "who", description: "Whom", required: true }] } },
        bearer,
      );
      assert.equal(created.created, true);
      assert.equal(created.command!.guildId, BigInt(guildId));
      const listed = await mesh.listApplicationCommands({ applicationId, guildId: BigInt(guildId) }, bearer);
      assert.deepEqual(listed.commands.map((c) => c.name), ["hello"]);
      const updated = await api.updateApplicationCommand(
        { applicationId, guildId: BigInt(guildId), commandId: created.command!.id, command: { description: "Greets" }, updateMask: { paths: ["description"] } },
        bearer,
      );
      assert.equal(updated.command!.description, "Greets");
      assert.equal(updated.command!.options.length, 1, "fields outside the mask stay");
      const overwritten = await api.bulkOverwriteApplicationCommands({ applicationId, guildId: 0n, commands: [{ type: 2, name: "Wave" }] }, bearer);
      assert.deepEqual(overwritten.commands.map((c) => c.name), ["Wave"]);
      await api.deleteApplicationCommand({ applicationId, guildId: BigInt(guildId), commandId: created.command!.id }, bearer);
      const rejects = async (promise: Promise<unknown>, code: Code, discordCode?: number, field?: string) =>
        assert.rejects(promise, (err: unknown) => {
          assert.ok(err instanceof ConnectError, String(err));
          assert.equal(err.code, code, `${Code[err.code]}: ${err.rawMessage}`);
          if (discordCode !== undefined) assert.equal(err.findDetails(ErrorReasonSchema)[0]?.code, discordCode, err.rawMessage);
          if (field) assert.ok(err.rawMessage.startsWith(`${field}: `), err.rawMessage);
          return true;
        });
      await rejects(api.getApplicationCommand({ applicationId, guildId: BigInt(guildId), commandId: created.command!.id }, bearer), Code.NotFound, RESTJSONErrorCodes.UnknownApplicationCommand);
      await rejects(api.createApplicationCommand({ applicationId, guildId: 0n, command: { type: 1, name: "Bad", description: "d" } }, bearer), Code.InvalidArgument, undefined, "command.name");
      await rejects(api.listApplicationCommands({ applicationId, guildId: 0n }), Code.Unauthenticated);
    });
  });
}

// The command storage contract, end to end, against any CommandStore: the real handlers served
// through an in-memory Connect router and called with the generated client. Both backends run
// it (sqlite-command-store.test.ts, cassandra-command-store.test.ts). Ids are random per run, so
// it also runs on a shared Cassandra keyspace.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ApplicationCommandSchema, type ApplicationCommand } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import { CommandStorageService } from "@chorus/contracts/chorus/storage/v1/commands_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { createCommandHandlers } from "../src/command-handlers.js";
import type { CommandStore } from "../src/command-store.js";
import { rejectsWith } from "./conformance.js";

type CommandClient = Client<typeof CommandStorageService>;
type CommandInit = MessageInitShape<typeof ApplicationCommandSchema>;

export function describeCommandConformance(name: string, makeStore: () => Promise<CommandStore>, cleanup?: () => Promise<void> | void): void {
  describe(`command storage contract (${name})`, () => {
    let store: CommandStore;
    let commands: CommandClient;
    const ids = new SnowflakeGenerator({ workerId: Math.floor(Math.random() * 32), processId: Math.floor(Math.random() * 32) });
    const command = (applicationId: bigint, guildId: bigint, name: string, extra: CommandInit = {}): ApplicationCommand =>
      create(ApplicationCommandSchema, {
      id: ids.next(),
      applicationId,
      guildId,
      type: 1,
      name,
      description: `the ${name} command`,
      version: ids.next(),
      ...extra,
      });

    before(async () => {
      store = await makeStore();
      commands = createClient(CommandStorageService, createRouterTransport((router) => router.service(CommandStorageService, createCommandHandlers(store))));
    });
    after(async () => {
      await store.close();
      await cleanup?.();
    });

    it("creates, gets and lists commands per scope with every field kept", async () => {
      const app = ids.next();
      const guild = ids.next();
      const ping = command(app, 0n, "ping", {
        nameLocalizations: { fr: "pingue" },
        defaultMemberPermissions: "8",
        contexts: [0, 1],
        integrationTypes: [0],
        nsfw: true,
        options: [
          {
            type: 3,
            name: "text",
            description: "what to say",
            required: true,
            minLength: 1,
            maxLength: 50,
            choices: [{ name: "hi", value: { case: "stringValue", value: "hello" } }],
          },
          { type: 4, name: "count", description: "how many", minValue: -3, maxValue: 9007199254740991 },
        ],
      });
      const created = await commands.createApplicationCommand({ command: ping });
      assert.equal(created.created, true);
      assert.equal(created.command!.id, ping.id);
      const got = (await commands.getApplicationCommand({ applicationId: app, commandId: ping.id! })).command!;
      assert.equal(got.name, "ping");
      assert.equal(got.guildId, 0n);
      assert.deepEqual(got.nameLocalizations, { fr: "pingue" });
      assert.equal(got.defaultMemberPermissions, "8");
      assert.deepEqual(got.contexts, [0, 1]);
      assert.equal(got.nsfw, true);
      assert.equal(got.options.length, 2);
      assert.equal(got.options[0].choices[0].value.value, "hello");
      assert.equal(got.options[0].maxLength, 50);
      assert.equal(got.options[1].maxValue, 9007199254740991);
      assert.equal(got.options[1].minValue, -3);
      assert.equal(got.dmPermission, undefined);

      const guildCommand = command(app, guild, "ping");
      assert.equal((await commands.createApplicationCommand({ command: guildCommand })).created, true, "the same name in another scope is another command");
      const user = command(app, guild, "Show Profile", { type: 2, description: "" });
      await commands.createApplicationCommand({ command: user });
      const listed = (await commands.listApplicationCommands({ applicationId: app, guildId: guild })).commands;
      assert.deepEqual(listed.map((c) => c.id), [guildCommand.id, user.id]);
      assert.deepEqual((await commands.listApplicationCommands({ applicationId: app, guildId: 0n })).commands.map((c) => c.id), [ping.id]);
      assert.equal((await commands.getApplicationCommand({ applicationId: app, commandId: user.id! })).command!.guildId, guild);
      // Another application never sees them; an unknown id is NOT_FOUND.
      await rejectsWith(commands.getApplicationCommand({ applicationId: ids.next(), commandId: ping.id! }), Code.NotFound, "command_id");
      await rejectsWith(commands.getApplicationCommand({ applicationId: app, commandId: ids.next() }), Code.NotFound);
      assert.deepEqual((await commands.listApplicationCommands({ applicationId: ids.next(), guildId: 0n })).commands, []);
    });

    it("a create with a stored type and name replaces that command, keeping its id (upsert)", async () => {
      const app = ids.next();
      const first = command(app, 0n, "echo");
      await commands.createApplicationCommand({ command: first });
      const again = command(app, 0n, "echo", { description: "new text" });
      const answer = await commands.createApplicationCommand({ command: again });
      assert.equal(answer.created, false);
      assert.equal(answer.command!.id, first.id);
      assert.equal(answer.command!.version, again.version);
      const listed = (await commands.listApplicationCommands({ applicationId: app, guildId: 0n })).commands;
      assert.equal(listed.length, 1);
      assert.equal(listed[0].description, "new text");
      // Another type with the same name is another command.
      assert.equal((await commands.createApplicationCommand({ command: command(app, 0n, "echo", { type: 3, description: "" }) })).created, true);
    });

    it("refuses commands past the limit of their type (RESOURCE_EXHAUSTED naming type)", async () => {
      const app = ids.next();
      for (let i = 0; i < 15; i++) await commands.createApplicationCommand({ command: command(app, 0n, `User ${i}`, { type: 2, description: "" }) });
      await rejectsWith(commands.createApplicationCommand({ command: command(app, 0n, "User 15", { type: 2, description: "" }) }), Code.ResourceExhausted, "type");
      // An upsert of an existing one still works at the limit; other types are counted apart.
      assert.equal((await commands.createApplicationCommand({ command: command(app, 0n, "User 3", { type: 2, description: "" }) })).created, false);
      await commands.createApplicationCommand({ command: command(app, 0n, "Msg", { type: 3, description: "" }) });
      await rejectsWith(
        commands.bulkOverwriteApplicationCommands({ applicationId: app, guildId: 0n, commands: Array.from({ length: 16 }, (_, i) => command(app, 0n, `M${i}`, { type: 3 })) }),
        Code.ResourceExhausted,
        "type",
      );
      assert.equal((await commands.listApplicationCommands({ applicationId: app, guildId: 0n })).commands.length, 16, "a refused overwrite changes nothing");
    });

    it("updates a stored command, refusing unknown ids and names another command has", async () => {
      const app = ids.next();
      const guild = ids.next();
      const a = command(app, guild, "alpha");
      const b = command(app, guild, "beta");
      await commands.createApplicationCommand({ command: a });
      await commands.createApplicationCommand({ command: b });
      const renamed = (await commands.updateApplicationCommand({ command: { ...a, name: "gamma", version: ids.next() } })).command!;
      assert.equal(renamed.name, "gamma");
      assert.equal((await commands.getApplicationCommand({ applicationId: app, commandId: a.id! })).command!.name, "gamma");
      await rejectsWith(commands.updateApplicationCommand({ command: { ...a, name: "beta" } }), Code.AlreadyExists, "name");
      await rejectsWith(commands.updateApplicationCommand({ command: command(app, guild, "delta") }), Code.NotFound, "command.id");
      // The scope is part of the key: the guild command is not a global one.
      await rejectsWith(commands.updateApplicationCommand({ command: { ...a, guildId: 0n } }), Code.NotFound);
    });

    it("deletes commands; deleted is false the second time; the id is then unknown", async () => {
      const app = ids.next();
      const c = command(app, 0n, "gone");
      await commands.createApplicationCommand({ command: c });
      assert.equal((await commands.deleteApplicationCommand({ applicationId: app, guildId: ids.next(), commandId: c.id! })).deleted, false, "wrong scope");
      assert.equal((await commands.deleteApplicationCommand({ applicationId: app, guildId: 0n, commandId: c.id! })).deleted, true);
      assert.equal((await commands.deleteApplicationCommand({ applicationId: app, guildId: 0n, commandId: c.id! })).deleted, false);
      await rejectsWith(commands.getApplicationCommand({ applicationId: app, commandId: c.id! }), Code.NotFound);
      assert.deepEqual((await commands.listApplicationCommands({ applicationId: app, guildId: 0n })).commands, []);
    });

    it("bulk overwrite replaces the scope, keeping ids matched by id or by type and name", async () => {
      const app = ids.next();
      const guild = ids.next();
      const keep = command(app, guild, "keep");
      const rename = command(app, guild, "old-name");
      const drop = command(app, guild, "drop");
      for (const c of [keep, rename, drop]) await commands.createApplicationCommand({ command: c });
      const other = command(app, 0n, "global-one");
      await commands.createApplicationCommand({ command: other });
      const fresh = command(app, guild, "fresh");
      const result = (
        await commands.bulkOverwriteApplicationCommands({
          applicationId: app,
          guildId: guild,
          commands: [command(app, guild, "keep", { description: "changed" }), { ...command(app, guild, "new-name"), id: rename.id }, fresh],
        })
      ).commands;
      assert.deepEqual(result.map((c) => c.id), [keep.id, rename.id, fresh.id].sort((x, y) => (x! < y! ? -1 : 1)));
      const listed = (await commands.listApplicationCommands({ applicationId: app, guildId: guild })).commands;
      assert.deepEqual(listed.map((c) => c.name).sort(), ["fresh", "keep", "new-name"]);
      assert.equal(listed.find((c) => c.id === keep.id)!.description, "changed");
      await rejectsWith(commands.getApplicationCommand({ applicationId: app, commandId: drop.id! }), Code.NotFound);
      assert.equal((await commands.getApplicationCommand({ applicationId: app, commandId: fresh.id! })).command!.guildId, guild);
      assert.equal((await commands.listApplicationCommands({ applicationId: app, guildId: 0n })).commands.length, 1, "other scopes untouched");
      // Duplicate names are refused whole; an empty list clears the scope.
      await rejectsWith(
        commands.bulkOverwriteApplicationCommands({ applicationId: app, guildId: guild, commands: [command(app, guild, "x"), command(app, guild, "x")] }),
        Code.AlreadyExists,
        "name",
      );
      assert.equal((await commands.listApplicationCommands({ applicationId: app, guildId: guild })).commands.length, 3);
      assert.deepEqual((await commands.bulkOverwriteApplicationCommands({ applicationId: app, guildId: guild, commands: [] })).commands, []);
      assert.deepEqual((await commands.listApplicationCommands({ applicationId: app, guildId: guild })).commands, []);
      await rejectsWith(commands.getApplicationCommand({ applicationId: app, commandId: keep.id! }), Code.NotFound);
    });

    it("concurrent creates of one name in one scope leave exactly one command", async () => {
      const app = ids.next();
      const racers = Array.from({ length: 12 }, (_, i) => command(app, 0n, "race", { description: `racer ${i}` }));
      const answers = await Promise.all(racers.map((c) => commands.createApplicationCommand({ command: c })));
      assert.equal(answers.filter((a) => a.created).length, 1);
      const listed = (await commands.listApplicationCommands({ applicationId: app, guildId: 0n })).commands;
      assert.equal(listed.length, 1);
      assert.ok(answers.every((a) => a.command!.id === listed[0].id));
    });

    it("refuses bad input naming the field", async () => {
      const app = ids.next();
      await rejectsWith(commands.createApplicationCommand({}), Code.InvalidArgument, "command");
      await rejectsWith(commands.createApplicationCommand({ command: { ...command(app, 0n, "x"), id: 0n } }), Code.InvalidArgument, "command.id");
      await rejectsWith(commands.createApplicationCommand({ command: { ...command(app, 0n, "x"), applicationId: 0n } }), Code.InvalidArgument, "command.application_id");
      await rejectsWith(commands.createApplicationCommand({ command: command(app, 0n, "x", { type: 9 }) }), Code.InvalidArgument, "command.type");
      await rejectsWith(commands.createApplicationCommand({ command: command(app, 0n, "") }), Code.InvalidArgument, "command.name");
      await rejectsWith(commands.createApplicationCommand({ command: command(app, 0n, "x", { version: 0n }) }), Code.InvalidArgument, "command.version");
      await rejectsWith(commands.listApplicationCommands({ applicationId: 0n, guildId: 0n }), Code.InvalidArgument, "application_id");
      await rejectsWith(commands.getApplicationCommand({ applicationId: app, commandId: 0n }), Code.InvalidArgument, "command_id");
      const c = command(app, 0n, "x");
      await rejectsWith(
        commands.bulkOverwriteApplicationCommands({ applicationId: app, guildId: 0n, commands: [c, { ...c, name: "y" }] }),
        Code.InvalidArgument,
        "commands[1].id",
      );
      await rejectsWith(
        commands.bulkOverwriteApplicationCommands({ applicationId: app, guildId: 0n, commands: [command(app, ids.next(), "z")] }),
        Code.InvalidArgument,
        "commands[0]",
      );
      // An id another scope holds is refused.
      const held = command(app, 0n, "held");
      await commands.createApplicationCommand({ command: held });
      await rejectsWith(commands.createApplicationCommand({ command: { ...command(app, ids.next(), "elsewhere"), id: held.id } }), Code.AlreadyExists, "id");
    });
  });
}

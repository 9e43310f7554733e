// Interactions end to end through a running Chorus, whatever its run mode: applications'
// signing keys and interactions endpoints (verified with signed PINGs), and interactions
// delivered over the gateway or signed HTTP with their responses. interactions-embedded.test.ts
// and interactions-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { verifyKey } from "discord-interactions";
import { PrivateApplicationResponseSchema } from "discord-api-spec/zod";
import { assertFormErrors, assertMatches, discordRequests, formErrorCodes } from "./discord-http.js";
import { startInteractionEndpoint, type InteractionEndpoint } from "./interaction-endpoint.js";
import { REST } from "@discordjs/rest";
import { ActionRowBuilder, Client, Events, GatewayIntentBits as G, MessageFlags, ModalBuilder, Role, Routes, StringSelectMenuBuilder, TextInputBuilder, TextInputStyle, type GuildMember, type Interaction } from "discord.js";
import { waitFor } from "@chorus/testing";
import { GatewayListener } from "./gateway-listener.js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { InteractionService } from "@chorus/contracts/chorus/api/v1/interactions_pb";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";

/** How the suite configures the guild nodes: interactions live 8 s (Discord: 15 min) and fail after 3 s unanswered. */
export const INTERACTION_ENV = { CHORUS_INTERACTION_TTL_SECONDS: "8", CHORUS_INTERACTION_DEADLINE_MS: "3000" };
const PERSON_INTENTS = G.Guilds | G.GuildMessages | G.DirectMessages | G.MessageContent;

export interface ChorusUnderTest {
  /** Base URL of the api's HTTP edge. */
  httpUrl: string;
  /** WebSocket URL of a gateway. */
  gatewayUrl: string;
}

export function describeInteractions(mode: string, start: () => Promise<ChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`interactions (${mode} mode)`, () => {
    let chorus: ChorusUnderTest;
    let endpoint: InteractionEndpoint;
    const run = randomBytes(3).toString("hex");
    let serial = 0;
    const freshName = () => `i${run}_${++serial}`;

    before(async () => {
      chorus = await start();
      endpoint = await startInteractionEndpoint();
    });
    after(async () => {
      await endpoint?.close();
      await stop();
    });

    const { call, registerPerson } = discordRequests(() => `${chorus.httpUrl}/api/v10`);

    const register = () => registerPerson(freshName());

    async function createApplication(token: string) {
      const res = await call("POST", "/applications", { token, body: { name: `App ${freshName()}` } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; verify_key: string };
    }

    /** A guild of `owner` with `member` in it, and an application whose bot the owner added. */
    async function scene() {
      const owner = await register();
      const member = await register();
      const guild = await call("POST", "/guilds", { token: owner.token, body: { name: `G ${freshName()}` } });
      assert.equal(guild.status, 201, JSON.stringify(guild.body));
      const guildId = guild.body.id as string;
      const channels = await call("GET", `/guilds/${guildId}/channels`, { token: owner.token });
      const channelId = (channels.body as { id: string; type: number; name: string }[]).find((c) => c.type === 0)!.id;
      const invite = await call("POST", `/channels/${channelId}/invites`, { token: owner.token, body: {} });
      assert.equal((await call("POST", `/invites/${invite.body.code}`, { token: member.token })).status, 200);
      const app = await createApplication(owner.token);
      const bot = await call("POST", `/applications/${app.id}/bot`, { token: owner.token });
      const permissions = String((1n << 10n) | (1n << 11n) | (1n << 16n));
      const added = await call("POST", `/oauth2/authorize?client_id=${app.id}&scope=bot&permissions=${permissions}`, {
        token: owner.token,
        body: { guild_id: guildId, permissions, authorize: true },
      });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      return { owner, member, guildId, channelId, app, botToken: bot.body.token as string };
    }

    const invoke = (token: string, body: Record<string, unknown>) => call("POST", "/interactions", { token, body });

    describe("over the gateway, to a discord.js bot", () => {
      let s: Awaited<ReturnType<typeof scene>>;
      let client: Client;
      let ownerSession: GatewayListener;
      let memberSession: GatewayListener;
      const commandIds = new Map<string, string>();
      const tokens = new Map<string, { id: string; token: string }>();
      const failures: unknown[] = [];
      /** Replies already matched by a test (several tests answer "pick" alike). */
      const seenReplies = new Set<string>();

      before(async () => {
        s = await scene();
        // The bot registers its guild commands through @discordjs/rest.
        const rest = new REST({ api: `${chorus.httpUrl}/api`, version: "10" }).setToken(s.botToken);
        const registered = (await rest.put(Routes.applicationGuildCommands(s.app.id, s.guildId), {
          body: [
            { name: "pick", description: "Pick flavors", options: [{ type: 3, name: "mood", description: "Mood", required: true, choices: [{ name: "Happy", value: "happy" }, { name: "Calm", value: "calm" }] }] },
            { name: "secret", description: "Whisper" },
            { name: "later", description: "Deferred" },
            { name: "form", description: "A modal" },
            { name: "silent", description: "Never answered" },
            { name: "slow", description: "Deferred, then edited and followed up" },
            { name: "hush", description: "Deferred ephemeral, then edited twice" },
            { name: "find", description: "Autocomplete", options: [{ type: 3, name: "query", description: "Query", autocomplete: true }] },
            { name: "manage", description: "For managers", default_member_permissions: String(1n << 5n) },
            { name: "lock", description: "Administrators only", default_member_permissions: "0" },
            { name: "upload", description: "A reply and a follow-up with files" },
            { name: "render", description: "Deferred, then edited with a file" },
            {
              name: "whois",
              description: "Options naming users, roles and channels",
              options: [
                { type: 6, name: "who", description: "Who", required: true },
                { type: 8, name: "role", description: "Role" },
                { type: 7, name: "where", description: "Where" },
                { type: 9, name: "any", description: "Anything mentionable" },
              ],
            },
          ],
        })) as { id: string; name: string }[];
        for (const c of registered) commandIds.set(c.name, c.id);
        client = new Client({ intents: [G.Guilds, G.DirectMessages], rest: { api: `${chorus.httpUrl}/api`, version: "10" } });
        client.on(Events.InteractionCreate, async (interaction: Interaction) => {
          try {
            if (interaction.isChatInputCommand()) {
              tokens.set(interaction.commandName, { id: interaction.id, token: interaction.token });
              if (interaction.commandName === "pick") {
                const menu = new StringSelectMenuBuilder()
                  .setCustomId("flavors")
                  .setMinValues(1)
                  .setMaxValues(2)
                  .addOptions({ label: "Vanilla", value: "vanilla" }, { label: "Mango", value: "mango" }, { label: "Cherry", value: "cherry" });
                await interaction.reply({ content: `Mood ${interaction.options.getString("mood")}: choose`, components: [new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(menu)] });
              } else if (interaction.commandName === "upload") {
                await interaction.reply({ content: "a file", files: [{ attachment: Buffer.from("hello from the bot"), name: "hello.txt" }] });
                await interaction.followUp({ content: "another file", files: [{ attachment: Buffer.from("second file"), name: "second.txt" }] });
              } else if (interaction.commandName === "render") {
                await interaction.deferReply();
                await interaction.editReply({ content: "rendered", files: [{ attachment: Buffer.from("rendered bytes"), name: "render.txt" }] });
              } else if (interaction.commandName === "whois") {
                // discord.js builds these from data.resolved (null without it).
                const who = interaction.options.getUser("who", true);
                const member = interaction.options.getMember("who") as GuildMember | null;
                const role = interaction.options.getRole("role");
                const where = interaction.options.getChannel("where");
                const any = interaction.options.getMentionable("any");
                const anyText = any instanceof Role ? `role ${any.name}` : any ? `user ${"user" in any ? any.user.username : (any as { username: string }).username}` : "none";
                await interaction.reply({ content: `whois ${who.username}; member ${member?.user.id ?? "none"}; role ${role?.name ?? "none"}; where ${where?.name ?? "none"}; any ${anyText}` });
              } else if (interaction.commandName === "manage" || interaction.commandName === "lock") {
                await interaction.reply({ content: `${interaction.commandName}: done` });
              } else if (interaction.commandName === "secret") {
                await interaction.reply({ content: "only you", flags: MessageFlags.Ephemeral });
              } else if (interaction.commandName === "later") {
                await interaction.deferReply();
              } else if (interaction.commandName === "slow") {
                // Through /webhooks/:application_id/:token: @original, then a follow-up.
                await interaction.deferReply();
                await interaction.editReply({ content: "done later" });
                await interaction.followUp({ content: "and one more thing" });
              } else if (interaction.commandName === "dmhello") {
                await interaction.reply({ content: "hello in private" });
              } else if (interaction.commandName === "hush") {
                await interaction.deferReply({ flags: MessageFlags.Ephemeral });
                await interaction.editReply({ content: "hushed" });
                await interaction.editReply({ content: "hushed twice" });
              } else if (interaction.commandName === "form") {
                const modal = new ModalBuilder().setCustomId("survey").setTitle("Survey");
                modal.addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(new TextInputBuilder().setCustomId("answer").setLabel("Answer").setStyle(TextInputStyle.Short)));
                await interaction.showModal(modal);
              }
            } else if (interaction.isStringSelectMenu()) {
              tokens.set("flavors", { id: interaction.id, token: interaction.token });
              await interaction.update({ content: `You chose ${interaction.values.join(" and ")}`, components: [] });
            } else if (interaction.isModalSubmit()) {
              await interaction.reply({ content: `Thanks: ${interaction.fields.getTextInputValue("answer")}` });
            } else if (interaction.isAutocomplete()) {
              const typed = interaction.options.getFocused();
              await interaction.respond([{ name: `${typed}-1`, value: `${typed}-1` }]);
            }
          } catch (err) {
            failures.push(err);
          }
        });
        await client.login(s.botToken);
        await waitFor("discord.js ready", () => client.isReady(), 30_000);
        ownerSession = await GatewayListener.connect(chorus.gatewayUrl, s.owner.token, PERSON_INTENTS);
        memberSession = await GatewayListener.connect(chorus.gatewayUrl, s.member.token, PERSON_INTENTS);
      });
      after(async () => {
        ownerSession?.close();
        memberSession?.close();
        await client?.destroy();
      });

      const command = (name: string, options?: unknown[], nonce = `n-${name}-${++serial}`) =>
        invoke(s.owner.token, { type: 2, application_id: s.app.id, channel_id: s.channelId, guild_id: s.guildId, nonce, data: { id: commandIds.get(name), name, type: 1, ...(options ? { options } : {}) } });

      it("a slash command, a select menu of two choices and UPDATE_MESSAGE reaching the person's session as MESSAGE_UPDATE", async () => {
        const res = await command("pick", [{ name: "mood", type: 3, value: "happy" }], "pick-nonce");
        assert.equal(res.status, 204, JSON.stringify(res.body));
        const created = await ownerSession.next("the bot's reply", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "Mood happy: choose");
        assert.equal(created.d.type, 20);
        assert.equal(created.d.author.id, s.app.id);
        assert.equal(created.d.application_id, s.app.id);
        assert.equal(created.d.interaction_metadata.user.id, s.owner.id);
        assert.equal(created.d.components[0].components[0].custom_id, "flavors");
        await ownerSession.next("INTERACTION_SUCCESS", (d) => d.t === "INTERACTION_SUCCESS" && d.d.nonce === "pick-nonce");
        // The member sees the (non-ephemeral) reply too: it fans out like any message.
        await memberSession.next("the reply at the member", (d) => d.t === "MESSAGE_CREATE" && d.d.id === created.d.id);

        const chosen = await invoke(s.owner.token, {
          type: 3,
          application_id: s.app.id,
          channel_id: s.channelId,
          guild_id: s.guildId,
          message_id: created.d.id,
          data: { component_type: 3, custom_id: "flavors", values: ["vanilla", "cherry"] },
        });
        assert.equal(chosen.status, 204, JSON.stringify(chosen.body));
        const updated = await ownerSession.next("MESSAGE_UPDATE", (d) => d.t === "MESSAGE_UPDATE" && d.d.id === created.d.id);
        assert.equal(updated.d.content, "You chose vanilla and cherry");
        assert.deepEqual(updated.d.components, []);
        assert.deepEqual(failures, []);

        // The component interaction's token is single-use for the initial response.
        const used = tokens.get("flavors")!;
        const again = await call("POST", `/interactions/${used.id}/${used.token}/callback`, { body: { type: 6 } });
        assert.equal(again.status, 400, JSON.stringify(again.body));
        assert.equal(again.body.code, 40060);
        assert.equal(again.body.message, "Interaction has already been acknowledged.");
      });

      it("files in a reply, a follow-up and an edit of a deferred reply (multipart from discord.js) are stored and served", async () => {
        const download = async (attachment: { url: string }) => (await fetch(attachment.url)).text();
        const isContent = (text: string) => (d: { t: string; d: { content?: unknown } }) => (d.t === "MESSAGE_CREATE" || d.t === "MESSAGE_UPDATE") && d.d.content === text;
        assert.equal((await command("upload")).status, 204);
        const reply = await ownerSession.next("the reply with a file", isContent("a file"));
        assert.deepEqual([reply.d.attachments.length, reply.d.attachments[0].filename, reply.d.attachments[0].size], [1, "hello.txt", 18]);
        assert.equal(await download(reply.d.attachments[0]), "hello from the bot");
        const followUp = await ownerSession.next("the follow-up with a file", isContent("another file"));
        assert.equal(followUp.d.attachments[0].filename, "second.txt");
        assert.equal(await download(followUp.d.attachments[0]), "second file");

        assert.equal((await command("render")).status, 204);
        const rendered = await ownerSession.next("the edited deferral with a file", (d) => isContent("rendered")(d) && d.d.attachments?.length === 1);
        assert.equal(rendered.d.attachments[0].filename, "render.txt");
        assert.equal(await download(rendered.d.attachments[0]), "rendered bytes");
        assert.deepEqual(failures, []);

        // A multipart callback for a token that is not that interaction's: 10062, its form read first.
        const form = new FormData();
        form.append("payload_json", JSON.stringify({ type: 4, data: { content: "x" } }));
        form.append("files[0]", new Blob(["abc"]), "a.txt");
        const forged = await fetch(`${chorus.httpUrl}/api/v10/interactions/123/1.2.abc/callback`, { method: "POST", body: form });
        assert.equal(forged.status, 404, await forged.clone().text());
        assert.equal(((await forged.json()) as { code: number }).code, 10062);
      });

      it("options naming a user, a role, a channel and a mentionable reach discord.js resolved (data.resolved); unknown ones are refused naming the option", async () => {
        const channels = await call("GET", `/guilds/${s.guildId}/channels`, { token: s.owner.token });
        const channelName = (channels.body as { id: string; name: string }[]).find((c) => c.id === s.channelId)!.name;
        // What the invoker claims as `resolved` is replaced by the owner's own lookups.
        const res = await invoke(s.owner.token, {
          type: 2,
          application_id: s.app.id,
          channel_id: s.channelId,
          guild_id: s.guildId,
          nonce: `whois-${++serial}`,
          data: {
            id: commandIds.get("whois"),
            name: "whois",
            type: 1,
            options: [
              { name: "who", type: 6, value: s.member.id },
              { name: "role", type: 8, value: s.guildId },
              { name: "where", type: 7, value: s.channelId },
              { name: "any", type: 9, value: s.owner.id },
            ],
            resolved: { users: { [s.member.id]: { id: s.member.id, username: "forged", discriminator: "0", avatar: null, global_name: null } } },
          },
        });
        assert.equal(res.status, 204, JSON.stringify(res.body));
        const reply = await ownerSession.next("the whois reply", (d) => d.t === "MESSAGE_CREATE" && typeof d.d.content === "string" && d.d.content.startsWith("whois "));
        assert.equal(reply.d.content, `whois ${s.member.username}; member ${s.member.id}; role @everyone; where ${channelName}; any user ${s.owner.username}`);

        const roleAsAny = await command("whois", [
          { name: "who", type: 6, value: s.owner.id },
          { name: "any", type: 9, value: s.guildId },
        ]);
        assert.equal(roleAsAny.status, 204, JSON.stringify(roleAsAny.body));
        const second = await ownerSession.next("the second whois reply", (d) => d.t === "MESSAGE_CREATE" && typeof d.d.content === "string" && d.d.content.startsWith(`whois ${s.owner.username}`));
        assert.equal(second.d.content, `whois ${s.owner.username}; member ${s.owner.id}; role none; where none; any role @everyone`);

        const unknownRole = await command("whois", [{ name: "who", type: 6, value: s.member.id }, { name: "role", type: 8, value: "123" }]);
        assert.equal(unknownRole.status, 400);
        assert.deepEqual(formErrorCodes(unknownRole.body.errors), { "data.options.1.value": "UNKNOWN_ROLE" });
        const unknownChannel = await command("whois", [{ name: "who", type: 6, value: s.member.id }, { name: "where", type: 7, value: "123" }]);
        assert.equal(unknownChannel.status, 400);
        assert.deepEqual(formErrorCodes(unknownChannel.body.errors), { "data.options.1.value": "UNKNOWN_CHANNEL" });
        assert.deepEqual(failures, []);
      });

      it("refuses invalid components, values outside the options or bounds, messages of another application, and bad command options, naming the field", async () => {
        const reply = await command("pick", [{ name: "mood", type: 3, value: "calm" }]);
        assert.equal(reply.status, 204);
        const message = await ownerSession.next("the reply", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "Mood calm: choose");
        seenReplies.add(message.d.id);
        const select = (data: Record<string, unknown>, messageId = message.d.id) =>
          invoke(s.owner.token, { type: 3, application_id: s.app.id, channel_id: s.channelId, message_id: messageId, data: { component_type: 3, custom_id: "flavors", ...data } });
        assert.deepEqual(formErrorCodes((await select({ values: ["vanilla", "durian"] })).body.errors), { "data.values.1": "COMPONENT_SELECT_INVALID_VALUE" });
        assert.deepEqual(formErrorCodes((await select({ values: ["vanilla", "mango", "cherry"] })).body.errors), { "data.values": "BASE_TYPE_BAD_LENGTH" });
        assert.deepEqual(formErrorCodes((await select({ custom_id: "nope", values: ["mango"] })).body.errors), { "data.custom_id": "COMPONENT_NOT_FOUND" });
        // A message the person wrote is not the application's.
        const own = await call("POST", `/channels/${s.channelId}/messages`, { token: s.owner.token, body: { content: "mine" } });
        assertFormErrors(await select({ values: ["mango"] }, own.body.id), { message_id: "INTERACTION_APPLICATION_MISMATCH" });
        // Command options checked against the registered command.
        assert.deepEqual(formErrorCodes((await command("pick", [{ name: "mood", type: 3, value: "angry" }])).body.errors), { "data.options.0.value": "BASE_TYPE_CHOICES" });
        assert.deepEqual(formErrorCodes((await command("pick")).body.errors), { "data.options": "APPLICATION_COMMAND_OPTION_REQUIRED" });
        assert.deepEqual(formErrorCodes((await command("pick", [{ name: "colour", type: 3, value: "x" }])).body.errors), { "data.options.0.name": "APPLICATION_COMMAND_OPTION_UNKNOWN" });
        assert.deepEqual(formErrorCodes((await invoke(s.owner.token, { type: 2, application_id: s.app.id, channel_id: s.channelId, data: { id: "12345", name: "pick" } })).body.errors), { "data.id": "APPLICATION_COMMAND_UNKNOWN" });
        assert.deepEqual(failures, []);
      });

      it("the Connect InteractionService: the same checks, and the same delivery", async () => {
        const api = createClient(InteractionService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const auth = { headers: { authorization: `Bearer ${s.owner.token}` } };
        const pick = { type: 2, applicationId: BigInt(s.app.id), channelId: BigInt(s.channelId), data: { id: commandIds.get("pick")!, name: "pick", type: 1, options: [{ name: "mood", type: 3, value: "calm" }] } };
        await api.createInteraction({ ...pick, nonce: "connect-nonce" }, auth);
        const reply = await ownerSession.next("the reply", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "Mood calm: choose" && d.d.interaction_metadata?.id !== undefined && !seenReplies.has(d.d.id));
        seenReplies.add(reply.d.id);
        await ownerSession.next("INTERACTION_SUCCESS", (d) => d.t === "INTERACTION_SUCCESS" && d.d.nonce === "connect-nonce");
        const err = await api
          .createInteraction({ type: 3, applicationId: BigInt(s.app.id), channelId: BigInt(s.channelId), messageId: BigInt(reply.d.id), data: { component_type: 3, custom_id: "flavors", values: ["durian"] } }, auth)
          .then(() => undefined, (e: unknown) => ConnectError.from(e));
        assert.equal(err?.code, Code.InvalidArgument);
        assert.match(err!.rawMessage, /^data\.values\.0: /);
        assert.equal(err!.findDetails(ErrorReasonSchema)[0]?.code, 50035);
        const anonymous = await api.createInteraction(pick).then(() => undefined, (e: unknown) => ConnectError.from(e));
        assert.equal(anonymous?.code, Code.Unauthenticated);
      });

      it("default_member_permissions: a member without them is refused (50013), one with them is not; \"0\" is for administrators", async () => {
        const asMember = (name: string) =>
          invoke(s.member.token, { type: 2, application_id: s.app.id, channel_id: s.channelId, guild_id: s.guildId, data: { id: commandIds.get(name), name, type: 1 } });
        for (const name of ["manage", "lock"]) {
          const refused = await asMember(name);
          assert.deepEqual([refused.status, refused.body.code], [403, 50013], `${name}: ${JSON.stringify(refused.body)}`);
        }
        // The guild's owner holds every permission.
        assert.equal((await command("manage")).status, 204);
        await ownerSession.next("the manager's reply", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "manage: done");
        assert.equal((await command("lock")).status, 204);
        await ownerSession.next("the administrator's reply", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "lock: done");
        assert.deepEqual(failures, []);
      });

      it("an ephemeral reply reaches only the invoking person", async () => {
        assert.equal((await command("secret")).status, 204);
        const secret = await ownerSession.next("the ephemeral reply", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "only you");
        assert.equal(secret.d.flags & 64, 64);
        // A later message reaches the member; the ephemeral one never did.
        const later = await call("POST", `/channels/${s.channelId}/messages`, { token: s.owner.token, body: { content: "after the secret" } });
        await memberSession.next("the later message", (d) => d.t === "MESSAGE_CREATE" && d.d.id === later.body.id);
        assert.ok(!memberSession.dispatches.some((d) => d.d?.id === secret.d.id), "the member got the ephemeral message");
        // Not stored in the channel.
        const history = await call("GET", `/channels/${s.channelId}/messages?limit=20`, { token: s.owner.token });
        assert.ok(!(history.body as { id: string }[]).some((m) => m.id === secret.d.id));
      });

      it("a deferred ephemeral reply: @original and its edit reach only the invoking person", async () => {
        assert.equal((await command("hush")).status, 204);
        const created = await ownerSession.next("the ephemeral @original", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "hushed");
        assert.equal(created.d.flags & 64, 64);
        await ownerSession.next("its edit", (d) => d.t === "MESSAGE_UPDATE" && d.d.id === created.d.id && d.d.content === "hushed twice");
        const { token } = tokens.get("hush")!;
        const read = await call("GET", `/webhooks/${s.app.id}/${token}/messages/@original`);
        assert.equal(read.body.content, "hushed twice", JSON.stringify(read.body));
        const later = await call("POST", `/channels/${s.channelId}/messages`, { token: s.owner.token, body: { content: "after the hush" } });
        await memberSession.next("the later message", (d) => d.t === "MESSAGE_CREATE" && d.d.id === later.body.id);
        assert.ok(!memberSession.dispatches.some((d) => d.d?.id === created.d.id), "the member got the ephemeral message");
        assert.deepEqual(failures, []);
      });

      it("a modal and its submission, and autocomplete choices to the person's session", async () => {
        assert.equal((await command("form", undefined, "form-nonce")).status, 204);
        const modal = await ownerSession.next("INTERACTION_MODAL_CREATE", (d) => d.t === "INTERACTION_MODAL_CREATE" && d.d.nonce === "form-nonce");
        assert.equal(modal.d.custom_id, "survey");
        assert.equal(modal.d.title, "Survey");
        const submitted = await invoke(s.owner.token, {
          type: 5,
          application_id: s.app.id,
          channel_id: s.channelId,
          data: { custom_id: "survey", components: [{ type: 1, components: [{ type: 4, custom_id: "answer", value: "forty-two" }] }] },
        });
        assert.equal(submitted.status, 204, JSON.stringify(submitted.body));
        await ownerSession.next("the modal's answer", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "Thanks: forty-two");

        // A modal is answered once, only with its own inputs, and only if it was shown.
        const submit = (data: Record<string, unknown>) => invoke(s.owner.token, { type: 5, application_id: s.app.id, channel_id: s.channelId, data });
        const answer = (customId: string, value: string) => ({ custom_id: "survey", components: [{ type: 1, components: [{ type: 4, custom_id: customId, value }] }] });
        assert.deepEqual(formErrorCodes((await submit(answer("answer", "again"))).body.errors), { "data.custom_id": "MODAL_NOT_FOUND" });
        assert.deepEqual(formErrorCodes((await submit({ ...answer("answer", "x"), custom_id: "never-shown" })).body.errors), { "data.custom_id": "MODAL_NOT_FOUND" });
        assert.equal((await command("form", undefined, "form-nonce-2")).status, 204);
        await ownerSession.next("the modal again", (d) => d.t === "INTERACTION_MODAL_CREATE" && d.d.nonce === "form-nonce-2");
        assert.deepEqual(formErrorCodes((await submit(answer("forged", "x"))).body.errors), { "data.components.0.components.0.custom_id": "COMPONENT_NOT_FOUND" });
        assert.deepEqual(formErrorCodes((await submit(answer("answer", ""))).body.errors), { "data.components.0.components.0.value": "BASE_TYPE_REQUIRED" });
        // The refusals did not use the modal up.
        assert.equal((await submit(answer("answer", "at last"))).status, 204);
        await ownerSession.next("the second answer", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "Thanks: at last");

        const auto = await invoke(s.owner.token, {
          type: 4,
          application_id: s.app.id,
          channel_id: s.channelId,
          nonce: "auto-nonce",
          data: { id: commandIds.get("find"), name: "find", type: 1, options: [{ name: "query", type: 3, value: "ch", focused: true }] },
        });
        assert.equal(auto.status, 204, JSON.stringify(auto.body));
        const choices = await ownerSession.next("autocomplete choices", (d) => d.t === "APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE" && d.d.nonce === "auto-nonce");
        assert.deepEqual(choices.d.choices, [{ name: "ch-1", value: "ch-1" }]);
        assert.deepEqual(failures, []);
      });

      it("a deferred reply edited through @original and a follow-up, both through /webhooks/:application_id/:token", async () => {
        assert.equal((await command("slow")).status, 204);
        const original = await ownerSession.next("@original", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "done later");
        assert.equal(original.d.type, 20);
        assert.equal(original.d.interaction_metadata.user.id, s.owner.id);
        const followUp = await ownerSession.next("the follow-up", (d) => d.t === "MESSAGE_CREATE" && d.d.content === "and one more thing");
        assert.equal(followUp.d.author.id, s.app.id);
        assert.equal(followUp.d.webhook_id, s.app.id);
        const { token } = tokens.get("slow")!;
        // No Authorization: the token is the credential.
        const read = await call("GET", `/webhooks/${s.app.id}/${token}/messages/@original`);
        assert.equal(read.status, 200, JSON.stringify(read.body));
        assert.equal(read.body.id, original.d.id);
        const edited = await call("PATCH", `/webhooks/${s.app.id}/${token}/messages/${followUp.d.id}`, { body: { content: "edited follow-up" } });
        assert.equal(edited.status, 200, JSON.stringify(edited.body));
        await memberSession.next("the follow-up's edit", (d) => d.t === "MESSAGE_UPDATE" && d.d.id === followUp.d.id && d.d.content === "edited follow-up");
        // Another application's id with this token is no webhook.
        const other = await call("GET", `/webhooks/${s.owner.id}/${token}/messages/@original`);
        assert.equal(other.status, 404, JSON.stringify(other.body));
        assert.equal(other.body.code, 10015);
        assert.deepEqual(failures, []);
      });

      it("in a DM with the bot: a global command reaches the bot and its reply reaches the person", async () => {
        const rest = new REST({ api: `${chorus.httpUrl}/api`, version: "10" }).setToken(s.botToken);
        const created = (await rest.post(Routes.applicationCommands(s.app.id), { body: { name: "dmhello", description: "Hello in a DM" } })) as { id: string };
        const dm = await call("POST", "/users/@me/channels", { token: s.owner.token, body: { recipient_id: s.app.id } });
        assert.equal(dm.status, 200, JSON.stringify(dm.body));
        const res = await invoke(s.owner.token, { type: 2, application_id: s.app.id, channel_id: dm.body.id, data: { id: created.id, name: "dmhello", type: 1 } });
        assert.equal(res.status, 204, JSON.stringify(res.body));
        const reply = await ownerSession
          .next("the DM reply", (d) => d.t === "MESSAGE_CREATE" && d.d.channel_id === dm.body.id && d.d.content === "hello in private")
          .catch((err: Error) => {
            throw new Error(`${err.message}; the bot's failures: ${failures.map(String).join("; ")}; the person saw ${ownerSession.dispatches.slice(-5).map((d) => d.t).join(", ")}`);
          });
        assert.equal(reply.d.author.id, s.app.id);
        assert.equal(reply.d.guild_id, undefined);
        assert.deepEqual(failures, []);
      });

      it("an interaction nobody answers fails visibly (INTERACTION_FAILURE); a reused token is 40060, an expired or forged one 10062", async () => {
        assert.equal((await command("silent", undefined, "silent-nonce")).status, 204);
        const failure = await ownerSession.next("INTERACTION_FAILURE", (d) => d.t === "INTERACTION_FAILURE" && d.d.nonce === "silent-nonce");
        assert.ok(failure.d.id);

        assert.equal((await command("later")).status, 204);
        const { id: interactionId, token } = await waitFor("the deferred interaction", () => tokens.get("later"));
        await ownerSession.next("the deferral's INTERACTION_SUCCESS", (d) => d.t === "INTERACTION_SUCCESS" && d.d.id === interactionId);
        const reused = await call("POST", `/interactions/${interactionId}/${token}/callback`, { body: { type: 4, data: { content: "again" } } });
        assert.equal(reused.status, 400, JSON.stringify(reused.body));
        assert.equal(reused.body.code, 40060);
        const forged = await call("POST", `/interactions/${interactionId}/${token.slice(0, -4)}AAAA/callback`, { body: { type: 4, data: { content: "forged" } } });
        assert.equal(forged.status, 404, JSON.stringify(forged.body));
        assert.equal(forged.body.code, 10062);
        // Past its lifetime (8 s in this suite) the token is unknown.
        await new Promise((resolve) => setTimeout(resolve, 8500));
        const expired = await call("POST", `/interactions/${interactionId}/${token}/callback`, { body: { type: 4, data: { content: "late" } } });
        assert.equal(expired.status, 404, JSON.stringify(expired.body));
        assert.equal(expired.body.code, 10062);
      });
    });

    describe("over HTTP, to an application built with discord-interactions", () => {
      it("a command and a button POSTed signed to the endpoint (verifyKey accepts them, refuses a tampered body); its answers become the reply and the update", async () => {
        const s = await scene();
        endpoint.publicKey = s.app.verify_key;
        endpoint.checkSignatures = true;
        endpoint.pingAnswer = () => ({ status: 200, body: { type: 1 } });
        const saved = await call("PATCH", `/applications/${s.app.id}`, { token: s.owner.token, body: { interactions_endpoint_url: endpoint.url } });
        assert.equal(saved.status, 200, JSON.stringify(saved.body));
        const rest = new REST({ api: `${chorus.httpUrl}/api`, version: "10" }).setToken(s.botToken);
        const [hello] = (await rest.put(Routes.applicationGuildCommands(s.app.id, s.guildId), { body: [{ name: "hello", description: "Say hello" }] })) as { id: string }[];
        endpoint.answer = (interaction) =>
          interaction.type === 2
            ? { type: 4, data: { content: `hi ${interaction.member.user.username}`, components: [{ type: 1, components: [{ type: 2, style: 1, custom_id: "press", label: "Press" }] }] } }
            : { type: 7, data: { content: `pressed by ${interaction.member.user.username}`, components: [] } };
        endpoint.received.length = 0;
        const session = await GatewayListener.connect(chorus.gatewayUrl, s.owner.token, PERSON_INTENTS);
        try {
          const invoked = await invoke(s.owner.token, { type: 2, application_id: s.app.id, channel_id: s.channelId, guild_id: s.guildId, data: { id: hello.id, name: "hello", type: 1 } });
          assert.equal(invoked.status, 204, JSON.stringify(invoked.body));
          const reply = await session.next("the endpoint's reply", (d) => d.t === "MESSAGE_CREATE" && d.d.content === `hi ${s.owner.username}`);
          assert.equal(reply.d.author.id, s.app.id);
          const pressed = await invoke(s.owner.token, { type: 3, application_id: s.app.id, channel_id: s.channelId, guild_id: s.guildId, message_id: reply.d.id, data: { component_type: 2, custom_id: "press" } });
          assert.equal(pressed.status, 204, JSON.stringify(pressed.body));
          await session.next("the endpoint's update", (d) => d.t === "MESSAGE_UPDATE" && d.d.id === reply.d.id && d.d.content === `pressed by ${s.owner.username}`);
          // An endpoint that fails (500) gave no initial response: the person's sessions see the failure.
          endpoint.answer = () => {
            throw new Error("the application broke");
          };
          const failing = await invoke(s.owner.token, { type: 2, application_id: s.app.id, channel_id: s.channelId, guild_id: s.guildId, nonce: "http-fail", data: { id: hello.id, name: "hello", type: 1 } });
          assert.equal(failing.status, 204, JSON.stringify(failing.body));
          await session.next("INTERACTION_FAILURE", (d) => d.t === "INTERACTION_FAILURE" && d.d.nonce === "http-fail");
        } finally {
          session.close();
        }
        const [command, button] = endpoint.received;
        assert.deepEqual([command.body.type, command.verified, button.body.type, button.verified], [2, true, 3, true]);
        assert.equal(command.body.data.name, "hello");
        assert.equal(command.body.member.user.id, s.owner.id);
        assert.equal(button.body.message.id, button.body.message.id);
        assert.equal(button.body.data.custom_id, "press");
        // A forged signature: the same body tampered with does not verify.
        assert.equal(await verifyKey(button.raw.replace('"press"', '"other"'), button.signature, button.timestamp, s.app.verify_key), false);
        // Nothing is delivered over the gateway to an application with an endpoint, and the token is single-use.
        const reused = await call("POST", `/interactions/${command.body.id}/${command.body.token}/callback`, { body: { type: 4, data: { content: "again" } } });
        assert.equal(reused.body.code, 40060, JSON.stringify(reused.body));
      });
    });

    describe("interactions endpoint", () => {
      it("is saved once a signed PING is answered with PONG (and a forged one refused); the private key is never shown", async () => {
        const owner = await register();
        const app = await createApplication(owner.token);
        assert.match(app.verify_key, /^[0-9a-f]{64}$/);
        assert.ok(!Object.keys(app).some((k) => k.includes("private")), JSON.stringify(app));
        endpoint.publicKey = app.verify_key;
        endpoint.checkSignatures = true;
        endpoint.received.length = 0;
        const res = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { interactions_endpoint_url: endpoint.url } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.interactions_endpoint_url, endpoint.url);
        assertMatches(PrivateApplicationResponseSchema, res.body, "the application");
        // Chorus checked that the endpoint refuses a forged PING, then sent a signed one.
        assert.deepEqual(endpoint.received.map((r) => [r.body.type, r.verified]), [[1, false], [1, true]]);
        const signed = endpoint.received[1];
        assert.equal(signed.body.application_id, app.id);
        assert.equal(await verifyKey(signed.raw, signed.signature, signed.timestamp, app.verify_key), true);
        assert.equal(await verifyKey(signed.raw.replace('"type":1', '"type":2'), signed.signature, signed.timestamp, app.verify_key), false);
        assert.equal((await call("GET", `/applications/${app.id}`, { token: owner.token })).body.interactions_endpoint_url, endpoint.url);
        // null removes it (interactions go to the gateway again).
        const cleared = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { interactions_endpoint_url: null } });
        assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
        assert.equal(cleared.body.interactions_endpoint_url, null);
      });

      it("is refused, naming interactions_endpoint_url, when it does not check signatures, answers no PONG or cannot be reached", async () => {
        const owner = await register();
        const app = await createApplication(owner.token);
        endpoint.publicKey = app.verify_key;
        const refused = async (url: string) => {
          const res = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { interactions_endpoint_url: url } });
          assertFormErrors(res, { interactions_endpoint_url: "APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID" });
          return String(res.body.errors.interactions_endpoint_url._errors[0].message);
        };
        endpoint.checkSignatures = false;
        assert.match(await refused(endpoint.url), /wrong signature/);
        endpoint.checkSignatures = true;
        endpoint.pingAnswer = () => ({ status: 200, body: { type: 4 } });
        assert.match(await refused(endpoint.url), /PONG/);
        endpoint.pingAnswer = () => ({ status: 500, body: {} });
        assert.match(await refused(endpoint.url), /answered 500/);
        endpoint.pingAnswer = () => ({ status: 200, body: { type: 1 } });
        assert.match(await refused("http://127.0.0.1:1/interactions"), /no answer/);
        const bad = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { interactions_endpoint_url: "ftp://example.com/x" } });
        assert.deepEqual(formErrorCodes(bad.body.errors), { interactions_endpoint_url: "URL_TYPE_INVALID_PROTOCOL" });
        assert.equal((await call("GET", `/applications/${app.id}`, { token: owner.token })).body.interactions_endpoint_url, null);
      });
    });
  });
}

// Channel webhooks end to end through a running Chorus, whatever its run mode: the Discord v10
// webhook routes over HTTP (answers checked against discord-api-spec's schemas), with and
// without the token; MANAGE_WEBHOOKS refusals; Execute Webhook with overrides, ?wait=true,
// files and the link-button rule; a webhook's messages (and refusals for any other); a gateway
// session receiving WEBHOOKS_UPDATE and the webhook's MESSAGE_CREATE; discord.js's
// WebhookClient, and a discord.js bot fetching a channel's webhooks (with their tokens, as
// Discord shows them to managers) and sending through one; the Connect WebhookService. webhooks-embedded.test.ts and
// webhooks-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ChannelType, Client, WebhookClient } from "discord.js";
import { GatewayIntentBits as G, PermissionFlagsBits as P, RESTJSONErrorCodes as Codes, type APIMessage } from "discord-api-types/v10";
import { GuildIncomingWebhookResponseSchema, MessageResponseSchema } from "discord-api-spec/zod";
import { waitFor } from "@chorus/testing";
import { WebhookService } from "@chorus/contracts/chorus/api/v1/webhooks_pb";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { assertMatches, discordRequests, type CallOptions } from "./discord-http.js";
import { pngImage } from "./images.js";

/** What the suite needs of a running Chorus. */
export interface WebhookChorusUnderTest {
  /** Base URL of the api's HTTP edge, e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** The gateway's WebSocket URL. */
  gatewayUrl: string;
}

interface Person {
  id: string;
  token: string;
}

type Hook = { id: string; token?: string; name: string; channel_id: string; guild_id: string; avatar: string | null; user?: { id: string }; application_id: string | null };

const AVATAR = `data:image/png;base64,${Buffer.from(pngImage(4, 4)).toString("base64")}`;

export function describeWebhooks(mode: string, start: () => Promise<WebhookChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`webhooks (${mode} mode)`, () => {
    let chorus: WebhookChorusUnderTest;
    const run = randomBytes(3).toString("hex");
    let serial = 0;

    before(async () => {
      chorus = await start();
    });
    after(stop);

    const { call, ok, fails, formErrors, registerPerson } = discordRequests(() => `${chorus.httpUrl}/api/v10`);
    const webhook = (status: number, method: string, path: string, options: CallOptions = {}): Promise<Hook> => ok(status, GuildIncomingWebhookResponseSchema, method, path, options);
    const message = (method: string, path: string, options: CallOptions = {}): Promise<APIMessage & Record<string, any>> => ok(200, MessageResponseSchema, method, path, options);
    const noContent = async (method: string, path: string, options: CallOptions = {}) => {
      const res = await call(method, path, options);
      assert.equal(res.status, 204, `${method} ${path}: ${JSON.stringify(res.body)}`);
    };

    const register = (): Promise<Person> => registerPerson(`w${run}_${++serial}`);

    /** A guild of `owner` with `members` in it: its id, general channel and a second text channel. */
    async function guildWith(owner: Person, ...members: Person[]) {
      const guild = await ok(201, undefined, "POST", "/guilds", { token: owner.token, body: { name: `webhooks ${run}` } });
      const channels = await ok(200, undefined, "GET", `/guilds/${guild.id}/channels`, { token: owner.token });
      const general = channels.find((c: { name: string }) => c.name === "general").id as string;
      const other = (await ok(201, undefined, "POST", `/guilds/${guild.id}/channels`, { token: owner.token, body: { name: "announcements", type: 0 } })).id as string;
      const invite = await ok(200, undefined, "POST", `/channels/${general}/invites`, { token: owner.token, body: {} });
      for (const member of members) await ok(200, undefined, "POST", `/invites/${invite.code}`, { token: member.token });
      return { guildId: guild.id as string, general, other };
    }

    /** A gateway session of `who`, recording every payload. */
    async function session(who: Person, intents: number) {
      const socket = new WebSocket(`${chorus.gatewayUrl}/?v=10&encoding=json`);
      const received: { op: number; t: string | null; d: any }[] = [];
      socket.on("message", (data) => received.push(JSON.parse(String(data))));
      await waitFor("HELLO", () => received.find((p) => p.op === 10));
      socket.send(JSON.stringify({ op: 2, d: { token: who.token, intents, properties: { os: "linux", browser: "chorus-test", device: "chorus-test" } } }));
      await waitFor("READY and the guild", () => received.find((p) => p.t === "GUILD_CREATE"));
      return { received, close: () => socket.close() };
    }

    describe("Discord REST API", () => {
      it("create, list, get, modify, move and delete, with and without the token; MANAGE_WEBHOOKS refusals", async () => {
        const alice = await register();
        const bob = await register();
        const { guildId, general, other } = await guildWith(alice, bob);

        const created = await webhook(200, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "Captain Hook", avatar: AVATAR } });
        assert.equal(created.name, "Captain Hook");
        assert.equal(created.channel_id, general);
        assert.equal(created.guild_id, guildId);
        assert.equal(created.user?.id, alice.id);
        assert.equal(created.application_id, null);
        assert.match(created.avatar ?? "", /^[0-9a-f]{32}$/);
        assert.match(created.token ?? "", /^[A-Za-z0-9_-]{68}$/);
        const token = created.token!;

        // Discord's name rules, before anything else.
        await formErrors({ name: "USERNAME_INVALID_CONTAINS" }, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "my Clyde" } });
        await formErrors({ name: "USERNAME_INVALID_CONTAINS" }, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "DISCORD hook" } });
        await formErrors({ name: "BASE_TYPE_BAD_LENGTH" }, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "" } });
        await formErrors({ name: "BASE_TYPE_BAD_LENGTH" }, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "x".repeat(81) } });
        await formErrors({ name: "BASE_TYPE_REQUIRED" }, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: {} });
        await formErrors({ avatar: "IMAGE_INVALID" }, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "ok", avatar: "data:image/png;base64,AAAA" } });

        // Bob is a member without MANAGE_WEBHOOKS.
        await fails(403, Codes.MissingPermissions, "POST", `/channels/${general}/webhooks`, { token: bob.token, body: { name: "mine" } });
        // No listing or get (where the token is) without MANAGE_WEBHOOKS, as on Discord.
        await fails(403, Codes.MissingPermissions, "GET", `/channels/${general}/webhooks`, { token: bob.token });
        await fails(403, Codes.MissingPermissions, "GET", `/guilds/${guildId}/webhooks`, { token: bob.token });
        await fails(403, Codes.MissingPermissions, "GET", `/webhooks/${created.id}`, { token: bob.token });
        await fails(403, Codes.MissingPermissions, "PATCH", `/webhooks/${created.id}`, { token: bob.token, body: { name: "taken" } });
        await fails(403, Codes.MissingPermissions, "DELETE", `/webhooks/${created.id}`, { token: bob.token });
        // Without a token at all.
        assert.equal((await call("POST", `/channels/${general}/webhooks`, { body: { name: "anon" } })).status, 401);

        const second = await webhook(200, "POST", `/channels/${other}/webhooks`, { token: alice.token, body: { name: "Spidey" } });
        const inChannel: Hook[] = await ok(200, GuildIncomingWebhookResponseSchema, "GET", `/channels/${general}/webhooks`, { token: alice.token });
        assert.deepEqual(inChannel.map((w) => [w.id, w.token]), [[created.id, token]], "a manager's list shows the token");
        const all: Hook[] = await ok(200, GuildIncomingWebhookResponseSchema, "GET", `/guilds/${guildId}/webhooks`, { token: alice.token });
        assert.deepEqual(all.map((w) => [w.id, w.token]).sort(), [[created.id, token], [second.id, second.token]].sort());
        assert.ok(all.every((w) => w.user?.id === alice.id), "lists show the creator");
        // Bob given MANAGE_WEBHOOKS through a role is a manager too: he sees the token.
        const role = await ok(200, undefined, "POST", `/guilds/${guildId}/roles`, { token: alice.token, body: { name: "hooks", permissions: P.ManageWebhooks.toString() } });
        assert.equal((await call("PUT", `/guilds/${guildId}/members/${bob.id}/roles/${role.id}`, { token: alice.token })).status, 204);
        const bobs: Hook[] = await ok(200, GuildIncomingWebhookResponseSchema, "GET", `/channels/${general}/webhooks`, { token: bob.token });
        assert.deepEqual(bobs.map((w) => [w.id, w.token]), [[created.id, token]]);

        const got = await webhook(200, "GET", `/webhooks/${created.id}`, { token: alice.token });
        assert.equal(got.user?.id, alice.id);
        assert.equal(got.token, token);
        const byToken = await webhook(200, "GET", `/webhooks/${created.id}/${token}`);
        assert.equal(byToken.name, "Captain Hook");
        assert.equal(byToken.user, undefined, "the token form shows no user");
        assert.equal(byToken.token, token, "the token form shows the token, as Discord");

        // Unknown webhooks and wrong tokens, as Discord answers them.
        await fails(404, Codes.UnknownWebhook, "GET", `/webhooks/1234567890123456789/${token}`);
        await fails(404, Codes.UnknownWebhook, "GET", `/webhooks/1234567890123456789`, { token: alice.token });
        await fails(401, Codes.InvalidWebhookToken, "GET", `/webhooks/${created.id}/${"x".repeat(68)}`);
        await fails(401, Codes.InvalidWebhookToken, "POST", `/webhooks/${created.id}/wrong?wait=true`, { body: { content: "hi" } });

        // Modify: as a manager (rename, clear the avatar, move), then with the token.
        const renamed = await webhook(200, "PATCH", `/webhooks/${created.id}`, { token: alice.token, body: { name: "Hook", avatar: null } });
        assert.deepEqual([renamed.name, renamed.avatar, renamed.user?.id, renamed.token], ["Hook", null, alice.id, token]);
        const moved = await webhook(200, "PATCH", `/webhooks/${created.id}`, { token: alice.token, body: { channel_id: other } });
        assert.equal(moved.channel_id, other);
        assert.deepEqual((await ok(200, undefined, "GET", `/channels/${general}/webhooks`, { token: alice.token })), []);
        assert.equal((await ok(200, undefined, "GET", `/channels/${other}/webhooks`, { token: alice.token })).length, 2);
        await fails(404, Codes.UnknownChannel, "PATCH", `/webhooks/${created.id}`, { token: alice.token, body: { channel_id: "1234567890123456789" } });
        const byTokenRenamed = await webhook(200, "PATCH", `/webhooks/${created.id}/${token}`, { body: { name: "Tokened", avatar: AVATAR, channel_id: general } });
        assert.equal(byTokenRenamed.name, "Tokened");
        assert.equal(byTokenRenamed.channel_id, other, "the token cannot move a webhook");
        assert.equal(byTokenRenamed.user, undefined);
        assert.equal(byTokenRenamed.token, token);
        await formErrors({ name: "USERNAME_INVALID_CONTAINS" }, "PATCH", `/webhooks/${created.id}/${token}`, { body: { name: "clyde" } });

        // A deleted channel takes its webhooks along, as on Discord.
        const doomed = (await ok(201, undefined, "POST", `/guilds/${guildId}/channels`, { token: alice.token, body: { name: "doomed", type: 0 } })).id as string;
        const orphan = await webhook(200, "POST", `/channels/${doomed}/webhooks`, { token: alice.token, body: { name: "Orphan" } });
        await ok(200, undefined, "DELETE", `/channels/${doomed}`, { token: alice.token });
        await fails(404, Codes.UnknownWebhook, "GET", `/webhooks/${orphan.id}/${orphan.token}`);
        await fails(404, Codes.UnknownWebhook, "POST", `/webhooks/${orphan.id}/${orphan.token}`, { body: { content: "anyone?" } });

        // Delete with the token, and as a manager.
        await noContent("DELETE", `/webhooks/${created.id}/${token}`);
        await fails(404, Codes.UnknownWebhook, "GET", `/webhooks/${created.id}/${token}`);
        await noContent("DELETE", `/webhooks/${second.id}`, { token: alice.token });
        assert.deepEqual(await ok(200, undefined, "GET", `/guilds/${guildId}/webhooks`, { token: alice.token }), []);
      });

      it("limits: 15 per channel (30007), none in a category (50024) or a DM (50003)", async () => {
        const alice = await register();
        const bob = await register();
        const { guildId, general } = await guildWith(alice, bob);
        const hooks: Hook[] = [];
        for (let i = 0; i < 15; i++) hooks.push(await webhook(200, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: `hook ${i}` } }));
        await fails(400, Codes.MaximumNumberOfWebhooksReached, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "one too many" } });
        const channels = await ok(200, undefined, "GET", `/guilds/${guildId}/channels`, { token: alice.token });
        const category = channels.find((c: { type: number }) => c.type === 4).id as string;
        await fails(400, Codes.CannotExecuteActionOnThisChannelType, "POST", `/channels/${category}/webhooks`, { token: alice.token, body: { name: "no" } });
        const dm = await ok(200, undefined, "POST", "/users/@me/channels", { token: alice.token, body: { recipient_id: bob.id } });
        await fails(400, Codes.CannotExecuteActionOnDMChannel, "POST", `/channels/${dm.id}/webhooks`, { token: alice.token, body: { name: "no" } });

        // A deleted guild takes its webhooks along.
        await noContent("DELETE", `/guilds/${guildId}`, { token: alice.token });
        for (const hook of [hooks[0], hooks[14]]) await fails(404, Codes.UnknownWebhook, "GET", `/webhooks/${hook.id}/${hook.token}`);
      });

      it("execute: overrides, ?wait=true, 204 without, mentions per allowed_mentions, files, the link-button rule", async () => {
        const alice = await register();
        const bob = await register();
        const { general } = await guildWith(alice, bob);
        const hook = await webhook(200, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "Announcer", avatar: AVATAR } });
        const path = `/webhooks/${hook.id}/${hook.token}`;

        const sent = await message("POST", `${path}?wait=true`, { body: { content: `hi <@${bob.id}> @everyone`, username: "Release bot", avatar_url: "https://example.com/a.png" } });
        assert.equal(sent.webhook_id, hook.id);
        assert.equal(sent.channel_id, general);
        assert.deepEqual(
          [sent.author.id, sent.author.username, sent.author.avatar, sent.author.bot, sent.author.discriminator],
          [hook.id, "Release bot", "https://example.com/a.png", true, "0000"],
        );
        assert.equal(sent.mention_everyone, true, "a webhook may ping @everyone by default");
        assert.deepEqual(sent.mentions.map((u: { id: string }) => u.id), [bob.id]);

        // Without overrides: the webhook's own name and avatar. Without ?wait: 204.
        await noContent("POST", path, { body: { content: "quiet @everyone", allowed_mentions: { parse: [] } } });
        const history: APIMessage[] = await ok(200, MessageResponseSchema, "GET", `/channels/${general}/messages?limit=1`, { token: bob.token });
        assert.equal(history[0].content, "quiet @everyone");
        assert.equal(history[0].webhook_id, hook.id);
        assert.deepEqual([history[0].author.username, history[0].author.avatar], ["Announcer", hook.avatar]);
        assert.equal(history[0].mention_everyone, false, "allowed_mentions.parse [] pings nobody");

        // The message rules, and the webhook's own.
        await fails(400, Codes.CannotSendAnEmptyMessage, "POST", `${path}?wait=true`, { body: { username: "x" } });
        await formErrors({ content: "BASE_TYPE_MAX_LENGTH" }, "POST", path, { body: { content: "x".repeat(2001) } });
        await formErrors({ username: "USERNAME_INVALID_CONTAINS" }, "POST", path, { body: { content: "hi", username: "Clyde" } });
        await formErrors({ avatar_url: "URL_TYPE_INVALID_URL" }, "POST", path, { body: { content: "hi", avatar_url: "not a url" } });
        await formErrors({ "components.0.components.1": "COMPONENT_VALIDATION_FAILED" }, "POST", `${path}?wait=true`, {
          body: { content: "vote", components: [{ type: 1, components: [{ type: 2, style: 5, label: "Docs", url: "https://example.com" }, { type: 2, style: 1, label: "Yes", custom_id: "yes" }] }] },
        });
        const linked = await message("POST", `${path}?wait=true`, { body: { components: [{ type: 1, components: [{ type: 2, style: 5, label: "Docs", url: "https://example.com" }] }] } });
        assert.equal(linked.components?.length, 1, "link buttons pass");

        // Multipart with a file, as @discordjs/rest sends it.
        const data = new FormData();
        data.append("payload_json", JSON.stringify({ content: "with a file", username: "Uploader" }));
        data.append("files[0]", new Blob([pngImage(6, 3)], { type: "image/png" }), "tiny.png");
        const res = await fetch(`${chorus.httpUrl}/api/v10${path}?wait=true`, { method: "POST", body: data });
        const uploaded = (await res.json()) as Record<string, any>;
        assert.equal(res.status, 200, JSON.stringify(uploaded));
        assertMatches(MessageResponseSchema, uploaded, "the uploaded message");
        assert.deepEqual([uploaded.author.username, uploaded.attachments[0].filename, uploaded.attachments[0].width], ["Uploader", "tiny.png", 6]);
        const download = await fetch(uploaded.attachments[0].url);
        assert.equal(download.status, 200);
      });

      it("a webhook's messages: get, edit and delete with its token; never another's", async () => {
        const alice = await register();
        const { general } = await guildWith(alice);
        const hook = await webhook(200, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "Editor" } });
        const otherHook = await webhook(200, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "Other" } });
        const path = `/webhooks/${hook.id}/${hook.token}`;
        const sent = await message("POST", `${path}?wait=true`, { body: { content: "draft", username: "Drafty" } });
        const theirs = await message("POST", `/webhooks/${otherHook.id}/${otherHook.token}?wait=true`, { body: { content: "not yours" } });
        const person = await message("POST", `/channels/${general}/messages`, { token: alice.token, body: { content: "a person's" } });

        const got = await message("GET", `${path}/messages/${sent.id}`);
        assert.deepEqual([got.content, got.author.username], ["draft", "Drafty"]);
        const edited = await message("PATCH", `${path}/messages/${sent.id}`, { body: { content: "final", embeds: [{ title: "v2" }] } });
        assert.deepEqual([edited.content, edited.embeds[0].title, edited.author.username, edited.webhook_id], ["final", "v2", "Drafty", hook.id]);
        assert.ok(edited.edited_timestamp);
        const unchanged = await message("PATCH", `${path}/messages/${sent.id}`, { body: {} });
        assert.equal(unchanged.content, "final");
        await formErrors({ "components.0.components.0": "COMPONENT_VALIDATION_FAILED" }, "PATCH", `${path}/messages/${sent.id}`, {
          body: { components: [{ type: 1, components: [{ type: 2, style: 1, label: "No", custom_id: "no" }] }] },
        });

        for (const id of [theirs.id, person.id]) {
          await fails(404, Codes.UnknownMessage, "GET", `${path}/messages/${id}`);
          await fails(404, Codes.UnknownMessage, "PATCH", `${path}/messages/${id}`, { body: { content: "hijacked" } });
          await fails(404, Codes.UnknownMessage, "DELETE", `${path}/messages/${id}`);
        }
        await fails(401, Codes.InvalidWebhookToken, "PATCH", `/webhooks/${hook.id}/${otherHook.token}/messages/${sent.id}`, { body: { content: "x" } });
        await fails(404, Codes.UnknownWebhook, "DELETE", `/webhooks/1234567890123456789/${hook.token}/messages/${sent.id}`);
        await formErrors({ message_id: "NUMBER_TYPE_COERCE" }, "GET", `${path}/messages/@original`);

        await noContent("DELETE", `${path}/messages/${sent.id}`);
        await fails(404, Codes.UnknownMessage, "GET", `${path}/messages/${sent.id}`);
        await fails(404, Codes.UnknownMessage, "GET", `/channels/${general}/messages/${sent.id}`, { token: alice.token });
        assert.equal((await message("GET", `/channels/${general}/messages/${theirs.id}`, { token: alice.token })).content, "not yours");
      });

      it("a gateway session receives WEBHOOKS_UPDATE and the webhook's MESSAGE_CREATE / UPDATE / DELETE", async () => {
        const alice = await register();
        const bob = await register();
        const { guildId, general } = await guildWith(alice, bob);
        const bobs = await session(bob, G.Guilds | G.GuildMessages | G.MessageContent | G.GuildWebhooks);
        // Without GUILD_WEBHOOKS, no WEBHOOKS_UPDATE.
        const alices = await session(alice, G.Guilds | G.GuildMessages | G.MessageContent);
        try {
          const hook = await webhook(200, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "Herald" } });
          const update = await waitFor("WEBHOOKS_UPDATE", () => bobs.received.find((p) => p.t === "WEBHOOKS_UPDATE"));
          assert.deepEqual(update.d, { guild_id: guildId, channel_id: general });

          const sent = await message("POST", `/webhooks/${hook.id}/${hook.token}?wait=true`, { body: { content: "hear ye", username: "Crier" } });
          const created = await waitFor("MESSAGE_CREATE", () => bobs.received.find((p) => p.t === "MESSAGE_CREATE" && p.d.id === sent.id));
          assert.equal(created.d.webhook_id, hook.id);
          assert.equal(created.d.guild_id, guildId);
          assert.deepEqual([created.d.author.id, created.d.author.username, created.d.author.bot], [hook.id, "Crier", true]);
          assert.equal(created.d.member, undefined, "a webhook is no member");
          await waitFor("alice's MESSAGE_CREATE", () => alices.received.find((p) => p.t === "MESSAGE_CREATE" && p.d.id === sent.id));

          await message("PATCH", `/webhooks/${hook.id}/${hook.token}/messages/${sent.id}`, { body: { content: "hear ye, again" } });
          const updated = await waitFor("MESSAGE_UPDATE", () => bobs.received.find((p) => p.t === "MESSAGE_UPDATE" && p.d.id === sent.id));
          assert.equal(updated.d.content, "hear ye, again");
          await noContent("DELETE", `/webhooks/${hook.id}/${hook.token}/messages/${sent.id}`);
          await waitFor("MESSAGE_DELETE", () => bobs.received.find((p) => p.t === "MESSAGE_DELETE" && p.d.id === sent.id));

          await noContent("DELETE", `/webhooks/${hook.id}`, { token: alice.token });
          await waitFor("a second WEBHOOKS_UPDATE", () => bobs.received.filter((p) => p.t === "WEBHOOKS_UPDATE").length === 2);
          assert.equal(alices.received.filter((p) => p.t === "WEBHOOKS_UPDATE").length, 0, "no GUILD_WEBHOOKS intent, no WEBHOOKS_UPDATE");
        } finally {
          bobs.close();
          alices.close();
        }
      });

      it("discord.js WebhookClient sends, edits and deletes a message", async () => {
        const alice = await register();
        const { general } = await guildWith(alice);
        const hook = await webhook(200, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "djs" } });
        const client = new WebhookClient({ id: hook.id, token: hook.token! }, { rest: { api: `${chorus.httpUrl}/api`, version: "10", timeout: 10_000 } });
        try {
          const sent = await client.send({ content: "from discord.js", username: "DJS", embeds: [{ title: "hello" }] });
          assert.equal(sent.webhook_id, hook.id);
          assert.equal(sent.author.username, "DJS");
          assert.equal(sent.embeds[0].title, "hello");
          const stored = await message("GET", `/channels/${general}/messages/${sent.id}`, { token: alice.token });
          assert.equal(stored.content, "from discord.js");

          const fetched = await client.fetchMessage(sent.id);
          assert.equal(fetched.content, "from discord.js");
          const edited = await client.editMessage(sent.id, { content: "edited by discord.js" });
          assert.equal(edited.content, "edited by discord.js");
          assert.equal((await message("GET", `/channels/${general}/messages/${sent.id}`, { token: alice.token })).content, "edited by discord.js");

          await client.deleteMessage(sent.id);
          await fails(404, Codes.UnknownMessage, "GET", `/channels/${general}/messages/${sent.id}`, { token: alice.token });
        } finally {
          client.destroy();
        }
      });

      it("a bot's webhook belongs to its application: interactive components pass", async () => {
        const alice = await register();
        const { guildId, general } = await guildWith(alice);
        const app = await ok(201, undefined, "POST", "/applications", { token: alice.token, body: { name: `Hooker ${run}` } });
        const botToken = (await ok(200, undefined, "POST", `/applications/${app.id}/bot`, { token: alice.token })).token as string;
        const granted = (P.ViewChannel | P.SendMessages | P.ManageWebhooks).toString();
        await ok(200, undefined, "POST", `/oauth2/authorize?client_id=${app.id}&scope=bot`, { token: alice.token, body: { guild_id: guildId, permissions: granted, authorize: true } });
        const hook = await webhook(200, "POST", `/channels/${general}/webhooks`, { token: `Bot ${botToken}`, body: { name: "App hook" } });
        assert.equal(hook.application_id, app.id);
        assert.equal(hook.user?.id, app.id);
        const sent = await message("POST", `/webhooks/${hook.id}/${hook.token}?wait=true`, {
          body: { content: "vote", components: [{ type: 1, components: [{ type: 2, style: 1, label: "Yes", custom_id: "yes" }] }] },
        });
        assert.equal(sent.application_id, app.id);
        assert.equal(sent.components?.[0]?.type, 1);
      });
    });

    it("discord.js: a bot with MANAGE_WEBHOOKS fetches a channel's webhooks and sends through one", async () => {
      const alice = await register();
      const { guildId, general } = await guildWith(alice);
      const app = await ok(201, undefined, "POST", "/applications", { token: alice.token, body: { name: `Fetcher ${run}` } });
      const botToken = (await ok(200, undefined, "POST", `/applications/${app.id}/bot`, { token: alice.token })).token as string;
      const granted = (P.ViewChannel | P.SendMessages | P.ReadMessageHistory | P.ManageWebhooks).toString();
      await ok(200, undefined, "POST", `/oauth2/authorize?client_id=${app.id}&scope=bot`, { token: alice.token, body: { guild_id: guildId, permissions: granted, authorize: true } });
      // Alice's webhook: the bot did not create it, so only the listing can give it the token.
      const hook = await webhook(200, "POST", `/channels/${general}/webhooks`, { token: alice.token, body: { name: "Fetched" } });

      const client = new Client({ intents: [G.Guilds], rest: { api: `${chorus.httpUrl}/api`, version: "10", timeout: 10_000 } });
      try {
        await client.login(botToken);
        await waitFor("discord.js ready", () => client.isReady(), 30_000);
        const channel = await client.channels.fetch(general);
        assert.ok(channel?.type === ChannelType.GuildText, `a text channel: ${channel?.type}`);
        const hooks = await channel.fetchWebhooks();
        assert.deepEqual([...hooks.keys()], [hook.id]);
        const fetched = hooks.first()!;
        assert.equal(fetched.token, hook.token, "discord.js got the token from the listing");
        const sent = await fetched.send("hi from a fetched webhook");
        assert.equal(sent.webhookId, hook.id);
        const stored = await message("GET", `/channels/${general}/messages/${sent.id}`, { token: alice.token });
        assert.deepEqual([stored.content, stored.webhook_id, stored.author.username], ["hi from a fetched webhook", hook.id, "Fetched"]);
      } finally {
        await client.destroy();
      }
    });

    describe("Connect WebhookService", () => {
      it("create, list, get by token, update, execute, delete; errors with Discord's codes", async () => {
        const alice = await register();
        const bob = await register();
        const { guildId, general } = await guildWith(alice, bob);
        const api = createClient(WebhookService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

        const { webhook, token } = await api.createWebhook({ channelId: BigInt(general), name: "Connected" }, bearer(alice.token));
        assert.equal(webhook!.name, "Connected");
        assert.equal(webhook!.tokenHash.length, 0, "never the hash");
        assert.equal(token.length, 68);
        assert.equal(webhook!.token, token);
        const listed = await api.listWebhooks({ guildId: BigInt(guildId) }, bearer(alice.token));
        assert.deepEqual(listed.webhooks.map((w) => [w.id, w.token, w.tokenHash.length]), [[webhook!.id, token, 0]], "a manager's list shows the token, never the hash");
        assert.equal((await api.getWebhook({ webhookId: webhook!.id }, bearer(alice.token))).webhook!.token, token);
        const got = await api.getWebhook({ webhookId: webhook!.id, token });
        assert.equal(got.webhook!.channelId, BigInt(general));
        assert.equal(got.webhook!.token, token);
        const updated = await api.updateWebhook({ webhookId: webhook!.id, token, name: "Renamed", updateMask: { paths: ["name"] } });
        assert.equal(updated.webhook!.name, "Renamed");

        const { message: sent } = await api.executeWebhook({ webhookId: webhook!.id, token, message: { content: "over Connect" }, username: "Rpc" });
        assert.equal(sent!.webhookId, webhook!.id);
        assert.equal(sent!.authorUsernameOverride, "Rpc");
        const history: APIMessage[] = await ok(200, MessageResponseSchema, "GET", `/channels/${general}/messages?limit=1`, { token: alice.token });
        assert.deepEqual([history[0].id, history[0].author.username], [sent!.id.toString(), "Rpc"]);

        const refusal = async (work: Promise<unknown>, code: Code, discordCode: number) => {
          await assert.rejects(work, (err: unknown) => {
            assert.ok(err instanceof ConnectError, String(err));
            assert.equal(err.code, code, err.rawMessage);
            assert.equal(err.findDetails(ErrorReasonSchema)[0]?.code, discordCode);
            return true;
          });
        };
        await refusal(api.createWebhook({ channelId: BigInt(general), name: "Bob's" }, bearer(bob.token)), Code.PermissionDenied, Codes.MissingPermissions);
        // Bob (no MANAGE_WEBHOOKS) gets no listing, so no token.
        await refusal(api.listWebhooks({ guildId: BigInt(guildId) }, bearer(bob.token)), Code.PermissionDenied, Codes.MissingPermissions);
        await refusal(api.listWebhooks({ channelId: BigInt(general) }, bearer(bob.token)), Code.PermissionDenied, Codes.MissingPermissions);
        await refusal(api.getWebhook({ webhookId: webhook!.id }, bearer(bob.token)), Code.PermissionDenied, Codes.MissingPermissions);
        await refusal(api.getWebhook({ webhookId: webhook!.id, token: "wrong" }), Code.Unauthenticated, Codes.InvalidWebhookToken);
        await refusal(api.executeWebhook({ webhookId: 1234567890123456789n, token, message: { content: "x" } }), Code.NotFound, Codes.UnknownWebhook);
        await refusal(api.createWebhook({ channelId: BigInt(general), name: "clyde" }, bearer(alice.token)), Code.InvalidArgument, Codes.InvalidFormBodyOrContentType);

        await api.deleteWebhook({ webhookId: webhook!.id }, bearer(alice.token));
        await refusal(api.getWebhook({ webhookId: webhook!.id, token }), Code.NotFound, Codes.UnknownWebhook);
      });
    });
  });
}

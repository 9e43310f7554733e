// Messages end to end through a running Chorus, whatever its run mode: the Discord v10 routes
// over HTTP (every answer checked against Discord's schemas from discord-api-spec), through the
// channel's owner (guild service) and storage; @discordjs/rest posting as a bot; attachments
// (multipart uploads, the CDN route serving them back); and the Connect MessageService.
// messages-embedded.test.ts and messages-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DiscordAPIError, REST } from "@discordjs/rest";
import { GatewayIntentBits, PermissionFlagsBits as P, RESTJSONErrorCodes as Codes, Routes, type APIMessage } from "discord-api-types/v10";
import { ErrorSchema, MessageAttachmentResponseSchema, MessageResponseSchema, UserResponseSchema } from "discord-api-spec/zod";
import { waitFor } from "@chorus/testing";
import { MessageService } from "@chorus/contracts/chorus/api/v1/messages_pb";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { assertMatches, discordRequests, formErrorCodes, type CallOptions } from "./discord-http.js";
import { gifImage, jpegImage, pngImage, webpImage } from "./images.js";

/** What the suite needs of a running Chorus. */
export interface MessageChorusUnderTest {
  /** Base URL of the api's HTTP edge, e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** Base URL of a mesh port serving chorus.api.v1. */
  meshUrl: string;
  /** The api's blob directory (CHORUS_BLOB_DIR), to see which attachment files exist. */
  blobDir: string;
  /** The WebSocket URL of a gateway of this Chorus (both modes run one). */
  gatewayUrl: string;
}

/** CHORUS_MAX_ATTACHMENT_BYTES of the Chorus under test: 1 MiB, so that "too large" stays cheap. */
export const MAX_ATTACHMENT_BYTES = 1024 * 1024;

interface Person {
  id: string;
  token: string;
}

type Options = CallOptions;

const perms = (...flags: bigint[]) => flags.reduce((all, f) => all | f, 0n).toString();
/** A snowflake minted `ms` ago (for the two-week limit of bulk deletes). */
const idFromAgo = (ms: number) => (BigInt(Date.now() - ms - 1420070400000) << 22n).toString();
const DAY = 24 * 3600 * 1000;

export function describeMessages(mode: string, start: () => Promise<MessageChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`messages (${mode} mode)`, () => {
    let chorus: MessageChorusUnderTest;
    const run = randomBytes(3).toString("hex");
    let serial = 0;

    before(async () => {
      chorus = await start();
    });
    after(stop);

    const { call, ok, fails, formErrors, registerPerson } = discordRequests(() => `${chorus.httpUrl}/api/v10`);

    const message = (status: number, method: string, path: string, options: Options): Promise<APIMessage & Record<string, any>> =>
      ok(status, MessageResponseSchema, method, path, options);
    const post = (who: Person, channelId: string, body: unknown) => message(200, "POST", `/channels/${channelId}/messages`, { token: who.token, body });
    const history = (who: Person, channelId: string, query = ""): Promise<APIMessage[]> =>
      ok(200, MessageResponseSchema, "GET", `/channels/${channelId}/messages${query}`, { token: who.token });
    const noContent = async (method: string, path: string, who: Person, body?: unknown) => {
      const res = await call(method, path, { token: who.token, body });
      assert.equal(res.status, 204, `${method} ${path}: ${JSON.stringify(res.body)}`);
    };

    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

    /** A bot (application, bot user, OAuth2 authorization by `owner`) in the guild, with @discordjs/rest on its token. */
    async function addBot(owner: Person, guildId: string) {
      const app = await ok(201, undefined, "POST", "/applications", { token: owner.token, body: { name: `Poster ${run} ${++serial}` } });
      const token = (await ok(200, undefined, "POST", `/applications/${app.id}/bot`, { token: owner.token })).token as string;
      const granted = perms(P.ViewChannel, P.SendMessages, P.ReadMessageHistory, P.AddReactions, P.ManageMessages);
      await ok(200, undefined, "POST", `/oauth2/authorize?client_id=${app.id}&scope=bot`, { token: owner.token, body: { guild_id: guildId, permissions: granted, authorize: true } });
      const rest = new REST({ api: `${chorus.httpUrl}/api`, version: "10", authPrefix: "Bot", timeout: 10_000 }).setToken(token);
      const close = () => {
        rest.clearHashSweeper();
        rest.clearHandlerSweeper();
      };
      return { id: app.id as string, rest, close };
    }

    const register = (): Promise<Person> => registerPerson(`m${run}_${++serial}`);

    /** A guild of `owner` with `members` in it; its general channel. */
    async function guildWith(owner: Person, ...members: Person[]): Promise<{ guildId: string; general: string }> {
      const guild = await ok(201, undefined, "POST", "/guilds", { token: owner.token, body: { name: `messages ${run}` } });
      const channels = await ok(200, undefined, "GET", `/guilds/${guild.id}/channels`, { token: owner.token });
      const general = channels.find((c: { name: string }) => c.name === "general").id as string;
      const invite = await ok(200, undefined, "POST", `/channels/${general}/invites`, { token: owner.token, body: {} });
      for (const member of members) await ok(200, undefined, "POST", `/invites/${invite.code}`, { token: member.token });
      return { guildId: guild.id, general };
    }

    describe("Discord REST API", () => {
      it("post (mentions, embeds, components, nonce), read, reply, edit, delete", async () => {
        const alice = await register();
        const bob = await register();
        const { general } = await guildWith(alice, bob);

        const before = Date.now();
        const sent = await post(alice, general, {
          content: `hello <@${bob.id}> and @everyone`,
          nonce: "n-1",
          embeds: [{ title: "Release", fields: [{ name: "version", value: "1.0" }] }],
          components: [{ type: 1, components: [{ type: 2, style: 1, label: "Yes", custom_id: "yes" }, { type: 2, style: 5, label: "Docs", url: "https://example.com" }] }],
        });
        assert.equal(sent.channel_id, general);
        assert.equal(sent.author.id, alice.id);
        assert.equal(sent.content, `hello <@${bob.id}> and @everyone`);
        assert.deepEqual(sent.mentions.map((u) => u.id), [bob.id]);
        assert.equal(sent.mention_everyone, true, "the owner may mention everyone");
        assert.equal(sent.nonce, "n-1");
        assert.equal(sent.type, 0);
        assert.equal(sent.edited_timestamp, null);
        assert.equal(sent.embeds[0].type, "rich");
        assert.equal(sent.embeds[0].fields?.[0].inline, false);
        assert.deepEqual(sent.components?.[0], {
          type: 1,
          id: 1,
          components: [
            { type: 2, id: 2, style: 1, label: "Yes", custom_id: "yes" },
            { type: 2, id: 3, style: 5, label: "Docs", url: "https://example.com" },
          ],
        });
        const sentAt = Date.parse(sent.timestamp);
        assert.ok(sentAt >= before - 5000 && sentAt <= Date.now() + 5000, `timestamp ${sent.timestamp} is the id's`);

        const read = await message(200, "GET", `/channels/${general}/messages/${sent.id}`, { token: bob.token });
        assert.deepEqual({ ...read, nonce: undefined }, { ...sent, nonce: undefined });

        // Bob replies: type 19, the reference, the replied-to message, and Alice pinged by default.
        const reply = await post(bob, general, { content: "yes?", message_reference: { message_id: sent.id } });
        assert.equal(reply.type, 19);
        assert.deepEqual(reply.message_reference && { ...reply.message_reference, guild_id: undefined }, { type: 0, message_id: sent.id, channel_id: general, guild_id: undefined });
        assert.equal(reply.referenced_message?.id, sent.id);
        assert.deepEqual(reply.mentions.map((u) => u.id), [alice.id]);
        const quiet = await post(bob, general, { content: "quietly", message_reference: { message_id: sent.id }, allowed_mentions: { parse: [], replied_user: false } });
        assert.deepEqual(quiet.mentions, []);
        await formErrors({ message_reference: "BASE_TYPE_INVALID" }, "POST", `/channels/${general}/messages`, {
          token: bob.token,
          body: { content: "to nowhere", message_reference: { message_id: idFromAgo(0) } },
        });
        const orphan = await post(bob, general, { content: "to nowhere, quietly", message_reference: { message_id: idFromAgo(0), fail_if_not_exists: false } });
        assert.equal(orphan.type, 0);
        assert.equal(orphan.message_reference, undefined);

        // allowed_mentions filter what counts; bob may not ping everyone.
        const filtered = await post(alice, general, { content: `<@${bob.id}> @here`, allowed_mentions: { parse: ["everyone"] } });
        assert.deepEqual([filtered.mentions, filtered.mention_everyone], [[], true]);
        const noEveryone = await post(bob, general, { content: "@everyone look" });
        assert.equal(noEveryone.mention_everyone, false, "Bob lacks MENTION_EVERYONE");

        // Edits: the author's content, with an edited_timestamp; nobody else's.
        const edited = await message(200, "PATCH", `/channels/${general}/messages/${sent.id}`, { token: alice.token, body: { content: `hello again <@${bob.id}>`, components: [] } });
        assert.equal(edited.content, `hello again <@${bob.id}>`);
        assert.deepEqual(edited.mentions.map((u: { id: string }) => u.id), [bob.id], "the new content's mentions replace the old ones");
        assert.deepEqual(edited.components, []);
        assert.equal(edited.embeds.length, 1, "fields left out stay");
        assert.ok(edited.edited_timestamp && Date.parse(edited.edited_timestamp) >= sentAt);
        await fails(403, Codes.CannotEditMessageAuthoredByAnotherUser, "PATCH", `/channels/${general}/messages/${sent.id}`, { token: bob.token, body: { content: "mine now" } });
        const unchanged = await message(200, "PATCH", `/channels/${general}/messages/${sent.id}`, { token: alice.token, body: {} });
        assert.equal(unchanged.content, `hello again <@${bob.id}>`);

        // Deletes: the author's own; others' need MANAGE_MESSAGES.
        await fails(403, Codes.MissingPermissions, "DELETE", `/channels/${general}/messages/${sent.id}`, { token: bob.token });
        await noContent("DELETE", `/channels/${general}/messages/${reply.id}`, bob);
        await fails(404, Codes.UnknownMessage, "GET", `/channels/${general}/messages/${reply.id}`, { token: alice.token });
        await noContent("DELETE", `/channels/${general}/messages/${quiet.id}`, alice);
        // A reply whose message is gone renders referenced_message null.
        const replyToGone = await post(bob, general, { content: "and you?", message_reference: { message_id: filtered.id } });
        await noContent("DELETE", `/channels/${general}/messages/${filtered.id}`, alice);
        const read2 = await message(200, "GET", `/channels/${general}/messages/${replyToGone.id}`, { token: alice.token });
        assert.equal(read2.referenced_message, null);
        await noContent("POST", `/channels/${general}/typing`, bob);
      });

      it("history pages with before, after, around and limit, newest first", async () => {
        const alice = await register();
        const { general } = await guildWith(alice);
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push((await post(alice, general, { content: `m${i}` })).id);
        const contents = (page: APIMessage[]) => page.map((m) => m.content);

        const newest = await history(alice, general, "?limit=3");
        assert.deepEqual(contents(newest), ["m6", "m5", "m4"]);
        assert.deepEqual(contents(await history(alice, general, `?before=${ids[4]}&limit=3`)), ["m3", "m2", "m1"]);
        assert.deepEqual(contents(await history(alice, general, `?after=${ids[1]}&limit=2`)), ["m3", "m2"]);
        assert.deepEqual(contents(await history(alice, general, `?around=${ids[3]}&limit=3`)), ["m4", "m3", "m2"]);
        assert.deepEqual(contents(await history(alice, general)).slice(0, 7), ["m6", "m5", "m4", "m3", "m2", "m1", "m0"]);
        await formErrors({ limit: "NUMBER_TYPE_MAX" }, "GET", `/channels/${general}/messages?limit=101`, { token: alice.token });
        await formErrors({ before: "NUMBER_TYPE_COERCE" }, "GET", `/channels/${general}/messages?before=yesterday`, { token: alice.token });
      });

      it("bulk delete and pins", async () => {
        const alice = await register();
        const bob = await register();
        const { general } = await guildWith(alice, bob);
        const [a, b, c] = [await post(alice, general, { content: "a" }), await post(bob, general, { content: "b" }), await post(alice, general, { content: "c" })];

        await fails(403, Codes.MissingPermissions, "POST", `/channels/${general}/messages/bulk-delete`, { token: bob.token, body: { messages: [a.id, b.id] } });
        await formErrors({ messages: "BASE_TYPE_BAD_LENGTH" }, "POST", `/channels/${general}/messages/bulk-delete`, { token: alice.token, body: { messages: [a.id] } });
        await fails(400, Codes.OneOfTheMessagesProvidedWasTooOldForBulkDelete, "POST", `/channels/${general}/messages/bulk-delete`, {
          token: alice.token,
          body: { messages: [a.id, idFromAgo(15 * DAY)] },
        });
        await noContent("POST", `/channels/${general}/messages/bulk-delete`, alice, { messages: [a.id, b.id] });
        assert.deepEqual((await history(alice, general)).map((m) => m.id), [c.id]);

        // Pins: the owner pins (MANAGE_MESSAGES), Bob may not.
        await fails(403, Codes.MissingPermissions, "PUT", `/channels/${general}/pins/${c.id}`, { token: bob.token });
        await noContent("PUT", `/channels/${general}/pins/${c.id}`, alice);
        const pins = await ok(200, MessageResponseSchema, "GET", `/channels/${general}/pins`, { token: bob.token });
        assert.deepEqual(pins.map((m: APIMessage) => [m.id, m.pinned]), [[c.id, true]]);
        assert.equal((await message(200, "GET", `/channels/${general}/messages/${c.id}`, { token: bob.token })).pinned, true);
        await noContent("DELETE", `/channels/${general}/messages/pins/${c.id}`, alice);
        assert.deepEqual(await ok(200, MessageResponseSchema, "GET", `/channels/${general}/pins`, { token: alice.token }), []);
        await noContent("PUT", `/channels/${general}/messages/pins/${c.id}`, alice);
        await noContent("DELETE", `/channels/${general}/pins/${c.id}`, alice);
        await fails(404, Codes.UnknownMessage, "PUT", `/channels/${general}/pins/${a.id}`, { token: alice.token });
      });

      it("reactions: add, count, me, list users, remove one's own, someone else's, all", async () => {
        const alice = await register();
        const bob = await register();
        const { guildId: guildIdOf, general } = await guildWith(alice, bob);
        const sent = await post(alice, general, { content: "react" });
        const thumbs = encodeURIComponent("👍");
        const base = `/channels/${general}/messages/${sent.id}/reactions`;

        await noContent("PUT", `${base}/${thumbs}/@me`, alice);
        await noContent("PUT", `${base}/${thumbs}/@me`, bob);
        await noContent("PUT", `${base}/${thumbs}/@me`, bob);
        await noContent("PUT", `${base}/${encodeURIComponent("🎉")}/@me`, bob);
        const seenByAlice = await message(200, "GET", `/channels/${general}/messages/${sent.id}`, { token: alice.token });
        assert.deepEqual(
          seenByAlice.reactions?.map((r) => [r.emoji.name, r.count, r.me]),
          [["👍", 2, true], ["🎉", 1, false]],
        );
        const page = await history(bob, general);
        assert.deepEqual(page.find((m) => m.id === sent.id)?.reactions?.map((r) => r.me), [true, true], "me is the reader's");

        const users = await ok(200, UserResponseSchema, "GET", `${base}/${thumbs}`, { token: alice.token });
        assert.deepEqual(users.map((u: { id: string }) => u.id).sort(), [alice.id, bob.id].sort());
        assert.equal((await ok(200, UserResponseSchema, "GET", `${base}/${thumbs}?limit=1`, { token: alice.token })).length, 1);

        await noContent("DELETE", `${base}/${thumbs}/@me`, bob);
        await fails(403, Codes.MissingPermissions, "DELETE", `${base}/${thumbs}/${alice.id}`, { token: bob.token });
        await noContent("DELETE", `${base}/${thumbs}/${alice.id}`, alice);
        await fails(403, Codes.MissingPermissions, "DELETE", base, { token: bob.token });
        await noContent("DELETE", `${base}/${encodeURIComponent("🎉")}`, alice);
        const cleared = await message(200, "GET", `/channels/${general}/messages/${sent.id}`, { token: alice.token });
        assert.equal(cleared.reactions, undefined);
        await fails(400, Codes.UnknownEmoji, "PUT", `${base}/${encodeURIComponent("not an emoji")}/@me`, { token: alice.token });

        // The same through @discordjs/rest and the Connect MessageService.
        const bot = await addBot(alice, guildIdOf);
        try {
          await bot.rest.put(Routes.channelMessageOwnReaction(general, sent.id, encodeURIComponent("👀")));
          const reacted = (await bot.rest.get(Routes.channelMessageReaction(general, sent.id, encodeURIComponent("👀")))) as { id: string }[];
          assert.deepEqual(reacted.map((u) => u.id), [bot.id]);
        } finally {
          bot.close();
        }
        const api = createClient(MessageService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const channelId = BigInt(general);
        await api.execute({ channelId, command: { command: { case: "addReaction", value: { messageId: BigInt(sent.id), emoji: "🔥" } } } }, bearer(bob.token));
        const listed = await api.listMessages({ channelId, limit: 1 }, bearer(bob.token));
        const reactors = await api.listReactionUsers({ channelId, messageId: BigInt(sent.id), emoji: "🔥" }, bearer(alice.token));
        assert.deepEqual(reactors.users.map((u) => u.id), [BigInt(bob.id)]);
        assert.equal(reactors.users[0].email, undefined, "public profiles only");
      });

      it("refusals: 401, 10003, 50001 without VIEW_CHANNEL, 50013 without SEND_MESSAGES, no history without READ_MESSAGE_HISTORY, slowmode 429", async () => {
        const alice = await register();
        const bob = await register();
        const carol = await register();
        const { guildId, general } = await guildWith(alice, bob);
        const sent = await post(alice, general, { content: "for members" });

        assert.equal((await call("GET", `/channels/${general}/messages`)).status, 401);
        assert.equal((await call("POST", `/channels/${general}/messages`, { body: { content: "x" } })).status, 401);
        await fails(404, Codes.UnknownChannel, "POST", `/channels/${idFromAgo(0)}/messages`, { token: alice.token, body: { content: "x" } });
        await fails(403, Codes.MissingAccess, "GET", `/channels/${general}/messages`, { token: carol.token });
        await fails(403, Codes.MissingAccess, "POST", `/channels/${general}/messages`, { token: carol.token, body: { content: "x" } });

        const channel = async (name: string, overwrite: { deny?: bigint; rate?: number }) => {
          const created = await ok(201, undefined, "POST", `/guilds/${guildId}/channels`, {
            token: alice.token,
            body: {
              name,
              rate_limit_per_user: overwrite.rate,
              permission_overwrites: overwrite.deny ? [{ id: guildId, type: 0, deny: perms(overwrite.deny) }] : [],
            },
          });
          return created.id as string;
        };
        const hidden = await channel("hidden", { deny: P.ViewChannel });
        await post(alice, hidden, { content: "secret" });
        await fails(403, Codes.MissingAccess, "GET", `/channels/${hidden}/messages`, { token: bob.token });
        await fails(403, Codes.MissingAccess, "POST", `/channels/${hidden}/messages`, { token: bob.token, body: { content: "x" } });

        const readOnly = await channel("read-only", { deny: P.SendMessages });
        await fails(403, Codes.MissingPermissions, "POST", `/channels/${readOnly}/messages`, { token: bob.token, body: { content: "x" } });
        await fails(403, Codes.MissingPermissions, "POST", `/channels/${readOnly}/typing`, { token: bob.token });

        const noHistory = await channel("no-history", { deny: P.ReadMessageHistory });
        const there = await post(alice, noHistory, { content: "gone by" });
        assert.deepEqual(await history(bob, noHistory), [], "no history: an empty page, as Discord");
        assert.deepEqual(await ok(200, undefined, "GET", `/channels/${noHistory}/pins`, { token: bob.token }), []);
        await fails(403, Codes.MissingPermissions, "GET", `/channels/${noHistory}/messages/${there.id}`, { token: bob.token });
        assert.equal((await history(alice, noHistory)).length, 1, "the owner reads it");

        const slow = await channel("slow", { rate: 60 });
        await post(bob, slow, { content: "first" });
        const limited = await call("POST", `/channels/${slow}/messages`, { token: bob.token, body: { content: "second" } });
        assert.equal(limited.status, 429, JSON.stringify(limited.body));
        assert.equal(limited.body.code, Codes.ActionCannotBePerformedDueToSlowmodeRateLimit);
        assert.ok(limited.body.retry_after > 55 && limited.body.retry_after <= 60, `the wait left of the 60 s slowmode: ${JSON.stringify(limited.body)}`);
        await post(alice, slow, { content: "owners are not slowed" });
        await post(alice, slow, { content: "twice" });

        await fails(404, Codes.UnknownMessage, "GET", `/channels/${general}/messages/${idFromAgo(0)}`, { token: bob.token });
        await formErrors({ message_id: "NUMBER_TYPE_COERCE" }, "GET", `/channels/${general}/messages/abc`, { token: bob.token });
        assert.equal(sent.content, "for members");
      });

      it("50035 naming each bad field, 50006 for an empty message", async () => {
        const alice = await register();
        const { general } = await guildWith(alice);
        const path = `/channels/${general}/messages`;
        const bad = (fields: Record<string, string>, body: unknown) => formErrors(fields, "POST", path, { token: alice.token, body });

        await bad({ content: "BASE_TYPE_MAX_LENGTH" }, { content: "x".repeat(2001) });
        await post(alice, general, { content: "x".repeat(2000) });
        await bad({ "components.0.components.1.custom_id": "COMPONENT_CUSTOM_ID_DUPLICATED" }, {
          content: "x",
          components: [{ type: 1, components: [{ type: 2, style: 1, label: "a", custom_id: "same" }, { type: 2, style: 2, label: "b", custom_id: "same" }] }],
        });
        await bad({ "components.0.components.0.custom_id": "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "components.1.components.1": "COMPONENT_LAYOUT_WIDTH_EXCEEDED" }, {
          content: "x",
          components: [
            { type: 1, components: [{ type: 2, style: 1, label: "a" }] },
            { type: 1, components: [{ type: 3, custom_id: "s", options: [{ label: "o", value: "o" }] }, { type: 2, style: 1, label: "b", custom_id: "b" }] },
          ],
        });
        await bad({ "components.0.components.0.type": "UNION_TYPE_CHOICES" }, { content: "x", components: [{ type: 1, components: [{ type: 1, components: [] }] }] });
        await bad({ "embeds.1.fields.0.value": "BASE_TYPE_BAD_LENGTH" }, { embeds: [{ title: "t" }, { fields: [{ name: "n", value: "v".repeat(1025) }] }] });
        await bad({ embeds: "MAX_EMBED_SIZE_EXCEEDED" }, { embeds: [{ description: "d".repeat(4096) }, { description: "d".repeat(2000) }] });
        await bad({ allowed_mentions: "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE" }, { content: "x", allowed_mentions: { parse: ["users"], users: [alice.id] } });
        await bad({ nonce: "BASE_TYPE_MAX_LENGTH", tts: "BOOLEAN_TYPE_COERCE" }, { content: "x", nonce: "n".repeat(26), tts: "loud" });
        await formErrors({ content: "BASE_TYPE_MAX_LENGTH" }, "PATCH", `${path}/${(await post(alice, general, { content: "x" })).id}`, {
          token: alice.token,
          body: { content: "x".repeat(2001) },
        });
        await fails(400, Codes.CannotSendAnEmptyMessage, "POST", path, { token: alice.token, body: { content: "   " } });
        await fails(400, Codes.CannotSendAnEmptyMessage, "POST", path, { token: alice.token, body: {} });
        const raw = await call("POST", path, { token: alice.token, body: undefined });
        assert.equal(raw.body.code, Codes.CannotSendAnEmptyMessage);
      });

      it("DMs: both recipients post and read; nobody else", async () => {
        const alice = await register();
        const bob = await register();
        const carol = await register();
        const dm = await ok(200, undefined, "POST", "/users/@me/channels", { token: alice.token, body: { recipient_id: bob.id } });
        const sent = await post(alice, dm.id, { content: "psst" });
        const replied = await post(bob, dm.id, { content: "hi", message_reference: { message_id: sent.id } });
        assert.equal(replied.referenced_message?.content, "psst");
        assert.deepEqual((await history(bob, dm.id)).map((m) => m.content), ["hi", "psst"]);
        await fails(403, Codes.MissingAccess, "GET", `/channels/${dm.id}/messages`, { token: carol.token });
        await fails(403, Codes.MissingPermissions, "DELETE", `/channels/${dm.id}/messages/${sent.id}`, { token: bob.token });
        await noContent("PUT", `/channels/${dm.id}/pins/${sent.id}`, bob);
      });

      it("@discordjs/rest with a bot token posts, reads, edits and deletes messages", async () => {
        const alice = await register();
        const { guildId, general } = await guildWith(alice);
        const bot = await addBot(alice, guildId);
        const { rest } = bot;
        try {
          const mention = await post(alice, general, { content: `hey <@${bot.id}>` });
          const posted = (await rest.post(Routes.channelMessages(general), {
            body: { content: "beep", embeds: [{ title: "status", color: 0x00ff00 }], message_reference: { message_id: mention.id } },
          })) as APIMessage;
          assertMatches(MessageResponseSchema, posted, "the bot's message");
          assert.equal(posted.author.id, bot.id);
          assert.equal(posted.author.bot, true);
          assert.equal(posted.referenced_message?.id, mention.id);

          const fetched = (await rest.get(Routes.channelMessage(general, posted.id))) as APIMessage;
          assert.equal(fetched.content, "beep");
          const page = (await rest.get(Routes.channelMessages(general), { query: new URLSearchParams({ limit: "2" }) })) as APIMessage[];
          assert.deepEqual(page.map((m) => m.id), [posted.id, mention.id]);
          const edited = (await rest.patch(Routes.channelMessage(general, posted.id), { body: { content: "boop" } })) as APIMessage;
          assert.equal(edited.content, "boop");
          await rest.post(Routes.channelTyping(general));
          await rest.delete(Routes.channelMessage(general, mention.id));

          await assert.rejects(rest.post(Routes.channelMessages(general), { body: { content: "x".repeat(2001) } }), (err: unknown) => {
            assert.ok(err instanceof DiscordAPIError, String(err));
            assert.equal(err.code, Codes.InvalidFormBodyOrContentType);
            assert.match(err.message, /content\[BASE_TYPE_MAX_LENGTH\]/);
            return true;
          });
          await assert.rejects(rest.get(Routes.channelMessage(general, idFromAgo(0))), (err: unknown) => err instanceof DiscordAPIError && err.status === 404 && err.code === Codes.UnknownMessage);
        } finally {
          bot.close();
        }
      });
    });

    describe("attachments", () => {
      type Attachment = { id: string; filename: string; size: number; url: string; proxy_url: string; content_type?: string; width?: number; height?: number; description?: string };

      /** A multipart request as a browser or curl sends it. */
      async function upload(method: string, path: string, who: Person, form: FormData) {
        const res = await fetch(`${chorus.httpUrl}/api/v10${path}`, { method, headers: { authorization: who.token }, body: form });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined, connection: res.headers.get("connection") };
      }
      /** Sends all of `data` but the request's end (as a client still uploading would), and reads the answer. */
      async function holdRestOf(path: string, who: Person, data: FormData) {
        const encoded = new Response(data);
        const bytes = Buffer.from(await encoded.arrayBuffer());
        const url = new URL(`${chorus.httpUrl}/api/v10${path}`);
        return new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
          const req = httpRequest(url, {
            method: "POST",
            headers: { authorization: who.token, "content-type": encoded.headers.get("content-type")!, "content-length": bytes.length + 64 },
          });
          req.on("response", (res) => {
            let body = "";
            res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
          });
          req.on("error", reject);
          req.write(bytes);
        });
      }
      const file = (bytes: Uint8Array, type?: string) => new Blob([bytes], type === undefined ? {} : { type });
      const form = (payload: unknown, files: Record<string, [Blob, string]>) => {
        const data = new FormData();
        if (payload !== undefined) data.append("payload_json", JSON.stringify(payload));
        for (const [field, [blob, name]] of Object.entries(files)) data.append(field, blob, name);
        return data;
      };
      /** A successful upload: 200, the message checked against Discord's schema (each attachment too). */
      async function posted(path: string, who: Person, data: FormData, method = "POST") {
        const res = await upload(method, path, who, data);
        assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assertMatches(MessageResponseSchema, res.body, `${method} ${path}`);
        for (const a of res.body.attachments) assertMatches(MessageAttachmentResponseSchema, a, "an attachment");
        return res.body as APIMessage & { attachments: Attachment[] };
      }
      /** A refusal with `status` and `code` whose errors name exactly `fields` (dotted paths) with their codes. */
      function refused(res: { status: number; body: any }, status: number, code: number, fields: Record<string, string>) {
        assert.equal(res.status, status, JSON.stringify(res.body));
        assert.equal(res.body.code, code, JSON.stringify(res.body));
        assertMatches(ErrorSchema, res.body, "the error");
        assert.deepEqual(formErrorCodes(res.body.errors), fields, JSON.stringify(res.body));
      }
      /** What the CDN answers for an attachment's URL. */
      async function download(url: string, headers: Record<string, string> = {}) {
        const res = await fetch(url, { headers });
        return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
      }
      async function assertServes(attachment: Attachment, bytes: Uint8Array, contentType: string) {
        const got = await download(attachment.url);
        assert.equal(got.status, 200, attachment.url);
        assert.ok(got.bytes.equals(bytes), `${attachment.filename}: the same bytes`);
        assert.equal(got.headers.get("content-type"), contentType);
        assert.equal(got.headers.get("content-length"), String(bytes.length));
        assert.match(got.headers.get("cache-control") ?? "", /max-age=\d+/);
        assert.equal(got.headers.get("x-content-type-options"), "nosniff");
      }
      /** The attachment files stored for a channel (the blob store's `.blob` files). */
      const storedFiles = (channelId: string) => {
        const dir = join(chorus.blobDir, "attachments", channelId);
        return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".blob")).sort() : [];
      };

      it("a raw multipart upload: payload_json, files[n], names and descriptions from attachments, image sizes, the same bytes from the CDN", async () => {
        const alice = await register();
        const bob = await register();
        const { general } = await guildWith(alice, bob);
        const png = pngImage(640, 480);
        const gif = gifImage(300, 200);
        const jpeg = jpegImage(1920, 1080, { metadataBytes: 100_000 });
        const webp = webpImage(400, 300, "VP8 ");
        const notes = Buffer.from("line one\nline two\n");

        const sent = await posted(`/channels/${general}/messages`, alice, form(
          { content: "files!", attachments: [{ id: 1, description: "the notes" }, { id: "2", filename: "holiday photo.jpg" }] },
          {
            "files[0]": [file(png, "image/png"), "chart.png"],
            "files[1]": [file(notes, "text/plain"), "notes.txt"],
            // Declared as anything: the bytes say JPEG.
            "files[2]": [file(jpeg, "application/octet-stream"), "IMG_0001.JPG"],
            "files[3]": [file(gif), "anim.gif"],
            "files[4]": [file(webp, "image/webp"), "sticker.webp"],
          },
        ));
        assert.equal(sent.content, "files!");
        // The files the attachments list names first, in its order, then the others in theirs.
        assert.deepEqual(
          sent.attachments.map((a) => [a.filename, a.size, a.content_type, a.width, a.height, a.description]),
          [
            ["notes.txt", notes.length, "text/plain", undefined, undefined, "the notes"],
            ["holiday_photo.jpg", jpeg.length, "image/jpeg", 1920, 1080, undefined],
            ["chart.png", png.length, "image/png", 640, 480, undefined],
            ["anim.gif", gif.length, "image/gif", 300, 200, undefined],
            ["sticker.webp", webp.length, "image/webp", 400, 300, undefined],
          ],
        );
        for (const a of sent.attachments) {
          assert.equal(a.url, `${chorus.httpUrl}/attachments/${general}/${a.id}/${a.filename}`);
          assert.equal(a.proxy_url, a.url);
        }
        assert.equal(new Set(sent.attachments.map((a) => a.id)).size, 5, "each its own snowflake");
        await assertServes(sent.attachments[0], notes, "text/plain");
        await assertServes(sent.attachments[1], jpeg, "image/jpeg");
        await assertServes(sent.attachments[2], png, "image/png");
        await assertServes(sent.attachments[3], gif, "image/gif");
        await assertServes(sent.attachments[4], webp, "image/webp");

        // Readers see them as the sender did.
        const read = await message(200, "GET", `/channels/${general}/messages/${sent.id}`, { token: bob.token });
        assert.deepEqual(read.attachments, sent.attachments);
        assert.deepEqual((await history(bob, general))[0].attachments, sent.attachments);

        // The CDN: HEAD, a cache revalidation, and 404 for what is not there.
        const head = await fetch(sent.attachments[2].url, { method: "HEAD" });
        assert.deepEqual([head.status, head.headers.get("content-length"), head.headers.get("content-type"), (await head.arrayBuffer()).byteLength], [200, String(png.length), "image/png", 0]);
        const png304 = await download(sent.attachments[2].url, { "if-none-match": `"${sent.attachments[2].id}"` });
        assert.equal(png304.status, 304);
        assert.equal((await download(`${chorus.httpUrl}/attachments/${general}/${idFromAgo(0)}/chart.png`)).status, 404);
        assert.equal((await download(`${chorus.httpUrl}/attachments/${idFromAgo(0)}/${sent.attachments[2].id}/chart.png`)).status, 404);
        assert.equal((await download(`${chorus.httpUrl}/attachments/${general}/x/chart.png`)).status, 404);

        // A message of files alone, without payload_json; plain fields stand for the body's values.
        const only = await posted(`/channels/${general}/messages`, bob, form(undefined, { "files[0]": [file(Buffer.from("just a file")), "only.txt"] }));
        // Declared as nothing: the extension says what it is.
        assert.deepEqual([only.content, only.attachments.length, only.attachments[0].filename, only.attachments[0].content_type], ["", 1, "only.txt", "text/plain"]);
        const fields = new FormData();
        fields.append("content", "from a form field");
        fields.append("file", file(png, "image/png"), "plain.png");
        const plain = await posted(`/channels/${general}/messages`, bob, fields);
        assert.deepEqual([plain.content, plain.attachments[0].filename, plain.attachments[0].width], ["from a form field", "plain.png", 640]);

        // Edits keep a subset: the others are removed, and so are their files.
        const kept = sent.attachments[2];
        const edited = await message(200, "PATCH", `/channels/${general}/messages/${sent.id}`, { token: alice.token, body: { attachments: [{ id: kept.id }] } });
        assert.deepEqual(edited.attachments, [kept]);
        assert.equal((await download(sent.attachments[0].url)).status, 404, "a removed attachment's file is gone");
        await assertServes(kept, png, "image/png");
        await formErrors({ "attachments.0": "ATTACHMENT_NOT_FOUND" }, "PATCH", `/channels/${general}/messages/${sent.id}`, {
          token: alice.token,
          body: { attachments: [{ id: sent.attachments[0].id }] },
        });
        // A multipart edit adds a file to those it keeps.
        const added = await posted(`/channels/${general}/messages/${sent.id}`, alice, form(
          { content: "and one more", attachments: [{ id: kept.id }, { id: 7, description: "late" }] },
          { "files[7]": [file(notes, "text/plain"), "late.txt"] },
        ), "PATCH");
        assert.deepEqual(added.attachments.map((a) => [a.filename, a.description]), [["chart.png", undefined], ["late.txt", "late"]]);
        assert.equal(added.content, "and one more");
        await fails(403, Codes.CannotEditMessageAuthoredByAnotherUser, "PATCH", `/channels/${general}/messages/${sent.id}`, { token: bob.token, body: { attachments: [] } });

        // Deleting the message deletes its files.
        const before = storedFiles(general);
        assert.ok(before.includes(`${kept.id}.blob`));
        await noContent("DELETE", `/channels/${general}/messages/${sent.id}`, alice);
        for (const a of added.attachments) assert.equal((await download(a.url)).status, 404, `${a.filename} is gone with its message`);
        assert.deepEqual(storedFiles(general), [only.attachments[0].id, plain.attachments[0].id].map((id) => `${id}.blob`).sort());
      });

      it("MESSAGE_CREATE carries the attachments, as the REST answer does", async () => {
        const alice = await register();
        const bob = await register();
        const { general } = await guildWith(alice, bob);
        const socket = new WebSocket(`${chorus.gatewayUrl}/?v=10&encoding=json`);
        const received: { op: number; t: string | null; d: any }[] = [];
        socket.on("message", (data) => received.push(JSON.parse(String(data))));
        try {
          await waitFor("HELLO", () => received.find((p) => p.op === 10));
          const intents = GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent;
          socket.send(JSON.stringify({ op: 2, d: { token: bob.token, intents, properties: { os: "linux", browser: "chorus-test", device: "chorus-test" } } }));
          await waitFor("READY and the guild", () => received.find((p) => p.t === "GUILD_CREATE"));
          const sent = await posted(`/channels/${general}/messages`, alice, form({ content: "see attached" }, { "files[0]": [file(pngImage(12, 34), "image/png"), "tiny.png"] }));
          const created = await waitFor("MESSAGE_CREATE", () => received.find((p) => p.t === "MESSAGE_CREATE" && p.d.id === sent.id));
          assertMatches(MessageAttachmentResponseSchema, created.d.attachments[0], "the dispatched attachment");
          assert.deepEqual(created.d.attachments, sent.attachments);
          assert.deepEqual([created.d.attachments[0].width, created.d.attachments[0].height], [12, 34]);
        } finally {
          socket.close();
        }
      });

      it("@discordjs/rest `files` upload as a bot: payload_json with attachments, files only, an edit that keeps one", async () => {
        const alice = await register();
        const { guildId, general } = await guildWith(alice);
        const bot = await addBot(alice, guildId);
        const { rest } = bot;
        try {
          const png = pngImage(32, 16);
          const data = randomBytes(300_000);
          const posted = (await rest.post(Routes.channelMessages(general), {
            body: { content: "report", attachments: [{ id: 0, description: "a chart" }] },
            files: [
              { name: "chart.png", data: png },
              { name: "data.bin", data, contentType: "application/octet-stream" },
            ],
          })) as APIMessage;
          assertMatches(MessageResponseSchema, posted, "the bot's message");
          assert.equal(posted.author.id, bot.id);
          assert.deepEqual(
            posted.attachments.map((a) => [a.filename, a.size, a.content_type, a.width, a.height, a.description]),
            [
              ["chart.png", png.length, "image/png", 32, 16, "a chart"],
              ["data.bin", data.length, "application/octet-stream", undefined, undefined, undefined],
            ],
          );
          await assertServes(posted.attachments[0] as Attachment, png, "image/png");
          await assertServes(posted.attachments[1] as Attachment, data, "application/octet-stream");

          // A string: @discordjs/rest sends it untyped (octet-stream); the extension says text.
          const only = (await rest.post(Routes.channelMessages(general), { files: [{ name: "only.txt", data: "nothing but a file" }] })) as APIMessage;
          assertMatches(MessageResponseSchema, only, "a message of a file alone");
          assert.deepEqual([only.content, only.attachments.map((a) => a.filename)], ["", ["only.txt"]]);
          await assertServes(only.attachments[0] as Attachment, Buffer.from("nothing but a file"), "text/plain");

          const edited = (await rest.patch(Routes.channelMessage(general, posted.id), { body: { attachments: [{ id: posted.attachments[1].id }] } })) as APIMessage;
          assertMatches(MessageResponseSchema, edited, "the edited message");
          assert.deepEqual(edited.attachments.map((a) => a.id), [posted.attachments[1].id]);
          assert.equal((await download(posted.attachments[0].url)).status, 404);

          await assert.rejects(
            rest.post(Routes.channelMessages(general), { files: [{ name: "big.bin", data: Buffer.alloc(MAX_ATTACHMENT_BYTES + 1) }] }),
            (err: unknown) => {
              assert.ok(err instanceof DiscordAPIError, String(err));
              assert.deepEqual([err.status, err.code], [413, Codes.RequestEntityTooLarge]);
              assert.match(err.message, /files\[0\]\[BINARY_TYPE_MAX_SIZE\]/);
              return true;
            },
          );
        } finally {
          bot.close();
        }
      });

      it("refusals: 11 files (30015), a file over the limit (413 40005), bad attachments entries and payload_json (50035, 50109), no ATTACH_FILES (50013); none leaves a file", async () => {
        const alice = await register();
        const bob = await register();
        const { guildId, general } = await guildWith(alice, bob);
        const path = `/channels/${general}/messages`;
        const small = () => file(randomBytes(1000), "application/octet-stream");

        const eleven: Record<string, [Blob, string]> = {};
        for (let i = 0; i < 11; i++) eleven[`files[${i}]`] = [small(), `${i}.bin`];
        const tooMany = await upload("POST", path, alice, form({ content: "too many" }, eleven));
        refused(tooMany, 400, Codes.MaximumNumberOfAttachmentsInAMessageReached, { "files[10]": "BASE_TYPE_MAX_LENGTH" });
        assert.notEqual(tooMany.connection, "close", "the little left of the form was read, so the connection stays usable");
        // A client that stops sending midway: the answer comes anyway, and the connection is
        // closed rather than waited on (or read to its end).
        const held = await holdRestOf(path, alice, form({ content: "held" }, eleven));
        assert.deepEqual([held.status, held.connection, JSON.parse(held.body).code], [400, "close", Codes.MaximumNumberOfAttachmentsInAMessageReached]);
        const ten = Object.fromEntries(Object.entries(eleven).slice(0, 10));
        assert.equal((await posted(path, alice, form({ content: "ten" }, ten))).attachments.length, 10);

        refused(
          await upload("POST", path, alice, form({ content: "too big" }, { "files[0]": [small(), "ok.bin"], "files[1]": [file(Buffer.alloc(MAX_ATTACHMENT_BYTES + 1)), "big.bin"] })),
          413,
          Codes.RequestEntityTooLarge,
          { "files[1]": "BINARY_TYPE_MAX_SIZE" },
        );
        const atLimit = await posted(path, alice, form(undefined, { "files[0]": [file(Buffer.alloc(MAX_ATTACHMENT_BYTES, 7)), "exactly.bin"] }));
        assert.equal(atLimit.attachments[0].size, MAX_ATTACHMENT_BYTES);

        refused(await upload("POST", path, alice, form({ attachments: [{ id: 0, filename: "" }, { id: "nope" }] }, { "files[0]": [small(), "a.bin"] })), 400, Codes.InvalidFormBodyOrContentType, {
          "attachments.0.filename": "BASE_TYPE_BAD_LENGTH",
          "attachments.1.id": "NUMBER_TYPE_COERCE",
        });
        refused(await upload("POST", path, alice, form({ attachments: [{ id: 0 }, { id: 3 }] }, { "files[0]": [small(), "a.bin"] })), 400, Codes.InvalidFormBodyOrContentType, {
          "attachments.1": "ATTACHMENT_NOT_FOUND",
        });
        refused(await upload("POST", path, alice, form({ content: "x".repeat(2001) }, { "files[0]": [small(), "a.bin"] })), 400, Codes.InvalidFormBodyOrContentType, { content: "BASE_TYPE_MAX_LENGTH" });
        const badJson = new FormData();
        badJson.append("payload_json", "{not json");
        badJson.append("files[0]", small(), "a.bin");
        assert.equal((await upload("POST", path, alice, badJson)).body.code, Codes.RequestBodyContainsInvalidJSON);
        // A JSON body cannot name attachments it did not upload.
        await formErrors({ "attachments.0": "ATTACHMENT_NOT_FOUND" }, "POST", path, { token: alice.token, body: { content: "x", attachments: [{ id: "0" }] } });
        await formErrors({ attachments: "BASE_TYPE_MAX_LENGTH" }, "POST", path, { token: alice.token, body: { content: "x", attachments: Array.from({ length: 11 }, (_, id) => ({ id })) } });

        // Without ATTACH_FILES: text yes, files no.
        const noFiles = await ok(201, undefined, "POST", `/guilds/${guildId}/channels`, {
          token: alice.token,
          body: { name: "no-files", permission_overwrites: [{ id: guildId, type: 0, deny: perms(P.AttachFiles) }] },
        });
        await post(bob, noFiles.id, { content: "words only" });
        refused(await upload("POST", `/channels/${noFiles.id}/messages`, bob, form({ content: "a file" }, { "files[0]": [small(), "a.bin"] })), 403, Codes.MissingPermissions, {});
        assert.equal((await upload("POST", `/channels/${noFiles.id}/messages`, { id: "0", token: "not-a-token" }, form({}, { "files[0]": [small(), "a.bin"] }))).status, 401);
        assert.deepEqual(storedFiles(noFiles.id), []);

        // What was refused left nothing behind: the files are the ten and the one at the limit.
        assert.equal(storedFiles(general).length, 11);
      });
    });

    describe("Connect MessageService", () => {

      async function rejectsWith(pending: Promise<unknown>, code: Code, discordCode: number, message?: RegExp) {
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof ConnectError, String(err));
          assert.equal(err.code, code, `${Code[err.code]}: ${err.rawMessage}`);
          assert.equal(err.findDetails(ErrorReasonSchema)[0]?.code, discordCode, err.rawMessage);
          if (message) assert.match(err.rawMessage, message);
          return true;
        });
      }

      it("sends, edits, lists, gets, pins, and refuses as the Discord routes do", async () => {
        const api = createClient(MessageService, createConnectTransport({ baseUrl: chorus.httpUrl, httpVersion: "1.1" }));
        const mesh = createClient(MessageService, createConnectTransport({ baseUrl: chorus.meshUrl, httpVersion: "1.1" }));
        const alice = await register();
        const bob = await register();
        const carol = await register();
        const { general } = await guildWith(alice, bob);
        const channelId = BigInt(general);

        const sent = await api.execute(
          { channelId, command: { command: { case: "sendMessage", value: { message: { content: `hi <@${bob.id}>`, mentions: [42n] } } } } },
          bearer(alice.token),
        );
        assert.ok(sent.result?.result.case === "message", String(sent.result?.result.case));
        const stored = sent.result.result.value;
        assert.equal(stored.authorId, BigInt(alice.id));
        assert.deepEqual(stored.mentions, [BigInt(bob.id)], "mentions come from the content");

        const edited = await mesh.execute(
          { channelId, command: { command: { case: "editMessage", value: { messageId: stored.id, message: { content: "edited" }, updateMask: { paths: ["content"] } } } } },
          bearer(alice.token),
        );
        assert.equal(edited.result?.result.case === "message" && edited.result.result.value.content, "edited");
        await api.execute({ channelId, command: { command: { case: "pinMessage", value: { messageId: stored.id } } } }, bearer(alice.token));

        const listed = await api.listMessages({ channelId, limit: 10 }, bearer(bob.token));
        assert.deepEqual(listed.messages.map((m) => m.id), [stored.id]);
        assert.equal((await mesh.getMessage({ channelId, messageId: stored.id }, bearer(bob.token))).message?.content, "edited");
        assert.deepEqual((await api.listPinnedMessages({ channelId }, bearer(bob.token))).messages.map((m) => m.id), [stored.id]);

        await rejectsWith(
          api.execute(
            { channelId, command: { command: { case: "sendMessage", value: { message: { content: "x", components: [{ type: 1, components: [{ type: 2, style: 1, label: "a" }] }] } } } } },
            bearer(alice.token),
          ),
          Code.InvalidArgument,
          Codes.InvalidFormBodyOrContentType,
          /^components\.0\.components\.0\.custom_id: /,
        );
        await rejectsWith(api.execute({ channelId, command: { command: { case: "deleteMessage", value: { messageId: stored.id } } } }, bearer(bob.token)), Code.PermissionDenied, Codes.MissingPermissions);
        await rejectsWith(api.listMessages({ channelId }, bearer(carol.token)), Code.PermissionDenied, Codes.MissingAccess);
        await rejectsWith(api.getMessage({ channelId, messageId: 1n }, bearer(bob.token)), Code.NotFound, Codes.UnknownMessage);
        await rejectsWith(api.execute({ channelId, command: { command: { case: "sendMessage", value: { message: { content: " " } } } } }, bearer(bob.token)), Code.FailedPrecondition, Codes.CannotSendAnEmptyMessage);
        await assert.rejects(api.listMessages({ channelId }), (err: ConnectError) => err.code === Code.Unauthenticated);

        await api.execute({ channelId, command: { command: { case: "deleteMessage", value: { messageId: stored.id } } } }, bearer(alice.token));
        assert.deepEqual((await api.listMessages({ channelId }, bearer(alice.token))).messages, []);
      });
    });
  });
}

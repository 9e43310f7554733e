// Custom emojis end to end through a running Chorus, whatever its run mode: the Discord v10
// routes (answers checked against discord-api-spec), images at the CDN path, GUILD_CREATE and
// GUILD_EMOJIS_UPDATE on a gateway session (by intent), reactions and buttons with a custom
// emoji, and the Connect EmojiService. emojis-embedded.test.ts and emojis-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DiscordAPIError, REST } from "@discordjs/rest";
import {
  GatewayIntentBits as Intents,
  PermissionFlagsBits as P,
  RESTJSONErrorCodes as Codes,
  Routes,
  type APIEmoji,
  type APIMessage,
} from "discord-api-types/v10";
import { EmojiResponseSchema, GuildResponseSchema, MessageResponseSchema } from "discord-api-spec/zod";
import { waitFor } from "@chorus/testing";
import { EmojiService } from "@chorus/contracts/chorus/api/v1/emojis_pb";
import { GuildService as ApiGuildService } from "@chorus/contracts/chorus/api/v1/guilds_pb";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { discordRequests } from "./discord-http.js";
import { gifImage, jpegImage, pngImage, webpImage } from "./images.js";

/** What the suite needs of a running Chorus. */
export interface EmojiChorusUnderTest {
  /** Base URL of the api's HTTP edge (the CDN paths too). */
  httpUrl: string;
  /** Base URL of a port serving chorus.api.v1. */
  meshUrl: string;
  /** A gateway's WebSocket URL. */
  gatewayUrl: string;
  /** The api's blob directory (CHORUS_BLOB_DIR). */
  blobDir: string;
}

interface Person {
  id: string;
  token: string;
}

type Payload = { op: number; t: string | null; d: any };

const dataUri = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString("base64")}`;
const MAX_IMAGE = 256 * 1024;

/** A PNG of exactly `size` bytes: a real image with a private chunk as filler. */
function pngOfSize(size: number): Buffer {
  const image = pngImage(4, 4);
  const iend = image.subarray(image.length - 12);
  const filler = Buffer.alloc(size - image.length - 12);
  const chunk = Buffer.concat([Buffer.alloc(4), Buffer.from("prVt"), filler, Buffer.alloc(4)]);
  chunk.writeUInt32BE(filler.length, 0);
  return Buffer.concat([image.subarray(0, image.length - 12), chunk, iend]);
}

export function describeEmojis(mode: string, start: () => Promise<EmojiChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`custom emojis (${mode} mode)`, () => {
    let chorus: EmojiChorusUnderTest;
    const run = randomBytes(3).toString("hex");
    let serial = 0;

    before(async () => {
      chorus = await start();
    });
    after(stop);

    const { call, ok, fails, formErrors, registerPerson } = discordRequests(() => `${chorus.httpUrl}/api/v10`);

    const register = (): Promise<Person> => registerPerson(`e${run}_${++serial}`);

    /** A guild of `owner` with `others` as members; its id and its general channel's. */
    async function guildWith(owner: Person, ...others: Person[]): Promise<{ guildId: string; general: string }> {
      const guild = await ok(201, GuildResponseSchema, "POST", "/guilds", { token: owner.token, body: { name: `emoji ${run}` } });
      const channels = await ok(200, undefined, "GET", `/guilds/${guild.id}/channels`, { token: owner.token });
      const general = channels.find((c: { name: string }) => c.name === "general").id;
      for (const other of others) {
        const invite = await ok(200, undefined, "POST", `/channels/${general}/invites`, { token: owner.token, body: {} });
        await ok(200, undefined, "POST", `/invites/${invite.code}`, { token: other.token });
      }
      return { guildId: guild.id, general };
    }

    /** Gives `who` a role with `permissions`. */
    async function grant(owner: Person, guildId: string, who: Person, permissions: bigint): Promise<string> {
      const role = await ok(200, undefined, "POST", `/guilds/${guildId}/roles`, { token: owner.token, body: { name: "expressions", permissions: permissions.toString() } });
      const res = await call("PUT", `/guilds/${guildId}/members/${who.id}/roles/${role.id}`, { token: owner.token });
      assert.equal(res.status, 204, JSON.stringify(res.body));
      return role.id;
    }

    const createEmoji = (who: Person, guildId: string, body: Record<string, unknown>) =>
      ok(201, EmojiResponseSchema, "POST", `/guilds/${guildId}/emojis`, { token: who.token, body });

    /** The emoji images in the blob directory, by id. */
    const storedImages = () => {
      const dir = join(chorus.blobDir, "emojis");
      return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".blob")).map((f) => f.slice(0, -5)).sort() : [];
    };

    async function download(path: string, headers: Record<string, string> = {}) {
      const res = await fetch(`${chorus.httpUrl}${path}`, { headers });
      return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
    }

    /** A gateway session of `who` with `intents`: everything it receives. */
    async function session(who: Person, intents: number) {
      const socket = new WebSocket(`${chorus.gatewayUrl}/?v=10&encoding=json`);
      const received: Payload[] = [];
      socket.on("message", (data) => received.push(JSON.parse(String(data))));
      await waitFor("HELLO", () => received.find((p) => p.op === 10));
      socket.send(JSON.stringify({ op: 2, d: { token: who.token, intents, properties: { os: "linux", browser: "chorus-test", device: "chorus-test" } } }));
      await waitFor("READY", () => received.find((p) => p.t === "READY"));
      return { received, close: () => socket.close() };
    }

    describe("Discord REST API", () => {
      it("create, list, get, modify and delete; the image served at the CDN path as uploaded; GET /guilds/:id lists them; a deleted guild takes the images", async () => {
        const alice = await register();
        const { guildId } = await guildWith(alice);
        const png = pngImage(32, 32);
        const created = await createEmoji(alice, guildId, { name: "party_parrot", image: dataUri("image/png", png) });
        assert.equal(created.name, "party_parrot");
        assert.deepEqual(
          [created.roles, created.require_colons, created.managed, created.animated, created.available, created.user?.id],
          [[], true, false, false, true, alice.id],
        );

        const listed = await ok(200, EmojiResponseSchema, "GET", `/guilds/${guildId}/emojis`, { token: alice.token });
        assert.deepEqual(listed, [created]);
        assert.deepEqual(await ok(200, EmojiResponseSchema, "GET", `/guilds/${guildId}/emojis/${created.id}`, { token: alice.token }), created);
        const guild = await ok(200, GuildResponseSchema, "GET", `/guilds/${guildId}`, { token: alice.token });
        assert.deepEqual(guild.emojis.map((e: { id: string; name: string }) => [e.id, e.name]), [[created.id, "party_parrot"]]);

        const served = await download(`/emojis/${created.id}.png`);
        assert.equal(served.status, 200);
        assert.ok(served.body.equals(png), "the bytes uploaded");
        assert.equal(served.headers.get("content-type"), "image/png");
        assert.match(served.headers.get("cache-control") ?? "", /immutable/);
        assert.equal(served.headers.get("x-content-type-options"), "nosniff");
        assert.equal((await download(`/emojis/${created.id}.png`, { "if-none-match": served.headers.get("etag")! })).status, 304);
        assert.equal((await download(`/emojis/${created.id}.webp`)).headers.get("content-type"), "image/png", "no conversion: the image as it is");
        assert.equal((await download(`/emojis/${created.id}.svg`)).status, 404);
        assert.equal((await download(`/emojis/1${created.id.slice(1)}0.png`)).status, 404);

        const gif = gifImage(16, 16);
        const animated = await createEmoji(alice, guildId, { name: "dance", image: dataUri("image/gif", gif) });
        assert.equal(animated.animated, true);
        const servedGif = await download(`/emojis/${animated.id}.gif`);
        assert.deepEqual([servedGif.status, servedGif.headers.get("content-type"), servedGif.body.equals(gif)], [200, "image/gif", true]);
        const jpeg = await createEmoji(alice, guildId, { name: "photo", image: dataUri("image/jpeg", jpegImage(8, 8)) });
        const webp = await createEmoji(alice, guildId, { name: "sticker_like", image: dataUri("image/webp", webpImage(8, 8, "VP8L")) });
        assert.deepEqual([jpeg.animated, webp.animated], [false, false]);
        assert.equal((await download(`/emojis/${webp.id}.webp`)).headers.get("content-type"), "image/webp");

        const role = await ok(200, undefined, "POST", `/guilds/${guildId}/roles`, { token: alice.token, body: { name: "vip" } });
        const renamed = await ok(200, EmojiResponseSchema, "PATCH", `/guilds/${guildId}/emojis/${created.id}`, {
          token: alice.token,
          body: { name: "parrot", roles: [role.id] },
        });
        assert.deepEqual([renamed.id, renamed.name, renamed.roles], [created.id, "parrot", [role.id]]);
        const unrestricted = await ok(200, EmojiResponseSchema, "PATCH", `/guilds/${guildId}/emojis/${created.id}`, { token: alice.token, body: { roles: null } });
        assert.deepEqual([unrestricted.name, unrestricted.roles], ["parrot", []]);

        assert.equal((await call("DELETE", `/guilds/${guildId}/emojis/${created.id}`, { token: alice.token })).status, 204);
        await fails(404, Codes.UnknownEmoji, "GET", `/guilds/${guildId}/emojis/${created.id}`, { token: alice.token });
        await fails(404, Codes.UnknownEmoji, "PATCH", `/guilds/${guildId}/emojis/${created.id}`, { token: alice.token, body: { name: "again" } });
        await fails(404, Codes.UnknownEmoji, "DELETE", `/guilds/${guildId}/emojis/${created.id}`, { token: alice.token });
        assert.equal((await download(`/emojis/${created.id}.png`)).status, 404, "the image goes with the emoji");
        assert.ok(!storedImages().includes(created.id));
        const left = await ok(200, EmojiResponseSchema, "GET", `/guilds/${guildId}/emojis`, { token: alice.token });
        assert.deepEqual(left.map((e: { name: string }) => e.name).sort(), ["dance", "photo", "sticker_like"]);

        // A deleted guild takes its emojis' images along.
        assert.equal((await call("DELETE", `/guilds/${guildId}`, { token: alice.token })).status, 204);
        for (const gone of [animated, jpeg, webp]) assert.equal((await download(`/emojis/${gone.id}.png`)).status, 404);
        for (const gone of [animated, jpeg, webp]) assert.ok(!storedImages().includes(gone.id));
      });

      it("refuses bad names and images naming the field, and leaves no image behind", async () => {
        const alice = await register();
        const { guildId } = await guildWith(alice);
        const png = dataUri("image/png", pngImage(8, 8));
        const imagesBefore = storedImages();
        const post = (body: Record<string, unknown>) => ["POST", `/guilds/${guildId}/emojis`, { token: alice.token, body }] as const;
        await formErrors({ name: "BASE_TYPE_BAD_LENGTH" }, ...post({ name: "a", image: png }));
        await formErrors({ name: "BASE_TYPE_BAD_LENGTH" }, ...post({ name: "x".repeat(33), image: png }));
        await formErrors({ name: "STRING_TYPE_REGEX" }, ...post({ name: "no-dashes", image: png }));
        await formErrors({ name: "BASE_TYPE_REQUIRED", image: "BASE_TYPE_REQUIRED" }, ...post({}));
        await formErrors({ image: "IMAGE_INVALID" }, ...post({ name: "plain", image: "not a data uri" }));
        await formErrors({ image: "IMAGE_INVALID" }, ...post({ name: "svg", image: `data:image/svg+xml;base64,${Buffer.from("<svg/>").toString("base64")}` }));
        // The declared type is checked against the bytes.
        await formErrors({ image: "IMAGE_INVALID" }, ...post({ name: "liar", image: dataUri("image/png", gifImage(4, 4)) }));
        await formErrors({ image: "BINARY_TYPE_MAX_SIZE" }, ...post({ name: "huge", image: dataUri("image/png", pngOfSize(MAX_IMAGE + 1)) }));
        await formErrors({ "roles.0": "NUMBER_TYPE_COERCE" }, ...post({ name: "roles", image: png, roles: ["x"] }));
        // What only the guild can judge: a role it does not have.
        await formErrors({ "roles.0": "BASE_TYPE_INVALID" }, ...post({ name: "roles", image: png, roles: ["1300000000000000001"] }));
        // Exactly 256 KiB passes.
        const largest = await createEmoji(alice, guildId, { name: "largest", image: dataUri("image/png", pngOfSize(MAX_IMAGE)) });
        assert.equal((await download(`/emojis/${largest.id}.png`)).body.length, MAX_IMAGE);
        const names = (await ok(200, EmojiResponseSchema, "GET", `/guilds/${guildId}/emojis`, { token: alice.token })).map((e: { name: string }) => e.name);
        assert.deepEqual(names, ["largest"]);
        // The guild's refusal (an unknown role) came after the image was stored: it went again.
        assert.deepEqual(storedImages(), [...imagesBefore, largest.id].sort());
        await formErrors({ name: "STRING_TYPE_REGEX" }, "PATCH", `/guilds/${guildId}/emojis/${largest.id}`, { token: alice.token, body: { name: "bad name" } });
      });

      it("permissions: members without rights are refused (50013), outsiders get 50001; CREATE_GUILD_EXPRESSIONS manages only its own", async () => {
        const alice = await register();
        const bob = await register();
        const carol = await register();
        const outsider = await register();
        const { guildId } = await guildWith(alice, bob, carol);
        const image = dataUri("image/png", pngImage(8, 8));
        const mine = await createEmoji(alice, guildId, { name: "alices", image });

        await fails(403, Codes.MissingPermissions, "POST", `/guilds/${guildId}/emojis`, { token: bob.token, body: { name: "bobs", image } });
        await fails(403, Codes.MissingPermissions, "PATCH", `/guilds/${guildId}/emojis/${mine.id}`, { token: bob.token, body: { name: "taken" } });
        await fails(403, Codes.MissingPermissions, "DELETE", `/guilds/${guildId}/emojis/${mine.id}`, { token: bob.token });
        await fails(403, Codes.MissingAccess, "GET", `/guilds/${guildId}/emojis`, { token: outsider.token });
        await fails(403, Codes.MissingAccess, "POST", `/guilds/${guildId}/emojis`, { token: outsider.token, body: { name: "outside", image } });
        // Members see the emojis, not who uploaded them.
        const seen = await ok(200, EmojiResponseSchema, "GET", `/guilds/${guildId}/emojis`, { token: bob.token });
        assert.deepEqual([seen.length, seen[0].user], [1, undefined]);

        await grant(alice, guildId, bob, P.CreateGuildExpressions);
        const bobs = await createEmoji(bob, guildId, { name: "bobs", image });
        assert.equal(bobs.user.id, bob.id);
        await ok(200, EmojiResponseSchema, "PATCH", `/guilds/${guildId}/emojis/${bobs.id}`, { token: bob.token, body: { name: "bobs_own" } });
        await fails(403, Codes.MissingPermissions, "PATCH", `/guilds/${guildId}/emojis/${mine.id}`, { token: bob.token, body: { name: "taken" } });
        await fails(403, Codes.MissingPermissions, "DELETE", `/guilds/${guildId}/emojis/${mine.id}`, { token: bob.token });

        await grant(alice, guildId, carol, P.ManageGuildExpressions);
        const forCarol = await ok(200, EmojiResponseSchema, "GET", `/guilds/${guildId}/emojis`, { token: carol.token });
        assert.deepEqual(forCarol.map((e: { user?: { id: string } }) => e.user?.id).sort(), [alice.id, bob.id].sort(), "MANAGE_GUILD_EXPRESSIONS sees the uploaders");
        assert.equal((await call("DELETE", `/guilds/${guildId}/emojis/${bobs.id}`, { token: carol.token })).status, 204);
        assert.equal((await call("DELETE", `/guilds/${guildId}/emojis/${bobs.id}`, { token: bob.token })).status, 404);
      });

      it("at most 50 static and 50 animated emojis (30008)", async () => {
        const alice = await register();
        const { guildId } = await guildWith(alice);
        const image = dataUri("image/png", pngImage(2, 2));
        for (let i = 0; i < 50; i++) await createEmoji(alice, guildId, { name: `static_${i}`, image });
        await fails(400, Codes.MaximumNumberOfEmojisReached, "POST", `/guilds/${guildId}/emojis`, { token: alice.token, body: { name: "one_more", image } });
        // The animated slots are apart.
        const gif = await createEmoji(alice, guildId, { name: "animated_one", image: dataUri("image/gif", gifImage(2, 2)) });
        assert.equal(gif.animated, true);
        const all = await ok(200, undefined, "GET", `/guilds/${guildId}/emojis`, { token: alice.token });
        assert.equal(all.length, 51);
        assert.ok(!all.some((e: { name: string }) => e.name === "one_more"));
      });

      it("reactions with a guild's custom emoji; an unknown one is 400 10014; buttons and select options carry custom emojis", async () => {
        const alice = await register();
        const { guildId, general } = await guildWith(alice);
        const emoji = await createEmoji(alice, guildId, { name: "thumbs", image: dataUri("image/png", pngImage(8, 8)) });
        const message = await ok(200, MessageResponseSchema, "POST", `/channels/${general}/messages`, { token: alice.token, body: { content: `look <:thumbs:${emoji.id}>` } });
        assert.equal(message.content, `look <:thumbs:${emoji.id}>`);

        const react = (path: string) => call("PUT", `/channels/${general}/messages/${message.id}/reactions/${encodeURIComponent(path)}/@me`, { token: alice.token });
        assert.equal((await react(`thumbs:${emoji.id}`)).status, 204);
        await fails(400, Codes.UnknownEmoji, "PUT", `/channels/${general}/messages/${message.id}/reactions/${encodeURIComponent("nope:1300000000000000099")}/@me`, { token: alice.token });
        const read = await ok(200, MessageResponseSchema, "GET", `/channels/${general}/messages/${message.id}`, { token: alice.token });
        assert.deepEqual(
          read.reactions.map((r: { emoji: { id: string; name: string }; count: number }) => [r.emoji.id, r.emoji.name, r.count]),
          [[emoji.id, "thumbs", 1]],
        );
        const users = await ok(200, undefined, "GET", `/channels/${general}/messages/${message.id}/reactions/${encodeURIComponent(`thumbs:${emoji.id}`)}`, { token: alice.token });
        assert.deepEqual(users.map((u: { id: string }) => u.id), [alice.id]);

        // An emoji limited to a role: unknown (10014) to a member without it, usable with it.
        const bob = await register();
        const invite = await ok(200, undefined, "POST", `/channels/${general}/invites`, { token: alice.token, body: {} });
        await ok(200, undefined, "POST", `/invites/${invite.code}`, { token: bob.token });
        const vip = await ok(200, undefined, "POST", `/guilds/${guildId}/roles`, { token: alice.token, body: { name: "vip" } });
        const limited = await createEmoji(alice, guildId, { name: "vip_only", image: dataUri("image/png", pngImage(8, 8)), roles: [vip.id] });
        const bobReacts = () => call("PUT", `/channels/${general}/messages/${message.id}/reactions/${encodeURIComponent(`vip_only:${limited.id}`)}/@me`, { token: bob.token });
        assert.deepEqual([(await bobReacts()).status, (await bobReacts()).body.code], [400, Codes.UnknownEmoji]);
        assert.equal((await call("PUT", `/guilds/${guildId}/members/${bob.id}/roles/${vip.id}`, { token: alice.token })).status, 204);
        assert.equal((await bobReacts()).status, 204);

        const withButtons = await ok(200, MessageResponseSchema, "POST", `/channels/${general}/messages`, {
          token: alice.token,
          body: {
            content: "pick",
            components: [
              { type: 1, components: [{ type: 2, style: 1, custom_id: "yes", label: "Yes", emoji: { id: emoji.id, name: "thumbs", animated: false } }] },
              { type: 1, components: [{ type: 3, custom_id: "menu", options: [{ label: "Thumbs", value: "t", emoji: { id: emoji.id, name: "thumbs" } }] }] },
            ],
          },
        });
        assert.deepEqual(withButtons.components[0].components[0].emoji, { id: emoji.id, name: "thumbs", animated: false });
        assert.equal(withButtons.components[1].components[0].options[0].emoji.id, emoji.id);
      });
    });

    describe("@discordjs/rest", () => {
      it("creates, lists, modifies and deletes emojis and reacts with one, unchanged", async () => {
        const alice = await register();
        const { guildId, general } = await guildWith(alice);
        const rest = new REST({ api: `${chorus.httpUrl}/api`, version: "10", authPrefix: "Bearer", timeout: 10_000 }).setToken(alice.token);
        try {
          const png = pngImage(16, 16);
          const emoji = (await rest.post(Routes.guildEmojis(guildId), { body: { name: "via_rest", image: dataUri("image/png", png) } })) as APIEmoji;
          assertEmoji(emoji);
          assert.equal(emoji.name, "via_rest");
          const listed = (await rest.get(Routes.guildEmojis(guildId))) as APIEmoji[];
          assert.deepEqual(listed.map((e) => e.id), [emoji.id]);
          const renamed = (await rest.patch(Routes.guildEmoji(guildId, emoji.id!), { body: { name: "renamed" } })) as APIEmoji;
          assert.equal(renamed.name, "renamed");

          const message = (await rest.post(Routes.channelMessages(general), { body: { content: `<:renamed:${emoji.id}>` } })) as APIMessage;
          await rest.put(Routes.channelMessageOwnReaction(general, message.id, encodeURIComponent(`renamed:${emoji.id}`)));
          const reacted = (await rest.get(Routes.channelMessage(general, message.id))) as APIMessage;
          assert.deepEqual(reacted.reactions?.map((r) => [r.emoji.id, r.count]), [[emoji.id, 1]]);

          await assert.rejects(rest.post(Routes.guildEmojis(guildId), { body: { name: "x", image: dataUri("image/png", png) } }), (err: unknown) => {
            assert.ok(err instanceof DiscordAPIError, String(err));
            assert.deepEqual([err.status, err.code], [400, Codes.InvalidFormBodyOrContentType]);
            assert.match(err.message, /name\[BASE_TYPE_BAD_LENGTH\]/);
            return true;
          });
          await rest.delete(Routes.guildEmoji(guildId, emoji.id!));
          await assert.rejects(rest.get(Routes.guildEmoji(guildId, emoji.id!)), (err: unknown) => err instanceof DiscordAPIError && err.code === Codes.UnknownEmoji && err.status === 404);
        } finally {
          rest.clearHashSweeper();
          rest.clearHandlerSweeper();
        }
      });
    });

    describe("gateway", () => {
      it("GUILD_CREATE lists the emojis; every change sends GUILD_EMOJIS_UPDATE with all of them, only to sessions with GUILD_EXPRESSIONS; a reaction's emoji says animated", async () => {
        const alice = await register();
        const bob = await register();
        const { guildId, general } = await guildWith(alice, bob);
        const first = await createEmoji(alice, guildId, { name: "first", image: dataUri("image/png", pngImage(8, 8)) });

        const listening = await session(bob, Intents.Guilds | Intents.GuildExpressions);
        const deaf = await session(bob, Intents.Guilds);
        try {
          const guildCreate = await waitFor("GUILD_CREATE", () => listening.received.find((p) => p.t === "GUILD_CREATE" && p.d.id === guildId));
          assert.deepEqual(guildCreate.d.emojis.map((e: { id: string; name: string }) => [e.id, e.name]), [[first.id, "first"]]);
          assertEmoji(guildCreate.d.emojis[0]);
          await waitFor("GUILD_CREATE without the intent", () => deaf.received.find((p) => p.t === "GUILD_CREATE" && p.d.id === guildId));

          const second = await createEmoji(alice, guildId, { name: "second", image: dataUri("image/gif", gifImage(8, 8)) });
          const update = await waitFor("GUILD_EMOJIS_UPDATE", () => listening.received.find((p) => p.t === "GUILD_EMOJIS_UPDATE"));
          assert.equal(update.d.guild_id, guildId);
          assert.deepEqual(update.d.emojis.map((e: { id: string; animated: boolean }) => [e.id, e.animated]), [[first.id, false], [second.id, true]]);
          update.d.emojis.forEach(assertEmoji);

          await ok(200, EmojiResponseSchema, "PATCH", `/guilds/${guildId}/emojis/${first.id}`, { token: alice.token, body: { name: "renamed" } });
          assert.equal((await call("DELETE", `/guilds/${guildId}/emojis/${second.id}`, { token: alice.token })).status, 204);
          const updates = () => listening.received.filter((p) => p.t === "GUILD_EMOJIS_UPDATE");
          await waitFor("three GUILD_EMOJIS_UPDATEs", () => updates().length === 3);
          assert.deepEqual(updates()[1].d.emojis.map((e: { name: string }) => e.name), ["renamed", "second"]);
          assert.deepEqual(updates()[2].d.emojis.map((e: { name: string }) => e.name), ["renamed"]);

          // A reaction with the GIF emoji: the event's emoji says it is animated, as Discord's.
          const gifEmoji = await createEmoji(alice, guildId, { name: "spin", image: dataUri("image/gif", gifImage(4, 4)) });
          const reactions = await session(bob, Intents.Guilds | Intents.GuildMessageReactions);
          try {
            const message = await ok(200, MessageResponseSchema, "POST", `/channels/${general}/messages`, { token: alice.token, body: { content: "spin" } });
            const put = await call("PUT", `/channels/${general}/messages/${message.id}/reactions/${encodeURIComponent(`spin:${gifEmoji.id}`)}/@me`, { token: alice.token });
            assert.equal(put.status, 204, JSON.stringify(put.body));
            const added = await waitFor("MESSAGE_REACTION_ADD", () => reactions.received.find((p) => p.t === "MESSAGE_REACTION_ADD"));
            assert.deepEqual(added.d.emoji, { id: gifEmoji.id, name: "spin", animated: true });
          } finally {
            reactions.close();
          }

          // Events of a guild come in order: once the session without the intent has the role
          // created after them, it would have had the emoji updates.
          const role = await ok(200, undefined, "POST", `/guilds/${guildId}/roles`, { token: alice.token, body: { name: "later" } });
          await waitFor("GUILD_ROLE_CREATE", () => deaf.received.find((p) => p.t === "GUILD_ROLE_CREATE" && p.d.role.id === role.id));
          assert.equal(deaf.received.filter((p) => p.t === "GUILD_EMOJIS_UPDATE").length, 0);
        } finally {
          listening.close();
          deaf.close();
        }
      });
    });

    describe("Connect EmojiService", () => {
      it("creates from bytes, lists, gets, modifies and deletes; errors keep Discord's codes and name the field", async () => {
        const alice = await register();
        const bob = await register();
        const { guildId } = await guildWith(alice, bob);
        const transport = createConnectTransport({ baseUrl: chorus.meshUrl, httpVersion: "1.1" });
        const client = createClient(EmojiService, transport);
        const as = (who: Person) => ({ headers: { authorization: `Bearer ${who.token}` } });
        const gid = BigInt(guildId);
        const png = pngImage(8, 8);

        const { emoji } = await client.createEmoji({ guildId: gid, name: "connect", image: png }, as(alice));
        assert.ok(emoji);
        assert.deepEqual([emoji.name, emoji.animated, String(emoji.userId)], ["connect", false, alice.id]);
        assert.ok((await download(`/emojis/${emoji.id}.png`)).body.equals(png));
        assert.deepEqual((await client.listEmojis({ guildId: gid }, as(bob))).emojis.map((e) => e.name), ["connect"]);
        assert.equal((await client.getEmoji({ guildId: gid, emojiId: emoji.id }, as(bob))).emoji?.name, "connect");
        const modified = await client.modifyEmoji({ guildId: gid, emojiId: emoji.id, name: "renamed" }, as(alice));
        assert.equal(modified.emoji?.name, "renamed");

        const refusal = async (work: Promise<unknown>, code: Code, discordCode: number, message?: RegExp) => {
          await assert.rejects(work, (err: unknown) => {
            assert.ok(err instanceof ConnectError, String(err));
            assert.equal(err.code, code, err.message);
            assert.equal(err.findDetails(ErrorReasonSchema)[0]?.code, discordCode, err.message);
            if (message) assert.match(err.rawMessage, message);
            return true;
          });
        };
        await refusal(client.createEmoji({ guildId: gid, name: "x", image: png }, as(alice)), Code.InvalidArgument, Codes.InvalidFormBodyOrContentType, /^name: /);
        await refusal(client.createEmoji({ guildId: gid, name: "text", image: Buffer.from("hello") }, as(alice)), Code.InvalidArgument, Codes.InvalidFormBodyOrContentType, /^image: /);
        await refusal(client.createEmoji({ guildId: gid, name: "bobs", image: png }, as(bob)), Code.PermissionDenied, Codes.MissingPermissions);
        await refusal(client.getEmoji({ guildId: gid, emojiId: 1300000000000000099n }, as(bob)), Code.NotFound, Codes.UnknownEmoji);

        // GuildService.Execute does not take emoji commands: the image goes with them.
        const guildService = createClient(ApiGuildService, transport);
        await assert.rejects(
          guildService.execute({ guildId: gid, command: { command: { case: "deleteEmoji", value: { emojiId: emoji.id } } } }, as(alice)),
          (err: unknown) => err instanceof ConnectError && err.code === Code.InvalidArgument && err.rawMessage.startsWith("command: "),
        );

        await client.deleteEmoji({ guildId: gid, emojiId: emoji.id }, as(alice));
        assert.deepEqual((await client.listEmojis({ guildId: gid }, as(alice))).emojis, []);
        assert.equal((await download(`/emojis/${emoji.id}.png`)).status, 404);

        // GuildService.Execute's DeleteGuild takes the images along too.
        const kept = (await client.createEmoji({ guildId: gid, name: "kept", image: png }, as(alice))).emoji!;
        await refusal(guildService.execute({ guildId: gid, command: { command: { case: "deleteGuild", value: {} } } }, as(bob)), Code.PermissionDenied, Codes.MissingPermissions);
        assert.equal((await download(`/emojis/${kept.id}.png`)).status, 200, "a refused delete keeps them");
        const removed = await guildService.execute({ guildId: gid, command: { command: { case: "deleteGuild", value: {} } } }, as(alice));
        assert.equal(removed.result?.result.case, "removed");
        assert.equal((await download(`/emojis/${kept.id}.png`)).status, 404);
      });
    });
  });
}

function assertEmoji(value: unknown) {
  const result = EmojiResponseSchema.safeParse(value);
  assert.ok(result.success, `${JSON.stringify(value)}: ${String(result.error)}`);
}

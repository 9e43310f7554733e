// discord.js (npm, v14) against Chorus, unchanged: a bot made through the api logs in with a
// `Client` pointed at Chorus's REST URL (it finds the gateway through GET /gateway/bot), gets
// `messageCreate` for what a person posts over HTTP, answers with `message.reply`, and the
// person's own gateway session receives the reply. Embedded mode and cluster mode.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApplicationFlags, Client, Events, GatewayIntentBits as G, type Message, PermissionFlagsBits as P } from "discord.js";
import { startEmbeddedChorus, waitFor } from "@chorus/testing";
import { startChorusCluster } from "./chorus-cluster.js";
import { ChorusRest, type Person } from "./chorus-rest.js";
import { DiscordSession } from "./discord-session.js";

/** What the bot is granted when it joins (its managed role). */
const BOT_PERMISSIONS = (P.ViewChannel | P.SendMessages | P.ReadMessageHistory).toString();
const PERSON_INTENTS = G.Guilds | G.GuildMessages | G.MessageContent;

function describeDiscordJs(mode: string, start: () => Promise<{ rest: ChorusRest; stop(): Promise<void> | void }>) {
  describe(`discord.js bot (${mode} mode)`, () => {
    let rest: ChorusRest;
    let stop: () => Promise<void> | void = () => {};
    let client: Client | undefined;
    let session: DiscordSession | undefined;
    const debug: string[] = [];

    before(async () => {
      ({ rest, stop } = await start());
    });
    after(async () => {
      await client?.destroy();
      session?.close();
      await stop();
    });

    it("logs in, gets messageCreate for a person's message, replies, and the person's session gets the reply", async (t) => {
      const owner = await rest.register("djs_owner");
      const ada: Person = await rest.register("djs_ada");
      const { guildId, generalId: general } = await rest.createGuild(owner, "discord.js guild");
      await rest.join(general, owner, [ada]);
      // A channel only the owner sees: the bot must not hear of it.
      const staff = (
        await rest.ok("POST", `/guilds/${guildId}/channels`, owner.token, {
          name: "staff",
          type: 0,
          permission_overwrites: [{ id: guildId, type: 0, deny: P.ViewChannel.toString() }],
        })
      ).id;

      // An application with a bot that may ask for MESSAGE_CONTENT, added to the guild by its owner.
      const bot = await rest.createBot(owner, "Pong bot");
      await rest.ok("PATCH", `/applications/${bot.id}`, owner.token, { flags: ApplicationFlags.GatewayMessageContentLimited });
      await rest.ok("POST", `/oauth2/authorize?client_id=${bot.id}&scope=bot&permissions=${BOT_PERMISSIONS}`, owner.token, {
        guild_id: guildId,
        permissions: BOT_PERMISSIONS,
        authorize: true,
      });

      // Ada's own session, on the gateway Chorus hands out.
      const { url } = await rest.ok("GET", "/gateway");
      session = await DiscordSession.identify("ada", url, ada.token, PERSON_INTENTS);

      const heard: Message[] = [];
      const replies: Message[] = [];
      const failures: unknown[] = [];
      client = new Client({
        intents: [G.Guilds, G.GuildMessages, G.MessageContent],
        rest: { api: `${rest.baseUrl}/api`, version: "10" },
      });
      client.on(Events.Debug, (line) => debug.push(line));
      client.on(Events.Error, (err) => failures.push(err));
      client.on(Events.MessageCreate, async (message) => {
        if (message.author.bot) return;
        heard.push(message);
        if (message.content !== "ping") return;
        try {
          replies.push(await message.reply("pong"));
        } catch (err) {
          failures.push(err);
        }
      });
      let ready = false;
      client.once(Events.ClientReady, () => (ready = true));
      try {
        await client.login(bot.token);
        await waitFor("discord.js to be ready", () => ready, 30_000);
      } catch (err) {
        t.diagnostic(debug.join("\n"));
        throw err;
      }
      assert.equal(client.user?.id, bot.id);
      assert.equal(client.user?.bot, true);
      assert.equal(client.application?.id, bot.id);
      const guild = client.guilds.cache.get(guildId);
      assert.ok(guild, "the guild is in discord.js's cache");
      assert.ok(guild.channels.cache.has(general), "with its general channel");
      assert.ok(!guild.channels.cache.has(staff), "but not the channel the bot may not see");
      assert.ok(guild.members.me, "the bot's own member");

      // Something the bot may not see first; then Ada's ping.
      await rest.post(owner, staff, "ping");
      const ping = await rest.post(ada, general, "ping");
      await waitFor("the bot to reply", () => replies.length > 0 || failures.length > 0, 20_000);
      assert.deepEqual(failures, []);
      assert.deepEqual(
        heard.map((m) => [m.id, m.content, m.author.id, m.channelId, m.guildId, m.member?.id]),
        [[ping.id, "ping", ada.id, general, guildId, ada.id]],
        "messageCreate for Ada's ping (with its content), none for the staff channel",
      );
      const [reply] = replies;
      assert.equal(reply.reference?.messageId, ping.id);
      assert.equal(reply.author.id, bot.id);

      // Ada's session receives the reply as Discord would send it.
      const received = await session.next("the bot's reply", (p) => p.t === "MESSAGE_CREATE" && p.d.id === reply.id);
      const d = received.d;
      assert.deepEqual(
        [d.content, d.type, d.author.id, d.author.bot, d.channel_id, d.guild_id, d.message_reference?.message_id, d.referenced_message?.id],
        ["pong", 19, bot.id, true, general, guildId, ping.id, ping.id],
      );
      assert.ok(
        d.mentions.some((u: { id: string }) => u.id === ada.id),
        "a reply mentions the author it answers",
      );
      assert.deepEqual(
        session.events("MESSAGE_CREATE").map((m) => m.id),
        [ping.id, reply.id],
        "Ada's session: her ping and the reply, once each",
      );
      assert.deepEqual(session.faults, []);
    });
  });
}

describeDiscordJs("embedded", async () => {
  const chorus = await startEmbeddedChorus();
  return { rest: new ChorusRest(`http://127.0.0.1:${chorus.ports.http}`), stop: () => chorus.stop() };
});

describeDiscordJs("cluster", async () => {
  const cluster = await startChorusCluster({ guilds: 1, relays: 2, gateways: 2 });
  return { rest: cluster.rest, stop: () => cluster.stop() };
});

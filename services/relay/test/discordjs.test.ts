// discord.js (npm, v14) against Chorus, unchanged: a bot made through the api logs in with a
// `Client` pointed at Chorus's REST URL (it finds the gateway through GET /gateway/bot), gets
// `messageCreate` for what a person posts over HTTP, answers with `message.reply`, and the
// person's own gateway session receives the reply. Embedded mode and cluster mode; in cluster
// mode behind one gateway address also the death of the bot's gateway node, which discord.js
// survives by resuming on another node.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApplicationFlags, Client, Events, GatewayIntentBits as G, type Message, PermissionFlagsBits as P } from "discord.js";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { freePort, startEmbeddedChorus, waitFor } from "@chorus/testing";
import { startChorusCluster, type ChorusCluster } from "./chorus-cluster.js";
import { ChorusRest, type Person } from "./chorus-rest.js";
import { DiscordSession } from "./discord-session.js";
import { TcpBalancer } from "./tcp-balancer.js";

/** What the bot is granted when it joins (its managed role). */
const BOT_PERMISSIONS = (P.ViewChannel | P.SendMessages | P.ReadMessageHistory).toString();
const PERSON_INTENTS = G.Guilds | G.GuildMessages | G.MessageContent;

interface Scene {
  owner: Person;
  ada: Person;
  guildId: string;
  general: string;
  /** A channel only the owner sees. */
  staff: string;
  bot: { id: string; token: string };
}

/** A guild with Ada in it, a channel only its owner sees, and a bot that may ask for MESSAGE_CONTENT, added by the owner. */
async function setUpScene(rest: ChorusRest): Promise<Scene> {
  const owner = await rest.register("djs_owner");
  const ada = await rest.register("djs_ada");
  const { guildId, generalId: general } = await rest.createGuild(owner, "discord.js guild");
  await rest.join(general, owner, [ada]);
  const staff = (
    await rest.ok("POST", `/guilds/${guildId}/channels`, owner.token, {
      name: "staff",
      type: 0,
      permission_overwrites: [{ id: guildId, type: 0, deny: P.ViewChannel.toString() }],
    })
  ).id;
  const bot = await rest.createBot(owner, "Pong bot");
  await rest.ok("PATCH", `/applications/${bot.id}`, owner.token, { flags: ApplicationFlags.GatewayMessageContentLimited });
  await rest.ok("POST", `/oauth2/authorize?client_id=${bot.id}&scope=bot&permissions=${BOT_PERMISSIONS}`, owner.token, {
    guild_id: guildId,
    permissions: BOT_PERMISSIONS,
    authorize: true,
  });
  return { owner, ada, guildId, general, staff, bot };
}

/** A discord.js bot that answers "ping" with a reply "pong", recording what it heard and did. */
class PongBot {
  readonly client: Client;
  readonly heard: Message[] = [];
  readonly replies: Message[] = [];
  readonly failures: unknown[] = [];
  readonly debug: string[] = [];
  /** discord.js's shard lifecycle events, in order. */
  readonly shardEvents: string[] = [];
  ready = false;

  constructor(rest: ChorusRest) {
    this.client = new Client({
      intents: [G.Guilds, G.GuildMessages, G.MessageContent],
      rest: { api: `${rest.baseUrl}/api`, version: "10" },
    });
    this.client.on(Events.Debug, (line) => this.debug.push(line));
    this.client.on(Events.Error, (err) => this.failures.push(err));
    this.client.on(Events.ShardReady, () => this.shardEvents.push("ready"));
    this.client.on(Events.ShardResume, () => this.shardEvents.push("resume"));
    this.client.on(Events.ShardDisconnect, () => this.shardEvents.push("disconnect"));
    this.client.once(Events.ClientReady, () => (this.ready = true));
    this.client.on(Events.MessageCreate, async (message) => {
      if (message.author.bot) return;
      this.heard.push(message);
      if (message.content !== "ping") return;
      try {
        this.replies.push(await message.reply("pong"));
      } catch (err) {
        this.failures.push(err);
      }
    });
  }

  async login(token: string): Promise<void> {
    try {
      await this.client.login(token);
      await waitFor("discord.js to be ready", () => this.ready, 30_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\ndiscord.js said:\n${this.debug.join("\n")}`);
    }
  }

  async replyTo(messageId: string): Promise<Message> {
    const reply = await waitFor(`the bot's reply to ${messageId}`, () => {
      if (this.failures.length > 0) throw new Error(`discord.js failed: ${this.failures.map(String).join("; ")}`);
      return this.replies.find((r) => r.reference?.messageId === messageId);
    }, 30_000);
    return reply;
  }

  async destroy(): Promise<void> {
    await this.client.destroy();
  }
}

/** Ada's session got the bot's reply to `ping` as Discord sends a reply. */
async function assertReplyReceived(session: DiscordSession, scene: Scene, ping: string, reply: Message): Promise<void> {
  const { d } = await session.next(`the bot's reply ${reply.id}`, (p) => p.t === "MESSAGE_CREATE" && p.d.id === reply.id);
  assert.deepEqual(
    [d.content, d.type, d.author.id, d.author.bot, d.channel_id, d.guild_id, d.message_reference?.message_id, d.referenced_message?.id],
    ["pong", 19, scene.bot.id, true, scene.general, scene.guildId, ping, ping],
  );
  assert.ok(
    d.mentions.some((u: { id: string }) => u.id === scene.ada.id),
    "a reply mentions the author it answers",
  );
}

function describeDiscordJs(mode: string, start: () => Promise<{ rest: ChorusRest; stop(): Promise<void> | void }>) {
  describe(`discord.js bot (${mode} mode)`, () => {
    let rest: ChorusRest;
    let stop: () => Promise<void> | void = () => {};
    let bot: PongBot | undefined;
    let session: DiscordSession | undefined;

    before(async () => {
      ({ rest, stop } = await start());
    });
    after(async () => {
      await bot?.destroy();
      session?.close();
      await stop();
    });

    it("logs in, gets messageCreate for a person's message, replies, and the person's session gets the reply", async () => {
      const scene = await setUpScene(rest);
      const { url } = await rest.ok("GET", "/gateway");
      session = await DiscordSession.identify("ada", url, scene.ada.token, PERSON_INTENTS);

      bot = new PongBot(rest);
      await bot.login(scene.bot.token);
      const { client } = bot;
      assert.equal(client.user?.id, scene.bot.id);
      assert.equal(client.user?.bot, true);
      assert.equal(client.application?.id, scene.bot.id);
      const guild = client.guilds.cache.get(scene.guildId);
      assert.ok(guild, "the guild is in discord.js's cache");
      assert.ok(guild.channels.cache.has(scene.general), "with its general channel");
      assert.ok(!guild.channels.cache.has(scene.staff), "but not the channel the bot may not see");
      assert.ok(guild.members.me, "the bot's own member");

      // Something the bot may not see first; then Ada's ping.
      await rest.post(scene.owner, scene.staff, "ping");
      const ping = await rest.post(scene.ada, scene.general, "ping");
      const reply = await bot.replyTo(ping.id);
      assert.deepEqual(
        bot.heard.map((m) => [m.id, m.content, m.author.id, m.channelId, m.guildId, m.member?.id]),
        [[ping.id, "ping", scene.ada.id, scene.general, scene.guildId, scene.ada.id]],
        "messageCreate for Ada's ping (with its content), none for the staff channel",
      );
      assert.equal(reply.author.id, scene.bot.id);
      await assertReplyReceived(session, scene, ping.id, reply);
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

describe("discord.js bot behind one gateway address (cluster mode)", () => {
  let cluster: ChorusCluster;
  let balancer: TcpBalancer;
  let bot: PongBot | undefined;
  let session: DiscordSession | undefined;

  before(async () => {
    // The gateways announce the balancer's address, as nodes behind a load balancer do.
    balancer = new TcpBalancer(() => cluster.gateways.map((g) => Number(new URL(cluster.directUrl(g)).port)));
    const port = await balancer.listen(await freePort());
    cluster = await startChorusCluster({ guilds: 1, relays: 1, gateways: 2, gatewayPublicUrl: `ws://127.0.0.1:${port}` });
  });
  after(async () => {
    await bot?.destroy();
    session?.close();
    await cluster?.stop();
    await balancer?.close();
  });

  it("the bot's gateway node is killed: discord.js resumes on the other node and answers what was posted meanwhile, once", async () => {
    const { rest } = cluster;
    const scene = await setUpScene(rest);
    bot = new PongBot(rest);
    await bot.login(scene.bot.token);

    // Which node holds the bot's session: the guild's owner knows.
    const online = async () => (await cluster.mesh.clients.client(GuildService, BigInt(scene.guildId)).listOnline({ guildId: BigInt(scene.guildId) })).sessions;
    const botSession = await waitFor("the bot online on the guild", async () => (await online()).find((s) => String(s.userId) === scene.bot.id));
    const doomed = cluster.gateways.find((g) => g.instanceId === botSession.gatewayInstanceId);
    const survivor = cluster.gateways.find((g) => g !== doomed);
    assert.ok(doomed && survivor, `the bot's node ${botSession.gatewayInstanceId} is one of the gateways`);
    // Ada is on the other node, directly: her session lives through the kill.
    session = await DiscordSession.identify("ada", cluster.directUrl(survivor), scene.ada.token, PERSON_INTENTS);

    const first = await rest.post(scene.ada, scene.general, "ping");
    await assertReplyReceived(session, scene, first.id, await bot.replyTo(first.id));

    await doomed.kill("SIGKILL");
    // Posted while the bot has no connection: it reaches the bot through its resume buffer.
    const second = await rest.post(scene.ada, scene.general, "ping");
    const reply = await bot.replyTo(second.id);
    await assertReplyReceived(session, scene, second.id, reply);
    assert.deepEqual(
      bot.heard.map((m) => m.id),
      [first.id, second.id],
      "the bot heard each ping once",
    );
    assert.deepEqual(bot.shardEvents.filter((e) => e !== "disconnect"), ["ready", "resume"], "a resume, not a new session");
    await waitFor("the owner to list the bot's session on the surviving node", async () =>
      (await online()).some((s) => s.sessionId === botSession.sessionId && s.gatewayInstanceId === survivor.instanceId),
    );
    assert.deepEqual(bot.failures, []);
    assert.deepEqual(session.faults, []);
  });
});

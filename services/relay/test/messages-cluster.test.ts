// Messages and guild events end to end in cluster mode, on real etcd, Redis and Cassandra:
// storage, two guild nodes, two relays, two gateways and an api, each its own process in one
// registry namespace. People register and join a guild over HTTP and keep Discord v10 gateway
// sessions on both gateways; what each session received is checked as a whole sequence:
// every message of a channel it may see exactly once and in id order, nothing of a channel it
// may not see, and the same after a gateway (sessions resume on the other node) or a relay is
// killed with SIGKILL mid-stream.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { GatewayIntentBits as I, PermissionFlagsBits as P } from "discord-api-types/v10";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { RelayService } from "@chorus/contracts/chorus/relay/v1/relay_pb";
import { waitFor } from "@chorus/testing";
import { startChorusCluster, type ChorusCluster } from "./chorus-cluster.js";
import type { ChorusRest, Person } from "./chorus-rest.js";
import { DiscordSession } from "./discord-session.js";

/** What every session asks for; the sessions on the second gateway add members and typing. */
const BASE_INTENTS = I.Guilds | I.GuildMessages | I.MessageContent;
const MORE_INTENTS = BASE_INTENTS | I.GuildMembers | I.GuildMessageTyping;
const VIEW_CHANNEL = P.ViewChannel.toString();

interface Member {
  person: Person;
  /** Has the role that may see the private channels (the owner sees them as owner). */
  insider: boolean;
  sessions: DiscordSession[];
}

const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

describe("messages and guild events through relays and gateways (cluster mode)", () => {
  let cluster: ChorusCluster;
  let rest: ChorusRest;
  let guildId: string;
  let general: string;
  let secret: string;
  let roleId: string;
  const members: Member[] = [];
  let owner: Member;

  const sessions = () => members.flatMap((m) => m.sessions);
  /** Sessions that may see the private channels. */
  const viewers = (channel: string) => (channel === general ? () => true : (m: Member) => m.insider);

  /** MESSAGE_CREATE ids a session got out of `ids`, in the order it got them. */
  const got = (session: DiscordSession, ids: ReadonlySet<string>) => session.events("MESSAGE_CREATE", (d) => ids.has(d.id)).map((d) => d.id as string);

  /** Posts a message to general and waits until every session in `among` has it: everything fanned out before it has been delivered. */
  const fence = async (among: DiscordSession[] = sessions()) => {
    const { id } = await rest.post(owner.person, general, `fence ${Date.now()}`);
    try {
      await waitFor("every session to receive the fence", () => among.every((s) => s.events("MESSAGE_CREATE", (d) => d.id === id).length > 0), 30_000, 50);
    } catch (err) {
      const missing = among.filter((s) => s.events("MESSAGE_CREATE", (d) => d.id === id).length === 0).map((s) => `${s.label} (closed: ${s.closed})`);
      throw new Error(`${(err as Error).message}; missing on ${missing.join(", ")}`);
    }
    return id;
  };

  /**
   * Every session that may see the channel got exactly `ids` (in id order), those in `mayMiss`
   * some of them (still in order, once); the others nothing from the channel at all.
   */
  const assertDelivered = (channel: string, ids: readonly string[], mayMiss: ReadonlySet<DiscordSession> = new Set()) => {
    const expected = [...ids].sort(byId);
    const wanted = new Set(ids);
    const mayView = viewers(channel);
    for (const member of members) {
      for (const session of member.sessions) {
        const received = got(session, wanted);
        if (!mayView(member)) {
          assert.deepEqual(session.history.filter((p) => p.d?.channel_id === channel || p.d?.id === channel), [], `${session.label} may not see ${channel}`);
        } else if (mayMiss.has(session)) {
          const seen = new Set(received);
          assert.deepEqual(received, expected.filter((id) => seen.has(id)), `${session.label}: messages of ${channel} once, in order`);
        } else {
          assert.deepEqual(received, expected, `${session.label}: every message of ${channel} once, in order`);
        }
      }
    }
  };

  /** Session numbering never skipped or repeated, no message twice in any session's life. */
  const assertCleanHistories = () => {
    for (const session of sessions()) {
      assert.deepEqual(session.faults, [], `${session.label}: s numbering`);
      const ids = session.events("MESSAGE_CREATE").map((d) => d.id as string);
      assert.equal(new Set(ids).size, ids.length, `${session.label}: no message twice`);
    }
  };

  before(async () => {
    cluster = await startChorusCluster({ guilds: 2, relays: 2, gateways: 2 });
    rest = cluster.rest;

    // The owner, four people with the insiders' role, five without.
    const people = [await rest.register("owner")];
    for (let i = 1; i < 10; i++) people.push(await rest.register(`u${i}`));
    ({ guildId, generalId: general } = await rest.createGuild(people[0], "Fan-out guild"));
    roleId = (await rest.ok("POST", `/guilds/${guildId}/roles`, people[0].token, { name: "insiders" })).id;
    secret = (
      await rest.ok("POST", `/guilds/${guildId}/channels`, people[0].token, {
        name: "secret",
        type: 0,
        permission_overwrites: [
          { id: guildId, type: 0, deny: VIEW_CHANNEL },
          { id: roleId, type: 0, allow: VIEW_CHANNEL },
        ],
      })
    ).id;
    await rest.join(general, people[0], people.slice(1));
    for (const person of people.slice(1, 5)) await rest.ok("PUT", `/guilds/${guildId}/members/${person.id}/roles/${roleId}`, people[0].token);
    people.forEach((person, i) => members.push({ person, insider: i < 5, sessions: [] }));
    owner = members[0];

    // One session per person on each gateway.
    const [a, b] = cluster.gateways;
    for (const [i, member] of members.entries()) {
      const name = i === 0 ? "owner" : `u${i}`;
      member.sessions.push(await DiscordSession.identify(`${name}@A`, a.urls.gateway, member.person.token, BASE_INTENTS));
      member.sessions.push(await DiscordSession.identify(`${name}@B`, b.urls.gateway, member.person.token, MORE_INTENTS));
    }
    await waitFor("the guild's owner to list the 20 sessions online", async () => {
      const online = await cluster.mesh.clients.client(GuildService, BigInt(guildId)).listOnline({ guildId: BigInt(guildId) });
      return online.sessions.length === 20;
    });
  });

  after(async () => {
    for (const session of sessions()) session.drop();
    await cluster?.stop();
  });

  it("sessions start as Discord's: READY names the guild and the node to resume on, GUILD_CREATE has the channels", () => {
    for (const member of members) {
      for (const [node, session] of member.sessions.entries()) {
        assert.equal(session.userId, member.person.id);
        assert.equal(session.resumeUrl, cluster.gateways[node].urls.gateway, `${session.label}: resume_gateway_url is its node's`);
        const [guild] = session.events("GUILD_CREATE");
        assert.equal(guild.id, guildId);
        const channels = guild.channels.map((c: any) => c.id);
        assert.ok(channels.includes(general), `${session.label}: general in GUILD_CREATE`);
        assert.equal(channels.includes(secret), member.insider, `${session.label}: secret in GUILD_CREATE only for those who may see it`);
      }
    }
  });

  it("two senders, two channels: every message once and in order to each session that may see its channel, nothing to the others", async () => {
    const senders = [owner, members[1]];
    const sent = { [general]: [] as string[], [secret]: [] as string[] };
    const contents = new Map<string, string>();
    await Promise.all(
      senders.map(async (sender, s) => {
        for (let i = 0; i < 25; i++) {
          for (const channel of i % 2 === 0 ? [general, secret] : [general]) {
            const content = `sender ${s} #${i} in ${channel === general ? "general" : "secret"}`;
            const message = await rest.post(sender.person, channel, content);
            assert.equal(message.content, content);
            sent[channel].push(message.id);
            contents.set(message.id, content);
          }
        }
      }),
    );
    assert.deepEqual([sent[general].length, sent[secret].length], [50, 26]);
    await fence();
    assertDelivered(general, sent[general]);
    assertDelivered(secret, sent[secret]);
    for (const session of sessions()) {
      for (const d of session.events("MESSAGE_CREATE", (d) => contents.has(d.id))) {
        assert.equal(d.content, contents.get(d.id), `${session.label}: content of ${d.id}`);
        assert.equal(d.guild_id, guildId);
      }
    }
    assertCleanHistories();
  });

  it("guild events: CHANNEL_CREATE to those who may see the channel, GUILD_MEMBER_ADD with GUILD_MEMBERS, GUILD_CREATE to the new member, TYPING_START with GUILD_MESSAGE_TYPING", async () => {
    const news = (await rest.ok("POST", `/guilds/${guildId}/channels`, owner.person.token, { name: "news", type: 0 })).id;
    const vault = (
      await rest.ok("POST", `/guilds/${guildId}/channels`, owner.person.token, {
        name: "vault",
        type: 0,
        permission_overwrites: [
          { id: guildId, type: 0, deny: VIEW_CHANNEL },
          { id: roleId, type: 0, allow: VIEW_CHANNEL },
        ],
      })
    ).id;
    const typist = members[1];
    await rest.ok("POST", `/channels/${general}/typing`, typist.person.token);
    await rest.ok("POST", `/channels/${secret}/typing`, typist.person.token);

    // Someone connected before joining: READY with no guild, then the guild arrives as GUILD_CREATE.
    const newcomer: Member = { person: await rest.register("newcomer"), insider: false, sessions: [] };
    const session = await DiscordSession.identify("newcomer@A", cluster.gateways[0].urls.gateway, newcomer.person.token, MORE_INTENTS);
    newcomer.sessions.push(session);
    assert.deepEqual(session.events("READY")[0].guilds, []);
    await rest.join(general, owner.person, [newcomer.person]);
    const joined = await session.next("GUILD_CREATE of the joined guild", (p) => p.t === "GUILD_CREATE" && p.d.id === guildId);
    assert.ok(joined.d.channels.some((c: any) => c.id === news));
    assert.ok(joined.d.members.some((m: any) => m.user.id === newcomer.person.id));
    const regulars = [...members];
    members.push(newcomer);
    const fenceId = await fence();

    for (const member of regulars) {
      for (const s of member.sessions) {
        const hasMembers = (s.intents & I.GuildMembers) !== 0;
        const hasTyping = (s.intents & I.GuildMessageTyping) !== 0;
        assert.equal(s.events("CHANNEL_CREATE", (d) => d.id === news).length, 1, `${s.label}: CHANNEL_CREATE news`);
        assert.equal(s.events("CHANNEL_CREATE", (d) => d.id === vault).length, member.insider ? 1 : 0, `${s.label}: CHANNEL_CREATE vault`);
        assert.deepEqual(
          s.events("GUILD_MEMBER_ADD").map((d) => [d.guild_id, d.user.id]),
          hasMembers ? [[guildId, newcomer.person.id]] : [],
          `${s.label}: GUILD_MEMBER_ADD`,
        );
        if (member === typist) continue;
        const typing = s.events("TYPING_START", (d) => d.user_id === typist.person.id).map((d) => d.channel_id);
        assert.deepEqual(typing, hasTyping ? (member.insider ? [general, secret] : [general]) : [], `${s.label}: TYPING_START`);
      }
    }
    // The new member now gets the guild's messages, and only what it may see.
    assert.equal(session.events("MESSAGE_CREATE", (d) => d.id === fenceId).length, 1);
    assert.deepEqual(
      session.history.filter((p) => p.d?.channel_id === secret || p.d?.channel_id === vault),
      [],
      "the newcomer may not see the private channels",
    );
    assertCleanHistories();
  });

  /** The stream of the gateway kill, and the sessions that were on the killed node. */
  const gatewayKill = { sent: {} as Record<string, string[]>, resumed: new Set<DiscordSession>() };

  it("a gateway killed mid-stream: its sessions resume on the other node, in order and without duplicates; the other node's sessions miss nothing", async () => {
    const [doomed, survivor] = cluster.gateways;
    const onDoomed = sessions().filter((s) => s.resumeUrl === doomed.urls.gateway);
    assert.equal(onDoomed.length, 11);
    const sent = (gatewayKill.sent = { [general]: [] as string[], [secret]: [] as string[] });
    let stop = false;
    const stream = (sender: Member, channel: string, count: number) =>
      (async () => {
        for (let i = 0; i < count && !stop; i++) sent[channel].push((await rest.post(sender.person, channel, `stream ${i}`)).id);
      })();
    const streams = Promise.all([stream(members[2], general, 40), stream(owner, secret, 20)]);
    try {
      const watched = onDoomed[0];
      await waitFor("the stream to be under way", () => got(watched, new Set(sent[general])).length >= 10, 30_000, 20);
      await doomed.kill("SIGKILL");
      await waitFor("the killed node's connections to drop", () => onDoomed.every((s) => s.closed !== undefined));
      const counts = onDoomed.map((s) => got(s, new Set(sent[general])).length);
      await Promise.all(onDoomed.map((s) => s.resume(survivor.urls.gateway)));
      await streams;
      assert.ok(
        counts.some((n) => n < 40),
        `the kill came mid-stream (messages seen before it: ${counts.join(", ")})`,
      );
    } finally {
      stop = true;
      await streams;
    }
    assert.deepEqual([sent[general].length, sent[secret].length], [40, 20]);
    onDoomed.forEach((s) => gatewayKill.resumed.add(s));
    await fence();
    assertDelivered(general, sent[general], gatewayKill.resumed);
    assertDelivered(secret, sent[secret], gatewayKill.resumed);
    for (const s of onDoomed) assert.equal(s.connections, 2, `${s.label} resumed once`);
    assertCleanHistories();
    // The guild's owner reaches them on the survivor now.
    await waitFor("the owner to list every session on the surviving node", async () => {
      const online = await cluster.mesh.clients.client(GuildService, BigInt(guildId)).listOnline({ guildId: BigInt(guildId) });
      return online.sessions.length === 21 && online.sessions.every((s) => s.gatewayInstanceId === survivor.instanceId);
    });
  });

  it(
    "a gateway killed mid-stream: the resumed sessions got every message they missed",
    () => {
      assert.ok(gatewayKill.resumed.size > 0, "the kill test ran");
      assertDelivered(general, gatewayKill.sent[general]);
      assertDelivered(secret, gatewayKill.sent[secret]);
    },
  );

  it("a new gateway takes the dead one's place", async () => {
    const replacement = await cluster.startGateway();
    const added = [];
    for (const i of [3, 7]) {
      const session = await DiscordSession.identify(`u${i}@C`, replacement.urls.gateway, members[i].person.token, BASE_INTENTS);
      members[i].sessions.push(session);
      added.push(session);
    }
    const ids = [await fence(), await fence()];
    for (const session of added) assert.deepEqual(got(session, new Set(ids)), ids);
  });

  it("a relay killed: the next messages still reach everyone", async () => {
    const [first] = cluster.relays;
    await first.kill("SIGKILL");
    // Right away, while the registry still lists the dead relay.
    const sent = { [general]: [] as string[], [secret]: [] as string[] };
    await Promise.all(
      [owner, members[4]].map(async (sender) => {
        for (let i = 0; i < 10; i++) {
          sent[general].push((await rest.post(sender.person, general, `after the kill ${i}`)).id);
          if (i % 3 === 0) sent[secret].push((await rest.post(sender.person, secret, `secret after the kill ${i}`)).id);
        }
      }),
    );
    await fence();
    assertDelivered(general, sent[general]);
    assertDelivered(secret, sent[secret]);
    assertCleanHistories();
  });

  it(
    "a relay killed mid-stream: no message is lost (Fanout is retried on another relay)",
    async () => {
      // A new relay joins; then the other original one dies while a stream is under way.
      const third = await cluster.startRelay();
      const doomed = cluster.relays[1];
      const streamed: string[] = [];
      let stop = false;
      const stream = (async () => {
        for (let i = 0; i < 40 && !stop; i++) streamed.push((await rest.post(members[5].person, general, `relay stream ${i}`)).id);
      })();
      try {
        await waitFor("the stream to be under way", () => got(owner.sessions[0], new Set(streamed)).length >= 10, 30_000, 20);
        await doomed.kill("SIGKILL");
        await stream;
      } finally {
        stop = true;
        await stream;
      }
      assert.equal(streamed.length, 40);
      await fence();
      assertDelivered(general, streamed);
      assertCleanHistories();
      const instance = cluster.mesh.registry.instances("relay").find((i) => i.id === third.instanceId);
      assert.ok(instance, "the new relay is registered");
      assert.ok((await cluster.mesh.clients.clientFor(RelayService, instance).getStatus({})).cachedGuilds >= 1, "the new relay took part in the fan-out");
    },
  );
});

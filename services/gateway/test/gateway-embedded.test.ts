// The gateway in embedded mode (`npm start`'s process: every service in one process, sessions
// in memory): the protocol as Discord clients see it, driven through the public ports.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ApplicationFlags, GatewayIntentBits as I } from "discord-api-types/v10";
import { GatewayService } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { startEmbeddedChorus, waitFor, type EmbeddedChorusProcess } from "@chorus/testing";
import { ChorusHttp } from "./chorus-http.js";
import { GatewayClient, connectSession, identifyCloseCode } from "./gateway-client.js";

const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));
let deliveries = 0;
const deliveryId = () => `test-${process.pid}-${deliveries++}`;
const START_LIMIT = 3;

describe("gateway (embedded mode)", () => {
  let chorus: EmbeddedChorusProcess;
  let http: ChorusHttp;
  let ws: string;
  let gateway: Client<typeof GatewayService>;
  let guildNode: Client<typeof GuildService>;
  let accounts: Client<typeof AccountStorageService>;

  before(async () => {
    // Bots here identify at most twice each, but for the one that spends its session starts.
    chorus = await startEmbeddedChorus({ CHORUS_GATEWAY_RESUME_WINDOW_MS: "5000", CHORUS_GATEWAY_SESSION_START_LIMIT: String(START_LIMIT) });
    http = new ChorusHttp(`http://127.0.0.1:${chorus.ports.http}`);
    ws = `ws://127.0.0.1:${chorus.ports.gateway}`;
    const transport = createConnectTransport({ baseUrl: `http://127.0.0.1:${chorus.ports.grpc}`, httpVersion: "1.1" });
    gateway = createClient(GatewayService, transport);
    guildNode = createClient(GuildService, transport);
    accounts = createClient(AccountStorageService, transport);
  });
  after(() => chorus?.stop());

  it("HELLO, IDENTIFY → READY then GUILD_CREATE for a guild made through the api, HEARTBEAT → ACK", async () => {
    const ada = await http.register();
    const guildId = await http.createGuild(ada.token, "Ada's place");
    const client = await new GatewayClient(ws).open();
    const hello = await client.next("HELLO", (p) => p.op === 10);
    assert.equal(hello.d.heartbeat_interval, 41_250);
    client.identify(ada.token, I.Guilds | I.GuildMessages);
    const ready = await client.dispatch("READY");
    assert.equal(ready.s, 1);
    assert.equal(ready.d.v, 10);
    assert.equal(ready.d.user.id, ada.id);
    assert.deepEqual(ready.d.guilds, [{ id: guildId, unavailable: true }]);
    assert.match(ready.d.session_id, /^[0-9a-f]{32}$/);
    assert.equal(ready.d.resume_gateway_url, ws);
    assert.equal(ready.d.application, undefined, "a person has no application");
    const created = await client.dispatch("GUILD_CREATE");
    assert.equal(created.s, 2);
    assert.equal(created.d.id, guildId);
    assert.equal(created.d.name, "Ada's place");
    assert.equal(created.d.unavailable, false);
    assert.equal(created.d.large, false);
    assert.equal(created.d.member_count, 1);
    assert.deepEqual(created.d.members.map((m: any) => m.user.id), [ada.id]);
    assert.ok(created.d.channels.length >= 1 && created.d.channels.every((c: any) => c.guild_id === guildId));
    assert.ok(created.d.roles.some((r: any) => r.id === guildId), "the @everyone role");
    for (const key of ["joined_at", "threads", "presences", "voice_states"]) assert.ok(key in created.d, key);
    // The guild's owner now lists the session as online.
    const online = await guildNode.listOnline({ guildId: BigInt(guildId) });
    assert.deepEqual(online.sessions.map((s) => s.sessionId), [ready.d.session_id]);

    const before = client.received.length;
    client.send({ op: 1, d: 2 });
    await client.next("HEARTBEAT_ACK", (p) => p.op === 11, before);

    // REQUEST_GUILD_MEMBERS → GUILD_MEMBERS_CHUNK, by query and by ids.
    client.send({ op: 8, d: { guild_id: guildId, query: "", limit: 0, nonce: "all" } });
    const all = await client.next("the chunk of everyone", (p) => p.t === "GUILD_MEMBERS_CHUNK" && p.d.nonce === "all");
    assert.deepEqual([all.d.guild_id, all.d.chunk_index, all.d.chunk_count, all.d.members.map((m: any) => m.user.id)], [guildId, 0, 1, [ada.id]]);
    client.send({ op: 8, d: { guild_id: guildId, user_ids: [ada.id, "1"], nonce: "ids" } });
    const byIds = await client.next("the chunk by ids", (p) => p.t === "GUILD_MEMBERS_CHUNK" && p.d.nonce === "ids");
    assert.deepEqual([byIds.d.members.map((m: any) => m.user.id), byIds.d.not_found], [[ada.id], ["1"]]);
    client.send({ op: 8, d: { guild_id: guildId, query: "zz-nobody", limit: 10, nonce: "none" } });
    assert.deepEqual((await client.next("an empty chunk", (p) => p.d?.nonce === "none")).d.members, []);
    assert.deepEqual(client.dispatches().map((p) => p.s), client.dispatches().map((_, i) => i + 1), "s goes up by one");

    // A normal close ends the session: the owner forgets it.
    client.close(1000);
    await waitFor("the session to go offline", async () => (await guildNode.listOnline({ guildId: BigInt(guildId) })).sessions.length === 0);
  });

  it("closes with Discord's codes: 4004 bad token, 4005 double identify, 4013 invalid intents, 4002 oversized or undecodable, 4001 unknown opcode, 4003 before identify", async () => {
    const ada = await http.register();
    const properties = { os: "linux" };
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: "not-a-token", intents: 1, properties } }), 4004);
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: `${ada.token.split(".")[0]}.${"x".repeat(43)}`, intents: 1, properties } }), 4004);
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: ada.token, intents: 1 << 17, properties } }), 4013);
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: ada.token, properties } }), 4002);
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: ada.token, intents: 1, properties, pad: "x".repeat(5000) } }), 4002);
    assert.equal(await identifyCloseCode(ws, "{not json"), 4002);
    assert.equal(await identifyCloseCode(ws, { op: 99 }), 4001);
    assert.equal(await identifyCloseCode(ws, { op: 3, d: { status: "online" } }), 4003);
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: ada.token, intents: 1, properties, shard: [1, 1] } }), 4010);

    const { client } = await connectSession(ws, ada.token, I.Guilds);
    client.identify(ada.token, I.Guilds);
    assert.equal(await client.closeCode(), 4005);
  });

  it("rate limit: the 121st payload within 60 s closes with 4008", async () => {
    const client = await new GatewayClient(ws).open();
    await client.next("HELLO", (p) => p.op === 10);
    for (let i = 0; i < 121; i++) client.send({ op: 1, d: null });
    assert.equal(await client.closeCode(), 4008);
    assert.equal(client.received.filter((p) => p.op === 11).length, 120);
  });

  it("privileged intents: 4014 for a bot whose application does not enable them; READY with its application once it does", async () => {
    const owner = await http.register();
    const bot = await http.createBot(owner.token);
    const properties = { os: "linux" };
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: bot.token, intents: I.Guilds | I.MessageContent, properties } }), 4014);
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: `Bot ${bot.token}`, intents: I.GuildMembers, properties } }), 4014);
    const flags = BigInt(ApplicationFlags.GatewayMessageContentLimited);
    await accounts.updateApplication({ applicationId: BigInt(bot.id), application: { flags }, updateMask: { paths: ["flags"] } });
    const { ready } = await connectSession(ws, `Bot ${bot.token}`, I.Guilds | I.MessageContent);
    assert.deepEqual(ready.d.application, { id: bot.id, flags: Number(flags) });
    assert.equal(ready.d.user.bot, true);
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: bot.token, intents: I.GuildMembers, properties } }), 4014, "only the intent its flag enables");
  });

  it("Deliver: numbered per session, filtered by intents, content hidden from bots without MESSAGE_CONTENT, sent once per delivery id", async () => {
    const owner = await http.register();
    const person = await connectSession(ws, owner.token, I.GuildMessages);
    const botAccount = await http.createBot(owner.token);
    const bot = await connectSession(ws, botAccount.token, I.GuildMessages);
    const exemptBotAccount = await http.createBot(owner.token);
    const exemptBot = await connectSession(ws, exemptBotAccount.token, I.GuildMessages);
    const other = await connectSession(ws, owner.token, I.Guilds);
    const sessions = [person, bot, exemptBot, other];
    const recipients = sessions.map((s) => ({ sessionId: s.sessionId, userId: BigInt(s.userId) }));
    const firstSeqs = sessions.map((s) => s.client.dispatches().at(-1)!.s!);

    const id = deliveryId();
    const message = { data: bytes({ id: "1", content: "secret" }), dataWithoutContent: bytes({ id: "1", content: "" }) };
    const request = { deliveryId: id, event: "MESSAGE_CREATE", ...message, intents: I.GuildMessages, recipients, contentExemptUserIds: [BigInt(exemptBotAccount.id)] };
    const answer = await gateway.deliver(request);
    assert.deepEqual([answer.sent, answer.buffered], [3, 0]);
    const got = await Promise.all(sessions.slice(0, 3).map((s) => s.client.dispatch("MESSAGE_CREATE")));
    assert.deepEqual(got.map((p) => p.d.content), ["secret", "", "secret"]);
    assert.deepEqual(got.map((p) => p.s), firstSeqs.slice(0, 3).map((s) => s + 1));

    // A retry of the same delivery reaches nobody again.
    assert.deepEqual((await gateway.deliver(request)).sent, 0);
    // Without required intents everyone gets it; `other` (no GUILD_MESSAGES) got nothing before.
    await gateway.deliver({ deliveryId: deliveryId(), event: "CHANNEL_CREATE", data: bytes({ id: "2" }), recipients });
    const channelEvents = await Promise.all(sessions.map((s) => s.client.dispatch("CHANNEL_CREATE")));
    assert.deepEqual(channelEvents.map((p) => p.s), [firstSeqs[0] + 2, firstSeqs[1] + 2, firstSeqs[2] + 2, firstSeqs[3] + 1]);
    assert.equal(other.client.dispatches().filter((p) => p.t === "MESSAGE_CREATE").length, 0);
    for (const s of sessions) assert.equal(s.client.dispatches().filter((p) => p.t === "MESSAGE_CREATE").length, s === other ? 0 : 1);
    // Malformed deliveries name the field.
    await assert.rejects(gateway.deliver({ deliveryId: deliveryId(), event: 'X","s":1', data: bytes({}), recipients }), /event/);
    await assert.rejects(gateway.deliver({ deliveryId: "", event: "X", data: bytes({}), recipients }), /delivery_id/);
  });

  it("RESUME replays what the session missed, then RESUMED; an unknown session gets INVALID_SESSION", async () => {
    const ada = await http.register();
    const first = await connectSession(ws, ada.token, I.Guilds);
    const lastSeq = first.client.dispatches().at(-1)!.s!;
    first.client.close(4200);
    await first.client.closeCode();
    const recipients = [{ sessionId: first.sessionId, userId: BigInt(ada.id) }];
    for (let i = 1; i <= 3; i++) {
      const answer = await gateway.deliver({ deliveryId: deliveryId(), event: "CHANNEL_UPDATE", data: bytes({ n: i }), recipients });
      assert.deepEqual([answer.sent, answer.buffered], [0, 1]);
    }
    const again = await new GatewayClient(ws).open();
    await again.next("HELLO", (p) => p.op === 10);
    again.send({ op: 6, d: { token: ada.token, session_id: first.sessionId, seq: lastSeq } });
    await again.dispatch("RESUMED");
    const replayed = again.dispatches().filter((p) => p.t === "CHANNEL_UPDATE");
    assert.deepEqual(replayed.map((p) => [p.s, p.d.n]), [
      [lastSeq + 1, 1],
      [lastSeq + 2, 2],
      [lastSeq + 3, 3],
    ]);
    assert.equal(again.dispatches().at(-1)!.t, "RESUMED");
    // Live again on the new connection.
    await gateway.deliver({ deliveryId: deliveryId(), event: "CHANNEL_UPDATE", data: bytes({ n: 4 }), recipients });
    assert.equal((await again.next("live dispatch", (p) => p.d?.n === 4)).s, lastSeq + 4);

    const stranger = await new GatewayClient(ws).open();
    await stranger.next("HELLO", (p) => p.op === 10);
    stranger.send({ op: 6, d: { token: ada.token, session_id: "0".repeat(32), seq: 1 } });
    const invalid = await stranger.next("INVALID_SESSION", (p) => p.op === 9);
    assert.equal(invalid.d, false);
    // The connection stays usable for a fresh IDENTIFY.
    stranger.identify(ada.token, I.Guilds);
    await stranger.dispatch("READY");
  });

  it("zlib-stream: every message inflates with one inflater for the connection", async () => {
    const ada = await http.register();
    const guildId = await http.createGuild(ada.token);
    const { client, ready } = await connectSession(ws, ada.token, I.Guilds, { compress: true });
    assert.equal(client.received[0].op, 10);
    assert.equal(ready.d.user.id, ada.id);
    assert.equal((await client.dispatch("GUILD_CREATE")).d.id, guildId);
    const before = client.received.length;
    client.send({ op: 1, d: null });
    await client.next("HEARTBEAT_ACK", (p) => p.op === 11, before);
  });

  it("a GUILD_CREATE delivered to a session marks it online on that guild; GUILD_DELETE offline", async () => {
    const owner = await http.register();
    const guildId = await http.createGuild(owner.token);
    const joiner = await http.register();
    const session = await connectSession(ws, joiner.token, I.Guilds);
    assert.deepEqual(session.ready.d.guilds, []);
    // Join through an invite, then hand the session the GUILD_CREATE the way relays do.
    const channels = await http.ok("GET", `/guilds/${guildId}/channels`, owner.token);
    const invite = await http.ok("POST", `/channels/${channels.find((c: any) => c.type === 0).id}/invites`, owner.token, {});
    await http.ok("POST", `/invites/${invite.code}`, joiner.token, {});
    const recipients = [{ sessionId: session.sessionId, userId: BigInt(joiner.id) }];
    await gateway.deliver({ deliveryId: deliveryId(), event: "GUILD_CREATE", data: bytes({ id: guildId, name: "joined" }), recipients });
    await session.client.next("GUILD_CREATE", (p) => p.t === "GUILD_CREATE" && p.d.id === guildId);
    const onlineIds = async () => (await guildNode.listOnline({ guildId: BigInt(guildId) })).sessions.map((s) => s.sessionId);
    await waitFor("the joiner online", async () => (await onlineIds()).includes(session.sessionId));
    await gateway.deliver({ deliveryId: deliveryId(), event: "GUILD_DELETE", data: bytes({ id: guildId }), recipients });
    await waitFor("the joiner offline", async () => !(await onlineIds()).includes(session.sessionId));
  });

  it("presence: members with GUILD_PRESENCES see a user come online, go idle with an activity (op 3), and go offline", async () => {
    const owner = await http.register();
    const guildId = await http.createGuild(owner.token);
    const friend = await http.register();
    const channels = await http.ok("GET", `/guilds/${guildId}/channels`, owner.token);
    const invite = await http.ok("POST", `/channels/${channels.find((c: any) => c.type === 0).id}/invites`, owner.token, {});
    await http.ok("POST", `/invites/${invite.code}`, friend.token, {});
    const watcher = await connectSession(ws, owner.token, I.Guilds | I.GuildPresences);
    const blind = await connectSession(ws, owner.token, I.Guilds);
    const presenceOf = (from: number, status: string) =>
      watcher.client.next(`PRESENCE_UPDATE ${status}`, (p) => p.t === "PRESENCE_UPDATE" && p.d.user.id === friend.id && p.d.status === status, from);
    let mark = watcher.client.received.length;
    const session = await connectSession(ws, friend.token, I.Guilds, { extra: { presence: { status: "dnd", activities: [], since: null, afk: false } } });
    const online = await presenceOf(mark, "dnd");
    assert.equal(online.d.guild_id, guildId);
    mark = watcher.client.received.length;
    session.client.send({ op: 3, d: { since: null, activities: [{ name: "chess", type: 0 }], status: "idle", afk: true } });
    const idle = await presenceOf(mark, "idle");
    assert.deepEqual(idle.d.activities, [{ name: "chess", type: 0 }]);
    mark = watcher.client.received.length;
    session.client.close(1000);
    await presenceOf(mark, "offline");
    assert.ok(!blind.client.dispatches().some((p) => p.t === "PRESENCE_UPDATE"), "no PRESENCE_UPDATE without the intent");
    // A malformed op 3 closes with 4002.
    const bad = await connectSession(ws, friend.token, I.Guilds);
    bad.client.send({ op: 3, d: { status: "sleepy", activities: [] } });
    assert.equal(await bad.client.closeCode(), 4002);
  });

  it("presence: the owner sends PRESENCE_UPDATE only to sessions with GUILD_PRESENCES; a burst of connects gives each user's presence once", async () => {
    const owner = await http.register();
    const guildId = await http.createGuild(owner.token);
    const channels = await http.ok("GET", `/guilds/${guildId}/channels`, owner.token);
    const invite = await http.ok("POST", `/channels/${channels.find((c: any) => c.type === 0).id}/invites`, owner.token, {});
    const users: { token: string; id: string }[] = [];
    for (let i = 0; i < 10; i++) {
      const user = await http.register();
      await http.ok("POST", `/invites/${invite.code}`, user.token, {});
      users.push(user);
    }
    const watcher = await connectSession(ws, owner.token, I.Guilds | I.GuildPresences);
    const blind = await connectSession(ws, owner.token, I.Guilds);
    const mark = watcher.client.received.length;
    // Everyone at once; every other one without GUILD_PRESENCES.
    const intentsOf = (i: number) => (i % 2 === 0 ? I.Guilds | I.GuildPresences : I.Guilds);
    const burst = await Promise.all(users.map((u, i) => connectSession(ws, u.token, intentsOf(i))));

    // The owner knows each session's intents (MarkOnline carries them).
    const online = new Map((await guildNode.listOnline({ guildId: BigInt(guildId) })).sessions.map((s) => [s.sessionId, s.intents]));
    assert.equal(online.get(watcher.sessionId), I.Guilds | I.GuildPresences);
    assert.equal(online.get(blind.sessionId), I.Guilds);
    burst.forEach((s, i) => assert.equal(online.get(s.sessionId), intentsOf(i)));

    // A presence change after the burst: a guild's presences go out in order, so once the
    // watcher has this one it has had every earlier one.
    watcher.client.send({ op: 3, d: { since: null, activities: [], status: "idle", afk: false } });
    await watcher.client.next("the owner's own idle", (p) => p.t === "PRESENCE_UPDATE" && p.d.user.id === owner.id && p.d.status === "idle", mark);
    const presences = watcher.client.received.slice(mark).filter((p) => p.t === "PRESENCE_UPDATE");
    for (const user of users) {
      assert.deepEqual(presences.filter((p) => p.d.user.id === user.id).map((p) => p.d.status), ["online"], `user ${user.id}: one PRESENCE_UPDATE`);
    }
    assert.equal(presences.filter((p) => p.d.user.id === owner.id && p.d.status === "idle").length, 1);

    // A guild event queued after that presence reaches every session after it; by then the
    // sessions without GUILD_PRESENCES have had none.
    const created = await http.ok("POST", `/guilds/${guildId}/channels`, owner.token, { name: "after-the-burst", type: 0 });
    const withoutIntent = [blind, ...burst.filter((_, i) => !(intentsOf(i) & I.GuildPresences))];
    for (const s of [watcher, ...withoutIntent]) await s.client.next("the new channel", (p) => p.t === "CHANNEL_CREATE" && p.d.id === created.id);
    for (const s of withoutIntent) assert.equal(s.client.dispatches().filter((p) => p.t === "PRESENCE_UPDATE").length, 0, `session ${s.sessionId} has no GUILD_PRESENCES`);
    for (const s of [watcher, blind, ...burst]) s.client.close(1000);
  });

  it("presences in GUILD_CREATE and member chunks: online members' presences with GUILD_PRESENCES, none without", async () => {
    const owner = await http.register();
    const guildId = await http.createGuild(owner.token);
    const channels = await http.ok("GET", `/guilds/${guildId}/channels`, owner.token);
    const invite = await http.ok("POST", `/channels/${channels.find((c: any) => c.type === 0).id}/invites`, owner.token, {});
    const [friend, hidden, away] = [await http.register(), await http.register(), await http.register()];
    for (const user of [friend, hidden, away]) await http.ok("POST", `/invites/${invite.code}`, user.token, {});
    const presence = (status: string, activities: unknown[] = []) => ({ extra: { presence: { status, activities, since: null, afk: false } } });
    // Online before the watchers start: dnd with an activity, and invisible (shown as offline:
    // left out, as offline members are). `away` never connects.
    const friendSession = await connectSession(ws, friend.token, I.Guilds, presence("dnd", [{ name: "chess", type: 0 }]));
    const hiddenSession = await connectSession(ws, hidden.token, I.Guilds, presence("invisible"));

    const watcher = await connectSession(ws, owner.token, I.Guilds | I.GuildPresences);
    const created = await watcher.client.dispatch("GUILD_CREATE");
    assert.equal(created.d.member_count, 4);
    const byUser = (list: any[]) => Object.fromEntries(list.map((p) => [p.user.id, p]));
    const friendPresence = { user: { id: friend.id }, guild_id: guildId, status: "dnd", activities: [{ name: "chess", type: 0 }], client_status: { desktop: "dnd" } };
    assert.deepEqual(byUser(created.d.presences), {
      [friend.id]: friendPresence,
      [owner.id]: { user: { id: owner.id }, guild_id: guildId, status: "online", activities: [], client_status: { desktop: "online" } },
    });
    // The same rendering as the owner's PRESENCE_UPDATE.
    let mark = watcher.client.received.length;
    friendSession.client.send({ op: 3, d: { since: null, activities: [{ name: "chess", type: 0 }], status: "idle", afk: false } });
    const update = await watcher.client.next("friend idle", (p) => p.t === "PRESENCE_UPDATE" && p.d.user.id === friend.id && p.d.status === "idle", mark);
    assert.deepEqual(update.d, { ...friendPresence, status: "idle", client_status: { desktop: "idle" } });

    const blind = await connectSession(ws, owner.token, I.Guilds);
    assert.deepEqual((await blind.client.dispatch("GUILD_CREATE")).d.presences, [], "no presences without GUILD_PRESENCES");

    // REQUEST_GUILD_MEMBERS with presences: true → the returned members' presences (online ones only).
    watcher.client.send({ op: 8, d: { guild_id: guildId, query: "", limit: 0, presences: true, nonce: "p-all" } });
    const all = await watcher.client.next("the chunk with presences", (p) => p.t === "GUILD_MEMBERS_CHUNK" && p.d.nonce === "p-all");
    assert.equal(all.d.members.length, 4);
    assert.deepEqual(Object.keys(byUser(all.d.presences)).sort(), [friend.id, owner.id].sort());
    assert.deepEqual(byUser(all.d.presences)[friend.id], update.d);
    watcher.client.send({ op: 8, d: { guild_id: guildId, user_ids: [friend.id, hidden.id, away.id], presences: true, nonce: "p-ids" } });
    const byIds = await watcher.client.next("the chunk by ids", (p) => p.t === "GUILD_MEMBERS_CHUNK" && p.d.nonce === "p-ids");
    assert.deepEqual(byIds.d.presences, [update.d]);
    watcher.client.send({ op: 8, d: { guild_id: guildId, query: "", limit: 0, nonce: "no-p" } });
    assert.equal("presences" in (await watcher.client.next("a chunk without presences", (p) => p.d?.nonce === "no-p")).d, false);
    // Without GUILD_PRESENCES, presences: true counts as false (Discord).
    blind.client.send({ op: 8, d: { guild_id: guildId, query: "", limit: 0, presences: true, nonce: "blind" } });
    const blindChunk = await blind.client.next("the blind chunk", (p) => p.d?.nonce === "blind");
    assert.equal(blindChunk.d.members.length, 4);
    assert.equal("presences" in blindChunk.d, false);
    for (const s of [friendSession, hiddenSession, watcher, blind]) s.client.close(1000);
  });

  it("session_start_limit: a bot's IDENTIFYs count down; past the total it gets 4004, RESUME still works; persons are not counted", async () => {
    const owner = await http.register();
    const bot = await http.createBot(owner.token);
    const botId = BigInt(bot.id);
    const fresh = await gateway.getSessionStartLimit({ userId: botId });
    assert.deepEqual([fresh.total, fresh.remaining, fresh.resetAfterMs, fresh.maxConcurrency], [START_LIMIT, START_LIMIT, 0n, 1]);
    const remaining: number[] = [];
    const sessions = [];
    for (let i = 0; i < START_LIMIT; i++) {
      sessions.push(await connectSession(ws, `Bot ${bot.token}`, I.Guilds));
      const limit = await gateway.getSessionStartLimit({ userId: botId });
      remaining.push(limit.remaining);
      assert.ok(limit.resetAfterMs > 0n && limit.resetAfterMs <= 86_400_000n, `reset_after ${limit.resetAfterMs}`);
    }
    assert.deepEqual(remaining, Array.from({ length: START_LIMIT }, (_, i) => START_LIMIT - 1 - i));
    const properties = { os: "linux" };
    assert.equal(await identifyCloseCode(ws, { op: 2, d: { token: bot.token, intents: I.Guilds, properties } }), 4004);
    assert.equal((await gateway.getSessionStartLimit({ userId: botId })).remaining, 0);
    // RESUME is not a session start.
    const [first] = sessions;
    const lastSeq = first.client.dispatches().at(-1)!.s!;
    first.client.close(4200);
    await first.client.closeCode();
    const resumed = await new GatewayClient(ws).open();
    await resumed.next("HELLO", (p) => p.op === 10);
    resumed.send({ op: 6, d: { token: `Bot ${bot.token}`, session_id: first.sessionId, seq: lastSeq } });
    await resumed.dispatch("RESUMED");
    // A person identifies as often as it likes.
    for (let i = 0; i <= START_LIMIT; i++) (await connectSession(ws, owner.token, I.Guilds)).client.close(1000);
    assert.equal((await gateway.getSessionStartLimit({ userId: BigInt(owner.id) })).remaining, START_LIMIT);
    await assert.rejects(gateway.getSessionStartLimit({ userId: 0n }), /user_id/);
    for (const s of [resumed, ...sessions.slice(1).map((x) => x.client)]) s.close(1000);
  });

  it("GET /gateway and /gateway/bot give the gateway's URL", async () => {
    assert.deepEqual(await http.ok("GET", "/gateway"), { url: ws });
    const owner = await http.register();
    const bot = await http.createBot(owner.token);
    const answer = await http.ok("GET", "/gateway/bot", `Bot ${bot.token}`);
    assert.equal(answer.url, ws);
    assert.equal(answer.shards, 1);
    assert.deepEqual(answer.session_start_limit, { total: START_LIMIT, remaining: START_LIMIT, reset_after: 0, max_concurrency: 1 });
    // It reports the gateways' own count: one IDENTIFY later, one start fewer is left.
    const session = await connectSession(ws, `Bot ${bot.token}`, I.Guilds);
    const after = (await http.ok("GET", "/gateway/bot", `Bot ${bot.token}`)).session_start_limit;
    assert.equal(after.remaining, START_LIMIT - 1);
    assert.ok(after.reset_after > 0 && after.reset_after <= 86_400_000, `reset_after ${after.reset_after}`);
    session.client.close(1000);
    assert.equal((await http.call("GET", "/gateway/bot")).status, 401);
    assert.equal((await http.call("GET", "/gateway/bot", owner.token)).status, 401, "a person's token");
  });
});

// Gateways in cluster mode on real etcd, Redis and Cassandra: three gateway processes beside
// storage, guild and api processes. A session moves between gateway nodes: resumed on another
// node after its node was killed, fed through a node that does not hold it, drained with
// RECONNECT, and ended (offline) when nobody resumes it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Client } from "@connectrpc/connect";
import { GatewayIntentBits as I } from "discord-api-types/v10";
import type { Redis } from "ioredis";
import { connectMesh, createLogger, type MeshConnection } from "@chorus/mesh";
import { GatewayService } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import {
  cassandraContactPoints,
  freePort,
  requireCassandra,
  requireEtcd,
  requireRedis,
  startServiceProcess,
  testNamespace,
  waitFor,
  type ServiceProcess,
} from "@chorus/testing";
import { lookupUserSessions, openRedis } from "@chorus/session-directory";
import { ChorusHttp } from "./chorus-http.js";
import { GatewayClient, connectSession, type Payload } from "./gateway-client.js";

const RESUME_WINDOW_MS = 4000;
/** Session starts per bot: only the session_start_limit test uses bots. */
const START_LIMIT = 2;
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));
let deliveries = 0;
const deliveryId = () => `cluster-${process.pid}-${deliveries++}`;

describe("gateway (cluster mode)", () => {
  const processes: ServiceProcess[] = [];
  let mesh: MeshConnection;
  let redis: Redis;
  let namespace: string;
  let http: ChorusHttp;
  const gateways: Record<"a" | "b" | "c", ServiceProcess> = {} as never;

  before(async () => {
    const endpoints = await requireEtcd();
    await requireCassandra();
    const redisUrl = await requireRedis();
    namespace = testNamespace();
    const env = {
      CHORUS_ETCD_ENDPOINTS: endpoints.join(","),
      CHORUS_REGISTRY_NAMESPACE: namespace,
      CHORUS_LEASE_TTL_SECONDS: "3",
      CHORUS_STORAGE_BACKEND: "cassandra",
      CHORUS_CASSANDRA_CONTACT_POINTS: cassandraContactPoints().join(","),
      CHORUS_CASSANDRA_KEYSPACE: "chorus_test",
      CHORUS_REDIS_URL: redisUrl,
      CHORUS_GATEWAY_RESUME_WINDOW_MS: String(RESUME_WINDOW_MS),
      CHORUS_GATEWAY_SESSION_START_LIMIT: String(START_LIMIT),
    };
    processes.push(await startServiceProcess("storage", env));
    processes.push(await startServiceProcess("guild", { ...env, CHORUS_WORKER_ID: "11" }));
    const api = await startServiceProcess("api", { ...env, CHORUS_HTTP_PORT: String(await freePort()), CHORUS_WORKER_ID: "12" });
    processes.push(api);
    for (const name of ["a", "b", "c"] as const) {
      gateways[name] = await startServiceProcess("gateway", { ...env, CHORUS_GATEWAY_PORT: String(await freePort()) });
      processes.push(gateways[name]);
    }
    http = new ChorusHttp(api.urls.http);
    mesh = await connectMesh({ endpoints, namespace, leaseTtlSeconds: 3, logger: createLogger("test", "warn") });
    await waitFor("every process registered", () =>
      ["storage", "guild", "api"].every((s) => mesh.registry.instances(s).length === 1) && mesh.registry.instances("gateway").length === 3,
    );
    redis = openRedis(redisUrl);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await mesh?.close();
    redis?.disconnect();
  });

  const gatewayOn = (node: ServiceProcess): Client<typeof GatewayService> => {
    const instance = mesh.registry.instances("gateway").find((i) => i.id === node.instanceId);
    assert.ok(instance, `gateway ${node.instanceId} is registered`);
    return mesh.clients.clientFor(GatewayService, instance);
  };
  const wsOf = (node: ServiceProcess) => node.urls.gateway;
  const online = async (guildId: string) =>
    (await mesh.clients.client(GuildService, BigInt(guildId)).listOnline({ guildId: BigInt(guildId) })).sessions.map((s) => [s.sessionId, s.gatewayInstanceId]);
  const events = (client: GatewayClient, t: string): Payload[] => client.dispatches().filter((p) => p.t === t);

  it("GET /gateway hands out the gateways' URLs", async () => {
    const expected = Object.values(gateways).map(wsOf).sort();
    // Three calls in a row cover the three nodes, once the api's registry view has them all.
    await waitFor("the api to hand out every gateway URL", async () => {
      const urls = new Set<string>();
      for (let i = 0; i < 3; i++) urls.add((await http.ok("GET", "/gateway")).url);
      return JSON.stringify([...urls].sort()) === JSON.stringify(expected);
    });
  });

  it("presences in GUILD_CREATE and member chunks come from the guild's owner process, for sessions with GUILD_PRESENCES only", async () => {
    const owner = await http.register();
    const guildId = await http.createGuild(owner.token);
    const channels = await http.ok("GET", `/guilds/${guildId}/channels`, owner.token);
    const invite = await http.ok("POST", `/channels/${channels.find((c: any) => c.type === 0).id}/invites`, owner.token, {});
    const friend = await http.register();
    await http.ok("POST", `/invites/${invite.code}`, friend.token, {});
    const activities = [{ name: "go", type: 0 }];
    const friendSession = await connectSession(wsOf(gateways.b), friend.token, I.Guilds, { extra: { presence: { status: "idle", activities, since: null, afk: false } } });
    const expected = { user: { id: friend.id }, guild_id: guildId, status: "idle", activities, client_status: { desktop: "idle" } };

    const watcher = await connectSession(wsOf(gateways.a), owner.token, I.Guilds | I.GuildPresences);
    const created = events(watcher.client, "GUILD_CREATE")[0];
    assert.deepEqual(created.d.presences.find((p: any) => p.user.id === friend.id), expected);
    assert.deepEqual(created.d.presences.map((p: any) => p.user.id).sort(), [friend.id, owner.id].sort());
    const blind = await connectSession(wsOf(gateways.c), owner.token, I.Guilds);
    assert.deepEqual(events(blind.client, "GUILD_CREATE")[0].d.presences, []);

    watcher.client.send({ op: 8, d: { guild_id: guildId, user_ids: [friend.id], presences: true, nonce: "p" } });
    assert.deepEqual((await watcher.client.next("the chunk with presences", (p) => p.d?.nonce === "p")).d.presences, [expected]);
    blind.client.send({ op: 8, d: { guild_id: guildId, user_ids: [friend.id], presences: true, nonce: "b" } });
    const blindChunk = await blind.client.next("the chunk without", (p) => p.d?.nonce === "b");
    assert.deepEqual([blindChunk.d.members.length, "presences" in blindChunk.d], [1, false]);
    for (const s of [friendSession, watcher, blind]) s.client.close(1000);
  });

  it("session_start_limit is counted in Redis for all gateway nodes: any node reports it, and refuses past it with 4004", async () => {
    const owner = await http.register();
    const bot = await http.createBot(owner.token);
    const botId = BigInt(bot.id);
    assert.equal((await gatewayOn(gateways.c).getSessionStartLimit({ userId: botId })).remaining, START_LIMIT);
    const first = await connectSession(wsOf(gateways.a), `Bot ${bot.token}`, I.Guilds);
    assert.equal((await gatewayOn(gateways.b).getSessionStartLimit({ userId: botId })).remaining, START_LIMIT - 1);
    const second = await connectSession(wsOf(gateways.b), `Bot ${bot.token}`, I.Guilds);
    const limit = await gatewayOn(gateways.c).getSessionStartLimit({ userId: botId });
    assert.deepEqual([limit.total, limit.remaining, limit.maxConcurrency], [START_LIMIT, 0, 1]);
    assert.ok(limit.resetAfterMs > 0n && limit.resetAfterMs <= 86_400_000n, `reset_after ${limit.resetAfterMs}`);
    const third = await new GatewayClient(wsOf(gateways.c)).open();
    await third.next("HELLO", (p) => p.op === 10);
    third.identify(bot.token, I.Guilds);
    assert.equal(await third.closeCode(), 4004);
    assert.equal(await redis.get(`chorus:${namespace}:gw:starts:${bot.id}`), String(START_LIMIT));
    for (const s of [first, second]) s.client.close(1000);
  });

  it("a session resumes on another node after its node is killed, getting every buffered event once", async () => {
    const ada = await http.register();
    const guildId = await http.createGuild(ada.token, "Cluster guild");
    const { client, sessionId, ready } = await connectSession(wsOf(gateways.a), ada.token, I.Guilds | I.GuildMessages);
    assert.deepEqual(ready.d.guilds, [{ id: guildId, unavailable: true }]);
    assert.equal(ready.d.resume_gateway_url, wsOf(gateways.a));
    assert.deepEqual(await online(guildId), [[sessionId, gateways.a.instanceId]]);
    assert.deepEqual(await lookupUserSessions(redis, [BigInt(ada.id)], namespace), [{ userId: BigInt(ada.id), sessionId, gatewayInstanceId: gateways.a.instanceId }]);
    // A second session of another user stays on the node that dies, and is never resumed.
    const bob = await http.register();
    const abandoned = await connectSession(wsOf(gateways.a), bob.token, I.Guilds);

    const recipients = [{ sessionId, userId: BigInt(ada.id) }];
    const message = (n: number) => ({ deliveryId: deliveryId(), event: "MESSAGE_CREATE", data: bytes({ n, content: `m${n}` }), intents: I.GuildMessages, recipients });
    const onA = gatewayOn(gateways.a);
    const fifth = message(5);
    for (const m of [message(3), message(4), fifth]) assert.equal((await onA.deliver(m)).sent, 1);
    await waitFor("3 messages", () => events(client, "MESSAGE_CREATE").length === 3);
    assert.deepEqual(events(client, "MESSAGE_CREATE").map((p) => [p.s, p.d.n]), [
      [3, 3],
      [4, 4],
      [5, 5],
    ]);

    await gateways.a.kill("SIGKILL");
    await client.closeCode();
    // While nobody holds the session, deliveries through another node only buffer it; a retry
    // of one it already got changes nothing.
    const onB = gatewayOn(gateways.b);
    const retried = await onB.deliver(fifth);
    assert.deepEqual([retried.sent, retried.buffered], [0, 0]);
    for (const n of [6, 7]) assert.equal((await onB.deliver(message(n))).buffered, 1);

    const resumed = await new GatewayClient(wsOf(gateways.b)).open();
    await resumed.next("HELLO", (p) => p.op === 10);
    resumed.send({ op: 6, d: { token: ada.token, session_id: sessionId, seq: 5 } });
    await resumed.dispatch("RESUMED");
    assert.deepEqual(resumed.dispatches().map((p) => [p.t, p.s]), [
      ["MESSAGE_CREATE", 6],
      ["MESSAGE_CREATE", 7],
      ["RESUMED", 7],
    ]);
    assert.deepEqual(events(resumed, "MESSAGE_CREATE").map((p) => p.d.content), ["m6", "m7"]);
    // Live on B, and the guild's owner routes to B now.
    assert.equal((await onB.deliver(message(8))).sent, 1);
    assert.equal((await resumed.next("message 8", (p) => p.d?.n === 8)).s, 8);
    await waitFor("the owner to list the session on B", async () => JSON.stringify(await online(guildId)) === JSON.stringify([[sessionId, gateways.b.instanceId]]));
    assert.equal((await lookupUserSessions(redis, [BigInt(ada.id)], namespace))[0].gatewayInstanceId, gateways.b.instanceId);

    // A delivery through a node that does not hold the session (C) reaches it through B.
    const throughC = await gatewayOn(gateways.c).deliver(message(9));
    assert.deepEqual([throughC.sent, throughC.buffered], [0, 1]);
    assert.equal((await resumed.next("message 9", (p) => p.d?.n === 9)).s, 9);
    assert.deepEqual(events(resumed, "MESSAGE_CREATE").map((p) => p.s), [6, 7, 8, 9]);

    // Bob's session on the dead node: detached once A's alive mark expires, ended after the
    // resume window, gone from the directory.
    await waitFor(
      "the abandoned session to end",
      async () => (await lookupUserSessions(redis, [BigInt(bob.id)], namespace)).length === 0,
      30_000,
      250,
    );
    abandoned.client.terminate();

    // A normal close ends Ada's session: offline on the guild, out of the directory.
    resumed.close(1000);
    await waitFor("the session to go offline", async () => (await online(guildId)).length === 0);
    assert.deepEqual(await lookupUserSessions(redis, [BigInt(ada.id)], namespace), []);
  });

  it("drain: SIGTERM sends RECONNECT, and the session resumes on another node", async () => {
    const cy = await http.register();
    const { client, sessionId } = await connectSession(wsOf(gateways.c), cy.token, I.Guilds);
    const lastSeq = client.dispatches().at(-1)!.s!;
    const stopping = gateways.c.kill("SIGTERM");
    await client.next("RECONNECT", (p) => p.op === 7);
    client.close(4200);
    assert.equal(await stopping, 0, "a clean exit after the drain");
    const moved = await new GatewayClient(wsOf(gateways.b)).open();
    await moved.next("HELLO", (p) => p.op === 10);
    moved.send({ op: 6, d: { token: cy.token, session_id: sessionId, seq: lastSeq } });
    await moved.dispatch("RESUMED");
    assert.deepEqual(moved.dispatches().map((p) => p.t), ["RESUMED"]);
    moved.close(1000);
  });
});

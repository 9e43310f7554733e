// Guild ownership on real etcd and Cassandra: two (then three) guild processes and a storage
// process. Each guild is served by exactly one node; a SIGKILLed node's guilds are served by
// the survivor once its lease expires, reloaded from storage with every acknowledged change;
// a joining node takes guilds over without losing any. Online sessions and the event log are
// checked at the RPC level.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GuildCommandSchema } from "@chorus/contracts/chorus/chat/v1/guild_commands_pb";
import { ErrorReasonSchema, GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { connectMesh, createLogger, HashRing, type MeshClients, type MeshConnection } from "@chorus/mesh";
import { SnowflakeGenerator } from "@chorus/snowflake";
import {
  cassandraContactPoints,
  requireCassandra,
  requireEtcd,
  startServiceProcess,
  testNamespace,
  waitFor,
  type ServiceProcess,
} from "@chorus/testing";

const TTL_SECONDS = 3;
const OWNER = 424242n;
const GUILDS = 24;

type Command = MessageInitShape<typeof GuildCommandSchema>["command"];

describe("guild ownership and failover (cluster mode)", () => {
  let env: Record<string, string>;
  let mesh: MeshConnection;
  let clients: MeshClients;
  const processes: ServiceProcess[] = [];
  const guildNodes: ServiceProcess[] = [];
  const ids = new SnowflakeGenerator({ workerId: 30, processId: process.pid % 32 });
  const guildIds: bigint[] = [];
  /** Channel names each guild acknowledged creating: all must survive every move. */
  const acknowledged = new Map<bigint, string[]>();

  const execute = (guildId: bigint, command: Command, actorId = OWNER) =>
    clients.client(GuildService, guildId).execute({ ownerId: guildId, actorId, command: create(GuildCommandSchema, { command }) });

  async function addChannel(guildId: bigint, name: string): Promise<boolean> {
    try {
      await execute(guildId, { case: "createChannel", value: { channel: { type: 0, name } } });
      acknowledged.get(guildId)!.push(name);
      return true;
    } catch (e) {
      // Not acknowledged: allowed to be lost (or kept), never to be counted.
      const code = ConnectError.from(e).code;
      if (code !== Code.Unavailable && code !== Code.DeadlineExceeded) throw e;
      return false;
    }
  }

  /** Every acknowledged channel is in every guild, read from whichever node owns it now. */
  async function assertNothingLost(): Promise<void> {
    for (const guildId of guildIds) {
      const guild = await clients.client(GuildService, guildId).getGuild({ guildId, actorId: OWNER });
      const names = new Set(guild.channels.map((c) => c.name));
      for (const name of acknowledged.get(guildId)!) assert.ok(names.has(name), `guild ${guildId} lost acknowledged channel ${name}`);
    }
  }

  /** The ring owner of a guild among the registered guild nodes (what the nodes themselves compute). */
  function ringOwner(guildId: bigint): string {
    const ring = new HashRing();
    ring.setNodes(mesh.registry.instances("guild").map((i) => i.id));
    return ring.lookup(guildId)!;
  }

  async function ownedCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const instance of mesh.registry.instances("guild")) {
      const status = await clients.clientFor(GuildService, instance).getStatus({});
      counts.set(instance.id, status.ownedGuilds);
    }
    return counts;
  }

  async function guildNodesSeeEachOther(n: number): Promise<void> {
    await waitFor(`${n} guild nodes registered`, () => mesh.registry.instances("guild").length === n, 15_000);
  }

  before(async () => {
    const endpoints = await requireEtcd();
    await requireCassandra();
    const namespace = testNamespace();
    env = {
      CHORUS_ETCD_ENDPOINTS: endpoints.join(","),
      CHORUS_REGISTRY_NAMESPACE: namespace,
      CHORUS_LEASE_TTL_SECONDS: String(TTL_SECONDS),
      CHORUS_STORAGE_BACKEND: "cassandra",
      CHORUS_CASSANDRA_CONTACT_POINTS: cassandraContactPoints().join(","),
      CHORUS_CASSANDRA_KEYSPACE: "chorus_test",
    };
    processes.push(await startServiceProcess("storage", env));
    for (let i = 0; i < 2; i++) {
      const node = await startServiceProcess("guild", { ...env, CHORUS_WORKER_ID: String(10 + i) });
      processes.push(node);
      guildNodes.push(node);
    }
    mesh = await connectMesh({ endpoints, namespace, leaseTtlSeconds: TTL_SECONDS, defaultTimeoutMs: 5000, logger: createLogger("test", "warn") });
    clients = mesh.clients;
    await guildNodesSeeEachOther(2);
    await waitFor("storage registered", () => mesh.registry.instances("storage").length === 1);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await mesh?.close();
  });

  it("serves each guild from exactly one node, and the other node refuses it", async () => {
    for (let i = 0; i < GUILDS; i++) {
      const guildId = ids.next();
      const created = await execute(guildId, { case: "createGuild", value: { name: `guild ${i}` } });
      assert.equal(created.result?.result.case, "guild");
      guildIds.push(guildId);
      acknowledged.set(guildId, []);
    }
    const counts = await ownedCounts();
    assert.equal([...counts.values()].reduce((a, b) => a + b, 0), GUILDS, `owned: ${JSON.stringify([...counts])}`);
    for (const [id, n] of counts) assert.ok(n > 0, `node ${id} owns no guild`);
    // Asking the non-owner directly: UNAVAILABLE (it does not serve what it does not own).
    for (const guildId of guildIds.slice(0, 6)) {
      const owner = mesh.registry.instances("guild").find((i) => i.id === ringOwner(guildId))!;
      const other = mesh.registry.instances("guild").find((i) => i.id !== owner.id)!;
      await assert.rejects(clients.clientFor(GuildService, other).getGuild({ guildId, actorId: OWNER }), (e: ConnectError) => e.code === Code.Unavailable);
      const guild = await clients.clientFor(GuildService, owner).getGuild({ guildId, actorId: OWNER });
      assert.equal(guild.guild?.id, guildId);
    }
    for (const guildId of guildIds) assert.ok(await addChannel(guildId, "before-failover"));
  });

  it("SIGKILL: the survivor serves the dead node's guilds after the lease expires, with no acknowledged change lost", async () => {
    const victim = guildNodes[0];
    const victimGuilds = guildIds.filter((g) => ringOwner(g) === victim.instanceId);
    assert.ok(victimGuilds.length > 0);
    // Keep writing to every guild while the node dies; only acknowledged writes count.
    let writing = true;
    let serial = 0;
    const writer = (async () => {
      while (writing) {
        await Promise.all(guildIds.map((g) => addChannel(g, `during-kill-${serial}`)));
        serial++;
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await victim.kill("SIGKILL");
    await waitFor("the killed node to leave the registry", () => !mesh.registry.instances("guild").some((i) => i.id === victim.instanceId), (TTL_SECONDS + 5) * 1000, 50);
    await new Promise((r) => setTimeout(r, 500));
    writing = false;
    await writer;
    assert.ok(serial > 1, "the writer kept writing through the failover");
    // Now every guild, the dead node's included, takes changes on the survivor.
    for (const guildId of victimGuilds) assert.ok(await addChannel(guildId, "after-failover"), `guild ${guildId} not served after failover`);
    await assertNothingLost();
    const counts = await ownedCounts();
    assert.equal(counts.size, 1);
    assert.equal([...counts.values()][0], GUILDS);
  });

  it("a joining node takes guilds over while writes go on, and nothing is lost", async () => {
    let writing = true;
    let serial = 0;
    const writer = (async () => {
      while (writing) {
        await Promise.all(guildIds.map((g) => addChannel(g, `during-join-${serial}`)));
        serial++;
      }
    })();
    const joined = await startServiceProcess("guild", { ...env, CHORUS_WORKER_ID: "12" });
    processes.push(joined);
    guildNodes.push(joined);
    await guildNodesSeeEachOther(2);
    await new Promise((r) => setTimeout(r, 1000));
    writing = false;
    await writer;
    const duringJoin = [...acknowledged.values()].flat().filter((n) => n.startsWith("during-join-")).length;
    assert.ok(duringJoin > GUILDS, `only ${duringJoin} writes acknowledged while the node joined`);
    const moved = guildIds.filter((g) => ringOwner(g) === joined.instanceId);
    assert.ok(moved.length > 0 && moved.length < GUILDS, `${moved.length} of ${GUILDS} guilds moved`);
    for (const guildId of guildIds) assert.ok(await addChannel(guildId, "after-join"));
    await assertNothingLost();
    const counts = await ownedCounts();
    assert.equal(counts.get(joined.instanceId), moved.length);
    assert.equal([...counts.values()].reduce((a, b) => a + b, 0), GUILDS);
  });

  it("online members: gateways mark sessions online on the owner; non-members are not recorded; kicks drop sessions", async () => {
    const guildId = guildIds[0];
    const guild = clients.client(GuildService, guildId);
    const invite = await execute(guildId, { case: "createInvite", value: { channelId: (await guild.getGuild({ guildId, actorId: OWNER })).channels.find((c) => c.type === 0)!.id } });
    const code = invite.result!.result.case === "invite" ? invite.result!.result.value.code : assert.fail("no invite");
    await execute(guildId, { case: "acceptInvite", value: { code } }, 7n);
    assert.equal((await guild.markOnline({ guildId, session: { userId: OWNER, sessionId: "s1", gatewayInstanceId: "gw-a" } })).member, true);
    assert.equal((await guild.markOnline({ guildId, session: { userId: OWNER, sessionId: "s2", gatewayInstanceId: "gw-b" } })).member, true);
    assert.equal((await guild.markOnline({ guildId, session: { userId: 7n, sessionId: "s3", gatewayInstanceId: "gw-a" } })).member, true);
    assert.equal((await guild.markOnline({ guildId, session: { userId: 8n, sessionId: "s4", gatewayInstanceId: "gw-a" } })).member, false);
    const online = (await guild.listOnline({ guildId })).sessions.map((s) => `${s.userId}/${s.sessionId}@${s.gatewayInstanceId}`).sort();
    assert.deepEqual(online, [`${OWNER}/s1@gw-a`, `${OWNER}/s2@gw-b`, "7/s3@gw-a"]);
    await guild.markOffline({ guildId, userId: OWNER, sessionId: "s1" });
    await execute(guildId, { case: "removeMember", value: { userId: 7n } });
    assert.deepEqual((await guild.listOnline({ guildId })).sessions.map((s) => s.sessionId), ["s2"]);
  });

  it("produces guild events in order with a per-guild sequence", async () => {
    const guildId = guildIds[1];
    const { events } = await clients.client(GuildService, guildId).readEvents({ ownerId: guildId, afterSeq: 0n, limit: 1000 });
    assert.ok(events.length >= 3);
    events.forEach((e, i) => assert.equal(e.seq, BigInt(i + 1)));
    assert.equal(events[0].dispatch, "GUILD_CREATE");
    assert.equal(events[0].change.case, "guildCreated");
    assert.ok(events.slice(1).every((e) => e.dispatch === "CHANNEL_CREATE" && e.change.case === "channelCreated"));
    const names = events.slice(1).map((e) => (e.change.case === "channelCreated" ? e.change.value.name : ""));
    for (const name of acknowledged.get(guildId)!) assert.ok(names.includes(name), `event log misses ${name}`);
  });

  it("errors carry Discord's code: unknown guild, missing access", async () => {
    const unknown = ids.next();
    await assert.rejects(clients.client(GuildService, unknown).getGuild({ guildId: unknown, actorId: OWNER }), (e: ConnectError) => {
      assert.equal(e.code, Code.NotFound);
      assert.equal(e.findDetails(ErrorReasonSchema)[0]?.code, 10004);
      return true;
    });
    await assert.rejects(clients.client(GuildService, guildIds[0]).getGuild({ guildId: guildIds[0], actorId: 999n }), (e: ConnectError) => {
      assert.equal(e.code, Code.PermissionDenied);
      assert.equal(e.findDetails(ErrorReasonSchema)[0]?.code, 50001);
      return true;
    });
  });
});

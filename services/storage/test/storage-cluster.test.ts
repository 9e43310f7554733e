// The storage service as its own processes on real etcd and Cassandra: coalescing of
// identical reads, consistent-hash routing across two nodes, guild log fencing across nodes,
// and behaviour while Cassandra is down and after it restarts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { GuildStorageService } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { connectMesh, createLogger, type EtcdRegistry, type MeshClients, type MeshConnection, type ServiceInstance } from "@chorus/mesh";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { repoPath, requireCassandra, requireEtcd, startServiceProcess, testNamespace, waitFor, type ServiceProcess } from "@chorus/testing";
import { storageProcessEnv } from "./cassandra-fixture.js";

interface InfraComponent {
  up(): Promise<{ startedByUs: boolean }>;
  down(): Promise<unknown>;
}

describe("storage service in cluster mode", () => {
  const ids = new SnowflakeGenerator({ workerId: 4, processId: 2 });
  let mesh: MeshConnection;
  const processes: ServiceProcess[] = [];
  let registry: EtcdRegistry;
  let clients: MeshClients;
  let env: Record<string, string>;

  const statusOf = (instance: ServiceInstance) => clients.clientFor(StorageService, instance).getStatus({});
  const live = () => registry.instances("storage");

  async function seed(channelId: bigint, count: number) {
    const messages = Array.from({ length: count }, (_, i) =>
      create(MessageSchema, { id: ids.next(), channelId, authorId: 5n, content: `message ${i}` }),
    );
    for (const m of messages) await clients.client(StorageService, channelId).insertMessage({ message: m });
    return messages;
  }

  before(async () => {
    const endpoints = await requireEtcd();
    await requireCassandra();
    const namespace = testNamespace();
    env = {
      ...storageProcessEnv(),
      CHORUS_ETCD_ENDPOINTS: endpoints.join(","),
      CHORUS_REGISTRY_NAMESPACE: namespace,
      CHORUS_LEASE_TTL_SECONDS: "3",
      CHORUS_RPC_TIMEOUT_MS: "4000",
    };
    mesh = await connectMesh({ endpoints, namespace, leaseTtlSeconds: 3, defaultTimeoutMs: 4000, logger: createLogger("test", "warn") });
    registry = mesh.registry;
    clients = mesh.clients;
    processes.push(await startServiceProcess("storage", env), await startServiceProcess("storage", env));
    await waitFor("both storage nodes registered", () => live().length === 2);
    assert.equal(registry.instances("storage").length, 2, "our namespace holds exactly our two nodes");
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await mesh.close();
  });

  it("routes every call for a channel to one node, and spreads channels over both", async () => {
    const channels = Array.from({ length: 24 }, () => ids.next());
    const perChannel = new Map<bigint, string>();
    for (const channelId of channels) {
      const before = new Map(await Promise.all(live().map(async (i) => [i.id, (await statusOf(i)).dbQueries] as const)));
      await seed(channelId, 2);
      for (let i = 0; i < 3; i++) await clients.client(StorageService, channelId).listMessages({ channelId, limit: 10 });
      const after = new Map(await Promise.all(live().map(async (i) => [i.id, (await statusOf(i)).dbQueries] as const)));
      const touched = [...after].filter(([id, q]) => q > before.get(id)!).map(([id]) => id);
      assert.equal(touched.length, 1, `channel ${channelId} was served by ${touched.join(", ")}`);
      perChannel.set(channelId, touched[0]);
    }
    assert.equal(new Set(perChannel.values()).size, 2, "both nodes serve some channels");
  });

  it("500 concurrent identical history reads cost a handful of database queries", async () => {
    const channelId = ids.next();
    const messages = await seed(channelId, 60);
    const owner = clients.ownerOf("storage", channelId)!;
    const before = await statusOf(owner);
    const pages = await Promise.all(
      // A generous deadline: this counts queries, it does not time them.
      Array.from({ length: 500 }, () =>
        clients.client(StorageService, channelId).listMessages({ channelId, limit: 50 }, { timeoutMs: 20_000 }),
      ),
    );
    const after = await statusOf(owner);
    const expected = messages.slice(-50).reverse().map((m) => m.id);
    for (const page of pages) assert.deepEqual(page.messages.map((m) => m.id), expected);
    const queries = Number(after.dbQueries - before.dbQueries);
    const coalesced = Number(after.coalescedRequests - before.coalescedRequests);
    assert.ok(queries <= 5, `500 reads cost ${queries} database queries`);
    assert.ok(coalesced >= 495 - queries, `${coalesced} reads were coalesced`);
  });

  it("serves GuildStorageService: appends sent to both nodes at once are fenced by the database", async () => {
    const guildId = ids.next();
    const nodes = live();
    assert.equal(nodes.length, 2);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        clients.clientFor(GuildStorageService, nodes[i % 2]).appendGuildEvents({
          guildId,
          expectedSeq: 0n,
          events: [{ type: "GuildCreate", payload: new Uint8Array([i]), createdAt: timestampNow(), actorId: 5n }],
        }),
      ),
    );
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    assert.equal(won.length, 1, `${won.length} appends won`);
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as ConnectError).code, Code.Aborted, String(r.reason));
    }
    for (const node of nodes) {
      const { events } = await clients.clientFor(GuildStorageService, node).readGuildEvents({ guildId });
      assert.deepEqual(events.map((e) => [e.seq, [...e.payload]]), [[1n, [won[0]]]], `read through ${node.id}`);
    }
    // Callers route by guild id.
    assert.equal((await clients.client(GuildStorageService, guildId).getGuildHead({ guildId })).lastSeq, 1n);
  });

  it("fails fast with UNAVAILABLE while Cassandra is down, recovers by itself, and keeps acknowledged writes", async () => {
    const cassandra = (await import(pathToFileURL(repoPath("scripts/infra/cassandra.mjs")).href)) as InfraComponent;
    const channelId = ids.next();
    const [kept] = await seed(channelId, 1);
    const storage = clients.client(StorageService, channelId);

    await cassandra.down();
    try {
      const started = Date.now();
      await assert.rejects(storage.getMessage({ channelId, messageId: kept.id }), (err: ConnectError) => {
        assert.equal(err.code, Code.Unavailable, err.message);
        return true;
      });
      assert.ok(Date.now() - started < 4500, `failed after ${Date.now() - started} ms, deadline 4000 ms`);
      await assert.rejects(
        storage.insertMessage({ message: create(MessageSchema, { id: ids.next(), channelId, authorId: 5n, content: "lost?" }) }),
        (err: ConnectError) => err.code === Code.Unavailable,
      );
    } finally {
      // Started again as the test runner would have; the env var would make it "external".
      const saved = process.env.CHORUS_CASSANDRA_CONTACT_POINTS;
      delete process.env.CHORUS_CASSANDRA_CONTACT_POINTS;
      try {
        await cassandra.up();
      } finally {
        if (saved !== undefined) process.env.CHORUS_CASSANDRA_CONTACT_POINTS = saved;
      }
    }
    // The same storage processes recover without a restart, and the acknowledged insert survived.
    const found = await waitFor(
      "storage to answer again after Cassandra restarted",
      async () => (await storage.getMessage({ channelId, messageId: kept.id })).message,
      60_000,
      500,
    );
    assert.equal(found.content, kept.content);
    assert.equal(found.authorId, 5n);
  });
});

// Cluster mode on a real etcd: registration, watch, consistent-hash routing and failover.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { requireEtcd, startServiceProcess, testNamespace, waitFor, type ServiceProcess } from "@chorus/testing";
import { connectMesh, createLogger, type EtcdRegistry, type MeshClients, type MeshConnection } from "@chorus/mesh";

const TTL_SECONDS = 3;

describe("service registry and routing on etcd", () => {
  let endpoints: string[];
  let registry: EtcdRegistry;
  let clients: MeshClients;
  let mesh: MeshConnection;
  const processes: ServiceProcess[] = [];
  const namespace = testNamespace();
  const env = () => ({
    CHORUS_ETCD_ENDPOINTS: endpoints.join(","),
    CHORUS_LEASE_TTL_SECONDS: String(TTL_SECONDS),
    CHORUS_REGISTRY_NAMESPACE: namespace,
  });
  const keys = Array.from({ length: 200 }, (_, i) => (175928847299117063n + BigInt(i) * 4194304001n).toString());

  /** Which instance answers each sharded call. */
  async function owners(): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    await Promise.all(
      keys.map(async (key) => {
        const status = await clients.client(GuildService, key).getStatus({});
        result.set(key, status.node!.instanceId);
      }),
    );
    return result;
  }

  before(async () => {
    endpoints = await requireEtcd();
    mesh = await connectMesh({ endpoints, namespace, leaseTtlSeconds: TTL_SECONDS, defaultTimeoutMs: 3000, logger: createLogger("test", "warn") });
    registry = mesh.registry;
    clients = mesh.clients;
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGTERM")));
    await mesh.close();
  });

  it("registers two instances, routes shard keys to both, and keeps each key on one owner", async () => {
    processes.push(await startServiceProcess("guild", env()), await startServiceProcess("guild", env()));
    const ids = processes.map((p) => p.instanceId);
    await waitFor("both guild instances in the registry", () => ids.every((id) => registry.instances("guild").some((i) => i.id === id)));
    assert.equal(registry.instances("guild").length, 2);
    const instance = registry.instances("guild").find((i) => i.id === ids[0])!;
    assert.equal(instance.address, processes[0].address);

    const first = await owners();
    const counts = new Map<string, number>();
    for (const id of first.values()) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const id of ids) assert.ok((counts.get(id) ?? 0) > 40, `instance ${id} got ${counts.get(id) ?? 0} of 200 keys`);
    assert.deepEqual(await owners(), first, "the same key must always reach the same instance");
  });

  it("SIGKILL: calls move to the survivor at once, and the lease drops the dead instance within the TTL", async () => {
    const [victim, survivor] = processes;
    const killedAt = Date.now();
    await victim.kill("SIGKILL");
    // Still listed (its lease is alive) yet every idempotent call succeeds, retried on the survivor.
    const during = await owners();
    assert.ok([...during.values()].every((id) => id === survivor.instanceId));
    await waitFor("the killed instance to leave the registry", () => !registry.instances("guild").some((i) => i.id === victim.instanceId), (TTL_SECONDS + 3) * 1000, 50);
    const gone = Date.now() - killedAt;
    assert.ok(gone <= (TTL_SECONDS + 2) * 1000, `removed after ${gone} ms, TTL is ${TTL_SECONDS} s`);
    const afterExpiry = await owners();
    assert.ok([...afterExpiry.values()].every((id) => id === survivor.instanceId));
  });

  it("a new instance takes over about half the keys; SIGTERM deregisters at once", async () => {
    const survivor = processes[1];
    const joined = await startServiceProcess("guild", env());
    processes.push(joined);
    await waitFor("the new instance in the registry", () => registry.instances("guild").some((i) => i.id === joined.instanceId));
    const split = await owners();
    const moved = [...split.values()].filter((id) => id === joined.instanceId).length;
    assert.ok(moved > 40 && moved < 160, `${moved} of 200 keys moved to the new instance`);

    const stoppedAt = Date.now();
    assert.equal(await joined.kill("SIGTERM"), 0, "graceful shutdown exits 0");
    await waitFor("the stopped instance to leave the registry", () => !registry.instances("guild").some((i) => i.id === joined.instanceId), 5000, 20);
    assert.ok(Date.now() - stoppedAt < TTL_SECONDS * 1000, "deregistration must not wait for the lease to expire");
    const back = await owners();
    assert.ok([...back.values()].every((id) => id === survivor.instanceId));
  });
});

// Cluster mode for the api's end-to-end suites: an api process and the processes it leans on
// (storage, and guild when asked) on real etcd (a registry namespace of their own) and
// Cassandra (keyspace chorus_test), plus a mesh connection of the test's own.
import { connectMesh, createLogger, type MeshConnection } from "@chorus/mesh";
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

/** The keyspace of every Cassandra-backed test, apart from a dev cluster's `chorus`. */
const TEST_KEYSPACE = "chorus_test";

export interface ApiCluster {
  api: ServiceProcess;
  /** WebSocket URLs of the gateways (when asked for). */
  gatewayUrls: string[];
  /** The test's own way into the mesh (registry and routed clients). */
  mesh: MeshConnection;
  stop(): Promise<void>;
}

/**
 * Starts `storage` storage nodes, `guild` guild nodes and one api (with `apiEnv` on top of the
 * shared settings), and waits until all are registered. With `relay` and `gateway` nodes (and
 * Redis for the gateways' sessions) events reach gateway sessions too.
 */
export async function startApiCluster(nodes: {
  storage: number;
  guild: number;
  relay?: number;
  gateway?: number;
  apiEnv?: Record<string, string>;
  guildEnv?: Record<string, string>;
}): Promise<ApiCluster> {
  const endpoints = await requireEtcd();
  await requireCassandra();
  const namespace = testNamespace();
  const env = {
    CHORUS_ETCD_ENDPOINTS: endpoints.join(","),
    CHORUS_REGISTRY_NAMESPACE: namespace,
    CHORUS_LEASE_TTL_SECONDS: "3",
    CHORUS_STORAGE_BACKEND: "cassandra",
    CHORUS_CASSANDRA_CONTACT_POINTS: cassandraContactPoints().join(","),
    CHORUS_CASSANDRA_KEYSPACE: TEST_KEYSPACE,
    ...(nodes.gateway ? { CHORUS_REDIS_URL: await requireRedis() } : {}),
  };
  const processes: ServiceProcess[] = [];
  let mesh: MeshConnection | undefined;
  const stop = async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await mesh?.close();
  };
  try {
    for (let i = 0; i < nodes.storage; i++) processes.push(await startServiceProcess("storage", env));
    // Worker ids tell apart the ids each process mints.
    for (let i = 0; i < nodes.guild; i++) processes.push(await startServiceProcess("guild", { ...env, ...nodes.guildEnv, CHORUS_WORKER_ID: String(10 + i) }));
    for (let i = 0; i < (nodes.relay ?? 0); i++) processes.push(await startServiceProcess("relay", env));
    const gatewayUrls: string[] = [];
    for (let i = 0; i < (nodes.gateway ?? 0); i++) {
      const port = await freePort();
      processes.push(await startServiceProcess("gateway", { ...env, CHORUS_GATEWAY_PORT: String(port) }));
      gatewayUrls.push(`ws://127.0.0.1:${port}`);
    }
    const api = await startServiceProcess("api", { ...env, CHORUS_HTTP_PORT: String(await freePort()), CHORUS_WORKER_ID: "7", ...nodes.apiEnv });
    processes.push(api);

    const connected = await connectMesh({ endpoints, namespace, leaseTtlSeconds: 3, logger: createLogger("test", "warn") });
    mesh = connected;
    const expected = { storage: nodes.storage, guild: nodes.guild, relay: nodes.relay ?? 0, gateway: nodes.gateway ?? 0, api: 1 };
    await waitFor(`${nodes.storage} storage and ${nodes.guild} guild nodes and the api registered`, () =>
      Object.entries(expected).every(([name, count]) => connected.registry.instances(name).length === count),
    );
    return { api, gatewayUrls, mesh: connected, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

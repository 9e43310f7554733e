// Guilds in cluster mode: an api process, two guild processes and a storage process on real
// etcd (a registry namespace of their own) and Cassandra (keyspace chorus_test). Guilds and
// private channels are spread over both guild nodes by their ids, so the suite also shows
// that the api reaches each one's owner, by guild id, channel id or invite code.
import { connectMesh, createLogger, type MeshConnection } from "@chorus/mesh";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import {
  cassandraContactPoints,
  freePort,
  requireCassandra,
  requireEtcd,
  startServiceProcess,
  testNamespace,
  waitFor,
  type ServiceProcess,
} from "@chorus/testing";
import { describeGuilds } from "./guilds-suite.js";

/** The keyspace of every Cassandra-backed test, apart from a dev cluster's `chorus`. */
const TEST_KEYSPACE = "chorus_test";

const processes: ServiceProcess[] = [];
let mesh: MeshConnection | undefined;

describeGuilds(
  "cluster",
  async () => {
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
    };
    processes.push(await startServiceProcess("storage", env));
    processes.push(
      ...(await Promise.all([0, 1].map((i) => startServiceProcess("guild", { ...env, CHORUS_WORKER_ID: String(12 + i) })))),
    );
    const api = await startServiceProcess("api", { ...env, CHORUS_HTTP_PORT: String(await freePort()), CHORUS_WORKER_ID: "8" });
    processes.push(api);

    const connected = await connectMesh({ endpoints, namespace, leaseTtlSeconds: 3, logger: createLogger("test", "warn") });
    mesh = connected;
    await waitFor("storage, two guild nodes and the api registered", () =>
      connected.registry.instances("storage").length === 1 &&
      connected.registry.instances("guild").length === 2 &&
      connected.registry.instances("api").length === 1,
    );
    const clients = connected.clients;
    return {
      httpUrl: api.urls.http,
      meshUrl: `http://${api.address}`,
      storage: clients.client(AccountStorageService, 0n),
      guildNode: (ownerId) => clients.client(GuildService, ownerId),
    };
  },
  async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await mesh?.close();
  },
);

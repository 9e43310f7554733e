// Accounts in cluster mode: an api process and two storage processes on real etcd (a
// registry namespace of their own) and Cassandra (keyspace chorus_test). Registrations,
// logins and token checks are routed to storage nodes by different keys, so the suite also
// shows that every storage node answers every account correctly.
import { connectMesh, createLogger, type MeshConnection } from "@chorus/mesh";
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
import { describeAccounts } from "./accounts-suite.js";

/** The keyspace of every Cassandra-backed test, apart from a dev cluster's `chorus`. */
const TEST_KEYSPACE = "chorus_test";

const processes: ServiceProcess[] = [];
let mesh: MeshConnection | undefined;

describeAccounts(
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
    processes.push(await startServiceProcess("storage", env), await startServiceProcess("storage", env));
    const api = await startServiceProcess("api", { ...env, CHORUS_HTTP_PORT: String(await freePort()), CHORUS_WORKER_ID: "7" });
    processes.push(api);

    const connected = await connectMesh({ endpoints, namespace, leaseTtlSeconds: 3, logger: createLogger("test", "warn") });
    mesh = connected;
    await waitFor("two storage nodes and the api registered", () =>
      connected.registry.instances("storage").length === 2 && connected.registry.instances("api").length === 1,
    );
    const clients = connected.clients;
    return {
      httpUrl: api.urls.http,
      meshUrl: `http://${api.address}`,
      storage: clients.client(AccountStorageService, 0n),
    };
  },
  async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await mesh?.close();
  },
);

// A whole Chorus in cluster mode for the fan-out suites: storage, guild, relay, gateway and api
// processes on real etcd, Redis and Cassandra, in a registry namespace of their own, plus the
// test's own mesh connection. More relays and gateways can join later; any process can be
// killed. CHORUS_TEST_LOG_DIR=<dir> keeps every process's log there when the cluster stops.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
import { ChorusRest } from "./chorus-rest.js";

export interface ChorusCluster {
  mesh: MeshConnection;
  rest: ChorusRest;
  api: ServiceProcess;
  /** In start order, the dead ones included. */
  gateways: ServiceProcess[];
  relays: ServiceProcess[];
  startGateway(): Promise<ServiceProcess>;
  /** The gateway's own WebSocket URL (whatever it announces). */
  directUrl(gateway: ServiceProcess): string;
  startRelay(): Promise<ServiceProcess>;
  /** Whether the test's registry view lists the process. */
  registered(node: ServiceProcess): boolean;
  stop(): Promise<void>;
}

/**
 * `gatewayPublicUrl`: the URL every gateway announces (READY's resume_gateway_url, GET
 * /gateway), as behind a load balancer; by default each announces its own.
 */
export async function startChorusCluster(nodes: { guilds: number; relays: number; gateways: number; gatewayPublicUrl?: string }): Promise<ChorusCluster> {
  const endpoints = await requireEtcd();
  await requireCassandra();
  const redisUrl = await requireRedis();
  const namespace = testNamespace();
  const env = {
    CHORUS_ETCD_ENDPOINTS: endpoints.join(","),
    CHORUS_REGISTRY_NAMESPACE: namespace,
    CHORUS_LEASE_TTL_SECONDS: "3",
    CHORUS_STORAGE_BACKEND: "cassandra",
    CHORUS_CASSANDRA_CONTACT_POINTS: cassandraContactPoints().join(","),
    CHORUS_CASSANDRA_KEYSPACE: "chorus_test",
    CHORUS_REDIS_URL: redisUrl,
  };
  const processes: ServiceProcess[] = [];
  const gateways: ServiceProcess[] = [];
  const relays: ServiceProcess[] = [];
  const directUrls = new Map<ServiceProcess, string>();
  let mesh: MeshConnection | undefined;
  const start = async (service: string, extra: Record<string, string> = {}) => {
    const p = await startServiceProcess(service, { ...env, ...extra });
    processes.push(p);
    return p;
  };
  const stop = async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await mesh?.close();
    const dir = process.env.CHORUS_TEST_LOG_DIR;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      processes.forEach((p, i) => writeFileSync(join(dir, `${namespace}-${i}-${p.service}.log`), p.output.join("\n")));
    }
  };
  const registered = (node: ServiceProcess) => mesh?.registry.instances(node.service).some((i) => i.id === node.instanceId) ?? false;
  const startGateway = async () => {
    const port = await freePort();
    const gateway = await start("gateway", {
      CHORUS_GATEWAY_PORT: String(port),
      ...(nodes.gatewayPublicUrl ? { CHORUS_GATEWAY_PUBLIC_URL: nodes.gatewayPublicUrl } : {}),
    });
    gateways.push(gateway);
    directUrls.set(gateway, `ws://127.0.0.1:${port}`);
    await waitFor(`gateway ${gateway.instanceId} registered`, () => registered(gateway));
    return gateway;
  };
  const startRelay = async () => {
    const relay = await start("relay");
    relays.push(relay);
    await waitFor(`relay ${relay.instanceId} registered`, () => registered(relay));
    return relay;
  };
  try {
    mesh = await connectMesh({ endpoints, namespace, leaseTtlSeconds: 3, logger: createLogger("test", "warn") });
    await start("storage");
    // Worker ids tell apart the ids each process mints.
    for (let i = 0; i < nodes.guilds; i++) await start("guild", { CHORUS_WORKER_ID: String(21 + i) });
    for (let i = 0; i < nodes.relays; i++) await startRelay();
    for (let i = 0; i < nodes.gateways; i++) await startGateway();
    const api = await start("api", { CHORUS_HTTP_PORT: String(await freePort()), CHORUS_WORKER_ID: "20" });
    await waitFor("every process registered", () => processes.every(registered));
    const directUrl = (gateway: ServiceProcess) => directUrls.get(gateway)!;
    return { mesh, rest: new ChorusRest(api.urls.http), api, gateways, relays, startGateway, directUrl, startRelay, registered, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

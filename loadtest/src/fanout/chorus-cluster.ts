// Chorus in cluster mode for the fan-out benchmark: storage, guild, relays, gateways and api,
// each its own process (services/<name>/dist/src/main.js), on the local etcd (a registry
// namespace of their own), Redis (keys under that namespace) and Cassandra (keyspace
// chorus_bench), as the cluster test suites start them.
import { readFileSync } from "node:fs";
import { connectMesh, createLogger, type MeshConnection } from "@chorus/mesh";
import { cassandraContactPoints, freePort, repoPath, requireCassandra, requireEtcd, requireRedis, startServiceProcess, waitFor, type ServiceProcess } from "@chorus/testing";

export const BENCH_KEYSPACE = "chorus_bench";

export interface ClusterOptions {
  gateways: number;
  relays: number;
  /** NODE_OPTIONS of every service process. */
  nodeOptions: string;
  /** CPU-profile every service process into this folder (written when it stops). */
  cpuProfDir: string;
  log: (msg: string) => void;
}

export interface ChorusCluster {
  namespace: string;
  /** Every process, named "storage", "guild", "relay-1", "gateway-2", "api"... */
  processes: { name: string; process: ServiceProcess }[];
  gateways: ServiceProcess[];
  api: ServiceProcess;
  httpUrl: string;
  mesh: MeshConnection;
  /** Pids of etcd, Redis and Cassandra when they run on this machine. */
  infraPids: Record<string, number>;
  env: Record<string, string>;
  /** The last warnings and errors each process logged (pino level ≥ 40), for failure messages. */
  problems(perProcess?: number): string[];
  /** How many warnings and errors each process logged so far, and their most frequent messages. */
  problemCounts(): Record<string, { count: number; messages: Record<string, number> }>;
  stop(): Promise<void>;
}

function countProblems(processes: { name: string; process: ServiceProcess }[]): Record<string, { count: number; messages: Record<string, number> }> {
  const out: Record<string, { count: number; messages: Record<string, number> }> = {};
  for (const { name, process: p } of processes) {
    const entry = { count: 0, messages: {} as Record<string, number> };
    for (const line of p.output) {
      let parsed: { level?: number; msg?: string; err?: { message?: string } };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        continue;
      }
      if ((parsed.level ?? 0) < 40) continue;
      entry.count++;
      const key = `${parsed.msg ?? ""}${parsed.err?.message ? `: ${parsed.err.message}` : ""}`.slice(0, 200);
      entry.messages[key] = (entry.messages[key] ?? 0) + 1;
    }
    if (entry.count) out[name] = entry;
  }
  return out;
}

function problemsOf(processes: { name: string; process: ServiceProcess }[], perProcess = 5): string[] {
  const out: string[] = [];
  for (const { name, process: p } of processes) {
    const lines = p.output.filter((line) => {
      try {
        return (JSON.parse(line) as { level?: number }).level! >= 40;
      } catch {
        return line.trim() !== "";
      }
    });
    for (const line of lines.slice(-perProcess)) out.push(`${name}: ${line.slice(0, 600)}`);
  }
  return out;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[?::1\]?)$/;

function requireLoopback(what: string, host: string): void {
  if (!LOOPBACK.test(host)) throw new Error(`${what} "${host}" is not a loopback address: the benchmark only starts Chorus on this machine`);
}

function hostOfContactPoint(point: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(point);
  if (bracketed) return bracketed[1];
  return point.split(":").length === 2 ? point.split(":")[0] : point;
}

/** The pid of a local infrastructure process (scripts/infra.mjs), checked against its command line. */
export function infraPid(name: "etcd" | "redis" | "cassandra"): number | undefined {
  const expect = { etcd: "etcd", redis: "redis-server", cassandra: "CassandraDaemon" }[name];
  const candidates: unknown[] = [];
  try {
    candidates.push((JSON.parse(process.env.CHORUS_BENCH_INFRA_PIDS ?? "{}") as Record<string, unknown>)[name]);
  } catch {
    /* ignore */
  }
  try {
    candidates.push(Number(readFileSync(repoPath(`.chorus/infra/${name}/${name}.pid`), "utf8").split("\n")[0].trim()));
  } catch {
    /* not started by scripts/infra.mjs */
  }
  for (const pid of candidates) {
    if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(expect)) return pid;
    } catch {
      /* gone */
    }
  }
  return undefined;
}

export async function startChorusCluster(options: ClusterOptions): Promise<ChorusCluster> {
  const etcd = await requireEtcd();
  for (const e of etcd) requireLoopback("etcd endpoint", new URL(e).hostname);
  for (const p of await requireCassandra()) requireLoopback("Cassandra contact point", hostOfContactPoint(p));
  const redisUrl = await requireRedis();
  requireLoopback("Redis", new URL(redisUrl).hostname);
  const namespace = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const env: Record<string, string> = {
    CHORUS_ETCD_ENDPOINTS: etcd.join(","),
    CHORUS_REGISTRY_NAMESPACE: namespace,
    CHORUS_LEASE_TTL_SECONDS: "5",
    CHORUS_STORAGE_BACKEND: "cassandra",
    CHORUS_CASSANDRA_CONTACT_POINTS: cassandraContactPoints().join(","),
    CHORUS_CASSANDRA_KEYSPACE: BENCH_KEYSPACE,
    CHORUS_REDIS_URL: redisUrl,
  };
  if (process.env.CHORUS_CASSANDRA_LOCAL_DC) env.CHORUS_CASSANDRA_LOCAL_DC = process.env.CHORUS_CASSANDRA_LOCAL_DC;
  // A full GC on SIGUSR2 (gc-on-signal.js), so idle-session memory is measured after a collection.
  const nodeOptions = [options.nodeOptions, `--expose-gc --import ${new URL("../gc-on-signal.js", import.meta.url).href}`];
  if (options.cpuProfDir) {
    // Node 20 refuses --cpu-prof in NODE_OPTIONS: a preload starts the profiler instead.
    nodeOptions.push(`--import ${new URL("../cpu-profile.js", import.meta.url).href}`);
    env.CHORUS_BENCH_CPU_PROF_DIR = options.cpuProfDir;
  }
  if (nodeOptions.join("").trim()) env.NODE_OPTIONS = nodeOptions.filter(Boolean).join(" ");

  const processes: { name: string; process: ServiceProcess }[] = [];
  let mesh: MeshConnection | undefined;
  const stop = async () => {
    await mesh?.close().catch(() => undefined);
    // SIGTERM (a profile is written on exit; gateways drain), SIGKILL after 15 s.
    await Promise.all(
      processes.map(async ({ process: p }) => {
        const exited = p.kill("SIGTERM");
        const timer = setTimeout(() => void p.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  };
  // Snowflake worker ids tell apart the ids each process mints.
  let workerId = 1;
  const start = async (name: string, service: string, extra: Record<string, string> = {}) => {
    options.log(`starting ${name}`);
    const p = await startServiceProcess(service, { ...env, CHORUS_WORKER_ID: String(workerId++), ...extra }, 90_000);
    processes.push({ name, process: p });
    return p;
  };
  try {
    options.log(`Chorus cluster: registry namespace ${namespace}, keyspace ${BENCH_KEYSPACE}, Redis ${redisUrl}`);
    await start("storage", "storage");
    await start("guild", "guild");
    for (let i = 1; i <= options.relays; i++) await start(`relay-${i}`, "relay");
    const gateways: ServiceProcess[] = [];
    for (let i = 1; i <= options.gateways; i++) gateways.push(await start(`gateway-${i}`, "gateway", { CHORUS_GATEWAY_PORT: String(await freePort()) }));
    const api = await start("api", "api", { CHORUS_HTTP_PORT: String(await freePort()) });
    const connected = await connectMesh({ endpoints: etcd, namespace, leaseTtlSeconds: 5, logger: createLogger("bench", "warn") });
    mesh = connected;
    const expected: Record<string, number> = { storage: 1, guild: 1, relay: options.relays, gateway: options.gateways, api: 1 };
    await waitFor("every Chorus process in the registry", () =>
      Object.entries(expected).every(([name, count]) => connected.registry.instances(name).length === count),
    );
    const httpUrl = api.urls.http;
    if (!httpUrl) throw new Error(`the api did not log its HTTP URL: ${JSON.stringify(api.urls)}`);
    // The api hands out every gateway once its registry view has them all.
    await waitFor(
      "the api to hand out every gateway URL",
      async () => {
        const urls = new Set<string>();
        for (let i = 0; i < options.gateways * 2; i++) {
          const res = await fetch(`${httpUrl}/api/v10/gateway`);
          urls.add(((await res.json()) as { url: string }).url);
        }
        return urls.size === options.gateways;
      },
      20_000,
      250,
    );
    const infraPids: Record<string, number> = {};
    for (const name of ["etcd", "redis", "cassandra"] as const) {
      const pid = infraPid(name);
      if (pid) infraPids[name] = pid;
    }
    return { namespace, processes, gateways, api, httpUrl, mesh: connected, infraPids, env, stop, problems: (n) => problemsOf(processes, n), problemCounts: () => countProblems(processes) };
  } catch (err) {
    await stop();
    throw err;
  }
}

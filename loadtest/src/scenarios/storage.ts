// The storage scenario: message inserts and history reads through the storage service
// (cluster mode, gRPC over h2c, as the guild and api services call it) against the same
// statements sent straight through cassandra-driver, at the same fixed rate; then a storm of
// identical history reads of one hot channel, to count the database queries it costs.
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import cassandra from "cassandra-driver";
import { create, type JsonObject } from "@bufbuild/protobuf";
import type { Client as RpcClient } from "@connectrpc/connect";
import { MessageSchema, type Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { connectMesh, createLogger, type MeshConnection } from "@chorus/mesh";
import { DISCORD_EPOCH_MS, SnowflakeGenerator, timestampOf } from "@chorus/snowflake";
import { cassandraContactPoints, repoPath, requireCassandra, requireEtcd, startServiceProcess, waitFor, type ServiceProcess } from "@chorus/testing";
import { LatencyRecorder } from "../latency.js";
import { runOpenLoop } from "../open-loop.js";
import { ProcessMonitor, readProc, round, SelfCpu, SystemMonitor } from "../process-stats.js";
import { UsageError, type Check, type OptionValues, type PhaseResult, type Scenario, type ScenarioReport } from "../scenario.js";

/** Apart from `chorus` (a dev cluster) and `chorus_test` (the test suites). */
const KEYSPACE = "chorus_bench";
const HISTORY_LIMIT = 50;

const TARGETS = {
  insertP99Ms: 5,
  readP99Ms: 15,
  serviceOverDriverP99: 1.2,
  stormQueries: 5,
};

// ------------------------------------------------------------------------------ options

interface Settings {
  rate: number;
  durationS: number;
  warmupS: number;
  channels: number;
  seedMessages: number;
  storm: number;
  serviceNodeOptions: string;
  cpuProfDir: string;
}

function intOption(values: OptionValues, name: string, min: number, max: number): number {
  const raw = values[name];
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${String(raw)}"`);
  }
  return n;
}

function settingsFrom(values: OptionValues): Settings {
  const s: Settings = {
    rate: intOption(values, "rate", 1, 20_000),
    durationS: intOption(values, "duration", 1, 600),
    warmupS: intOption(values, "warmup", 0, 60),
    channels: intOption(values, "channels", 1, 10_000),
    seedMessages: intOption(values, "seed-messages", HISTORY_LIMIT, 1000),
    storm: intOption(values, "storm", 1, 5000),
    serviceNodeOptions: String(values["service-node-options"] ?? ""),
    cpuProfDir: values["cpu-prof-dir"] ? resolve(process.env.INIT_CWD ?? process.cwd(), String(values["cpu-prof-dir"])) : "",
  };
  if (s.channels * s.seedMessages > 200_000) {
    throw new UsageError(`--channels × --seed-messages is ${s.channels * s.seedMessages}; keep it at most 200000`);
  }
  return s;
}

// ------------------------------------------------------------------------------ targets on this machine only

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1)$/;

function requireLoopback(what: string, host: string): void {
  const bare = host.replace(/^\[|\]$/g, "");
  if (!LOOPBACK.test(bare)) throw new UsageError(`${what} "${host}" is not a loopback address: benchmarks only target this machine`);
}

function hostOfContactPoint(point: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(point);
  if (bracketed) return bracketed[1];
  return point.split(":").length === 2 ? point.split(":")[0] : point;
}

// ------------------------------------------------------------------------------ messages

/** Same as services/storage/src/buckets.ts: 10-day windows from the Discord epoch. */
const BUCKET_SIZE_MS = 10 * 24 * 60 * 60 * 1000;
const bucketOf = (id: bigint) => Math.floor((timestampOf(id) - Number(DISCORD_EPOCH_MS)) / BUCKET_SIZE_MS);

/** Deterministic PRNG (mulberry32), so two runs send the same messages. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "raid tonight at nine bring potions and food the patch notes are out did anyone read them " +
  "lol that boss fight was wild who is on voice later gg everyone nice clutch at the end " +
  "can someone pin the schedule please I uploaded the clip to the media channel thanks"
).split(" ");

/**
 * Messages shaped like a busy guild's: ~100 characters of text with one user mention, a nonce
 * as clients send it, and a link embed on every fifth message.
 */
class MessageFactory {
  private readonly random = prng(0xc405);
  private readonly users = Array.from({ length: 500 }, (_, i) => 200_000_000_000_000_000n + BigInt(i) * 7919n);
  private seq = 0;

  constructor(
    private readonly ids: SnowflakeGenerator,
    readonly guildId: bigint,
  ) {}

  private user(): bigint {
    return this.users[Math.floor(this.random() * this.users.length)];
  }

  next(channelId: bigint): Message {
    const n = this.seq++;
    const mention = this.user();
    let content = `<@${mention}>`;
    while (content.length < 95) content += ` ${WORDS[Math.floor(this.random() * WORDS.length)]}`;
    const id = this.ids.next();
    const embeds: JsonObject[] =
      n % 5 === 0
        ? [
            {
              type: "rich",
              title: `Patch ${1 + (n % 9)}.${n % 17}.${n % 5} release notes`,
              description: "Balance changes, two new maps, voice quality fixes and a long list of smaller improvements.",
              url: `https://example.com/patch-notes/${n}`,
              color: 5814783,
            },
          ]
        : [];
    return create(MessageSchema, {
      id,
      channelId,
      guildId: this.guildId,
      authorId: this.user(),
      content,
      type: 0,
      mentions: [mention],
      embeds,
      nonce: String(id),
    });
  }
}

/** The column list and values of the storage service's INSERT (services/storage/src/cassandra-store.ts). */
const COLUMNS = [
  "channel_id", "bucket", "message_id", "guild_id", "author_id", "content", "type", "flags", "edited_at", "tts",
  "mention_everyone", "mentions", "mention_roles", "pinned", "attachments", "embeds", "components",
  "message_reference", "webhook_id", "application_id", "interaction_metadata", "nonce", "author_username", "author_avatar",
];

function insertValues(m: Message): unknown[] {
  // Exactly what the service binds for such a message (no attachments, components, reference...).
  return [
    m.channelId, bucketOf(m.id), m.id, m.guildId || null, m.authorId, m.content, m.type, m.flags, null, m.tts,
    m.mentionEveryone, m.mentions, m.mentionRoles, m.pinned, null, m.embeds.length ? JSON.stringify(m.embeds) : null, null,
    null, null, null, null, m.nonce || null, null, null,
  ];
}

interface StatusCounters {
  queries: number;
  coalesced: number;
}

// ------------------------------------------------------------------------------ environment

/** The Cassandra process, when it runs on this machine and its pid is known (for its CPU time). */
function cassandraPid(): number | undefined {
  const candidates: unknown[] = [];
  try {
    candidates.push((JSON.parse(process.env.CHORUS_BENCH_INFRA_PIDS ?? "{}") as Record<string, unknown>).cassandra);
  } catch {
    /* ignore */
  }
  try {
    candidates.push(Number(readFileSync(repoPath(".chorus/infra/cassandra/cassandra.pid"), "utf8").trim()));
  } catch {
    /* not started by scripts/infra.mjs */
  }
  for (const pid of candidates) {
    if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("CassandraDaemon")) return pid;
    } catch {
      /* gone */
    }
  }
  return undefined;
}

function jvmJit(pid: number | undefined): string | undefined {
  if (!pid) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const heap = cmdline.find((a) => a.startsWith("-Xmx"))?.slice(4);
    const c1 = cmdline.includes("-XX:TieredStopAtLevel=1");
    return `${c1 ? "C1 only (CHORUS_CASSANDRA_FAST_START=1)" : "tiered C1+C2"}${heap ? `, heap ${heap}` : ""}`;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------ resource usage

type Usage = Pick<PhaseResult, "serviceProcess" | "databaseProcess" | "benchProcess" | "machine">;

/**
 * Starts measuring CPU (and the service's peak RSS) of the storage process, the database, this
 * generator and the whole machine; the returned function ends the window. "Other" CPU is the
 * machine's busy time that none of the three used: other processes competing for the cores.
 */
function measureUsage(storagePid: number, dbPid: number | undefined, reportService: boolean): () => Usage {
  const service = new ProcessMonitor(storagePid, { resetPeak: true });
  const database = dbPid ? new ProcessMonitor(dbPid) : undefined;
  const self = new SelfCpu();
  const machine = new SystemMonitor();
  service.start();
  database?.start();
  self.reset();
  machine.begin();
  return () => {
    const serviceProcess = service.stop();
    const databaseProcess = database?.stop();
    const benchProcess = self.read();
    const whole = machine.end();
    const ours = serviceProcess.cpuSeconds + (databaseProcess?.cpuSeconds ?? 0) + benchProcess.cpuSeconds;
    return {
      serviceProcess: reportService ? serviceProcess : undefined,
      databaseProcess,
      benchProcess,
      machine: whole && { ...whole, otherCpuSeconds: databaseProcess ? round(Math.max(0, whole.busyCpuSeconds - ours), 2) : undefined },
    };
  };
}

/**
 * Waits (at most `maxMs`) until the storage process and the database are nearly idle again, so
 * that the backlog of an overloaded phase (work the clients gave up on, compactions) does not
 * run into the next phase's measurement.
 */
async function settle(pids: (number | undefined)[], maxMs = 15_000): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const live = pids.filter((p): p is number => p !== undefined);
  const deadline = Date.now() + maxMs;
  await sleep(500);
  while (Date.now() < deadline) {
    const before = live.map(readProc);
    await sleep(500);
    const cores = live.map((pid, i) => ((readProc(pid)?.cpuSeconds ?? 0) - (before[i]?.cpuSeconds ?? 0)) / 0.5);
    if (cores.every((c) => c < 0.3)) return;
  }
  log(`still busy after ${maxMs / 1000} s of settling; going on`);
}

// ------------------------------------------------------------------------------ the scenario

const log = (msg: string) => process.stderr.write(`[storage] ${msg}\n`);

async function runStorage(values: OptionValues): Promise<ScenarioReport> {
  const s = settingsFrom(values);
  const startedAt = new Date().toISOString();
  const etcd = await requireEtcd();
  for (const e of etcd) requireLoopback("etcd endpoint", new URL(e).hostname);
  const contactPoints = await requireCassandra();
  for (const p of contactPoints) requireLoopback("Cassandra contact point", hostOfContactPoint(p));
  const localDc = process.env.CHORUS_CASSANDRA_LOCAL_DC || "datacenter1";
  const dbPid = cassandraPid();
  const dbJvm = jvmJit(dbPid);

  const ids = new SnowflakeGenerator({ workerId: 30, processId: process.pid % 32 });
  const factory = new MessageFactory(ids, ids.next());
  const channels = Array.from({ length: s.channels }, () => ids.next());

  let storage: ServiceProcess | undefined;
  let mesh: MeshConnection | undefined;
  const driver = new cassandra.Client({
    contactPoints,
    localDataCenter: localDc,
    encoding: { useBigIntAsLong: true },
    queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
  });

  try {
    // 1. One storage node in cluster mode, on the bench keyspace.
    // A registry namespace of its own, as the integration tests do: the benchmark's storage node
    // never serves another run's calls, and no test sees it.
    const namespace = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    log(`starting the storage service (keyspace ${KEYSPACE}, registry namespace ${namespace})`);
    const serviceEnv: Record<string, string> = {
      CHORUS_REGISTRY_NAMESPACE: namespace,
      CHORUS_STORAGE_BACKEND: "cassandra",
      CHORUS_CASSANDRA_KEYSPACE: KEYSPACE,
      CHORUS_CASSANDRA_CONTACT_POINTS: contactPoints.join(","),
      CHORUS_CASSANDRA_LOCAL_DC: localDc,
      CHORUS_ETCD_ENDPOINTS: etcd.join(","),
    };
    const nodeOptions = [s.serviceNodeOptions];
    if (s.cpuProfDir) {
      // Node 20 refuses --cpu-prof in NODE_OPTIONS: a preload starts the profiler instead.
      nodeOptions.push(`--import ${new URL("../cpu-profile.js", import.meta.url).href}`);
      serviceEnv.CHORUS_BENCH_CPU_PROF_DIR = s.cpuProfDir;
    }
    if (nodeOptions.join("").trim()) serviceEnv.NODE_OPTIONS = nodeOptions.filter(Boolean).join(" ");
    storage = await startServiceProcess("storage", serviceEnv, 90_000);
    const storagePid = storage.pid;
    const ourId = storage.instanceId;

    // 2. Reach it like any caller: etcd registry, mesh client factory, h2c transports.
    const connected = await connectMesh({ endpoints: etcd, namespace, logger: createLogger("bench", "warn") });
    mesh = connected;
    const instance = await waitFor("the storage instance in the registry", () => connected.registry.instances("storage").find((i) => i.id === ourId), 15_000);
    const clients = connected.clients;
    const byChannel = new Map<bigint, RpcClient<typeof StorageService>>();
    const storageFor = (channelId: bigint) => {
      let client = byChannel.get(channelId);
      if (!client) byChannel.set(channelId, (client = clients.client(StorageService, channelId)));
      return client;
    };
    const status = () => clients.clientFor(StorageService, instance).getStatus({});
    // The service's own counters; undefined (never a rejection) when it cannot answer in time.
    const counters = (): Promise<StatusCounters | undefined> =>
      status().then(
        (r) => ({ queries: Number(r.dbQueries), coalesced: Number(r.coalescedRequests) }),
        (err: unknown) => {
          log(`GetStatus failed: ${(err as Error).message}`);
          return undefined;
        },
      );
    const backend = (await status()).backend;
    if (backend !== "cassandra") throw new Error(`the storage service runs the "${backend}" backend, not cassandra`);

    // 3. The direct driver, on the table the service created.
    await driver.connect();
    const insertCql = `INSERT INTO ${KEYSPACE}.messages (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`;
    const historyCql = `SELECT * FROM ${KEYSPACE}.messages WHERE channel_id = ? AND bucket = ? LIMIT ?`;

    // 4. Seed every channel with full pages of history, through the service.
    const newest = new Map<bigint, bigint>();
    const seedTotal = s.channels * s.seedMessages;
    log(`seeding ${s.channels} channels × ${s.seedMessages} messages`);
    const seedStarted = performance.now();
    let seeded = 0;
    await Promise.all(
      Array.from({ length: Math.min(64, seedTotal) }, async () => {
        while (seeded < seedTotal) {
          const channelId = channels[seeded++ % s.channels];
          const message = factory.next(channelId);
          await storageFor(channelId).insertMessage({ message });
          newest.set(channelId, message.id);
        }
      }),
    );
    log(`seeded ${seedTotal} messages in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

    // Reads visit channels in a shuffled round robin: consecutive reads hit distinct channels,
    // so none of them can join another's query (the coalescing case is the storm's).
    const shuffle = prng(0x5eed);
    const readOrder = [...channels];
    for (let i = readOrder.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      [readOrder[i], readOrder[j]] = [readOrder[j], readOrder[i]];
    }

    const phases: PhaseResult[] = [];
    const openLoop = async (
      name: string,
      operation: string,
      via: "service" | "driver",
      op: (seq: number) => Promise<unknown>,
    ): Promise<PhaseResult> => {
      await settle([storagePid, dbPid]);
      log(`${name}: ${s.rate} ops/s for ${s.durationS} s (+${s.warmupS} s warm-up)`);
      let usage: (() => Usage) | undefined;
      let before: Promise<StatusCounters | undefined> | undefined;
      const result = await runOpenLoop({
        ratePerSec: s.rate,
        durationMs: s.durationS * 1000,
        warmupMs: s.warmupS * 1000,
        op,
        onMeasureStart: () => {
          usage = measureUsage(storagePid, dbPid, via === "service");
          if (via === "service") before = counters();
        },
      });
      const phase: PhaseResult = {
        name,
        operation,
        via,
        mode: "open-loop",
        attempted: result.attempted,
        completed: result.completed,
        errors: result.errors,
        errorKinds: result.errorKinds,
        targetPerSec: s.rate,
        achievedPerSec: round(result.achievedPerSec, 1),
        elapsedMs: Math.round(result.elapsedMs),
        latencyMs: result.latency,
        serviceTimeMs: result.serviceTime,
        sendLagMs: result.sendLag,
        ...usage?.(),
      };
      const [b, a] = before ? [await before, await counters()] : [];
      if (b && a) {
        const queries = a.queries - b.queries;
        phase.db = { queries, coalesced: a.coalesced - b.coalesced, queriesPerOp: round(queries / Math.max(1, result.attempted), 2) };
      }
      phases.push(phase);
      return phase;
    };

    // 5. Inserts, through the service and then straight through the driver.
    const insertService = await openLoop("insert  service", "InsertMessage", "service", async (seq) => {
      const channelId = channels[seq % s.channels];
      const message = factory.next(channelId);
      await storageFor(channelId).insertMessage({ message });
      newest.set(channelId, message.id);
    });
    const insertDriver = await openLoop("insert  driver", "INSERT", "driver", async (seq) => {
      const channelId = channels[seq % s.channels];
      const message = factory.next(channelId);
      await driver.execute(insertCql, insertValues(message), { prepare: true });
      newest.set(channelId, message.id);
    });

    // 6. History reads: the newest 50 messages of a channel, as opening a channel loads them.
    const readService = await openLoop("history service", "ListMessages limit 50", "service", async (seq) => {
      const channelId = readOrder[seq % readOrder.length];
      const { messages } = await storageFor(channelId).listMessages({ channelId, limit: HISTORY_LIMIT });
      if (messages.length !== HISTORY_LIMIT) throw new Error(`short page: ${messages.length} messages`);
    });
    const readDriver = await openLoop("history driver", "SELECT … LIMIT 50", "driver", async (seq) => {
      const channelId = readOrder[seq % readOrder.length];
      const result = await driver.execute(historyCql, [channelId, bucketOf(newest.get(channelId)!), HISTORY_LIMIT], { prepare: true });
      if (result.rows.length !== HISTORY_LIMIT) throw new Error(`short page: ${result.rows.length} rows`);
    });

    // 7. Hot channel: `storm` identical reads at once, through the service.
    await settle([storagePid, dbPid]);
    log(`storm: ${s.storm} concurrent identical ListMessages of one channel`);
    const hot = readOrder[0];
    const hotClient = storageFor(hot);
    await hotClient.listMessages({ channelId: hot, limit: HISTORY_LIMIT }); // connection and route warm
    const stormBefore = await status();
    const stormUsage = measureUsage(storagePid, dbPid, true);
    const stormLatency = new LatencyRecorder();
    const stormErrors: Record<string, number> = {};
    const t0 = performance.now();
    const pages = await Promise.allSettled(
      Array.from({ length: s.storm }, () =>
        hotClient.listMessages({ channelId: hot, limit: HISTORY_LIMIT }).then((r) => {
          stormLatency.recordMs(performance.now() - t0);
          return r.messages.map((m) => m.id).join(",");
        }),
      ),
    );
    const stormElapsed = performance.now() - t0;
    const stormAfter = await status();
    const answers = new Map<string, number>();
    for (const page of pages) {
      if (page.status === "fulfilled") answers.set(page.value, (answers.get(page.value) ?? 0) + 1);
      else {
        const kind = String((page.reason as Error)?.message ?? page.reason).split("\n")[0].slice(0, 160);
        stormErrors[kind] = (stormErrors[kind] ?? 0) + 1;
      }
    }
    const stormCompleted = pages.length - Object.values(stormErrors).reduce((a, b) => a + b, 0);
    if (answers.size > 1) stormErrors[`${answers.size} different pages for identical reads (no write ran meanwhile)`] = 1;
    const stormQueries = Number(stormAfter.dbQueries - stormBefore.dbQueries);
    const storm: PhaseResult = {
      name: "storm   service",
      operation: `${s.storm} × identical ListMessages limit 50`,
      via: "service",
      mode: "burst",
      attempted: s.storm,
      completed: stormCompleted,
      errors: Object.values(stormErrors).reduce((a, b) => a + b, 0),
      errorKinds: stormErrors,
      achievedPerSec: round(stormCompleted / (stormElapsed / 1000), 1),
      elapsedMs: Math.round(stormElapsed),
      latencyMs: stormLatency.summary(),
      ...stormUsage(),
      db: {
        queries: stormQueries,
        coalesced: Number(stormAfter.coalescedRequests - stormBefore.coalescedRequests),
        queriesPerOp: round(stormQueries / s.storm, 3),
      },
    };
    phases.push(storm);

    // 8. Targets.
    const ratio = (svc: PhaseResult, drv: PhaseResult, p: "p50" | "p99" = "p99") =>
      svc.completed > 0 && drv.completed > 0 && drv.latencyMs[p] > 0 ? svc.latencyMs[p] / drv.latencyMs[p] : NaN;
    const times = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : "n/a");
    const insertRatio = ratio(insertService, insertDriver);
    const readRatio = ratio(readService, readDriver);
    const clean = (...ps: PhaseResult[]) => ps.every((p) => p.errors === 0);
    const errorsNote = (...ps: PhaseResult[]) => (clean(...ps) ? "" : ` (with ${ps.reduce((a, p) => a + p.errors, 0)} errors)`);
    const p99 = (p: PhaseResult) => (p.latencyMs.count > 0 ? `${p.latencyMs.p99.toFixed(2)} ms` : "nothing completed");
    const checks: Check[] = [
      {
        name: "p99 insert through the service",
        target: `≤ ${TARGETS.insertP99Ms} ms`,
        actual: `${p99(insertService)}${errorsNote(insertService)}`,
        pass: insertService.latencyMs.p99 <= TARGETS.insertP99Ms && clean(insertService),
      },
      {
        name: "p99 history read through the service",
        target: `≤ ${TARGETS.readP99Ms} ms`,
        actual: `${p99(readService)}${errorsNote(readService)}`,
        pass: readService.latencyMs.p99 <= TARGETS.readP99Ms && clean(readService),
      },
      {
        name: "insert p99, service / driver",
        target: `≤ ${TARGETS.serviceOverDriverP99}×`,
        actual: `${times(insertRatio)} (${p99(insertService)} / ${p99(insertDriver)})${errorsNote(insertService, insertDriver)}`,
        pass: insertRatio <= TARGETS.serviceOverDriverP99 && clean(insertService, insertDriver),
      },
      {
        name: "history p99, service / driver",
        target: `≤ ${TARGETS.serviceOverDriverP99}×`,
        actual: `${times(readRatio)} (${p99(readService)} / ${p99(readDriver)})${errorsNote(readService, readDriver)}`,
        pass: readRatio <= TARGETS.serviceOverDriverP99 && clean(readService, readDriver),
      },
      {
        name: `storm of ${s.storm} identical reads: database queries`,
        target: `≤ ${TARGETS.stormQueries}`,
        actual: `${stormQueries} (${storm.db!.coalesced} coalesced)${errorsNote(storm)}`,
        pass: stormQueries <= TARGETS.stormQueries && clean(storm),
      },
    ];

    const notes = [
      `service p99 / driver p99: insert ${times(insertRatio)}, history ${times(readRatio)}`,
      `service p50 / driver p50: insert ${times(ratio(insertService, insertDriver, "p50"))}, history ${times(ratio(readService, readDriver, "p50"))}`,
      `database queries per service call: insert ${insertService.db?.queriesPerOp ?? "n/a"}, history ${readService.db?.queriesPerOp ?? "n/a"} ` +
        `(coalesced: ${readService.db?.coalesced ?? "n/a"}); the driver phases send exactly one statement per operation`,
      `latencies are measured from each operation's scheduled send time (open loop); ` +
        `generator send lag p99: ${phases.filter((p) => p.sendLagMs).map((p) => p.sendLagMs!.p99.toFixed(2)).join(" / ")} ms`,
    ];

    return {
      scenario: "storage",
      title:
        `storage: ${s.rate} ops/s for ${s.durationS} s (+${s.warmupS} s warm-up) per phase, ${s.channels} channels ` +
        `seeded with ${s.seedMessages} messages, storm of ${s.storm}; Cassandra ${contactPoints.join(",")}, keyspace ${KEYSPACE}`,
      startedAt,
      finishedAt: new Date().toISOString(),
      environment: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGb: round(totalmem() / 2 ** 30, 1),
        cassandra: { contactPoints, localDc, pid: dbPid, jvm: dbJvm },
        etcd,
        storageProcess: { pid: storagePid, instance: ourId, namespace, address: instance.address, nodeOptions: serviceEnv.NODE_OPTIONS },
      },
      options: {
        rate: s.rate,
        durationS: s.durationS,
        warmupS: s.warmupS,
        channels: s.channels,
        seedMessages: s.seedMessages,
        storm: s.storm,
        targets: TARGETS,
      },
      phases,
      checks,
      notes,
    };
  } finally {
    await driver.shutdown().catch(() => undefined);
    await mesh?.close().catch(() => undefined);
    if (storage) {
      const exited = storage.kill("SIGTERM");
      const timer = setTimeout(() => void storage!.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

export const scenario: Scenario = {
  name: "storage",
  summary: "inserts and history reads through the storage service vs. cassandra-driver directly; hot-channel read storm",
  options: {
    rate: { type: "string", default: "1000" },
    duration: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    channels: { type: "string", default: "100" },
    "seed-messages": { type: "string", default: "60" },
    storm: { type: "string", default: "500" },
    "service-node-options": { type: "string", default: "" },
    "cpu-prof-dir": { type: "string", default: "" },
  },
  help: {
    rate: "operations started per second in every open-loop phase",
    duration: "measured seconds of every open-loop phase",
    warmup: "seconds of the same load before each phase, not recorded",
    channels: "channels written and read (each seeded first)",
    "seed-messages": "messages per channel before the phases (at least 50: reads take full pages)",
    storm: "concurrent identical ListMessages of one hot channel",
    "service-node-options": 'NODE_OPTIONS of the storage process, e.g. --service-node-options="--max-old-space-size=512"',
    "cpu-prof-dir": "CPU-profile the storage process; its .cpuprofile is written to this folder when it stops",
  },
  run: runStorage,
};

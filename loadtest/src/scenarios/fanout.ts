// The fan-out scenario: N Discord gateway sessions, members of one guild, and K senders posting
// to one channel over the REST API; every message must reach every session. Measures end-to-end
// latency (send → each receipt), deliveries per second, missing and duplicate deliveries, CPU
// and peak RSS per service process, and the gateway memory an idle session costs.
//
// By default it starts Chorus in cluster mode itself (storage, guild, relays, gateways, api);
// with --target it drives any Discord-compatible server through HTTP and the gateway URL from
// GET /api/v10/gateway only.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { makeAccounts, type Account, type AccountsResult } from "../fanout/accounts.js";
import { startChorusCluster, type ChorusCluster } from "../fanout/chorus-cluster.js";
import { ClientPool, type PoolResult } from "../fanout/client-pool.js";
import { DiscordHttp, forEachLimited, HttpError } from "../fanout/discord-http.js";
import { messageContent, nowMs, SESSION_INTENTS, type SessionSpec } from "../fanout/protocol.js";
import { rpcCounters, rpcDelta, type RpcCounters, type RpcDelta } from "../fanout/service-metrics.js";
import { commandStatsDelta, formatCommandStats, redisCommandStats, type CommandStats } from "../fanout/redis-stats.js";
import { LatencyRecorder, type LatencySummary } from "../latency.js";
import { runOpenLoop } from "../open-loop.js";
import { ProcessMonitor, readProc, round, SelfCpu, SystemMonitor, type ProcessUsage } from "../process-stats.js";
import { UsageError, type Check, type OptionValues, type ReportTable, type Scenario, type ScenarioReport } from "../scenario.js";

/** The issue's targets on the 2-core machine (design doc, "Benchmarks"). */
const TARGETS = {
  maxMessagesPerSec: 150,
  maxP99Ms: 100,
  rateP99Ms: 500,
  idleSessionKb: 10,
};

const log = (msg: string) => process.stderr.write(`[fanout] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------ options

interface Settings {
  sessions: number;
  senders: number;
  /** Messages per second over all senders (open loop); undefined: --max. */
  rate?: number;
  durationS: number;
  warmupS: number;
  gateways: number;
  relays: number;
  target: string;
  cpuProfDir: string;
  serviceNodeOptions: string;
  clientThreads: number;
  httpAccounts?: number;
  registerConcurrency: number;
  joinConcurrency: number;
  connectConcurrency: number;
  drainS: number;
  client: "raw" | "ws";
  setupFile: string;
  barrierTimeoutS: number;
  status: "online" | "invisible";
  /** Processes of a --target server on this machine, for their CPU and RSS. */
  targetPids: number[];
}

function intOption(values: OptionValues, name: string, min: number, max: number): number {
  const raw = values[name];
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${String(raw)}"`);
  }
  return n;
}

const optional = (values: OptionValues, name: string) => values[name] !== undefined && values[name] !== "" && values[name] !== "auto";

function settingsFrom(values: OptionValues): Settings {
  const sessions = intOption(values, "sessions", 1, 50_000);
  if (optional(values, "rate") && values.max) throw new UsageError("--rate and --max exclude each other");
  const s: Settings = {
    sessions,
    senders: intOption(values, "senders", 1, 1000),
    rate: optional(values, "rate") ? intOption(values, "rate", 1, 10_000) : undefined,
    durationS: intOption(values, "duration", 1, 3600),
    warmupS: intOption(values, "warmup", 0, 300),
    gateways: intOption(values, "gateways", 1, 16),
    relays: intOption(values, "relays", 1, 16),
    target: String(values.target ?? ""),
    cpuProfDir: values["cpu-prof"] ? resolve(process.env.INIT_CWD ?? process.cwd(), String(values["cpu-prof"])) : "",
    serviceNodeOptions: String(values["service-node-options"] ?? ""),
    clientThreads: optional(values, "client-threads") ? intOption(values, "client-threads", 1, 32) : Math.min(4, Math.max(2, Math.ceil(sessions / 2500))),
    httpAccounts: optional(values, "http-accounts") ? intOption(values, "http-accounts", 1, 50_000) : undefined,
    registerConcurrency: intOption(values, "register-concurrency", 1, 256),
    joinConcurrency: intOption(values, "join-concurrency", 1, 256),
    connectConcurrency: intOption(values, "connect-concurrency", 1, 5000),
    drainS: intOption(values, "drain", 1, 600),
    client: values.client === "ws" ? "ws" : "raw",
    barrierTimeoutS: intOption(values, "barrier-timeout", 1, 7200),
    targetPids: String(values["target-pids"] ?? "")
      .split(",")
      .filter((p) => p.trim() !== "")
      .map((p) => {
        const pid = Number(p);
        if (!Number.isInteger(pid) || pid <= 0 || !readProc(pid)) throw new UsageError(`--target-pids: "${p}" is not the pid of a running process`);
        return pid;
      }),
    status: values.status === "invisible" ? "invisible" : "online",
    setupFile: values["setup-file"] ? resolve(process.env.INIT_CWD ?? process.cwd(), String(values["setup-file"])) : "",
  };
  if (values.status !== "online" && values.status !== "invisible") throw new UsageError(`--status must be online or invisible, got "${String(values.status)}"`);
  if (values.client !== "ws" && values.client !== "raw") throw new UsageError(`--client must be raw or ws, got "${String(values.client)}"`);
  if (s.senders > s.sessions) throw new UsageError(`--senders (${s.senders}) cannot exceed --sessions (${s.sessions}): senders are members with sessions`);
  if (s.targetPids.length && !s.target) throw new UsageError("--target-pids goes with --target (the bench measures the processes it starts itself)");
  if (s.target) {
    let url: URL;
    try {
      url = new URL(s.target);
    } catch {
      throw new UsageError(`--target must be a base URL such as http://127.0.0.1:8080, got "${s.target}"`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--target must be an http(s) URL, got "${s.target}"`);
    if (s.cpuProfDir) throw new UsageError("--cpu-prof profiles the service processes the benchmark starts; it cannot be used with --target");
    if (s.httpAccounts !== undefined && s.httpAccounts < s.sessions) throw new UsageError("with --target every account is registered over HTTP (--http-accounts must be at least --sessions)");
  }
  return s;
}

// ------------------------------------------------------------------------------ helpers

const fixed = (digits: number) => (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));
const f0 = fixed(0);
const f1 = fixed(1);
const f2 = fixed(2);

function countKind(into: Record<string, number>, err: unknown): void {
  const kind = (err instanceof HttpError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err)).split("\n")[0].slice(0, 200);
  into[kind] = (into[kind] ?? 0) + 1;
}

/** Waits (≤ maxMs) until every pid uses less than 0.3 of a core, so setup work does not run into a measurement. */
async function settle(pids: number[], maxMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  await sleep(500);
  while (Date.now() < deadline) {
    const before = pids.map(readProc);
    await sleep(500);
    const cores = pids.map((pid, i) => ((readProc(pid)?.cpuSeconds ?? 0) - (before[i]?.cpuSeconds ?? 0)) / 0.5);
    if (cores.every((c) => c < 0.3)) return true;
  }
  return false;
}

/** The command name of a process (for the report), "" when unknown. */
function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).slice(0, 2).map((a) => a.split("/").slice(-3).join("/")).join(" ");
  } catch {
    return "";
  }
}

/** V8 heap in use and memory outside it (Buffers), from a service's GET /metrics (prom-client defaults). */
async function heapOf(address: string): Promise<{ heapUsedMb: number; heapTotalMb: number; externalMb: number }> {
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? NaN) / 2 ** 20;
    return { heapUsedMb: metric("nodejs_heap_size_used_bytes"), heapTotalMb: metric("nodejs_heap_size_total_bytes"), externalMb: metric("nodejs_external_memory_bytes") };
  } catch {
    return { heapUsedMb: NaN, heapTotalMb: NaN, externalMb: NaN };
  }
}

/** What setup made, saved by --setup-file for later runs against the same data. */
interface SavedSetup {
  madeAt: string;
  server: string;
  chorusStarted: boolean;
  sessions: number;
  guildId: string;
  channelId: string;
  accounts: Account[];
}

/**
 * The setup saved in `file`, if it is for as many sessions and still holds on the server: the
 * first and last accounts' tokens work and both see the channel (a Chorus the bench starts
 * keeps its data in keyspace chorus_bench between runs).
 */
async function reusableSetup(file: string, http: DiscordHttp, sessions: number, server: string, chorusStarted: boolean): Promise<SavedSetup | undefined> {
  if (!existsSync(file)) return undefined;
  let saved: SavedSetup;
  try {
    saved = JSON.parse(readFileSync(file, "utf8")) as SavedSetup;
  } catch (err) {
    log(`${file} is not a saved setup (${(err as Error).message}); making a new one`);
    return undefined;
  }
  if (saved.sessions !== sessions || saved.accounts?.length !== sessions || saved.chorusStarted !== chorusStarted || (!chorusStarted && saved.server !== server)) {
    log(`${file} was made for ${saved.sessions} sessions on ${saved.chorusStarted ? "a Chorus the bench started" : saved.server}; making a new one`);
    return undefined;
  }
  try {
    for (const a of [saved.accounts[0], saved.accounts[sessions - 1]]) await http.call("GET", `/channels/${saved.channelId}`, a.token);
  } catch (err) {
    log(`${file} no longer holds on this server (${(err as Error).message}); making a new one`);
    return undefined;
  }
  return saved;
}

interface MessageRecord {
  seq: number;
  sender: number;
  /** Epoch ms stamped into the message: the intended send time (open loop) or the actual one (--max). */
  stampedMs: number;
  measured: boolean;
  ok?: boolean;
  /** Send (stamp) → HTTP response, ms. */
  ackMs?: number;
}

interface ProcessRow {
  name: string;
  usage: ProcessUsage;
}

// ------------------------------------------------------------------------------ the scenario

async function runFanout(values: OptionValues): Promise<ScenarioReport> {
  const s = settingsFrom(values);
  const startedAt = new Date().toISOString();
  const run = Math.random().toString(36).slice(2, 8).padEnd(6, "0");
  const mode = s.rate ? `${s.rate} messages/s (open loop) from ${s.senders} sender(s)` : `${s.senders} sender(s) at --max (each posts when its previous ack arrived)`;
  log(`run ${run}: ${s.sessions} sessions, ${mode}, ${s.durationS} s (+${s.warmupS} s warm-up)`);

  let cluster: ChorusCluster | undefined;
  let pool: ClientPool | undefined;
  const setupTimes: Record<string, number> = {};
  const setupErrors: Record<string, number> = {};
  const notes: string[] = [];
  const time = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await work();
    setupTimes[what] = round((performance.now() - t0) / 1000, 1);
    return result;
  };

  try {
    // 1. The server: ours in cluster mode, or the target.
    if (!s.target) {
      cluster = await time("start Chorus", () =>
        startChorusCluster({ gateways: s.gateways, relays: s.relays, nodeOptions: s.serviceNodeOptions, cpuProfDir: s.cpuProfDir, log }),
      );
    }
    const baseUrl = cluster ? cluster.httpUrl : s.target;
    const http = new DiscordHttp(baseUrl);

    // 2.–3. Accounts, one guild with a text channel, everyone a member (or all of that from
    //       --setup-file, when it still holds on this server).
    let setup = s.setupFile ? await reusableSetup(s.setupFile, http, s.sessions, baseUrl, cluster !== undefined) : undefined;
    let accountsResult: AccountsResult | undefined;
    if (setup) {
      log(`reusing the accounts, guild and memberships of ${s.setupFile} (made ${setup.madeAt})`);
    } else {
      // Accounts: over HTTP; beyond --http-accounts (Chorus-started runs), through storage.
      const viaHttp = s.httpAccounts ?? (s.target || s.sessions <= 1000 ? s.sessions : 50);
      accountsResult = await time("accounts", () =>
        makeAccounts({ http, prefix: `fo${run}u`, count: s.sessions, viaHttp, concurrency: s.registerConcurrency, mesh: cluster?.mesh, log }),
      );
      const accounts = accountsResult.accounts;
      // One guild, its first text channel, an unlimited invite that everyone accepts.
      const owner = accounts[0];
      const made = await time("guild + invite", async () => {
        const guild = await http.call<{ id: string }>("POST", "/guilds", owner.token, { name: `fanout ${run}` });
        const channels = await http.call<{ id: string; type: number }[]>("GET", `/guilds/${guild.id}/channels`, owner.token);
        const text = channels.find((c) => c.type === 0);
        if (!text) throw new Error(`the new guild has no text channel: ${JSON.stringify(channels)}`);
        const invite = await http.call<{ code: string }>("POST", `/channels/${text.id}/invites`, owner.token, { max_age: 0, max_uses: 0 });
        return { guildId: guild.id, channelId: text.id, code: invite.code };
      });
      log(`guild ${made.guildId}, channel ${made.channelId}, invite ${made.code}; ${accounts.length - 1} members joining, ${s.joinConcurrency} at a time`);
      const joinRetries: Record<string, number> = {};
      await time("joins", async () => {
        let joined = 0;
        const progress = setInterval(() => log(`  ${joined}/${accounts.length - 1} joined`), 10_000);
        try {
          await forEachLimited(accounts.slice(1), s.joinConcurrency, async (a) => {
            await http.callRetrying("POST", `/invites/${made.code}`, a.token, {}, 8, (err) => countKind(joinRetries, err));
            joined++;
          });
        } finally {
          clearInterval(progress);
        }
      });
      log(`joined in ${setupTimes.joins} s`);
      for (const [k, v] of Object.entries(joinRetries)) setupErrors[`join retried after ${k}`] = v;
      setup = { madeAt: new Date().toISOString(), server: baseUrl, chorusStarted: cluster !== undefined, sessions: s.sessions, guildId: made.guildId, channelId: made.channelId, accounts };
      if (s.setupFile) {
        mkdirSync(dirname(s.setupFile), { recursive: true });
        writeFileSync(s.setupFile, JSON.stringify(setup));
        log(`wrote the setup to ${s.setupFile} (--setup-file reuses it)`);
      }
    }
    const { accounts, guildId, channelId } = setup;

    // 4. Gateway sessions, alternating over the URLs the server hands out.
    const urls = await http.gatewayUrls(cluster ? s.gateways * 4 : 16);
    if (cluster && urls.length !== s.gateways) throw new Error(`GET /gateway handed out ${urls.length} URLs for ${s.gateways} gateways: ${urls.join(", ")}`);
    const specs: SessionSpec[] = accounts.map((a, i) => ({ index: i, token: a.token, url: urls[i % urls.length] }));
    const gatewayOfUrl = (url: string) => cluster?.gateways.findIndex((g) => g.urls.gateway === url) ?? -1;
    const servicePids = cluster ? cluster.processes.map((p) => p.process.pid) : [];

    pool = new ClientPool(run, specs, { threads: s.clientThreads, intents: SESSION_INTENTS, connectConcurrency: s.connectConcurrency, connectTimeoutMs: 120_000, client: s.client, status: s.status });
    // Sessions connect in two steps, the gateways' memory sampled (once they are quiet) before,
    // between and after: the second step's growth per session is the marginal cost of an idle
    // session, without the one-time cost (JIT, caches, heap headroom) of the first connections.
    const firstStep = Math.min(s.sessions, Math.max(urls.length * 10, Math.ceil(s.sessions / 10)));
    const gatewayMemorySample = async () => {
      if (!cluster) return [];
      await settle(servicePids);
      // A full GC in each gateway (SIGUSR2, gc-on-signal.js), then a moment for it to finish.
      for (const g of cluster.gateways) process.kill(g.pid, "SIGUSR2");
      await sleep(2000);
      return Promise.all(cluster.gateways.map(async (g) => ({ rssMb: readProc(g.pid)?.rssMb ?? NaN, ...(await heapOf(g.address)) })));
    };
    const memory = [await gatewayMemorySample()];
    // Redis's per-command counters at each stage (the gateways' session store; all its clients).
    const redisUrl = cluster?.env.CHORUS_REDIS_URL;
    const redisStats: Record<string, CommandStats | undefined> = {};
    const redisMark = async (stage: string) => {
      if (redisUrl) redisStats[stage] = await redisCommandStats(redisUrl);
    };
    await redisMark("beforeConnect");
    log(`connecting ${s.sessions} sessions to ${urls.join(", ")} from ${pool.threads} client thread(s), ${s.connectConcurrency} at a time (first ${firstStep}, then the rest)`);
    const connectCpu = new SelfCpu();
    const connectMs: number[] = [];
    let ready = 0;
    let connectFailed = 0;
    let connectSeconds = 0;
    for (const upTo of firstStep < s.sessions ? [firstStep, s.sessions] : [s.sessions]) {
      const t0 = performance.now();
      const step = await pool.connect(upTo);
      const stepS = (performance.now() - t0) / 1000;
      connectSeconds += stepS;
      ready += step.ready;
      connectFailed += step.failed;
      connectMs.push(...step.connectMs);
      for (const [k, v] of Object.entries(step.errors)) setupErrors[`session connect: ${k}`] = (setupErrors[`session connect: ${k}`] ?? 0) + v;
      log(`${ready} sessions READY + GUILD_CREATE (${step.ready} in ${stepS.toFixed(1)} s, ${step.failed} failed)`);
      memory.push(await gatewayMemorySample());
    }
    setupTimes.sessions = round(connectSeconds, 1);
    await redisMark("afterConnect");
    const connectBenchCpu = connectCpu.read();
    if (ready === 0) throw new Error(`no session connected: ${JSON.stringify(setupErrors)}`);
    // Per gateway: sessions of each step, and the memory growth per session.
    const onGateway = (g: number, from: number, to: number) => specs.filter((x) => x.index >= from && x.index < to && gatewayOfUrl(x.url) === g).length;
    const gatewayMemory = (cluster?.gateways ?? []).map((_, g) => {
      const [before, mid, after] = [memory[0][g], memory[1][g], memory.at(-1)![g]];
      const all = onGateway(g, 0, s.sessions);
      const second = memory.length === 3 ? onGateway(g, firstStep, s.sessions) : 0;
      const kb = (from: number, to: number, n: number) => (n > 0 ? round(((to - from) * 1024) / n, 2) : NaN);
      return {
        name: `gateway-${g + 1}`,
        sessions: all,
        rssMb: { before: round(before.rssMb, 1), afterFirstStep: round(mid.rssMb, 1), after: round(after.rssMb, 1) },
        heapUsedMb: { before: round(before.heapUsedMb, 1), afterFirstStep: round(mid.heapUsedMb, 1), after: round(after.heapUsedMb, 1) },
        heapTotalMb: { before: round(before.heapTotalMb, 1), afterFirstStep: round(mid.heapTotalMb, 1), after: round(after.heapTotalMb, 1) },
        externalMb: { before: round(before.externalMb, 1), afterFirstStep: round(mid.externalMb, 1), after: round(after.externalMb, 1) },
        /** RSS growth per session of the second step (all sessions when there was one step). */
        kbPerSession: second > 0 ? kb(mid.rssMb, after.rssMb, second) : kb(before.rssMb, after.rssMb, all),
        heapKbPerSession: second > 0 ? kb(mid.heapUsedMb, after.heapUsedMb, second) : kb(before.heapUsedMb, after.heapUsedMb, all),
        /** RSS growth per session over both steps. */
        kbPerSessionOverall: kb(before.rssMb, after.rssMb, all),
        marginalSessions: second > 0 ? second : all,
      };
    });

    // 5. Barrier: one message every session must receive before the load starts (the whole
    //    path is up, every session is online on the guild's owner).
    const records: MessageRecord[] = [];
    const channelPath = `/channels/${channelId}/messages`;
    const senders = accounts.slice(0, s.senders);
    const failures: Record<string, number> = {};
    const post = async (record: MessageRecord) => {
      records[record.seq] = record;
      try {
        await http.call("POST", channelPath, senders[record.sender].token, { content: messageContent(run, record.seq, record.stampedMs), nonce: String(record.seq) }, 15_000);
        record.ok = true;
        record.ackMs = nowMs() - record.stampedMs;
      } catch (err) {
        record.ok = false;
        if (record.measured) countKind(failures, err);
        throw err;
      }
    };
    // CPU the processes spend from the first message's send until it reached everyone (work the
    // sessions' start queued ahead of it shows here).
    const barrierMonitors = [
      ...(cluster?.processes ?? []).map((p) => ({ name: p.name, monitor: new ProcessMonitor(p.process.pid) })),
      ...Object.entries(cluster?.infraPids ?? {}).map(([name, pid]) => ({ name, monitor: new ProcessMonitor(pid) })),
    ];
    for (const m of barrierMonitors) m.monitor.start();
    const barrierStart = nowMs();
    await post({ seq: 0, sender: 0, stampedMs: barrierStart, measured: false }).catch((err: unknown) => {
      throw new Error(`the first message could not be posted: ${(err as Error).message}`);
    });
    const barrier = await pool.waitForDeliveries([0], ready, Infinity, {
      timeoutMs: s.barrierTimeoutS * 1000,
      onProgress: (got) => log(`  first message: ${got}/${ready} sessions after ${((nowMs() - barrierStart) / 1000).toFixed(0)} s`),
    });
    const barrierS = round((nowMs() - barrierStart) / 1000, 2);
    const barrierCpu = barrierMonitors.map((m) => ({ name: m.name, cpuSeconds: m.monitor.stop().cpuSeconds }));
    await redisMark("afterFirstMessage");
    if (barrierS > 5 && barrierCpu.length) {
      notes.push(
        `first message: reached every session after ${barrierS} s; CPU meanwhile: ` +
          barrierCpu.filter((c) => c.cpuSeconds >= 0.5).map((c) => `${c.name} ${f1(c.cpuSeconds)} s`).join(", "),
      );
    }
    if (barrier.missing > 0) notes.push(`WARNING: the first message reached ${ready - barrier.missing} of ${ready} sessions within --barrier-timeout ${s.barrierTimeoutS} s`);
    log(`barrier message delivered to ${ready - barrier.missing}/${ready} sessions in ${barrierS} s`);
    if (cluster) await settle(servicePids);

    // 6. Load: warm-up, then the measured window; the window ends when every delivery arrived
    //    (or none arrived for --drain seconds).
    const monitors = cluster
      ? [
          ...cluster.processes.map((p) => ({ name: p.name, monitor: new ProcessMonitor(p.process.pid, { resetPeak: true }) })),
          ...Object.entries(cluster.infraPids).map(([name, pid]) => ({ name, monitor: new ProcessMonitor(pid) })),
        ]
      : s.targetPids.map((pid) => ({ name: `target ${pid} (${processName(pid)})`, monitor: new ProcessMonitor(pid) }));
    const self = new SelfCpu();
    const machine = new SystemMonitor();
    let windowStart = 0;
    /** CLOCK_MONOTONIC µs (V8 profiles' clock): profile-top.js --window cuts service profiles to the measured window. */
    const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
    let windowStartUs = 0;
    // Each process's RPC counters (GET /metrics) at both ends of the window.
    const rpcAt = () => Promise.all((cluster?.processes ?? []).map(async (p) => ({ name: p.name, counters: await rpcCounters(p.process.address) })));
    let rpcBefore: Promise<{ name: string; counters: RpcCounters | undefined }[]> = Promise.resolve([]);
    const startWindow = () => {
      void redisMark("windowStart");
      rpcBefore = rpcAt();
      windowStart = nowMs();
      windowStartUs = monotonicUs();
      for (const m of monitors) m.monitor.start();
      self.reset();
      machine.begin();
      pool!.windowStart();
      log(`measuring for ${s.durationS} s`);
    };
    let nextSeq = 1;
    let sendLag: LatencySummary | undefined;
    if (s.rate) {
      const rate = s.rate;
      log(`warm-up ${s.warmupS} s at ${rate} messages/s`);
      const result = await runOpenLoop({
        ratePerSec: rate,
        durationMs: s.durationS * 1000,
        warmupMs: s.warmupS * 1000,
        drainTimeoutMs: 15_000,
        onMeasureStart: startWindow,
        op: (seq, intended) => {
          const measured = windowStart > 0;
          return post({ seq: nextSeq++, sender: seq % s.senders, stampedMs: performance.timeOrigin + intended, measured });
        },
      });
      sendLag = result.sendLag;
    } else {
      log(`warm-up ${s.warmupS} s at --max`);
      const t0 = nowMs();
      const warmupEnd = t0 + s.warmupS * 1000;
      const end = warmupEnd + s.durationS * 1000;
      const timer = setTimeout(startWindow, Math.max(0, warmupEnd - nowMs()));
      await Promise.all(
        senders.map(async (_, sender) => {
          for (let now = nowMs(); now < end; now = nowMs()) {
            await post({ seq: nextSeq++, sender, stampedMs: now, measured: now >= warmupEnd }).catch(() => undefined);
          }
        }),
      );
      clearTimeout(timer);
      if (windowStart === 0) startWindow();
    }
    const sendsEnd = nowMs();
    const measuredRecords = records.filter((r) => r?.measured);
    const acceptedSeqs = measuredRecords.filter((r) => r.ok).map((r) => r.seq);
    const allAccepted = records.filter((r) => r?.ok).map((r) => r.seq);
    log(`sent ${measuredRecords.length} measured messages (${acceptedSeqs.length} accepted); waiting for their deliveries`);
    const drained = await pool.waitForDeliveries(allAccepted, ready, s.drainS * 1000);
    const windowEnd = nowMs();
    const windowEndUs = monotonicUs();
    await redisMark("windowEnd");
    const [rpcStart, rpcEnd] = [await rpcBefore, await rpcAt()];
    const rpcs: { process: string; rpcs: RpcDelta[] }[] = rpcStart.map((b, i) => ({ process: b.name, rpcs: rpcDelta(b.counters, rpcEnd[i]?.counters) }));
    const usage: ProcessRow[] = monitors.map((m) => ({ name: m.name, usage: m.monitor.stop() }));
    const benchCpu = self.read();
    const wholeMachine = machine.end();
    const collected: PoolResult = await pool.collect();

    // 7. Results.
    const measuredSet = new Set(measuredRecords.map((r) => r.seq));
    const acceptedSet = new Set(acceptedSeqs);
    const offered = measuredRecords.length;
    const accepted = acceptedSeqs.length;
    const failed = offered - accepted;
    const expected = accepted * ready;
    let made = 0;
    let duplicates = 0;
    let deliveredOfFailed = 0;
    for (const seq of measuredSet) {
      const got = Math.min(ready, collected.uniquePerSeq[seq] ?? 0);
      if (acceptedSet.has(seq)) made += got;
      else deliveredOfFailed += got;
      duplicates += collected.duplicatesPerSeq[seq] ?? 0;
    }
    const missing = expected - made;
    const latency = new LatencyRecorder();
    let lastReceipt = windowStart;
    collected.receiptSeq.forEach((seqs, w) => {
      const lat = collected.receiptLatencyMs[w];
      for (let i = 0; i < seqs.length; i++) {
        if (!acceptedSet.has(seqs[i])) continue;
        latency.recordMs(lat[i]);
        lastReceipt = Math.max(lastReceipt, records[seqs[i]].stampedMs + lat[i]);
      }
    });
    const acks = new LatencyRecorder();
    for (const r of measuredRecords) if (r.ok && r.ackMs !== undefined) acks.recordMs(r.ackMs);
    const lat = latency.summary();
    const ack = acks.summary();
    const windowS = s.durationS;
    const spanS = Math.max(windowS, (lastReceipt - windowStart) / 1000);
    const acceptedPerSec = accepted / windowS;
    const deliveriesPerSec = made / spanS;
    const otherCpu =
      wholeMachine && (cluster || s.targetPids.length) ? round(Math.max(0, wholeMachine.busyCpuSeconds - benchCpu.cpuSeconds - usage.reduce((a, u) => a + u.usage.cpuSeconds, 0)), 2) : undefined;

    // Tables.
    const tables: ReportTable[] = [];
    tables.push({
      title: "messages (measured window)",
      header: ["messages", "offered", "accepted", "failed", "accepted/s", "ack p50 ms", "ack p99 ms", "ack max ms"],
      rows: [["POST /channels/:id/messages", String(offered), String(accepted), String(failed), f1(acceptedPerSec), ...(ack.count ? [ack.p50, ack.p99, ack.max].map(f2) : ["–", "–", "–"])]],
    });
    tables.push({
      title: `deliveries (MESSAGE_CREATE of each accepted message × ${ready} sessions; latency from the send time stamped in the message to each receipt)`,
      header: ["deliveries", "expected", "made", "missing", "duplicate", "deliveries/s", "p50 ms", "p95 ms", "p99 ms", "max ms"],
      rows: [
        [
          "gateway sessions",
          String(expected),
          String(made),
          String(missing),
          String(duplicates),
          f0(deliveriesPerSec),
          ...(lat.count ? [lat.p50, lat.p95, lat.p99, lat.max].map(f2) : ["–", "–", "–", "–"]),
        ],
      ],
    });
    if (rpcs.some((r) => r.rpcs.length)) {
      const messagesInWindow = Math.max(1, records.filter((r) => r?.measured).length);
      tables.push({
        title: `RPCs served in the window (mesh metrics of each process; per message: calls / ${messagesInWindow} measured messages; mean: server time per call)`,
        header: ["process", "method", "calls", "per message", "mean ms"],
        rows: rpcs.flatMap((r) => r.rpcs.slice(0, 4).map((d) => [r.process, d.method, String(d.calls), f2(d.calls / messagesInWindow), f2(d.meanMs)])),
      });
    }
    const sessionsOf = (name: string) => gatewayMemory.find((g) => g.name === name);
    const processRows = usage.map(({ name, usage: u }) => {
      const g = sessionsOf(name);
      return [name, String(u.pid), f2(u.cpuSeconds), f1(u.cpuPercent), f0(u.peakRssMb), g ? String(g.sessions) : "", g ? f1(g.kbPerSession) : "", g ? f1(g.heapKbPerSession) : ""];
    });
    processRows.push(["bench (this process, all threads)", String(process.pid), f2(benchCpu.cpuSeconds), f1(benchCpu.cpuPercent), f0(readProc(process.pid)?.hwmMb), "", "", ""]);
    if (otherCpu !== undefined) processRows.push(["other processes", "", f2(otherCpu), "", "", "", "", ""]);
    tables.push({
      title:
        `processes (CPU over the measured window and drain, ${f1((windowEnd - windowStart) / 1000)} s; CPU % of one core; idle KB/session: a gateway's growth of RSS ` +
        `and of V8 heap in use per session over the second connect step, each sampled after a full GC)`,
      header: ["process", "pid", "CPU s", "CPU %", "peak RSS MB", "sessions", "idle RSS KB/session", "idle heap KB/session"],
      rows: processRows,
    });

    // Targets (the issue's configurations: 500 sessions with one sender at --max; 10,000
    // sessions at 5 messages/s; idle sessions in any run).
    const idleKb = gatewayMemory.length ? Math.max(...gatewayMemory.map((g) => g.kbPerSession)) : undefined;
    const checks: Check[] = [
      {
        name: "every accepted message delivered to every session",
        target: "0 missing",
        actual: `${missing} missing of ${expected}${collected.closes && Object.keys(collected.closes).length ? ` (sessions closed: ${JSON.stringify(collected.closes)})` : ""}`,
        pass: missing === 0 && accepted > 0,
      },
      { name: "no duplicate deliveries", target: "0", actual: String(duplicates), pass: duplicates === 0 },
      { name: "every message offered was accepted", target: "0 failed", actual: `${failed} failed of ${offered}`, pass: failed === 0 && offered > 0 },
    ];
    if (s.rate) {
      checks.push({ name: "p99 send → receipt (10,000 sessions, 5 msg/s)", target: `≤ ${TARGETS.rateP99Ms} ms`, actual: lat.count ? `${f2(lat.p99)} ms` : "nothing delivered", pass: lat.count > 0 && lat.p99 <= TARGETS.rateP99Ms });
    } else {
      checks.push(
        { name: "messages accepted per second (500 sessions, --max)", target: `≥ ${TARGETS.maxMessagesPerSec}/s`, actual: `${f1(acceptedPerSec)}/s`, pass: acceptedPerSec >= TARGETS.maxMessagesPerSec },
        { name: "p99 send → receipt (500 sessions, --max)", target: `≤ ${TARGETS.maxP99Ms} ms`, actual: lat.count ? `${f2(lat.p99)} ms` : "nothing delivered", pass: lat.count > 0 && lat.p99 <= TARGETS.maxP99Ms },
      );
    }
    if (idleKb !== undefined) {
      checks.push({
        name: "gateway memory per idle session",
        target: `≤ ${TARGETS.idleSessionKb} KB`,
        actual: gatewayMemory
          .map((g) => `${g.name} ${f2(g.kbPerSession)} KB RSS, ${f2(g.heapKbPerSession)} KB heap (${f0(g.rssMb.afterFirstStep)} → ${f0(g.rssMb.after)} MB over its last ${g.marginalSessions} sessions)`)
          .join("; "),
        pass: idleKb <= TARGETS.idleSessionKb,
      });
    }

    const accountsPart = accountsResult
      ? `accounts ${setupTimes.accounts} s (${accountsResult.http.count} registered over HTTP at ${accountsResult.http.perSecond}/s` +
        (accountsResult.storage ? `, ${accountsResult.storage.count} created through AccountStorageService at ${accountsResult.storage.perSecond}/s` : "") +
        `), ${accounts.length - 1} joins ${setupTimes.joins} s (${f1((accounts.length - 1) / Math.max(setupTimes.joins, 0.001))}/s), `
      : `accounts, guild and joins reused from ${s.setupFile} (made ${setup.madeAt}), `;
    const setupLine =
      `setup: ${accountsPart}` +
      `${ready} sessions READY + GUILD_CREATE in ${setupTimes.sessions} s (${f1(ready / Math.max(setupTimes.sessions, 0.001))}/s; bench CPU ${f2(connectBenchCpu.cpuSeconds)} s), ` +
      `first message to all in ${barrierS} s` + (setupTimes["start Chorus"] !== undefined ? `; Chorus started in ${setupTimes["start Chorus"]} s` : "");
    notes.unshift(setupLine);
    if (accountsResult?.storage && accountsResult.http.perSecond > 0) {
      notes.push(
        `accounts: POST /auth/register (scrypt, ~0.3 s of one core each) ran at ${accountsResult.http.perSecond}/s, so ${s.sessions} registrations would take ` +
          `~${f0(s.sessions / accountsResult.http.perSecond / 60)} min; the other ${accountsResult.storage.count} accounts were written through the storage contract ` +
          `(same password hash and token format as the api), and joined, connected and posted over HTTP and the gateway like the rest`,
      );
    }
    notes.push(
      `harness: ${pool.threads} client thread(s) (${s.client} WebSocket client), event-loop utilisation ${collected.eventLoopUtilization.map((u) => f2(u)).join(" / ")} (1.00 = saturated: receipt times would be late); ` +
        `${collected.frames} frames, ${f1(collected.bytes / 2 ** 20)} MB received in total; bench CPU ${f2(benchCpu.cpuSeconds)} s in the window` +
        (sendLag ? `; send lag p99 ${f2(sendLag.p99)} ms` : ""),
    );
    notes.push(
      `window: ${windowS} s of sends, then ${f1((windowEnd - sendsEnd) / 1000)} s until ${drained.missing === 0 ? "every delivery arrived" : `deliveries stopped (${drained.missing} still missing after ${s.drainS} s without progress)`}; ` +
        `deliveries/s over ${f1(spanS)} s (first measured send → last receipt); ${collected.outOfOrder} receipts out of order within a session` +
        (deliveredOfFailed ? `; ${deliveredOfFailed} deliveries of messages whose POST failed` : ""),
    );
    const otherFrames = Object.entries(collected.otherFrames).sort((a, b) => b[1] - a[1]);
    if (otherFrames.length) notes.push(`other frames the sessions got in the window: ${otherFrames.slice(0, 8).map(([k, v]) => `${v} × ${k}`).join(", ")}`);
    const serviceProblems = cluster?.problemCounts() ?? {};
    for (const [name, p] of Object.entries(serviceProblems)) {
      const top = Object.entries(p.messages).sort((a, b) => b[1] - a[1]).slice(0, 3);
      notes.push(`${name} logged ${p.count} warnings/errors during the run: ${top.map(([m, n]) => `${n} × "${m}"`).join("; ")}`);
    }
    const redisStages = redisUrl
      ? {
          connect: commandStatsDelta(redisStats.beforeConnect, redisStats.afterConnect),
          firstMessage: commandStatsDelta(redisStats.afterConnect, redisStats.afterFirstMessage),
          window: commandStatsDelta(redisStats.windowStart, redisStats.windowEnd),
        }
      : undefined;
    if (redisStages) {
      notes.push(
        `Redis commands (INFO commandstats, every client of that Redis): while sessions connected ${formatCommandStats(redisStages.connect)}; ` +
          `until the first message reached all ${formatCommandStats(redisStages.firstMessage)}; in the window ${formatCommandStats(redisStages.window)}`,
      );
    }
    if (wholeMachine) notes.push(`machine: ${f2(wholeMachine.busyCores)} of ${cpus().length} cores busy on average in the window`);
    const errorLines: string[] = [];
    const allErrors: Record<string, number> = {};
    for (const [k, v] of Object.entries(failures)) allErrors[`POST message: ${k}`] = v;
    for (const [k, v] of Object.entries(setupErrors)) allErrors[k] = v;
    for (const [k, v] of Object.entries(collected.errors)) allErrors[`client: ${k}`] = v;
    for (const [k, v] of Object.entries(collected.closes)) allErrors[`session closed by the server after READY with code ${k}`] = v;
    for (const [k, v] of Object.entries(allErrors).sort((a, b) => b[1] - a[1]).slice(0, 10)) errorLines.push(`  ${v} × ${k}`);
    if (errorLines.length) notes.push("errors:", ...errorLines);

    const title =
      `fanout: ${ready} gateway sessions (${s.sessions} asked, IDENTIFY status ${s.status}) on ${urls.length} gateway URL(s), ${mode}, ${s.durationS} s (+${s.warmupS} s warm-up); ` +
      (cluster ? `Chorus cluster started by the bench (storage, guild, ${s.relays} relays, ${s.gateways} gateways, api)` : `target ${s.target}`);

    return {
      scenario: "fanout",
      title,
      startedAt,
      finishedAt: new Date().toISOString(),
      environment: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGb: round(totalmem() / 2 ** 30, 1),
        target: cluster ? { startedByBench: true, httpUrl: baseUrl, namespace: cluster.namespace, keyspace: "chorus_bench", processes: cluster.processes.map((p) => ({ name: p.name, pid: p.process.pid, instance: p.process.instanceId })), nodeOptions: cluster.env.NODE_OPTIONS, infraPids: cluster.infraPids } : { startedByBench: false, httpUrl: baseUrl },
        gatewayUrls: urls,
        clientThreads: pool.threads,
        run,
      },
      options: { ...s, mode: s.rate ? "open-loop" : "max", targets: TARGETS },
      phases: [],
      tables,
      checks,
      notes,
      results: {
        window: { seconds: round((windowEnd - windowStart) / 1000, 2), monotonicUs: { start: windowStartUs, end: windowEndUs } },
        setup: { seconds: setupTimes, accounts: accountsResult ? { http: accountsResult.http, storage: accountsResult.storage } : { reusedFrom: s.setupFile, madeAt: setup.madeAt }, sessionsReady: ready, sessionsFailed: connectFailed, connectMs: summarize(connectMs), connectBenchCpuSeconds: connectBenchCpu.cpuSeconds, barrierSeconds: barrierS, barrierCpu, guildId, channelId },
        messages: { offered, accepted, failed, acceptedPerSec: round(acceptedPerSec, 2), ackLatencyMs: ack, failures, sendLagMs: sendLag },
        deliveries: { expected, made, missing, duplicates, deliveredOfFailedMessages: deliveredOfFailed, outOfOrder: collected.outOfOrder, perSec: round(deliveriesPerSec, 1), spanSeconds: round(spanS, 2), latencyMs: lat, drainSeconds: round((windowEnd - sendsEnd) / 1000, 2) },
        processes: usage.map(({ name, usage: u }) => ({ name, ...u })),
        bench: { ...benchCpu, eventLoopUtilization: collected.eventLoopUtilization, frames: collected.frames, bytes: collected.bytes },
        machine: wholeMachine && { ...wholeMachine, otherCpuSeconds: otherCpu },
        gatewayMemory,
        otherFrames: collected.otherFrames,
        redisCommands: redisStages,
        rpcs,
        serviceWarnings: serviceProblems,
        errors: allErrors,
      },
    };
  } catch (err) {
    const problems = cluster?.problems() ?? [];
    if (problems.length) log(`warnings and errors the services logged:\n${problems.join("\n")}`);
    throw err;
  } finally {
    await pool?.close().catch(() => undefined);
    if (cluster) {
      log("stopping Chorus");
      await cluster.stop();
    }
  }
}

function summarize(values: number[]): LatencySummary {
  const r = new LatencyRecorder();
  for (const v of values) r.recordMs(v);
  return r.summary();
}

export const scenario: Scenario = {
  name: "fanout",
  summary: "N gateway sessions in one guild, K senders: end-to-end delivery latency, deliveries/s, missing/duplicates, CPU and RSS per service",
  options: {
    sessions: { type: "string", default: "500" },
    senders: { type: "string", default: "1" },
    rate: { type: "string", default: "" },
    max: { type: "boolean", default: false },
    duration: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    gateways: { type: "string", default: "2" },
    relays: { type: "string", default: "2" },
    target: { type: "string", default: "" },
    "target-pids": { type: "string", default: "" },
    "cpu-prof": { type: "string", default: "" },
    "service-node-options": { type: "string", default: "" },
    "client-threads": { type: "string", default: "auto" },
    "http-accounts": { type: "string", default: "auto" },
    "register-concurrency": { type: "string", default: "8" },
    "join-concurrency": { type: "string", default: "4" },
    "connect-concurrency": { type: "string", default: "200" },
    drain: { type: "string", default: "15" },
    client: { type: "string", default: "raw" },
    "setup-file": { type: "string", default: "" },
    "barrier-timeout": { type: "string", default: "600" },
    status: { type: "string", default: "online" },
  },
  metavars: { "target-pids": "PID,…", status: "online|invisible", "setup-file": "FILE", client: "raw|ws", rate: "R", target: "URL", "cpu-prof": "DIR", "client-threads": "N", "http-accounts": "N" },
  help: {
    sessions: "gateway sessions (one user each, all members of one guild)",
    senders: "users posting messages (the first members; they have sessions too)",
    rate: "messages per second over all senders, open loop (fixed schedule); without it: --max",
    max: "each sender posts its next message as soon as the previous one was acknowledged (the default)",
    duration: "measured seconds of sending",
    warmup: "seconds of the same load before the measured window, not counted",
    gateways: "gateway processes of the Chorus the bench starts (sessions alternate between them)",
    relays: "relay processes of the Chorus the bench starts",
    target: "base URL of a running Discord-compatible server (e.g. http://127.0.0.1:8080): uses only HTTP and GET /api/v10/gateway's URL(s)",
    "target-pids": "with --target: pids of the server's processes on this machine, reported with their CPU and peak RSS",
    "cpu-prof": "CPU-profile every service process the bench starts; one .cpuprofile each lands in DIR when they stop",
    "service-node-options": 'NODE_OPTIONS of every service process, e.g. --service-node-options="--max-old-space-size=1024"',
    "client-threads": "worker threads holding the gateway sessions (auto: one per 2,500 sessions, at least 2, at most 4)",
    "http-accounts": "accounts registered over POST /auth/register; the rest through AccountStorageService (auto: all up to 1,000 sessions and with --target, else 50)",
    "register-concurrency": "registrations in flight at once",
    "join-concurrency": "invite acceptances in flight at once (a guild's owner runs its commands one after another)",
    "connect-concurrency": "sessions connecting (until READY + GUILD_CREATE) at once",
    drain: "after the last send, give up on missing deliveries once none arrived for this many seconds",
    status:
      "the presence status sessions IDENTIFY with: online (as a client does: each session going online is a PRESENCE_UPDATE for the guild) or invisible (others see it offline: no presence fan-out, isolates message delivery)",
    "barrier-timeout": "before the load, one message must reach every session; wait at most this many seconds for it (it waits behind whatever the sessions' start caused)",
    "setup-file":
      "reuse the accounts, guild and memberships saved in FILE when it was made for as many sessions and still holds on the server (Chorus keeps keyspace chorus_bench between runs); otherwise make them and save them there",
    client: "WebSocket client of the sessions: raw (the harness's own, on net.Socket onread; several times cheaper per frame) or ws (the npm package)",
  },
  run: runFanout,
};

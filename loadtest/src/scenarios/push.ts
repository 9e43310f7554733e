// The push scenario: the push service's pipeline (the same source, sinks and providers the
// service runs) in this process, fed directly, against a local provider endpoint in a process
// of its own that answers after a fixed delay. Phases: FCM HTTP v1 over HTTP/2 at a sustained
// rate; a burst into the bounded buffer (shedding); Web Push (RFC 8291 encryption + VAPID per
// push) at a sustained rate. Reports pushes/s, in-flight, shed counts, latency from accepting
// a push to the provider's answer, CPU and heap of this (the push) process.
import { spawn, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { createInterface, type Interface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { repoPath } from "@chorus/testing";
import { FcmProvider } from "@chorus/service-push/fcm-provider";
import type { Http2ClientKind } from "@chorus/service-push/http2-origin";
import { GoogleAccessTokens, type GoogleServiceAccount } from "@chorus/service-push/provider-credentials";
import { PushPipeline } from "@chorus/service-push/push-pipeline";
import { Priority, type ProviderName, type PushProvider, type PushRequest } from "@chorus/service-push/push-request";
import { WebPushProvider } from "@chorus/service-push/web-push-provider";
import type { ProviderSpec } from "@chorus/service-push/provider-spec";
import { SinkThreads } from "@chorus/service-push/sink-threads";
import webpush from "web-push";
import { LatencyRecorder, type LatencySummary } from "../latency.js";
import { mainThreadCpuSeconds, ProcessMonitor, round, SelfCpu } from "../process-stats.js";
import { UsageError, type Check, type OptionValues, type Scenario, type ScenarioReport } from "../scenario.js";

interface Settings {
  rate: number;
  durationS: number;
  delayMs: number;
  sinks: number;
  inFlight: number;
  buffer: number;
  burst: number;
  webpushRate: number;
  stubRate: number;
  highShare: number;
  threads: number;
  client: Http2ClientKind;
}

function intOption(values: OptionValues, name: string, min: number, max: number): number {
  const raw = values[name];
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${String(raw)}"`);
  return n;
}

function clientOption(raw: unknown): Http2ClientKind {
  if (raw === "native" || raw === "node") return raw;
  throw new UsageError(`--client must be native or node, got "${String(raw)}"`);
}

function settingsFrom(values: OptionValues): Settings {
  return {
    rate: intOption(values, "rate", 1, 200_000),
    durationS: intOption(values, "duration", 1, 600),
    delayMs: intOption(values, "delay", 0, 10_000),
    sinks: intOption(values, "sinks", 1, 64),
    inFlight: intOption(values, "in-flight", 1, 10_000),
    buffer: intOption(values, "buffer", 1, 10_000_000),
    burst: intOption(values, "burst", 0, 10_000_000),
    webpushRate: intOption(values, "webpush-rate", 0, 200_000),
    stubRate: intOption(values, "stub-rate", 0, 1_000_000),
    highShare: intOption(values, "high-percent", 0, 100),
    threads: intOption(values, "threads", 0, 64),
    client: clientOption(values.client),
  };
}

// ------------------------------------------------------------------------------ the provider endpoint

interface Endpoint {
  info: { url: string; serviceAccount?: GoogleServiceAccount; subscriptions?: { endpoint: string; keys: { p256dh: string; auth: string } }[] };
  pid: number;
  stats(): Promise<{ answered: number; peakOpen: number; byStatus: Record<string, number> }>;
  stop(): Promise<void>;
}

/** A child process that prints one JSON line when ready and answers "stats" on stdin. */
async function startChild(what: string, command: string, args: string[]): Promise<Endpoint & { info: Record<string, unknown> }> {
  const child: ChildProcess = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines: Interface = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the ${what} exited (${code})`)));
    child.once("error", reject);
  });
  const info = JSON.parse(await next()) as Endpoint["info"] & Record<string, unknown>;
  return {
    info,
    pid: child.pid!,
    async stats() {
      const answer = next();
      child.stdin!.write("stats\n");
      return JSON.parse(await answer) as Awaited<ReturnType<Endpoint["stats"]>>;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin!.end("exit\n");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/**
 * The provider side. FCM: messages go to the Rust h2c endpoint (loadtest/h2-endpoint, a few µs
 * of CPU per request, as Google's servers cost the push process nothing), the OAuth token comes
 * from the Node stand-in; Web Push: the Node stand-in (HTTP/1.1).
 */
async function startEndpoint(kind: ProviderName, delayMs: number): Promise<Endpoint> {
  const standIn = await startChild(`${kind} endpoint`, process.execPath, [repoPath("loadtest", "dist", "src", "push-endpoint-process.js"), kind, String(delayMs), "200"]);
  if (kind !== "fcm") return standIn;
  const messages = await startChild("h2 endpoint", repoPath("target", "release", "chorus-h2-endpoint"), [String(delayMs)]).catch(async (err: Error) => {
    await standIn.stop();
    throw new Error(`${err.message}: the FCM endpoint is built by \`node scripts/setup.mjs\` (cargo)`);
  });
  return {
    info: { url: `http://127.0.0.1:${messages.info.port as number}`, serviceAccount: standIn.info.serviceAccount },
    pid: messages.pid,
    stats: () => messages.stats(),
    async stop() {
      await Promise.all([messages.stop(), standIn.stop()]);
    },
  };
}

// ------------------------------------------------------------------------------ one phase

interface PhaseOutcome {
  name: string;
  offered: number;
  sent: number;
  failed: number;
  shedHigh: number;
  shedLow: number;
  highSent: number;
  highOffered: number;
  elapsedS: number;
  pushesPerSec: number;
  peakInFlight: number;
  limitInFlight: number;
  latency: LatencySummary;
  cpuSeconds: number;
  cpuPercent: number;
  /** Of cpuSeconds, the main thread's (the rest: sink threads, V8's helpers). */
  mainThreadCpuSeconds?: number;
  peakHeapMb: number;
  endpointCpuSeconds: number;
  endpointPeakOpen: number;
}

interface PhaseSpec {
  name: string;
  lane: ProviderName;
  providers: Partial<Record<ProviderName, () => PushProvider>>;
  target: (n: number) => PushRequest["target"];
  /** Open loop at `rate` for `durationS`, or everything at once (`burst`). */
  load: { rate: number; durationS: number } | { burst: number };
}

async function runPhase(spec: PhaseSpec, s: Settings, endpoint: Endpoint | undefined): Promise<PhaseOutcome> {
  const latency = new LatencyRecorder();
  let sent = 0;
  let failed = 0;
  let highSent = 0;
  let highOffered = 0;
  let lastDone = performance.now();
  const pipeline = new PushPipeline({
    bufferCapacity: s.buffer,
    sinksPerProvider: s.sinks,
    maxInFlightPerSink: s.inFlight,
    providers: spec.providers,
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5000 },
    onDone: (request, result) => {
      lastDone = performance.now();
      if (result === "sent") {
        sent++;
        if (request.priority === Priority.High) highSent++;
        latency.recordMs(lastDone - request.acceptedAt);
      } else failed++;
    },
  });
  const offer = (n: number) => {
    const priority = (n * 7919) % 100 < s.highShare ? Priority.High : Priority.Low;
    if (priority === Priority.High) highOffered++;
    pipeline.submit({
      lane: spec.lane,
      priority,
      target: spec.target(n),
      content: { title: "ada (#general)", body: `hey <@42>, message ${n}`, data: { channel_id: "1234567890123456789", message_id: String(n), guild_id: "987654321" }, tag: "c1234567890123456789" },
      acceptedAt: performance.now(),
      ttlSeconds: 3600,
    });
  };
  const endpointBefore = endpoint && new ProcessMonitor(endpoint.pid);
  const self = new SelfCpu();
  let peakInFlight = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    peakInFlight = Math.max(peakInFlight, pipeline.sinks.reduce((n, sink) => n + sink.held, 0));
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 20);
  endpointBefore?.start();
  self.reset();
  const mainBefore = mainThreadCpuSeconds();
  const started = performance.now();
  let offered = 0;
  if ("burst" in spec.load) {
    for (; offered < spec.load.burst; offered++) offer(offered);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  } else {
    // Open loop: every tick offers what is due since the start, whatever the pipeline does.
    const { rate, durationS } = spec.load;
    const total = rate * durationS;
    while (offered < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (offered < due) offer(offered++);
      await sleep(5);
    }
  }
  const shedBefore = () => pipeline.status().shedByPriority;
  // Drain: until every push accepted is answered (or 60 s).
  const deadline = performance.now() + 60_000;
  for (;;) {
    const status = pipeline.status();
    const finished = sent + failed + status.shedByPriority[0] + status.shedByPriority[1] + status.unserved;
    if (finished >= offered || performance.now() > deadline) break;
    await sleep(10);
  }
  const elapsedS = (lastDone - started) / 1000;
  clearInterval(sampler);
  const cpu = self.read();
  const mainAfter = mainThreadCpuSeconds();
  const endpointUsage = endpointBefore?.stop();
  const [shedHigh, shedLow] = shedBefore();
  const stats = endpoint ? await endpoint.stats() : { peakOpen: 0 };
  await pipeline.stop();
  return {
    name: spec.name,
    offered,
    sent,
    failed,
    shedHigh,
    shedLow,
    highSent,
    highOffered,
    elapsedS: round(elapsedS, 2),
    pushesPerSec: round(elapsedS > 0 ? sent / elapsedS : 0, 0),
    peakInFlight,
    limitInFlight: s.sinks * s.inFlight,
    latency: latency.summary(),
    cpuSeconds: cpu.cpuSeconds,
    cpuPercent: cpu.cpuPercent,
    mainThreadCpuSeconds: mainBefore !== undefined && mainAfter !== undefined ? round(mainAfter - mainBefore, 2) : undefined,
    peakHeapMb: round(peakHeap / 2 ** 20, 1),
    endpointCpuSeconds: endpointUsage?.cpuSeconds ?? 0,
    endpointPeakOpen: stats.peakOpen,
  };
}

// ------------------------------------------------------------------------------ the scenario

async function runPush(values: OptionValues): Promise<ScenarioReport> {
  const s = settingsFrom(values);
  const startedAt = new Date().toISOString();
  const outcomes: PhaseOutcome[] = [];

  // Sinks' provider connections in worker threads, as CHORUS_PUSH_SINK_THREADS does.
  const threads = s.threads > 0 ? new SinkThreads(s.threads) : undefined;
  const fcm = await startEndpoint("fcm", s.delayMs);
  try {
    const account = fcm.info.serviceAccount!;
    const tokens = new GoogleAccessTokens(account);
    const http2 = { timeoutMs: 30_000, client: s.client };
    const spec: ProviderSpec = { kind: "fcm", projectId: account.project_id!, endpoint: fcm.info.url, account, http2 };
    const providers = { fcm: threads ? () => threads.provider("fcm", spec) : () => new FcmProvider({ projectId: account.project_id!, endpoint: fcm.info.url, tokens, ...http2 }) };
    const target = (n: number) => ({ userId: BigInt(n % 100_000), deviceId: `d${n}`, token: `fcm-token-${n % 100_000}` });
    console.error(`push: FCM sustained, ${s.rate}/s for ${s.durationS} s`);
    outcomes.push(await runPhase({ name: "FCM sustained", lane: "fcm", providers, target, load: { rate: s.rate, durationS: s.durationS } }, s, fcm));
    if (s.burst > 0) {
      console.error(`push: FCM burst of ${s.burst} into a ${s.buffer} buffer`);
      outcomes.push(await runPhase({ name: "FCM burst", lane: "fcm", providers, target, load: { burst: s.burst } }, s, fcm));
    }
  } finally {
    await fcm.stop();
  }

  if (s.webpushRate > 0) {
    const web = await startEndpoint("webpush", s.delayMs);
    try {
      const vapid = { subject: "mailto:bench@chorus.test", ...webpush.generateVAPIDKeys() };
      const subs = web.info.subscriptions!;
      const options = { vapid, connections: s.inFlight, timeoutMs: 30_000, allowHttp: true };
      const providers = { webpush: threads ? () => threads.provider("webpush", { kind: "webpush", options }) : () => new WebPushProvider(options) };
      const target = (n: number) => {
        const sub = subs[n % subs.length];
        return { userId: BigInt(n % 100_000), deviceId: `w${n}`, token: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth };
      };
      console.error(`push: Web Push sustained, ${s.webpushRate}/s for ${s.durationS} s`);
      outcomes.push(await runPhase({ name: "Web Push sustained", lane: "webpush", providers, target, load: { rate: s.webpushRate, durationS: s.durationS } }, s, web));
    } finally {
      await web.stop();
    }
  }

  if (s.stubRate > 0) {
    // The pipeline alone: a provider that answers after the same delay without any I/O.
    const stub = (): PushProvider => ({
      name: "fcm",
      send: () => new Promise((resolve) => setTimeout(() => resolve({ status: "sent" }), s.delayMs)),
      close: async () => {},
    });
    const target = (n: number) => ({ userId: BigInt(n % 100_000), deviceId: `d${n}`, token: `fcm-token-${n % 100_000}` });
    console.error(`push: pipeline only (a stub provider, no I/O), ${s.stubRate}/s for ${s.durationS} s`);
    outcomes.push(await runPhase({ name: "pipeline only (stub)", lane: "fcm", providers: { fcm: stub }, target, load: { rate: s.stubRate, durationS: s.durationS } }, s, undefined));
  }

  await threads?.close();
  const fcmSustained = outcomes[0];
  const burst = outcomes.find((o) => o.name === "FCM burst");
  const checks: Check[] = [
    {
      name: "FCM sustained rate",
      target: `≥ 16,700 pushes/s (1,000,000/min) with nothing shed at --rate ${s.rate}`,
      actual: `${fcmSustained.pushesPerSec}/s, ${fcmSustained.shedHigh + fcmSustained.shedLow} shed`,
      pass: fcmSustained.pushesPerSec >= 16_700 && fcmSustained.shedHigh + fcmSustained.shedLow === 0,
    },
    ...outcomes.map((o) => ({
      name: `${o.name}: in flight`,
      target: `≤ ${o.limitInFlight} (sinks × limit)`,
      actual: `peak ${o.peakInFlight} (endpoint saw ${o.endpointPeakOpen} open)`,
      pass: o.peakInFlight <= o.limitInFlight && o.endpointPeakOpen <= o.limitInFlight,
    })),
  ];
  if (burst) {
    checks.push({
      name: "burst: high priority",
      target: "none shed, all sent",
      actual: `${burst.shedHigh} shed, ${burst.highSent}/${burst.highOffered} sent`,
      pass: burst.shedHigh === 0 && burst.highSent === burst.highOffered,
    });
  }
  const stubbed = outcomes.find((o) => o.name === "pipeline only (stub)");
  if (stubbed) {
    checks.push({
      name: "pipeline only (stub provider)",
      target: `all ${s.stubRate}/s sent, nothing shed`,
      actual: `${stubbed.pushesPerSec}/s, ${stubbed.shedHigh + stubbed.shedLow} shed, ${stubbed.sent}/${stubbed.offered} sent`,
      pass: stubbed.sent === stubbed.offered,
    });
  }
  checks.push({
    name: "heap bounded",
    target: "peak heap < 256 MB in every phase",
    actual: outcomes.map((o) => `${o.peakHeapMb} MB`).join(", "),
    pass: outcomes.every((o) => o.peakHeapMb < 256),
  });

  const f = (n: number) => n.toLocaleString("en-US");
  return {
    scenario: "push",
    title: `push pipeline: ${s.sinks} sinks × ${s.inFlight} in flight per provider, buffer ${f(s.buffer)}, provider delay ${s.delayMs} ms, ${s.highShare}% high priority, ${s.threads > 0 ? `${s.threads} sink threads` : "sinks in the main thread"}, ${s.client} HTTP/2 client`,
    startedAt,
    finishedAt: new Date().toISOString(),
    environment: { node: process.version, cpus: cpus().length, memoryGb: round(totalmem() / 2 ** 30, 1) },
    options: { ...s },
    phases: [],
    tables: [
      {
        header: ["phase", "offered", "sent", "failed", "shed high", "shed low", "pushes/s", "peak in flight", "p50 ms", "p95 ms", "p99 ms", "max ms", "push CPU s", "push CPU %", "CPU µs/push", "main thread µs/push", "peak heap MB", "endpoint CPU s"],
        rows: outcomes.map((o) => [
          o.name,
          f(o.offered),
          f(o.sent),
          f(o.failed),
          f(o.shedHigh),
          f(o.shedLow),
          f(o.pushesPerSec),
          `${o.peakInFlight}/${o.limitInFlight}`,
          o.latency.p50.toFixed(1),
          o.latency.p95.toFixed(1),
          o.latency.p99.toFixed(1),
          o.latency.max.toFixed(1),
          o.cpuSeconds.toFixed(2),
          o.cpuPercent.toFixed(0),
          o.sent > 0 ? ((o.cpuSeconds * 1e6) / o.sent).toFixed(0) : "–",
          o.sent > 0 && o.mainThreadCpuSeconds !== undefined ? ((o.mainThreadCpuSeconds * 1e6) / o.sent).toFixed(0) : "–",
          o.peakHeapMb.toFixed(1),
          o.endpointCpuSeconds.toFixed(2),
        ]),
      },
    ],
    checks,
    notes: [
      "latency: from the pipeline accepting a push to the provider's answer (includes the provider delay and any wait in the buffer).",
      "pushes/s: pushes the provider accepted over the phase (first offer to last answer); the push process is this process.",
      "CPU µs/push: the push process's CPU over the phase per push sent (shedding and the load generator's offers included); main thread µs/push: the main thread's share (the source, the sinks, the load generator; with --threads the providers' work is in the sink threads).",
    ],
    results: { phases: outcomes },
  };
}

export const scenario: Scenario = {
  name: "push",
  summary: "the push pipeline against a local provider endpoint: FCM (HTTP/2) sustained and burst, Web Push (encrypted) sustained",
  options: {
    rate: { type: "string", default: "20000" },
    duration: { type: "string", default: "20" },
    delay: { type: "string", default: "20" },
    sinks: { type: "string", default: "8" },
    "in-flight": { type: "string", default: "100" },
    buffer: { type: "string", default: "10000" },
    burst: { type: "string", default: "100000" },
    "webpush-rate": { type: "string", default: "4000" },
    "stub-rate": { type: "string", default: "16700" },
    "high-percent": { type: "string", default: "10" },
    threads: { type: "string", default: "0" },
    client: { type: "string", default: "native" },
  },
  help: {
    rate: "FCM pushes offered per second in the sustained phase",
    duration: "seconds of each sustained phase",
    delay: "the provider endpoint's response delay (ms)",
    sinks: "sinks per provider (each one connection)",
    "in-flight": "requests one sink holds at most",
    buffer: "source buffer capacity",
    burst: "pushes offered at once in the burst phase (0: no burst)",
    "webpush-rate": "Web Push pushes offered per second (0: no Web Push phase)",
    "stub-rate": "pushes per second through the pipeline with a stub provider (no I/O, same delay): the pipeline's own cost (0: no such phase)",
    "high-percent": "share of high-priority pushes",
    threads: "worker threads for the sinks' provider connections (CHORUS_PUSH_SINK_THREADS; 0: the main thread)",
    client: "FCM's HTTP/2 client (CHORUS_PUSH_HTTP2_CLIENT): native (the Rust addon) or node (node:http2)",
  },
  run: runPush,
};

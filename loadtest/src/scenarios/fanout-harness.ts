// The fan-out benchmark's own capacity: its gateway clients (the same worker threads and code)
// against a stand-in gateway process that sends Chorus-shaped MESSAGE_CREATEs to every session
// at a fixed rate. Shows what the harness costs per delivery and whether it keeps up at a
// given number of sessions and rate, so a fanout result can be told apart from a harness limit.
import { fork } from "node:child_process";
import { cpus } from "node:os";
import { ClientPool } from "../fanout/client-pool.js";
import { SESSION_INTENTS, type SessionSpec } from "../fanout/protocol.js";
import { LatencyRecorder } from "../latency.js";
import { readProc, round, SelfCpu, SystemMonitor } from "../process-stats.js";
import { UsageError, type OptionValues, type Scenario, type ScenarioReport } from "../scenario.js";

const log = (msg: string) => process.stderr.write(`[fanout-harness] ${msg}\n`);

function intOption(values: OptionValues, name: string, min: number, max: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${String(values[name])}"`);
  return n;
}

async function runHarness(values: OptionValues): Promise<ScenarioReport> {
  const sessions = intOption(values, "sessions", 1, 50_000);
  const rate = intOption(values, "rate", 1, 10_000);
  const durationS = intOption(values, "duration", 1, 600);
  const threads = values["client-threads"] === "auto" ? Math.min(4, Math.max(2, Math.ceil(sessions / 2500))) : intOption(values, "client-threads", 1, 32);
  const client = values.client === "ws" ? "ws" : values.client === "raw" ? "raw" : undefined;
  if (!client) throw new UsageError(`--client must be raw or ws, got "${String(values.client)}"`);
  const startedAt = new Date().toISOString();
  const run = Math.random().toString(36).slice(2, 8).padEnd(6, "0");

  const server = fork(new URL("../fanout/fake-gateway.js", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let pool: ClientPool | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      server.once("message", (m: { type: string; url: string }) => resolve(m.url));
      server.once("exit", (code) => reject(new Error(`the stand-in gateway exited (${code})`)));
    });
    const specs: SessionSpec[] = Array.from({ length: sessions }, (_, i) => ({ index: i, url, token: `token-${i}` }));
    pool = new ClientPool(run, specs, { threads, intents: SESSION_INTENTS, connectConcurrency: 500, connectTimeoutMs: 60_000, client });
    const connected = await pool.connect(sessions);
    log(`${connected.ready} sessions connected from ${pool.threads} thread(s); ${rate} messages/s for ${durationS} s`);

    const self = new SelfCpu();
    const machine = new SystemMonitor();
    const serverCpuBefore = readProc(server.pid!)?.cpuSeconds ?? 0;
    machine.begin();
    pool.windowStart();
    const sent = new Promise<number>((resolve) => server.once("message", (m: { messages: number }) => resolve(m.messages)));
    const sendStart = performance.now();
    server.send({ type: "send", run, rate, durationS });
    const total = await sent;
    const seqs = Array.from({ length: total }, (_, i) => i + 1);
    const { missing } = await pool.waitForDeliveries(seqs, connected.ready, 10_000);
    /** From the first send to the last delivery (±0.2 s: the polling interval). */
    const spanS = Math.max(durationS, (performance.now() - sendStart) / 1000);
    const benchCpu = self.read();
    const serverCpu = (readProc(server.pid!)?.cpuSeconds ?? 0) - serverCpuBefore;
    const whole = machine.end();
    const collected = await pool.collect();
    const latency = new LatencyRecorder();
    for (const lat of collected.receiptLatencyMs) for (const v of lat) latency.recordMs(v);
    const l = latency.summary();
    const made = total * connected.ready - missing;
    const f2 = (v: number) => v.toFixed(2);
    const usPerDelivery = made > 0 ? (benchCpu.cpuSeconds * 1e6) / made : NaN;
    return {
      scenario: "fanout-harness",
      title: `fanout harness: ${connected.ready} sessions on a stand-in gateway, ${rate} messages/s for ${durationS} s, ${pool.threads} client thread(s), ${client} WebSocket client`,
      startedAt,
      finishedAt: new Date().toISOString(),
      environment: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model },
      options: { sessions, rate, durationS, threads, client },
      phases: [],
      tables: [
        {
          header: ["deliveries", "expected", "made", "deliveries/s", "p50 ms", "p99 ms", "max ms", "bench CPU s", "µs CPU/delivery", "loop utilisation", "server CPU s"],
          rows: [
            [
              "stand-in gateway",
              String(total * connected.ready),
              String(made),
              (made / spanS).toFixed(0),
              f2(l.p50),
              f2(l.p99),
              f2(l.max),
              f2(benchCpu.cpuSeconds),
              usPerDelivery.toFixed(1),
              collected.eventLoopUtilization.map(f2).join(" / "),
              f2(serverCpu),
            ],
          ],
        },
      ],
      checks: [],
      notes: [
        `latency: the stand-in's scheduled send time → receipt in a client thread (includes the stand-in's own lag: see its CPU); ` +
          `deliveries/s over ${spanS.toFixed(1)} s (first send → last delivery); loop utilisation near 1.00 means the client threads could not keep up`,
        whole ? `machine: ${f2(whole.busyCores)} of ${cpus().length} cores busy in the window` : "",
      ].filter(Boolean),
      results: { total, made, missing, spanSeconds: round(spanS, 2), latencyMs: l, benchCpu, serverCpuSeconds: round(serverCpu, 2), usPerDelivery: round(usPerDelivery, 2), eventLoopUtilization: collected.eventLoopUtilization, machine: whole },
    };
  } finally {
    await pool?.close().catch(() => undefined);
    server.kill("SIGKILL");
  }
}

export const scenario: Scenario = {
  name: "fanout-harness",
  summary: "the fanout benchmark's gateway clients against a stand-in gateway: harness CPU per delivery, whether it keeps up",
  options: {
    sessions: { type: "string", default: "10000" },
    rate: { type: "string", default: "5" },
    duration: { type: "string", default: "20" },
    "client-threads": { type: "string", default: "auto" },
    client: { type: "string", default: "raw" },
  },
  metavars: { "client-threads": "N", client: "raw|ws" },
  help: {
    sessions: "gateway sessions",
    rate: "messages per second, each sent to every session",
    duration: "seconds of sending",
    "client-threads": "worker threads holding the sessions (auto: one per 2,500 sessions, at least 2, at most 4)",
    client: "WebSocket client: raw (the harness's own, on net.Socket onread) or ws (the npm package)",
  },
  run: runHarness,
};

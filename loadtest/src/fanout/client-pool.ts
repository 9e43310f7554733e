// The gateway sessions of the fan-out benchmark, spread over worker threads (client-worker.ts),
// seen from the main thread: connect them, ask how many receipts arrived, collect the results.
import { Worker } from "node:worker_threads";
import type { Collected, ConnectResult, FromWorker, Progress, SessionSpec, ToWorker, WorkerInit } from "./protocol.js";

export interface PoolResult {
  /** Unique receipts per seq over all sessions. */
  uniquePerSeq: Int32Array;
  duplicatesPerSeq: Int32Array;
  receiptSeq: Int32Array[];
  receiptLatencyMs: Float64Array[];
  outOfOrder: number;
  closes: Record<string, number>;
  errors: Record<string, number>;
  /** Per worker: event-loop utilisation over the measured window. */
  eventLoopUtilization: number[];
  frames: number;
  bytes: number;
  otherFrames: Record<string, number>;
}

function addInto(target: Record<string, number>, source: Record<string, number>): void {
  for (const [k, v] of Object.entries(source)) target[k] = (target[k] ?? 0) + v;
}

function sumArrays(arrays: Int32Array[]): Int32Array {
  const out = new Int32Array(Math.max(0, ...arrays.map((a) => a.length)));
  for (const a of arrays) for (let i = 0; i < a.length; i++) out[i] += a[i];
  return out;
}

export class ClientPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<Worker, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }[]>();
  private exitError?: Error;
  private closing = false;

  constructor(run: string, sessions: SessionSpec[], options: { threads: number; intents: number; connectConcurrency: number; connectTimeoutMs: number; client?: "raw" | "ws"; status?: "online" | "invisible" }) {
    const threads = Math.max(1, Math.min(options.threads, sessions.length));
    for (let t = 0; t < threads; t++) {
      // Every thread gets sessions of every gateway node (sessions alternate between nodes).
      const mine = sessions.filter((_, i) => i % threads === t);
      const init: WorkerInit = {
        run,
        sessions: mine,
        intents: options.intents,
        connectConcurrency: Math.max(1, Math.ceil(options.connectConcurrency / threads)),
        connectTimeoutMs: options.connectTimeoutMs,
        client: options.client ?? "raw",
        status: options.status ?? "online",
      };
      const worker = new Worker(new URL("./client-worker.js", import.meta.url), { workerData: init });
      this.waiting.set(worker, []);
      worker.on("message", (m: FromWorker) => {
        if (m.type === "log") return void process.stderr.write(`[fanout client ${t}] ${m.message}\n`);
        this.waiting.get(worker)?.shift()?.resolve(m);
      });
      const fail = (err: Error) => {
        this.exitError ??= err;
        for (const w of this.waiting.get(worker)!.splice(0)) w.reject(err);
      };
      worker.on("error", fail);
      worker.on("exit", (code) => {
        if (!this.closing) fail(new Error(`gateway client thread ${t} exited (${code})`));
      });
      this.workers.push(worker);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  private ask<T extends FromWorker>(message: ToWorker): Promise<T[]> {
    if (this.exitError) return Promise.reject(this.exitError);
    return Promise.all(
      this.workers.map(
        (w) =>
          new Promise<T>((resolve, reject) => {
            this.waiting.get(w)!.push({ resolve: (m) => resolve(m as T), reject });
            w.postMessage(message);
          }),
      ),
    );
  }

  private tell(message: ToWorker): void {
    for (const w of this.workers) w.postMessage(message);
  }

  /**
   * Opens the sessions with index below `upToIndex` that are not open yet; resolves when each
   * is READY with its GUILD_CREATEs, or failed.
   */
  async connect(upToIndex: number): Promise<{ ready: number; failed: number; errors: Record<string, number>; connectMs: number[] }> {
    const results = await this.ask<ConnectResult>({ type: "connect", upToIndex });
    const errors: Record<string, number> = {};
    for (const r of results) addInto(errors, r.errors);
    return {
      ready: results.reduce((a, r) => a + r.ready, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      errors,
      connectMs: results.flatMap((r) => r.connectMs),
    };
  }

  async progress(): Promise<{ unique: number; duplicates: number; closedAfterReady: number; perSeq: Int32Array }> {
    const results = await this.ask<Progress>({ type: "progress" });
    return {
      unique: results.reduce((a, r) => a + r.unique, 0),
      duplicates: results.reduce((a, r) => a + r.duplicates, 0),
      closedAfterReady: results.reduce((a, r) => a + r.closedAfterReady, 0),
      perSeq: sumArrays(results.map((r) => r.perSeq)),
    };
  }

  /**
   * Polls the threads until every seq in `seqs` reached `sessions` sessions, or no new receipt
   * of them arrived for `quietMs`. Returns how many deliveries are still missing.
   */
  async waitForDeliveries(
    seqs: number[],
    sessions: number,
    quietMs: number,
    options: { timeoutMs?: number; onProgress?: (got: number, of: number) => void; progressEveryMs?: number } = {},
  ): Promise<{ missing: number }> {
    let lastCount = -1;
    const started = Date.now();
    let lastChange = started;
    let lastReport = started;
    for (;;) {
      const p = await this.progress();
      let got = 0;
      for (const seq of seqs) got += Math.min(sessions, p.perSeq[seq] ?? 0);
      const missing = seqs.length * sessions - got;
      if (missing === 0) return { missing };
      const now = Date.now();
      if (got !== lastCount) {
        lastCount = got;
        lastChange = now;
      } else if (now - lastChange > quietMs) return { missing };
      if (options.timeoutMs !== undefined && now - started > options.timeoutMs) return { missing };
      if (options.onProgress && now - lastReport >= (options.progressEveryMs ?? 10_000)) {
        lastReport = now;
        options.onProgress(got, seqs.length * sessions);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  windowStart(): void {
    this.tell({ type: "window-start" });
  }

  async collect(): Promise<PoolResult> {
    const results = await this.ask<Collected>({ type: "collect" });
    const closes: Record<string, number> = {};
    const errors: Record<string, number> = {};
    const otherFrames: Record<string, number> = {};
    for (const r of results) {
      addInto(closes, r.closes);
      addInto(errors, r.errors);
      addInto(otherFrames, r.otherFrames);
    }
    return {
      uniquePerSeq: sumArrays(results.map((r) => r.uniquePerSeq)),
      duplicatesPerSeq: sumArrays(results.map((r) => r.duplicatesPerSeq)),
      receiptSeq: results.map((r) => r.receiptSeq),
      receiptLatencyMs: results.map((r) => r.receiptLatencyMs),
      outOfOrder: results.reduce((a, r) => a + r.outOfOrder, 0),
      closes,
      errors,
      eventLoopUtilization: results.map((r) => Math.round(r.eventLoopUtilization * 1000) / 1000),
      frames: results.reduce((a, r) => a + r.frames, 0),
      bytes: results.reduce((a, r) => a + r.bytes, 0),
      otherFrames,
    };
  }

  /** Closes every session and ends the threads. */
  async close(): Promise<void> {
    this.closing = true;
    this.tell({ type: "close" });
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void w.terminate().then(() => resolve()), 5000);
            w.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }
}

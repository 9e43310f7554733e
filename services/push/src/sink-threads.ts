import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { ProviderSpec } from "./provider-spec.js";
import type { ProviderName, PushProvider, PushRequest, SendOutcome } from "./push-request.js";
import type { FromSinkThread, ToSinkThread } from "./sink-thread-main.js";

interface Pending {
  resolve: (outcome: SendOutcome | undefined) => void;
  reject: (err: Error) => void;
}

/** One worker thread and what is waiting on it. */
class SinkThread {
  worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  /** Providers opened on it, reopened if the thread has to be started again. */
  readonly specs = new Map<number, ProviderSpec>();
  private outbox: (number | PushRequest)[] = [];
  private flushing = false;
  private closed = false;

  constructor(
    private readonly index: number,
    private readonly logger?: Logger,
  ) {
    this.start();
  }

  private start(): void {
    const worker = new Worker(new URL("./sink-thread-main.js", import.meta.url));
    worker.unref();
    worker.on("message", (message: FromSinkThread) => {
      const b = message.batch;
      for (let i = 0; i < b.length; i += 2) {
        const seq = b[i] as number;
        const waiting = this.pending.get(seq);
        this.pending.delete(seq);
        waiting?.resolve(b[i + 1] as SendOutcome | undefined);
      }
    });
    worker.on("error", (err) => this.logger?.error({ err, thread: this.index }, "push: a sink thread failed"));
    worker.on("exit", (code) => {
      // What it held is lost: the sinks retry those pushes on the thread started in its place.
      const lost = [...this.pending.values()];
      this.pending.clear();
      this.outbox = [];
      for (const p of lost) p.reject(new Error(`sink thread ${this.index} exited (${code})`));
      if (this.closed) return;
      this.logger?.warn({ thread: this.index, code }, "push: a sink thread exited; starting another");
      this.start();
      for (const [provider, spec] of this.specs) this.post({ op: "open", provider, spec });
    });
    this.worker = worker;
  }

  post(message: ToSinkThread): void {
    this.worker.postMessage(message);
  }

  /** Sends of one turn of the event loop go over in one message. */
  send(provider: number, seq: number, request: PushRequest, pending: Pending): void {
    this.pending.set(seq, pending);
    this.outbox.push(provider, seq, request);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const batch = this.outbox;
      this.outbox = [];
      if (batch.length > 0) this.post({ op: "send", batch });
    });
  }

  expect(seq: number, pending: Pending): void {
    this.pending.set(seq, pending);
  }

  async terminate(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}

/**
 * Worker threads for the sinks' provider connections: each sink's connection lives in one
 * thread (round-robin), which does its HTTP/2, TLS and encryption work, so those costs spread
 * over cores. The source and the sinks stay in the main thread: demand, in-flight limits,
 * priorities, retries and shedding are exactly those of the in-thread pipeline; only the
 * provider's `send` crosses, batched per turn of the event loop each way.
 */
export class SinkThreads {
  private readonly threads: SinkThread[];
  private nextProvider = 0;
  private nextSeq = 0;

  constructor(count: number, logger?: Logger) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError("count must be a positive integer");
    this.threads = Array.from({ length: count }, (_, i) => new SinkThread(i, logger));
  }

  get size(): number {
    return this.threads.length;
  }

  /** A provider connection opened in the next thread. */
  provider(name: ProviderName, spec: ProviderSpec): PushProvider {
    const id = this.nextProvider++;
    const thread = this.threads[id % this.threads.length];
    thread.specs.set(id, spec);
    thread.post({ op: "open", provider: id, spec });
    const threads = this;
    return {
      name,
      send(request: PushRequest): Promise<SendOutcome> {
        return new Promise((resolve, reject) => thread.send(id, threads.nextSeq++, strip(request), { resolve: resolve as Pending["resolve"], reject }));
      },
      async close(): Promise<void> {
        thread.specs.delete(id);
        const seq = threads.nextSeq++;
        await new Promise<void>((resolve) => {
          thread.expect(seq, { resolve: () => resolve(), reject: () => resolve() });
          thread.post({ op: "close", provider: id, seq });
        });
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}

/** What a provider needs of a request: less to copy across. */
function strip(request: PushRequest): PushRequest {
  return { lane: request.lane, priority: request.priority, target: request.target, content: request.content, acceptedAt: 0, ttlSeconds: request.ttlSeconds } as PushRequest;
}

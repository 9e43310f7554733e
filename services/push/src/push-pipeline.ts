import type { Logger } from "pino";
import { pushMetrics, watchPipeline } from "./push-metrics.js";
import { PRIORITY_COUNT, priorityName, type ProviderName, type PushProvider, type PushRequest } from "./push-request.js";
import { PushSink, type PushResult, type RetryPolicy } from "./push-sink.js";
import { PushSource } from "./push-source.js";

export interface PushPipelineOptions {
  /** Source buffer capacity (requests, all priorities and providers together). */
  bufferCapacity: number;
  /** Sinks per configured provider, each with its own provider connection. */
  sinksPerProvider: number;
  /** Requests one sink holds at most (its provider connection's limit). */
  maxInFlightPerSink: number;
  /** A new provider connection for each sink; providers left out are not served. */
  providers: Partial<Record<ProviderName, () => PushProvider>>;
  retry?: RetryPolicy;
  /** A device its provider says no longer exists (remove it from storage). */
  onGone?: (request: PushRequest, reason: string) => void;
  onDone?: (request: PushRequest, result: PushResult) => void;
  onShed?: (request: PushRequest) => void;
  logger?: Logger;
}

export interface PipelineStatus {
  bufferDepth: number;
  bufferCapacity: number;
  depthByPriority: number[];
  shedByPriority: number[];
  /** Requests offered for a provider no sink serves. */
  unserved: number;
  sinks: { id: string; provider: string; inFlight: number; peakInFlight: number; sent: number; gone: number; rejected: number; retried: number; retriesExhausted: number }[];
}

/**
 * One push process's pipeline: a single source with a bounded priority buffer and, for each
 * configured provider, `sinksPerProvider` sinks pulling from it on demand.
 */
export class PushPipeline {
  readonly source: PushSource<PushRequest>;
  readonly sinks: PushSink[] = [];
  private unserved = 0;
  private readonly unwatch: () => void;

  constructor(private readonly options: PushPipelineOptions) {
    this.source = new PushSource<PushRequest>({
      capacity: options.bufferCapacity,
      priorities: PRIORITY_COUNT,
      onShed: (request) => {
        pushMetrics.shed.inc({ provider: request.lane, priority: priorityName(request.priority) });
        options.onShed?.(request);
      },
    });
    for (const [name, make] of Object.entries(options.providers) as [ProviderName, () => PushProvider][]) {
      for (let i = 0; i < options.sinksPerProvider; i++) {
        this.sinks.push(
          new PushSink({
            id: `${name}-${i}`,
            source: this.source,
            provider: make(),
            maxInFlight: options.maxInFlightPerSink,
            retry: options.retry,
            onGone: options.onGone,
            onDone: options.onDone,
            logger: options.logger,
          }),
        );
      }
    }
    for (const sink of this.sinks) sink.start();
    this.unwatch = watchPipeline({
      depthByPriority: () => this.source.depthByPriority(),
      capacity: () => this.source.bufferCapacity,
      sinks: () => this.sinks.map((s) => ({ provider: s.provider, sink: s.id, inFlight: s.held })),
    });
  }

  /** True when a sink serves this provider. */
  serves(provider: ProviderName): boolean {
    return this.options.providers[provider] !== undefined;
  }

  /** Offers one push; false when it was shed at once or no sink serves its provider. */
  submit(request: PushRequest): boolean {
    if (!this.serves(request.lane)) {
      this.unserved++;
      return false;
    }
    return this.source.offer(request);
  }

  status(): PipelineStatus {
    return {
      bufferDepth: this.source.depth,
      bufferCapacity: this.source.bufferCapacity,
      depthByPriority: this.source.depthByPriority(),
      shedByPriority: this.source.shedByPriority(),
      unserved: this.unserved,
      sinks: this.sinks.map((s) => ({ id: s.id, provider: s.provider, ...s.stats })),
    };
  }

  /** Stops pulling and waits for every sink's requests to finish. Buffered requests are dropped. */
  async stop(): Promise<void> {
    this.unwatch();
    await Promise.all(this.sinks.map((s) => s.stop()));
  }
}

import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { pushMetrics } from "./push-metrics.js";
import { priorityName, type PushProvider, type PushRequest, type SendOutcome } from "./push-request.js";
import type { PushSource, Subscription } from "./push-source.js";

export interface RetryPolicy {
  /** Attempts per push, the first included. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles each time, with full jitter. */
  baseDelayMs: number;
  /** Longest backoff; a Retry-After longer than this gives the push up. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 60_000 };

export interface PushSinkOptions {
  id: string;
  source: PushSource<PushRequest>;
  provider: PushProvider;
  /** Requests held at once: sent and not answered, or waiting for a retry. */
  maxInFlight: number;
  retry?: RetryPolicy;
  /** Called for a device its provider says no longer exists. */
  onGone?: (request: PushRequest, reason: string) => void;
  /** Called once per push when it is done (tests, benchmarks). */
  onDone?: (request: PushRequest, result: PushResult) => void;
  logger?: Logger;
  /** For tests: the random source of the jitter. */
  random?: () => number;
}

export type PushResult = "sent" | "gone" | "rejected" | "retries";

export interface SinkStats {
  inFlight: number;
  /** The most it ever held at once. */
  peakInFlight: number;
  sent: number;
  gone: number;
  rejected: number;
  retriesExhausted: number;
  retried: number;
}


/**
 * A sink of the push pipeline (GenStage's consumer): owns one provider connection, asks the
 * source for exactly as many requests as it has free slots, and asks for one more only when a
 * request is finished. A request keeps its slot while it waits for a retry, so the provider
 * never has more than `maxInFlight` of this sink's requests, retries included. A 429 with
 * Retry-After also pauses the sink's pulling until then: the provider asked us to slow down,
 * and what the sink does not take stays in the source (where shedding applies).
 */
export class PushSink {
  private subscription?: Subscription;
  private inFlight = 0;
  private pausedUntil = 0;
  private resumeTimer?: NodeJS.Timeout;
  private stopped = false;
  private idle?: () => void;
  /** Requests waiting for a retry: stop() wakes them (and they give up). */
  private readonly sleepers = new Set<() => void>();
  readonly stats: SinkStats = { inFlight: 0, peakInFlight: 0, sent: 0, gone: 0, rejected: 0, retriesExhausted: 0, retried: 0 };
  private readonly retry: RetryPolicy;
  private readonly random: () => number;

  constructor(private readonly options: PushSinkOptions) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) throw new RangeError("maxInFlight must be a positive integer");
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.random = options.random ?? Math.random;
  }

  get id(): string {
    return this.options.id;
  }

  get provider(): string {
    return this.options.provider.name;
  }

  get held(): number {
    return this.inFlight;
  }

  start(): void {
    if (this.subscription) return;
    this.subscription = this.options.source.subscribe(this.options.provider.name, (request) => this.accept(request));
    this.subscription.ask(this.options.maxInFlight);
  }

  /** Stops pulling, waits for what it holds (retries included) and closes the provider. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.subscription?.cancel();
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    for (const wake of [...this.sleepers]) wake();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await this.options.provider.close();
  }

  private accept(request: PushRequest): void {
    this.inFlight++;
    this.stats.inFlight = this.inFlight;
    if (this.inFlight > this.stats.peakInFlight) this.stats.peakInFlight = this.inFlight;
    void this.deliver(request).then((result) => this.finish(request, result));
  }

  private finish(request: PushRequest, result: PushResult): void {
    this.inFlight--;
    this.stats.inFlight = this.inFlight;
    try {
      this.options.onDone?.(request, result);
    } finally {
      if (this.stopped) {
        if (this.inFlight === 0) this.idle?.();
      } else if (performance.now() >= this.pausedUntil) {
        this.subscription?.ask(1);
      }
      // While paused, the freed slot is asked for when the pause ends.
    }
  }

  /** Metric children per priority, bound once (label lookups per push cost more than the push's own bookkeeping). */
  private readonly meters = new Map<number, ReturnType<PushSink["bindMeters"]>>();

  private bindMeters(priority: number) {
    const labels = { provider: this.provider, priority: priorityName(priority) };
    return {
      labels,
      sent: pushMetrics.sent.labels(labels),
      latency: pushMetrics.latency.labels(labels),
      retried: pushMetrics.retried.labels(labels),
    };
  }

  private metersOf(priority: number) {
    let meters = this.meters.get(priority);
    if (!meters) this.meters.set(priority, (meters = this.bindMeters(priority)));
    return meters;
  }

  private async deliver(request: PushRequest): Promise<PushResult> {
    const meters = this.metersOf(request.priority);
    const labels = meters.labels;
    for (let attempt = 1; ; attempt++) {
      let outcome: SendOutcome;
      try {
        outcome = await this.options.provider.send(request);
      } catch (err) {
        outcome = { status: "retry", reason: err instanceof Error ? err.message : String(err) };
      }
      switch (outcome.status) {
        case "sent":
          this.stats.sent++;
          meters.sent.inc();
          meters.latency.observe((performance.now() - request.acceptedAt) / 1000);
          return "sent";
        case "gone":
          this.stats.gone++;
          pushMetrics.failed.inc({ ...labels, reason: "gone" });
          try {
            this.options.onGone?.(request, outcome.reason);
          } catch (err) {
            this.options.logger?.warn({ err }, "push: removing a dead device failed");
          }
          return "gone";
        case "failed":
          this.stats.rejected++;
          pushMetrics.failed.inc({ ...labels, reason: "rejected" });
          this.options.logger?.warn({ provider: this.provider, reason: outcome.reason, device: request.target.deviceId }, "push rejected by its provider");
          return "rejected";
        case "retry": {
          const delay = this.backoff(attempt, outcome.retryAfterMs);
          if (attempt >= this.retry.maxAttempts || delay === undefined || this.stopped) {
            this.stats.retriesExhausted++;
            pushMetrics.failed.inc({ ...labels, reason: "retries" });
            this.options.logger?.debug({ provider: this.provider, reason: outcome.reason, attempt }, "push given up");
            return "retries";
          }
          this.stats.retried++;
          meters.retried.inc();
          if (outcome.retryAfterMs !== undefined) this.pause(delay);
          await this.sleep(delay);
          if (this.stopped) {
            this.stats.retriesExhausted++;
            pushMetrics.failed.inc({ ...labels, reason: "retries" });
            return "retries";
          }
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** The wait before the next attempt, or undefined when the provider asks for more than we wait. */
  private backoff(attempt: number, retryAfterMs: number | undefined): number | undefined {
    if (retryAfterMs !== undefined) return retryAfterMs > this.retry.maxDelayMs ? undefined : Math.max(0, retryAfterMs);
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** Takes no new requests for `ms`: the outstanding demand is withdrawn and asked again after. */
  private pause(ms: number): void {
    const until = performance.now() + ms;
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.subscription?.retract();
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      if (this.stopped || !this.subscription) return;
      const free = this.options.maxInFlight - this.inFlight - this.subscription.demand;
      this.subscription.ask(free);
    }, ms);
    this.resumeTimer.unref();
  }
}

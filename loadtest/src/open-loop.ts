import { performance } from "node:perf_hooks";
import { LatencyRecorder, type LatencySummary } from "./latency.js";

export interface OpenLoopOptions {
  /** Operations started per second, whatever the target's speed (open loop). */
  ratePerSec: number;
  /** Measured window, after the warm-up. */
  durationMs: number;
  /** Same load before the measured window; its results are discarded. */
  warmupMs: number;
  /**
   * Bound on operations in flight: a slot that falls due while this many are outstanding is
   * not sent and counts as an error ("in-flight cap"), so a stalled target cannot make the
   * generator pile up unbounded work.
   */
  maxInFlight?: number;
  /** How long to wait for the measured operations still in flight after the last send. */
  drainTimeoutMs?: number;
  /**
   * One operation; `seq` counts from 0 across warm-up and measurement, `intended` is its due
   * time (performance.now() clock), e.g. to stamp into a message. Rejects on failure.
   */
  op: (seq: number, intended: number) => Promise<unknown>;
  /** Called synchronously just before the first measured operation is sent. */
  onMeasureStart?: () => void;
  /** Called once the measured operations completed (or the drain timed out). */
  onMeasureEnd?: () => void;
}

export interface OpenLoopResult {
  attempted: number;
  completed: number;
  errors: number;
  /** Error messages (truncated) with their counts. */
  errorKinds: Record<string, number>;
  /** From the first measured send slot to the last measured completion (at least durationMs). */
  elapsedMs: number;
  /** Completed operations per second over elapsedMs. */
  achievedPerSec: number;
  /** From the *intended* send time to completion: includes any queueing, also the generator's. */
  latency: LatencySummary;
  /** From the actual send to completion. */
  serviceTime: LatencySummary;
  /** How late operations were sent compared to their schedule (generator lag). */
  sendLag: LatencySummary;
  maxInFlightSeen: number;
}

/**
 * A fixed-rate (open-loop) load generator. Operation i is due at start + i / rate; every due
 * operation is sent without waiting for earlier ones to finish, and its latency is taken from
 * its due time, not from when it actually went out. A target that stalls therefore shows the
 * full delay its callers would see instead of quietly slowing the generator down
 * ("coordinated omission").
 */
export function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { ratePerSec, durationMs, warmupMs, op } = options;
  if (!(ratePerSec > 0) || !(durationMs > 0) || !(warmupMs >= 0)) throw new Error("rate and duration must be positive");
  const maxInFlight = options.maxInFlight ?? 10_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 15_000;
  const intervalMs = 1000 / ratePerSec;
  const warmupOps = Math.round((ratePerSec * warmupMs) / 1000);
  const totalOps = warmupOps + Math.max(1, Math.round((ratePerSec * durationMs) / 1000));

  const latency = new LatencyRecorder();
  const serviceTime = new LatencyRecorder();
  const sendLag = new LatencyRecorder();
  const errorKinds: Record<string, number> = {};
  let attempted = 0;
  let completed = 0;
  let errors = 0;
  let inFlight = 0;
  let measuredInFlight = 0;
  let maxInFlightSeen = 0;
  let lastDone = 0;
  let draining = false;
  let finished = false;

  const start = performance.now() + 5; // first slot a few ms ahead, so slot 0 is not already late
  const measureStart = start + warmupOps * intervalMs;

  return new Promise<OpenLoopResult>((resolve) => {
    let drainTimer: NodeJS.Timeout | undefined;

    const finish = () => {
      if (finished) return;
      finished = true;
      if (drainTimer) clearTimeout(drainTimer);
      if (measuredInFlight > 0) {
        errors += measuredInFlight;
        errorKinds["not finished within the drain timeout"] = measuredInFlight;
      }
      options.onMeasureEnd?.();
      const elapsedMs = Math.max(durationMs, lastDone - measureStart);
      resolve({
        attempted,
        completed,
        errors,
        errorKinds,
        elapsedMs,
        achievedPerSec: completed / (elapsedMs / 1000),
        latency: latency.summary(),
        serviceTime: serviceTime.summary(),
        sendLag: sendLag.summary(),
        maxInFlightSeen,
      });
    };

    const failed = (measured: boolean, err: unknown) => {
      if (!measured || finished) return;
      errors++;
      const kind = (err instanceof Error ? err.message : String(err)).split("\n")[0].slice(0, 160);
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    };

    const fire = (seq: number) => {
      const intended = start + seq * intervalMs;
      const measured = seq >= warmupOps;
      if (measured) {
        if (seq === warmupOps) options.onMeasureStart?.();
        attempted++;
      }
      if (inFlight >= maxInFlight) {
        failed(measured, new Error(`in-flight cap (${maxInFlight}) reached; slot skipped`));
        return;
      }
      inFlight++;
      if (measured) measuredInFlight++;
      maxInFlightSeen = Math.max(maxInFlightSeen, inFlight);
      const sent = performance.now();
      if (measured) sendLag.recordMs(sent - intended);
      let promise: Promise<unknown>;
      try {
        promise = op(seq, intended);
      } catch (err) {
        promise = Promise.reject(err);
      }
      promise.then(
        () => {
          const done = performance.now();
          if (measured && !finished) {
            completed++;
            latency.recordMs(done - intended);
            serviceTime.recordMs(done - sent);
            lastDone = Math.max(lastDone, done);
          }
        },
        (err: unknown) => failed(measured, err),
      ).finally(() => {
        inFlight--;
        if (measured) measuredInFlight--;
        if (draining && measuredInFlight === 0) finish();
      });
    };

    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (next < totalOps && start + next * intervalMs <= now) fire(next++);
      if (next < totalOps) {
        // Node timers have 1 ms resolution: sleep until the next slot, at most 1 ms.
        setTimeout(tick, Math.min(1, Math.max(0, start + next * intervalMs - now)));
        return;
      }
      draining = true;
      if (measuredInFlight === 0) finish();
      else drainTimer = setTimeout(finish, drainTimeoutMs);
    };
    setTimeout(tick, 0);
  });
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { PushSink, type PushResult } from "./push-sink.js";
import { PushSource } from "./push-source.js";
import { Priority, type PushProvider, type PushRequest, type SendOutcome } from "./push-request.js";

const request = (n: number, priority = Priority.Low): PushRequest => ({
  lane: "fcm",
  priority,
  target: { userId: BigInt(n), deviceId: `d${n}`, token: `t${n}` },
  content: { title: "t", body: "b", data: {} },
  acceptedAt: performance.now(),
  ttlSeconds: 60,
});

/** A provider whose answers the test hands out one by one. */
class HeldProvider implements PushProvider {
  readonly name = "fcm" as const;
  readonly pending: { request: PushRequest; answer: (o: SendOutcome) => void }[] = [];
  open = 0;
  maxOpen = 0;
  calls = 0;
  send(req: PushRequest): Promise<SendOutcome> {
    this.calls++;
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    return new Promise((resolve) =>
      this.pending.push({
        request: req,
        answer: (o) => {
          this.open--;
          resolve(o);
        },
      }),
    );
  }
  async close() {}
}

const waiting = (p: HeldProvider) => p.pending.length;
const tick = () => new Promise((r) => setImmediate(r));

test("a sink holds at most its limit and asks for one more per answer", async () => {
  const source = new PushSource<PushRequest>({ capacity: 1000, priorities: 2 });
  const provider = new HeldProvider();
  const sink = new PushSink({ id: "s", source, provider, maxInFlight: 10 });
  sink.start();
  for (let n = 0; n < 100; n++) source.offer(request(n));
  await tick();
  assert.equal(provider.open, 10);
  assert.equal(source.depth, 90);
  for (let round = 0; round < 5; round++) {
    provider.pending.splice(0, 3).forEach((p) => p.answer({ status: "sent" }));
    await tick();
    assert.equal(provider.open, 10);
  }
  assert.equal(source.depth, 75);
  while (provider.pending.length > 0) {
    provider.pending.splice(0).forEach((p) => p.answer({ status: "sent" }));
    await tick();
  }
  assert.equal(provider.maxOpen, 10);
  assert.equal(sink.stats.sent, 100);
  assert.equal(sink.stats.peakInFlight, 10);
});

test("retries keep their slot, honour Retry-After and give up after the last attempt", async () => {
  const source = new PushSource<PushRequest>({ capacity: 100, priorities: 2 });
  const provider = new HeldProvider();
  const done: PushResult[] = [];
  const sink = new PushSink({
    id: "s",
    source,
    provider,
    maxInFlight: 2,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1000 },
    onDone: (_r, result) => done.push(result),
  });
  sink.start();
  for (let n = 0; n < 4; n++) source.offer(request(n));
  await tick();
  assert.equal(provider.pending.length, 2);
  // Both fail with 5xx: they wait for a retry in their slots, so nothing new is taken.
  provider.pending.splice(0).forEach((p) => p.answer({ status: "retry", reason: "503" }));
  await tick();
  assert.equal(source.depth, 2);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(provider.pending.length, 2);
  assert.deepEqual(provider.pending.map((p) => p.request.target.deviceId), ["d0", "d1"]);
  // One gets a 429 with Retry-After 50 ms: the sink pauses taking new work for that long.
  const started = performance.now();
  const [first, second] = provider.pending.splice(0);
  first.answer({ status: "retry", reason: "429", retryAfterMs: 50 });
  second.answer({ status: "sent" });
  await tick();
  assert.equal(source.depth, 2, "paused: the freed slot is not filled yet");
  while (waiting(provider) === 0) await new Promise((r) => setTimeout(r, 5));
  assert.ok(performance.now() - started >= 45, "the retry waited for Retry-After");
  await tick();
  // Third and last attempt of d0 fails too: given up. d2 came in once the pause ended.
  const third = provider.pending.find((p) => p.request.target.deviceId === "d0")!;
  third.answer({ status: "retry", reason: "500" });
  await tick();
  while (provider.pending.length > 0 || source.depth > 0) {
    provider.pending.splice(0).forEach((p) => p.answer({ status: "sent" }));
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(provider.maxOpen, 2);
  assert.equal(sink.stats.peakInFlight, 2);
  assert.deepEqual(done.sort(), ["retries", "sent", "sent", "sent"]);
  assert.equal(sink.stats.retried, 3);
  assert.equal(sink.stats.retriesExhausted, 1);
});

test("a Retry-After longer than the longest backoff gives the push up at once", async () => {
  const source = new PushSource<PushRequest>({ capacity: 10, priorities: 2 });
  const provider = new HeldProvider();
  const done: PushResult[] = [];
  const sink = new PushSink({ id: "s", source, provider, maxInFlight: 1, retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 100 }, onDone: (_r, x) => done.push(x) });
  sink.start();
  source.offer(request(1));
  await tick();
  provider.pending.splice(0).forEach((p) => p.answer({ status: "retry", reason: "429", retryAfterMs: 3_600_000 }));
  await tick();
  assert.deepEqual(done, ["retries"]);
  assert.equal(provider.calls, 1);
});

test("a dead device is reported once and not retried; a rejected push is not retried", async () => {
  const source = new PushSource<PushRequest>({ capacity: 10, priorities: 2 });
  const provider = new HeldProvider();
  const gone: string[] = [];
  const sink = new PushSink({ id: "s", source, provider, maxInFlight: 5, onGone: (r, reason) => gone.push(`${r.target.deviceId}:${reason}`) });
  sink.start();
  source.offer(request(1));
  source.offer(request(2));
  source.offer(request(3));
  await tick();
  provider.pending[0].answer({ status: "gone", reason: "410" });
  provider.pending[1].answer({ status: "failed", reason: "400" });
  await tick();
  assert.deepEqual(gone, ["d1:410"]);
  assert.equal(provider.calls, 3);
  assert.equal(sink.stats.gone, 1);
  assert.equal(sink.stats.rejected, 1);
  provider.pending[2].answer({ status: "sent" });
  await sink.stop();
  assert.equal(sink.held, 0);
});

test("a provider that throws counts as a retryable failure", async () => {
  const source = new PushSource<PushRequest>({ capacity: 10, priorities: 2 });
  let calls = 0;
  const provider: PushProvider = {
    name: "fcm",
    async send() {
      calls++;
      if (calls === 1) throw new Error("socket hang up");
      return { status: "sent" };
    },
    async close() {},
  };
  const done: PushResult[] = [];
  const sink = new PushSink({ id: "s", source, provider, maxInFlight: 1, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 10 }, onDone: (_r, x) => done.push(x) });
  sink.start();
  source.offer(request(1));
  while (done.length === 0) await new Promise((r) => setTimeout(r, 2));
  assert.deepEqual(done, ["sent"]);
  assert.equal(calls, 2);
});

test("stopping wakes pushes waiting for a retry: they give up instead of holding the stop", async () => {
  const source = new PushSource<PushRequest>({ capacity: 10, priorities: 2 });
  const provider = new HeldProvider();
  const done: PushResult[] = [];
  const sink = new PushSink({ id: "s", source, provider, maxInFlight: 2, retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 120_000 }, onDone: (_r, x) => done.push(x) });
  sink.start();
  source.offer(request(1));
  await tick();
  provider.pending.splice(0).forEach((p) => p.answer({ status: "retry", reason: "503" }));
  await tick();
  assert.equal(sink.held, 1, "waiting a minute for its retry");
  await sink.stop();
  assert.deepEqual(done, ["retries"]);
  assert.equal(provider.calls, 1);
});
